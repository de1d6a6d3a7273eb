/**
 * A scripted OpenAI-compatible endpoint on 127.0.0.1 for the end-to-end test, so the local stack's
 * analytics job produces a real, grounded analysis without any external service.
 *
 * POST /v1/chat/completions answers the analysis prompt of voice_common.analysis: it reads the rubric
 * criteria ("- name (weight ...)") and the transcript lines ("[12.3] Candidate: ...") from the prompt and
 * scores every criterion, citing the candidate's own words (so the server's quote grounding accepts them).
 */
import http from "node:http";

const SCORES = [82, 74, 91, 68, 77, 85];

function candidateLines(prompt) {
  const out = [];
  for (const match of prompt.matchAll(/^\[(\d+(?:\.\d+)?)\] Candidate: (.+)$/gm)) {
    out.push({ timestamp: Number(match[1]), text: match[2].trim() });
  }
  return out;
}

function criteria(prompt) {
  return [...prompt.matchAll(/^- ([^\s(][^(]*?) \(weight [0-9.]+\)/gm)].map((m) => m[1].trim());
}

/** The first words of a line, without trailing punctuation: a quote that occurs verbatim. */
function quoteOf(text, words = 8) {
  return text.split(/\s+/).slice(0, words).join(" ").replace(/[.,;:!?]+$/, "");
}

export function analysisFor(prompt) {
  const lines = candidateLines(prompt);
  const names = criteria(prompt);
  const categoryScores = Object.fromEntries(
    names.map((name, i) => [name, { score: SCORES[i % SCORES.length], feedback: `Evidence for ${name.replace(/_/g, " ")} was clear in the answers.` }]),
  );
  const substantive = lines.filter((l) => l.text.split(/\s+/).length >= 8);
  const picked = (substantive.length ? substantive : lines).slice(0, 3);
  const types = ["strength", "highlight", "concern"];
  return {
    summary: "The candidate described an event pipeline and how they made it reliable.",
    category_scores: categoryScores,
    strengths: ["Concrete example of a production system", "Knows reliability patterns (idempotency, DLQ)"],
    weaknesses: ["Answers were short on trade-offs"],
    recommendations: ["Ask for a deeper design discussion in the next round"],
    key_moments: picked.map((line, i) => ({
      timestamp: line.timestamp,
      type: types[i % types.length],
      description: i === 0 ? "Describes the system they built" : i === 1 ? "Explains how no event is lost" : "Short answer",
      quote: quoteOf(line.text),
    })),
  };
}

function reply(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(data) });
  res.end(data);
}

/** Start the fake on a free port; resolves to {url, requests, close()}. */
export function startFakeLlm({ apiKey = "sk-e2e" } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url.endsWith("/chat/completions")) return reply(res, 404, { error: { message: "not found" } });
      if (req.headers.authorization !== `Bearer ${apiKey}`) return reply(res, 401, { error: { message: "bad key" } });
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        return reply(res, 400, { error: { message: "bad json" } });
      }
      const prompt = (body.messages ?? []).map((m) => m.content).join("\n");
      requests.push({ model: body.model, promptChars: prompt.length });
      let content;
      if (prompt.includes("These key moments cite quotes")) content = { key_moments: [] };
      else if (prompt.includes("Merge these notes") || /This is part \d+ of \d+/.test(prompt))
        content = { summary: "notes", evidence: {}, strengths: [], concerns: [], key_moments: [] };
      else content = analysisFor(prompt);
      reply(res, 200, {
        id: `chatcmpl-e2e-${requests.length}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: body.model ?? "e2e-model",
        choices: [{ index: 0, message: { role: "assistant", content: JSON.stringify(content) }, finish_reason: "stop" }],
        usage: { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: 200, total_tokens: Math.ceil(prompt.length / 4) + 200 },
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}/v1`,
        apiKey,
        requests,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}
