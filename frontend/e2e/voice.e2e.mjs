#!/usr/bin/env node
/**
 * End-to-end test of the module-voice web app against the real local stack, in Debian's chromium.
 *
 *   node e2e/voice.e2e.mjs          (make test-frontend runs it after building frontend/dist)
 *
 * It starts `python -m voice_local` on free ports with a temporary data directory (plus a scripted
 * OpenAI-compatible endpoint, so the analytics job really scores the interview), opens the dev harness
 * that the gateway serves from frontend/dist, and as the acme admin: creates a configuration (first with
 * an invalid field, which must show inline), creates a session, starts it, watches the simulated bot's
 * transcript arrive live, sees the session complete with its transcript and analysis (a key moment jumps to
 * its quote), previews a piper voice on the configuration form (real speech, synthesized offline); then a
 * globex member must not see the session, and the platform admin saves and validates a platform key. Any
 * console error (other than the HTTP errors the test provokes on purpose) fails it.
 *
 * Artifacts (screenshots, the stack's log, report.json) go to test-artifacts/e2e/ at the repository root.
 * Environment: CHROMIUM_PATH (default /usr/bin/chromium), VOICE_PYTHON (default .venv/bin/python),
 * E2E_HEADED=1 to watch, E2E_TIMEOUT_S (default 150).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startFakeLlm } from "./fake-llm.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const FRONTEND = path.resolve(here, "..");
const REPO = path.resolve(FRONTEND, "..");
const ARTIFACTS = path.join(REPO, "test-artifacts", "e2e");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PYTHON = process.env.VOICE_PYTHON ?? path.join(REPO, ".venv", "bin", "python");
const TOTAL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_S ?? 150) * 1000;
const started = Date.now();

const steps = [];
const consoleProblems = [];
const expectedHttpErrors = []; // {status, urlPart} the test provokes on purpose
const cleanups = [];
let page = null;

function log(message) {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[e2e ${t}s] ${message}`);
}

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

async function step(name, fn) {
  const t0 = Date.now();
  log(`▶ ${name}`);
  try {
    const result = await fn();
    steps.push({ name, ok: true, ms: Date.now() - t0 });
    log(`✔ ${name} (${Date.now() - t0} ms)`);
    return result;
  } catch (error) {
    steps.push({ name, ok: false, ms: Date.now() - t0, error: String(error?.stack ?? error) });
    log(`✘ ${name}: ${error?.message ?? error}`);
    if (page) await page.screenshot({ path: path.join(ARTIFACTS, `failure-${name.replace(/\W+/g, "-")}.png`), fullPage: true }).catch(() => {});
    throw error;
  }
}

async function screenshot(name, options = {}) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, ...options });
  log(`  screenshot ${path.relative(REPO, file)}`);
  return file;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(predicate, { timeoutMs, intervalMs = 250, what }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// ------------------------------------------------------------------------------------------- the stack

async function startStack(llm) {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: run make venv (or set VOICE_PYTHON)`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "voice-e2e-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const [port, awsPort] = [await freePort(), await freePort()];
  const logFile = path.join(ARTIFACTS, "stack.log");
  const out = openSync(logFile, "w");
  const env = {
    ...process.env,
    OPENAI_BASE_URL: llm.url,
    OPENAI_API_KEY: llm.apiKey,
    OPENAI_MODEL: "e2e-scripted-model",
    PYTHONUNBUFFERED: "1",
  };
  delete env.DAILY_API_KEY; // always the Daily stand-in
  delete env.DATABASE_URL; // always a fresh embedded PostgreSQL in the temp dir
  const child = spawn(PYTHON, ["-m", "voice_local", "--port", String(port), "--aws-port", String(awsPort), "--data-dir", dataDir], {
    cwd: REPO,
    env,
    stdio: ["ignore", out, out],
  });
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  cleanups.push(async () => {
    if (exited) return;
    child.kill("SIGINT"); // a clean stop (PostgreSQL, moto)
    const deadline = Date.now() + 25_000;
    while (!exited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (!exited) child.kill("SIGKILL");
  });
  const stackFile = path.join(dataDir, "stack.json");
  await waitFor(
    () => {
      if (exited) throw new Error(`the local stack exited (${JSON.stringify(exited)}); see ${path.relative(REPO, logFile)}`);
      return existsSync(stackFile) && existsSync(path.join(dataDir, "dev-tokens.json"));
    },
    { timeoutMs: 100_000, intervalMs: 300, what: "the local stack (stack.json)" },
  );
  const stack = JSON.parse(readFileSync(stackFile, "utf8"));
  const tokens = JSON.parse(readFileSync(path.join(dataDir, "dev-tokens.json"), "utf8"));
  return { port, baseUrl: `http://127.0.0.1:${port}`, stack, tokens, dataDir };
}

// ------------------------------------------------------------------------------------------- browser

function isExpectedConsoleError(msg) {
  const text = msg.text();
  const url = msg.location()?.url ?? "";
  if (!text.startsWith("Failed to load resource")) return false;
  return expectedHttpErrors.some((e) => url.includes(e.urlPart) && text.includes(`status of ${e.status}`));
}

async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run make chromium (or set CHROMIUM_PATH)`);
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), "voice-e2e-chromium-"));
  cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: process.env.E2E_HEADED !== "1",
    viewport: { width: 1360, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // --user-data-dir: a fresh one, given as launchPersistentContext's first argument.
    ].filter((a) => process.env.E2E_HEADED !== "1" || a !== "--headless"),
  });
  cleanups.push(() => context.close().catch(() => {}));
  // Only the stack: nothing leaves 127.0.0.1.
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort("blockedbyclient"));
  const p = context.pages()[0] ?? (await context.newPage());
  p.setDefaultTimeout(20_000);
  p.on("console", (msg) => {
    if (msg.type() !== "error" && msg.type() !== "warning") return;
    if (msg.type() === "error" && isExpectedConsoleError(msg)) return;
    const entry = { type: msg.type(), text: msg.text(), url: msg.location()?.url ?? "" };
    if (msg.type() === "warning" && /React Router Future Flag|DevTools/.test(entry.text)) return;
    consoleProblems.push(entry);
    log(`  console ${entry.type}: ${entry.text}`);
  });
  p.on("pageerror", (error) => {
    consoleProblems.push({ type: "pageerror", text: String(error) });
    log(`  page error: ${error}`);
  });
  return p;
}

async function signInAs(userKey) {
  await page.getByLabel("Signed in as").selectOption(userKey);
  await page.waitForFunction((key) => localStorage.getItem("module-voice-harness-user") === key, userKey);
}

// ------------------------------------------------------------------------------------------- the test

async function run() {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const old of readdirSync(ARTIFACTS)) if (old.startsWith("failure-")) rmSync(path.join(ARTIFACTS, old)); // from an earlier run
  if (!existsSync(path.join(FRONTEND, "dist", "index.html"))) {
    log("frontend/dist is missing: building it");
    const build = spawnSync("npx", ["vite", "build"], { cwd: FRONTEND, stdio: "inherit" });
    if (build.status !== 0) throw new Error("vite build failed");
  }
  const llm = await startFakeLlm();
  cleanups.push(() => llm.close());
  const stack = await step("start the local stack", () => startStack(llm));
  const { baseUrl, tokens } = stack;
  const acme = tokens.orgs.acme;
  page = await step("launch chromium", () => launchBrowser());
  const suffix = String(Date.now()).slice(-6);
  const configName = `E2E screen ${suffix}`;
  const candidate = `Ada Lovelace ${suffix}`;

  await step("open the harness as the acme admin", async () => {
    await page.goto(`${baseUrl}/`);
    await page.getByLabel("Signed in as").waitFor();
    await signInAs("acmeAdmin");
    await page.getByRole("heading", { name: "Voice Interviews", level: 1 }).waitFor();
    await page.getByRole("link", { name: "Voice Settings" }).click();
    await page.getByRole("heading", { name: "Voice Settings", level: 1 }).waitFor();
    await page.getByRole("table", { name: "Interview configurations" }).waitFor();
  });

  await step("create a configuration (an invalid field is shown inline first)", async () => {
    await page.getByRole("button", { name: "New configuration" }).click();
    const form = page.getByRole("form", { name: "New configuration" });
    await form.getByLabel(/^Name/).fill(configName);
    await form.getByLabel("Interview type").fill("technical");
    await form.getByLabel("Bot name").fill("Grace");
    await form.getByLabel("System prompt").fill("You are conducting a friendly technical interview.");
    await form.getByLabel("Voice provider").selectOption("cartesia");
    await form.getByLabel("Maximum duration (minutes)").fill("20");
    for (const [i, text] of ["Tell me about a system you built recently.", "How did you make sure no event was lost?"].entries()) {
      await form.getByRole("button", { name: "Add question" }).click();
      await form.getByRole("group", { name: `Question ${i + 1}` }).getByLabel("Question text").fill(text);
    }
    await form.getByRole("group", { name: "Question 1" }).getByLabel("Follow-up questions allowed").check();
    for (const [i, [name, weight]] of [["communication", "1"], ["technical_depth", "3"]].entries()) {
      await form.getByRole("button", { name: "Add criterion" }).click();
      const row = form.getByRole("group", { name: `Criterion ${i + 1}` });
      await row.getByLabel("Criterion name").fill(name);
      await row.getByLabel("Weight").fill(weight);
    }
    // The API refuses a non-http base URL: its field error must appear on that input.
    const baseUrlInput = form.getByLabel("Base URL");
    await baseUrlInput.fill("ftp://llm.internal");
    expectedHttpErrors.push({ status: 400, urlPart: "/api/voice/configs" });
    await form.getByRole("button", { name: "Create configuration" }).click();
    await page.waitForFunction(() => document.querySelector(".voice-field--invalid input[aria-invalid='true']") !== null);
    assert((await baseUrlInput.getAttribute("aria-invalid")) === "true", "the Base URL input is marked invalid");
    const describedBy = await baseUrlInput.getAttribute("aria-describedby");
    const errorText = await page.locator(`[id="${describedBy.split(" ")[0]}"]`).textContent();
    assert(/pattern|http/i.test(errorText ?? ""), `the inline error explains the URL (${errorText})`);
    await screenshot("01-config-field-error");
    await baseUrlInput.fill("");
    await form.getByRole("button", { name: "Create configuration" }).click();
    await page.getByText(`Configuration “${configName}” created (version 1).`).waitFor();
    await page.getByRole("row", { name: new RegExp(configName) }).waitFor();
  });

  let configId;
  await step("the configuration was stored as sent (weights normalised)", async () => {
    const list = await (await fetch(`${stack.stack.restUrl}/configs?orgId=${acme}`, { headers: { Authorization: `Bearer ${tokens.users.acmeAdmin.token}` } })).json();
    const summary = list.data.find((c) => c.name === configName);
    assert(summary, "the new configuration is listed by the API");
    configId = summary.id;
    const one = await (await fetch(`${stack.stack.restUrl}/configs/${configId}`, { headers: { Authorization: `Bearer ${tokens.users.acmeAdmin.token}` } })).json();
    const doc = one.data.configJson;
    assert(doc.bot_name === "Grace" && doc.voice.provider === "cartesia", "bot and voice settings stored");
    assert(doc.interview.questions.length === 2 && doc.interview.questions[0].follow_up_enabled === true, "questions stored");
    const weights = doc.interview.scoring_rubric.criteria.map((c) => c.weight);
    assert(weights[0] === 0.25 && weights[1] === 0.75, `weights normalised (${weights})`);
    assert(doc.llm === undefined, "the cleared base URL was not sent");
  });

  let sessionId;
  await step("create a session from the configuration", async () => {
    await page.getByRole("link", { name: "Voice Interviews" }).click();
    await page.getByRole("button", { name: "New interview" }).click();
    const form = page.getByRole("form", { name: "New interview" });
    await form.getByLabel("Candidate name").fill(candidate);
    await form.getByLabel("Candidate email").fill(`ada.${suffix}@example.com`);
    await form.getByLabel("Configuration").selectOption({ label: `${configName} (v1)` });
    assert((await form.getByLabel("Interview type").inputValue()) === "technical", "the type comes from the configuration");
    await form.getByRole("button", { name: "Create interview" }).click();
    await page.getByRole("heading", { name: candidate, level: 1 }).waitFor();
    sessionId = await page.locator("[data-session-id]").first().getAttribute("data-session-id");
    assert(/^[0-9a-f-]{36}$/.test(sessionId ?? ""), "the page shows the new session");
    assert((await page.locator(".voice-page__status [data-status]").getAttribute("data-status")) === "pending", "a new session is pending");
    await page.getByRole("status").filter({ hasText: "Live" }).waitFor(); // subscribed before the start
  });

  await step("start it and watch the transcript arrive live", async () => {
    // Record when each transcript line appears and what the status badge said then.
    await page.evaluate(() => {
      const log = document.querySelector("ol[aria-label='Transcript lines']");
      window.__arrivals = [];
      new MutationObserver((records) => {
        for (const r of records)
          for (const node of r.addedNodes)
            if (node instanceof HTMLElement && node.dataset.seq)
              window.__arrivals.push({
                seq: Number(node.dataset.seq),
                at: performance.now(),
                status: document.querySelector(".voice-page__status [data-status]")?.getAttribute("data-status"),
              });
      }).observe(log, { childList: true });
    });
    await page.getByRole("button", { name: "Start interview" }).click();
    await page.getByRole("log", { name: "Transcript lines" }).getByText("Thanks for joining").waitFor({ timeout: 45_000 });
    await screenshot("02-session-live");
    await page.waitForFunction(() => document.querySelector(".voice-page__status [data-status]")?.getAttribute("data-status") === "completed", null, { timeout: 60_000 });
    const arrivals = await page.evaluate(() => window.__arrivals);
    log(`  ${arrivals.length} lines arrived live: ${arrivals.map((a) => `#${a.seq}@${Math.round(a.at)}ms(${a.status})`).join(" ")}`);
    assert(arrivals.length >= 5, `most lines arrived one by one while watching (${arrivals.length})`);
    const spread = arrivals[arrivals.length - 1].at - arrivals[0].at;
    assert(spread > 500, `lines arrived over time, not at once (${Math.round(spread)} ms)`);
    assert(arrivals[0].status !== "completed", "the first line arrived before the session completed");
    const seqs = arrivals.map((a) => a.seq);
    assert(new Set(seqs).size === seqs.length, "no line was rendered twice");
  });

  await step("the completed session shows its transcript and analysis", async () => {
    const transcript = page.locator("section.voice-transcript");
    await transcript.getByRole("heading", { name: "Transcript" }).waitFor({ timeout: 45_000 });
    const segments = transcript.locator("[data-seq]");
    await page.waitForFunction(() => document.querySelectorAll("section.voice-transcript [data-seq]").length >= 7);
    assert((await segments.count()) === 7, "the assembled transcript has the 7 segments of the scripted interview");
    await transcript.getByText("Idempotent consumers, a dead-letter queue").waitFor();
    await transcript.getByLabel("Search transcript").fill("dead-letter");
    await transcript.getByText("1 match in 1 segment").waitFor();
    assert((await transcript.locator("mark").count()) === 1, "the match is highlighted");
    await transcript.getByLabel("Search transcript").fill("");
    const analytics = page.locator("section.voice-analytics");
    await page.waitForFunction(
      () => ["completed", "skipped", "failed"].includes(document.querySelector("section.voice-analytics")?.getAttribute("data-analytics-status") ?? ""),
      null,
      { timeout: 60_000 },
    );
    const status = await analytics.getAttribute("data-analytics-status");
    assert(status === "completed", `the analysis completed (status ${status})`);
    const score = Number(await analytics.getByTestId("overall-score").textContent());
    assert(score > 0 && score <= 100, `an overall score is shown (${score})`);
    await analytics.getByRole("img", { name: /Scores by category/ }).waitFor();
    await analytics.getByText("Conversation metrics").waitFor();
    const moment = analytics.getByRole("button", { name: /Show in transcript/ }).first();
    const quote = (await analytics.locator(".voice-moment__quote").first().textContent()).replace(/[“”]/g, "");
    await moment.focus();
    await page.keyboard.press("Enter"); // keyboard, not only the mouse
    await page.waitForFunction(() => document.activeElement?.classList.contains("voice-segment--focused"));
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? "");
    assert(focused.includes(quote.slice(0, 20)), `the key moment jumped to its quote ("${quote}" in "${focused}")`);
    await screenshot("03-session-completed");
  });

  await step("the org statistics count it", async () => {
    await page.getByRole("link", { name: "Voice Settings" }).click();
    await page.getByRole("img", { name: /Interviews by status/ }).waitFor();
    await page.waitForFunction(() => Number(document.querySelector("[data-testid='stat-total']")?.textContent) >= 1);
    await screenshot("04-org-admin");
  });

  await step("preview a piper voice on the configuration form (real speech, offline)", async () => {
    await page.getByRole("button", { name: "New configuration" }).click();
    const form = page.getByRole("form", { name: "New configuration" });
    const preview = form.getByRole("button", { name: "Preview voice" });
    assert(await preview.isDisabled(), "without a Cartesia voice id the preview is disabled");
    await form.getByLabel("Voice provider").selectOption("piper");
    await form.getByLabel("Speed").fill("1.1");
    await form.getByLabel("Opening message").fill("Hello! I'm Grace, and I will be your interviewer today.");
    await preview.focus();
    await page.keyboard.press("Enter"); // keyboard operable
    const audio = form.locator("audio[src]");
    await audio.waitFor({ timeout: 30_000 }); // piper loads its voice on the first preview (about a second)
    const src = await audio.getAttribute("src");
    assert(/^(http:\/\/127\.0\.0\.1[:/]|data:audio\/wav;base64,)/.test(src ?? ""), `the audio plays the preview (${src?.slice(0, 60)})`);
    await form.getByText(/^Preview ready: \d+\.\d s/).waitFor();
    log(`  audio: ${src.startsWith("data:") ? "inline WAV (base64)" : "presigned URL of the local S3"}`);
    // The browser fetched and decoded the WAV (the presigned URL of the local S3, or the inline WAV).
    const duration = await page.waitForFunction(
      () => {
        const a = document.querySelector("form audio");
        return a && a.readyState >= 1 && Number.isFinite(a.duration) && a.duration > 0 ? a.duration : null;
      },
      null,
      { timeout: 15_000 },
    );
    const seconds = await duration.jsonValue();
    assert(seconds > 1 && seconds < 15, `the preview is speech of a plausible length (${seconds} s)`);
    assert((await preview.isEnabled()) && (await preview.getAttribute("aria-busy")) === "false", "the button is ready again");
    await screenshot("04b-config-voice-preview");
    await form.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("table", { name: "Interview configurations" }).waitFor();
  });

  await step("a globex member cannot see the acme session", async () => {
    await page.getByRole("link", { name: "Voice Interviews" }).click();
    await signInAs("globexMember");
    await page.getByRole("heading", { name: "Voice Interviews", level: 1 }).waitFor();
    await page.waitForFunction(() => document.querySelector(".voice-list, .voice-empty") !== null);
    assert((await page.getByText(candidate).count()) === 0, "the acme candidate is not in globex's list");
    expectedHttpErrors.push({ status: 404, urlPart: `/api/voice/sessions/${sessionId}` });
    await page.goto(`${baseUrl}/voice/sessions/${sessionId}`);
    await page.getByRole("heading", { name: "Interview not found", level: 1 }).waitFor();
    assert((await page.getByText(candidate).count()) === 0, "nothing of the session is shown");
    await screenshot("05-globex-not-found");
  });

  await step("the platform admin saves and validates a platform key (masked)", async () => {
    await signInAs("platformAdmin");
    await page.goto(`${baseUrl}/admin/sys/voice`);
    await page.getByRole("heading", { name: "Voice Configuration", level: 1 }).waitFor();
    await page.getByLabel("Service").selectOption("deepgram");
    await page.getByLabel("API key").fill("e2e-platform-key-9876");
    await page.getByRole("button", { name: "Save key" }).click();
    await page.getByText("key ending in 9876").waitFor();
    const row = page.locator("tr[data-service='deepgram']");
    await row.getByText("••••••••9876").waitFor();
    assert((await page.getByText("e2e-platform-key-9876").count()) === 0, "the key itself is never shown");
    assert((await page.getByLabel("API key").inputValue()) === "", "the key field is cleared");
    await row.getByRole("button", { name: "Validate the Deepgram (speech-to-text) key" }).click();
    // No Deepgram here: the answer is an error the panel shows (502), or a verdict.
    expectedHttpErrors.push({ status: 502, urlPart: "/validate" });
    await page.waitForFunction(() => {
      const cell = document.querySelector("tr[data-service='deepgram'] .voice-validation");
      return cell && cell.textContent.trim().length > 0;
    });
    await screenshot("06-platform-admin");
  });

  assert(consoleProblems.length === 0, `no console errors or warnings (${JSON.stringify(consoleProblems)})`);
  assert(llm.requests.length >= 1, "the analytics job called the (scripted) LLM");
}

// ------------------------------------------------------------------------------------------- main

let exitCode = 0;
const watchdog = setTimeout(() => {
  log(`✘ the test did not finish within ${TOTAL_TIMEOUT_MS / 1000} s`);
  exitCode = 1;
  void cleanup().finally(() => process.exit(1));
}, TOTAL_TIMEOUT_MS);

async function cleanup() {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch {
      // best effort
    }
  }
  cleanups.length = 0;
}

try {
  await run();
  log(`PASS: ${steps.length} steps in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  exitCode = 1;
  log(`FAIL: ${error?.message ?? error}`);
} finally {
  clearTimeout(watchdog);
  await cleanup();
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(
    path.join(ARTIFACTS, "report.json"),
    JSON.stringify({ ok: exitCode === 0, seconds: (Date.now() - started) / 1000, steps, consoleProblems }, null, 2),
  );
  log(`report: ${path.relative(REPO, path.join(ARTIFACTS, "report.json"))}`);
}
process.exit(exitCode);
