/**
 * A fetch that answers like the module's API (envelopes), for component tests: the real VoiceApi client
 * runs against it. Routes are "METHOD /path" (path without the base URL; `:param` segments match anything).
 */
import { createVoiceApi, type VoiceApi } from "../lib/api";

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string>;
}

export interface FakeResponse {
  status?: number;
  body: unknown;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
}
export type FakeAnswer = FakeResponse | Promise<FakeResponse>;
export type FakeHandler = (request: FakeRequest, params: Record<string, string>) => FakeAnswer;

export const BASE = "http://api.test/api/voice";

export function ok<T>(data: T, extra: Record<string, unknown> = {}) {
  return { status: 200, body: { success: true, data, ...extra } };
}

export function page<T>(items: T[], total = items.length) {
  return ok(items, { pagination: { total, limit: 100, offset: 0, hasMore: false } });
}

export function fail(status: number, code: string, error: string, details?: unknown, headers?: Record<string, string>) {
  return { status, body: { success: false, error, code, ...(details === undefined ? {} : { details }) }, ...(headers ? { headers } : {}) };
}

export function fakeApi(routes: Record<string, FakeHandler>, token = "test-token") {
  const calls: FakeRequest[] = [];
  const compiled = Object.entries(routes).map(([key, handler]) => {
    const [method, pattern] = key.split(" ") as [string, string];
    const names: string[] = [];
    const regex = new RegExp(
      `^${pattern.replace(/:[a-zA-Z]+/g, (m) => {
        names.push(m.slice(1));
        return "([^/]+)";
      })}$`,
    );
    return { method, regex, names, handler };
  });
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof URL ? input.href : typeof input === "string" ? input : input.url);
    const path = url.pathname.replace(/^\/api\/voice/, "");
    const method = init?.method ?? "GET";
    const headers = Object.fromEntries(Object.entries((init?.headers as Record<string, string>) ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const request: FakeRequest = { method, path, query: url.searchParams, body: typeof init?.body === "string" ? (JSON.parse(init.body) as unknown) : undefined, headers };
    calls.push(request);
    for (const route of compiled) {
      const match = route.method === method ? route.regex.exec(path) : null;
      if (!match) continue;
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(match[i + 1] ?? "")]));
      const answer = await route.handler(request, params);
      return new Response(JSON.stringify(answer.body), { status: answer.status ?? 200, headers: { "Content-Type": "application/json", ...answer.headers } });
    }
    return new Response(JSON.stringify({ success: false, error: `No route for ${method} ${path}`, code: "NOT_FOUND" }), { status: 404 });
  };
  const api: VoiceApi = createVoiceApi({ baseUrl: BASE, getToken: () => token, fetch: fetchImpl });
  return { api, calls };
}
