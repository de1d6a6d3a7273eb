// @vitest-environment node
// The API client against a real HTTP server on 127.0.0.1 (node's http), answering in the API's envelope.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVoiceApi } from "./api";
import { VoiceApiError } from "./errors";

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  contentType: string | undefined;
  body: string;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];

function send(res: http.ServerResponse, status: number, body: unknown, raw = false, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": raw ? "text/html" : "application/json", ...headers });
  res.end(raw ? String(body) : JSON.stringify(body));
}

// POST /preview as docs/api/preview.md describes it; the voice id picks the answer.
interface PreviewBody {
  orgId?: string;
  configId?: string;
  voice?: { provider: string; voiceId?: string; speed?: number };
  text?: string;
  delivery?: "url" | "base64";
}
const WAV_BASE64 = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAIlYAAESsAAACABAAZGF0YQAAAAA=";

function answerPreview(res: http.ServerResponse, body: PreviewBody) {
  const voiceId = body.voice?.voiceId ?? "en_US-joe-medium";
  if (voiceId === "busy")
    return send(
      res,
      429,
      {
        success: false,
        error: "Too many voice previews for this organization: at most 20 a minute; try again in 17 s",
        code: "PREVIEW_RATE_LIMITED",
        details: { limitPerMinute: 20 },
      },
      false,
      { "Retry-After": "17" },
    );
  if (voiceId === "no-key")
    return send(res, 424, {
      success: false,
      error: "No Cartesia API key is configured for this organization",
      code: "TTS_CREDENTIAL_MISSING",
    });
  const base64 = body.delivery === "base64";
  return send(res, 200, {
    success: true,
    data: {
      audioUrl: base64 ? null : `http://127.0.0.1:9/previews/${body.orgId ?? "org"}/abc.wav?X-Amz-Signature=1`,
      expiresAt: base64 ? null : "2026-01-16T15:05:00.123456Z",
      audioBase64: base64 ? WAV_BASE64 : null,
      mimeType: "audio/wav",
      sampleRate: 22050,
      durationMs: 2480,
      cached: Boolean(body.configId),
      provider: body.voice?.provider ?? "piper",
      voiceId,
      speed: body.voice?.speed ?? 1,
      text: body.text ?? "Hello! Thank you for joining. I'm your interview assistant today.",
      textTruncated: false,
    },
  });
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, contentType: req.headers["content-type"], body });
      const url = new URL(req.url!, "http://x");
      const route = `${req.method} ${url.pathname}`;
      if (route === "GET /api/voice/sessions")
        return send(res, 200, { success: true, data: [{ id: "s1", status: "pending" }], pagination: { total: 41, limit: 1, offset: 0, hasMore: true } });
      if (route === "POST /api/voice/configs") {
        const input = JSON.parse(body) as { name: string };
        if (!input.name)
          return send(res, 400, {
            success: false,
            error: "Invalid request: name: String should have at least 1 character",
            code: "VALIDATION_ERROR",
            details: [
              { field: "name", message: "String should have at least 1 character" },
              { field: "configJson.voice.provider", message: "Input should be 'cartesia', 'kokoro' or 'piper'" },
            ],
          });
        return send(res, 201, { success: true, data: { id: "c1", ...input, version: 1 } });
      }
      if (route === "POST /api/voice/preview") return answerPreview(res, JSON.parse(body) as PreviewBody);
      if (route === "GET /api/voice/sessions/a%2Fb") return send(res, 200, { success: true, data: { id: "a/b" } });
      if (route.startsWith("GET /api/voice/sessions/"))
        return send(res, 404, { success: false, error: "Session not found", code: "SESSION_NOT_FOUND" });
      if (route === "GET /api/voice/health") return send(res, 503, { success: true, data: { status: "degraded", checks: { database: "down" } } });
      if (route === "POST /api/voice/sessions/s1/start") return send(res, 502, "<html>Bad gateway</html>", true);
      if (route === "GET /api/voice/stats") return send(res, 200, { success: true, data: { orgId: url.searchParams.get("orgId"), totalSessions: 3 } });
      if (route === "GET /api/voice/credentials") return send(res, 200, { success: true, data: [], pagination: { total: 0, limit: 100, offset: 0, hasMore: false } });
      return send(res, 404, { success: false, error: `No route for ${route}`, code: "NOT_FOUND" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/voice/`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const api = () => createVoiceApi({ baseUrl: base, getToken: async () => "jwt-123" });

describe("createVoiceApi", () => {
  it("sends the bearer token and query, and returns a page with its pagination", async () => {
    const result = await api().sessions.list({ orgId: "org-1", status: "pending", sortBy: "created_at", limit: 1, offset: 0 });
    expect(result.items).toEqual([{ id: "s1", status: "pending" }]);
    expect(result.pagination).toEqual({ total: 41, limit: 1, offset: 0, hasMore: true });
    const request = seen.at(-1)!;
    expect(request.auth).toBe("Bearer jwt-123");
    const query = new URL(request.url, "http://x").searchParams;
    expect(Object.fromEntries(query)).toEqual({ orgId: "org-1", status: "pending", sortBy: "created_at", limit: "1", offset: "0" });
  });

  it("posts JSON and resolves to the envelope's data", async () => {
    const created = await api().configs.create({ orgId: "org-1", name: "Screen", interviewType: "technical", configJson: { bot_name: "Grace" } });
    expect(created).toMatchObject({ id: "c1", name: "Screen", version: 1 });
    const request = seen.at(-1)!;
    expect(request.method).toBe("POST");
    expect(request.contentType).toBe("application/json");
    expect(JSON.parse(request.body)).toEqual({ orgId: "org-1", name: "Screen", interviewType: "technical", configJson: { bot_name: "Grace" } });
  });

  it("rejects with a typed error carrying code, status and field errors", async () => {
    const error = await api()
      .configs.create({ orgId: "org-1", name: "", interviewType: "t", configJson: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VoiceApiError);
    const e = error as VoiceApiError;
    expect(e.status).toBe(400);
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toMatch(/^Invalid request/);
    expect(e.fieldErrors.map((f) => f.field)).toEqual(["name", "configJson.voice.provider"]);
  });

  it("tells not-found from other errors and encodes path segments", async () => {
    const error = (await api().sessions.get("missing").catch((e: unknown) => e)) as VoiceApiError;
    expect(error.isNotFound).toBe(true);
    expect(error.code).toBe("SESSION_NOT_FOUND");
    await expect(api().sessions.get("a/b")).resolves.toEqual({ id: "a/b" });
  });

  it("returns the data of a success envelope whatever the status (health 503)", async () => {
    await expect(api().health()).resolves.toMatchObject({ status: "degraded" });
  });

  it("turns a non-JSON answer into BAD_RESPONSE", async () => {
    const error = (await api().sessions.start("s1").catch((e: unknown) => e)) as VoiceApiError;
    expect(error).toBeInstanceOf(VoiceApiError);
    expect(error.status).toBe(502);
    expect(error.code).toBe("BAD_RESPONSE");
  });

  it("reports an unreachable service as NETWORK_ERROR", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const offline = createVoiceApi({ baseUrl: `http://127.0.0.1:${port}/api/voice` });
    const error = (await offline.health().catch((e: unknown) => e)) as VoiceApiError;
    expect(error.code).toBe("NETWORK_ERROR");
    expect(error.isNetworkError).toBe(true);
  });

  it("asks for an org's statistics and for the platform's credentials", async () => {
    await expect(api().analytics.stats("org-9")).resolves.toMatchObject({ orgId: "org-9", totalSessions: 3 });
    await api().credentials.list({ scope: "platform" });
    expect(new URL(seen.at(-1)!.url, "http://x").searchParams.get("scope")).toBe("platform");
    await api().credentials.list({ orgId: "org-2" });
    expect(new URL(seen.at(-1)!.url, "http://x").searchParams.get("orgId")).toBe("org-2");
  });

  it("sends no Authorization header without a token", async () => {
    await createVoiceApi({ baseUrl: base, getToken: () => null }).analytics.stats("org-1");
    expect(seen.at(-1)!.auth).toBeUndefined();
  });

  describe("previewVoice (POST /preview)", () => {
    it("posts the voice to preview and resolves to a presigned URL", async () => {
      const preview = await api().previewVoice({ orgId: "org-1", voice: { provider: "piper", voiceId: "en_US-joe-medium", speed: 1.2 }, text: "Hello there." });
      const request = seen.at(-1)!;
      expect(request.method).toBe("POST");
      expect(new URL(request.url, "http://x").pathname).toBe("/api/voice/preview");
      expect(request.auth).toBe("Bearer jwt-123");
      expect(request.contentType).toBe("application/json");
      expect(JSON.parse(request.body)).toEqual({ orgId: "org-1", voice: { provider: "piper", voiceId: "en_US-joe-medium", speed: 1.2 }, text: "Hello there." });
      expect(preview).toMatchObject({
        audioUrl: "http://127.0.0.1:9/previews/org-1/abc.wav?X-Amz-Signature=1",
        audioBase64: null,
        mimeType: "audio/wav",
        durationMs: 2480,
        cached: false,
        provider: "piper",
        speed: 1.2,
        text: "Hello there.",
      });
    });

    it("asks for the WAV inline (delivery base64) and previews a saved configuration", async () => {
      const inline = await api().previewVoice({ configId: "c1", delivery: "base64" });
      expect(JSON.parse(seen.at(-1)!.body)).toEqual({ configId: "c1", delivery: "base64" });
      expect(inline.audioUrl).toBeNull();
      expect(inline.audioBase64).toBe(WAV_BASE64);
      expect(inline.cached).toBe(true);
    });

    it("rejects a 429 with the Retry-After seconds", async () => {
      const error = (await api()
        .previewVoice({ orgId: "org-1", voice: { provider: "cartesia", voiceId: "busy" } })
        .catch((e: unknown) => e)) as VoiceApiError;
      expect(error).toBeInstanceOf(VoiceApiError);
      expect(error.status).toBe(429);
      expect(error.code).toBe("PREVIEW_RATE_LIMITED");
      expect(error.retryAfterSeconds).toBe(17);
      expect(error.details).toEqual({ limitPerMinute: 20 });
    });

    it("rejects a 424 (the org's Cartesia key is missing) with its code", async () => {
      const error = (await api()
        .previewVoice({ orgId: "org-1", voice: { provider: "cartesia", voiceId: "no-key" } })
        .catch((e: unknown) => e)) as VoiceApiError;
      expect(error.status).toBe(424);
      expect(error.code).toBe("TTS_CREDENTIAL_MISSING");
      expect(error.message).toBe("No Cartesia API key is configured for this organization");
      expect(error.retryAfterSeconds).toBeNull();
    });
  });
});
