/**
 * Typed client for every module-voice REST route (docs/api/*.md), built with a factory so the CORA app
 * and the dev harness give it their own base URL and token source:
 *
 *     const api = createVoiceApi({ baseUrl: "https://api.example.com/api/voice", getToken: () => session.jwt });
 *     const { items, pagination } = await api.sessions.list({ orgId });
 *
 * Successful calls resolve to the envelope's `data` (lists: `{items, pagination}`); failures reject with a
 * `VoiceApiError` carrying the envelope's `error`, `code` and `details`.
 */
import type {
  ApiEnvelope,
  ConfigListParams,
  CreateConfigInput,
  CreateSessionInput,
  CredentialDeleted,
  CredentialTarget,
  CredentialValidation,
  Deleted,
  HealthCheck,
  OrgVoiceStats,
  Page,
  PageParams,
  Pagination,
  RegenerateAccepted,
  SaveCredentialInput,
  SessionKbDeleted,
  SessionKbLink,
  SessionListParams,
  StartSessionResult,
  TranscriptDeleted,
  TranscriptListParams,
  UpdateConfigInput,
  UpdateSessionInput,
  Uuid,
  VoiceAnalytics,
  VoiceConfig,
  VoiceConfigSummary,
  VoiceCredential,
  VoicePreview,
  VoicePreviewRequest,
  VoiceSession,
  VoiceSessionSummary,
  VoiceTranscript,
  VoiceTranscriptSummary,
} from "../types";
import { CLIENT_ERROR_CODES, parseRetryAfter, VoiceApiError } from "./errors";

export type TokenSource = () => string | null | undefined | Promise<string | null | undefined>;

export interface VoiceApiOptions {
  /** The module's REST base, e.g. `http://127.0.0.1:8080/api/voice` (no trailing slash needed). */
  baseUrl: string;
  /** The user's JWT, sent as `Authorization: Bearer <token>`; called for every request. */
  getToken?: TokenSource;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

type Query = Record<string, string | number | boolean | null | undefined>;

function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function seg(value: string): string {
  return encodeURIComponent(value);
}

const DEFAULT_PAGINATION: Pagination = { total: 0, limit: 0, offset: 0, hasMore: false };

export function createVoiceApi(options: VoiceApiOptions) {
  const base = options.baseUrl.replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  async function send<T>(
    method: string,
    path: string,
    { query, body, signal }: { query?: Query; body?: unknown; signal?: AbortSignal | undefined } = {},
  ): Promise<{ data: T; pagination?: Pagination }> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = options.getToken ? await options.getToken() : null;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await doFetch(`${base}${path}${queryString(query)}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ?? null,
      });
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "AbortError") {
        throw new VoiceApiError("The request was cancelled", { status: 0, code: CLIENT_ERROR_CODES.aborted });
      }
      throw new VoiceApiError("The voice service cannot be reached", { status: 0, code: CLIENT_ERROR_CODES.network, details: String(cause) });
    }
    const requestId = response.headers.get("x-amzn-RequestId");
    let envelope: ApiEnvelope<T> | null;
    try {
      envelope = (await response.json()) as ApiEnvelope<T>;
    } catch {
      envelope = null;
    }
    if (envelope === null || typeof envelope !== "object" || typeof envelope.success !== "boolean") {
      throw new VoiceApiError(`Unexpected answer from the voice service (HTTP ${response.status})`, {
        status: response.status,
        code: CLIENT_ERROR_CODES.badResponse,
        requestId,
      });
    }
    // A success envelope is data whatever the status (GET /health answers 503 + data when degraded).
    if (!envelope.success) {
      throw new VoiceApiError(envelope.error || `Request failed (HTTP ${response.status})`, {
        status: response.status,
        code: envelope.code || `HTTP_${response.status}`,
        details: envelope.details,
        requestId,
        retryAfterSeconds: parseRetryAfter(response.headers.get("Retry-After")),
      });
    }
    return envelope.pagination ? { data: envelope.data, pagination: envelope.pagination } : { data: envelope.data };
  }

  async function one<T>(method: string, path: string, init: { query?: Query; body?: unknown; signal?: AbortSignal | undefined } = {}): Promise<T> {
    return (await send<T>(method, path, init)).data;
  }

  async function page<T>(path: string, query: Query, signal?: AbortSignal): Promise<Page<T>> {
    const { data, pagination } = await send<T[]>("GET", path, { query, signal });
    return { items: data, pagination: pagination ?? { ...DEFAULT_PAGINATION, total: data.length, limit: data.length } };
  }

  const pageQuery = (p: PageParams) => ({ limit: p.limit, offset: p.offset });

  return {
    baseUrl: base,

    health: (o: RequestOptions = {}) => one<HealthCheck>("GET", "/health", o),

    /**
     * `POST /preview` (docs/api/preview.md): synthesize a short sample of a voice (`{orgId, voice, text?}`,
     * e.g. from a configuration form) or of a saved configuration (`{configId, text?}`). A 429 rejects with
     * `retryAfterSeconds` (the `Retry-After` header); a 424 means the org's Cartesia key is missing or rejected.
     */
    previewVoice: (request: VoicePreviewRequest, o: RequestOptions = {}) => one<VoicePreview>("POST", "/preview", { body: request, ...o }),

    sessions: {
      list: (params: SessionListParams, o: RequestOptions = {}) =>
        page<VoiceSessionSummary>(
          "/sessions",
          {
            orgId: params.orgId,
            status: params.status,
            interviewType: params.interviewType,
            workspaceId: params.workspaceId,
            sortBy: params.sortBy,
            sortOrder: params.sortOrder,
            ...pageQuery(params),
          },
          o.signal,
        ),
      get: (id: Uuid, o: RequestOptions = {}) => one<VoiceSession>("GET", `/sessions/${seg(id)}`, o),
      create: (input: CreateSessionInput, o: RequestOptions = {}) => one<VoiceSession>("POST", "/sessions", { body: input, ...o }),
      update: (id: Uuid, input: UpdateSessionInput, o: RequestOptions = {}) =>
        one<VoiceSession>("PUT", `/sessions/${seg(id)}`, { body: input, ...o }),
      remove: (id: Uuid, o: RequestOptions = {}) => one<Deleted>("DELETE", `/sessions/${seg(id)}`, o),
      start: (id: Uuid, o: RequestOptions = {}) => one<StartSessionResult>("POST", `/sessions/${seg(id)}/start`, o),
      listKbs: (id: Uuid, params: PageParams = {}, o: RequestOptions = {}) =>
        page<SessionKbLink>(`/sessions/${seg(id)}/kbs`, pageQuery(params), o.signal),
      addKb: (id: Uuid, input: { kbId: Uuid; isEnabled?: boolean }, o: RequestOptions = {}) =>
        one<SessionKbLink>("POST", `/sessions/${seg(id)}/kbs`, { body: input, ...o }),
      updateKb: (id: Uuid, kbId: Uuid, input: { isEnabled: boolean }, o: RequestOptions = {}) =>
        one<SessionKbLink>("PUT", `/sessions/${seg(id)}/kbs/${seg(kbId)}`, { body: input, ...o }),
      removeKb: (id: Uuid, kbId: Uuid, o: RequestOptions = {}) =>
        one<SessionKbDeleted>("DELETE", `/sessions/${seg(id)}/kbs/${seg(kbId)}`, o),
    },

    configs: {
      list: (params: ConfigListParams, o: RequestOptions = {}) =>
        page<VoiceConfigSummary>(
          "/configs",
          { orgId: params.orgId, isActive: params.isActive, interviewType: params.interviewType, ...pageQuery(params) },
          o.signal,
        ),
      get: (id: Uuid, o: RequestOptions = {}) => one<VoiceConfig>("GET", `/configs/${seg(id)}`, o),
      create: (input: CreateConfigInput, o: RequestOptions = {}) => one<VoiceConfig>("POST", "/configs", { body: input, ...o }),
      update: (id: Uuid, input: UpdateConfigInput, o: RequestOptions = {}) =>
        one<VoiceConfig>("PUT", `/configs/${seg(id)}`, { body: input, ...o }),
      remove: (id: Uuid, o: RequestOptions = {}) => one<Deleted>("DELETE", `/configs/${seg(id)}`, o),
    },

    credentials: {
      list: (target: CredentialTarget, params: PageParams = {}, o: RequestOptions = {}) =>
        page<VoiceCredential>(
          "/credentials",
          "orgId" in target ? { orgId: target.orgId, ...pageQuery(params) } : { scope: "platform", ...pageQuery(params) },
          o.signal,
        ),
      get: (id: Uuid, o: RequestOptions = {}) => one<VoiceCredential>("GET", `/credentials/${seg(id)}`, o),
      /** Create (first key of the service in the scope) or replace the key. */
      save: (input: SaveCredentialInput, o: RequestOptions = {}) =>
        one<VoiceCredential>("POST", "/credentials", { body: input, ...o }),
      remove: (id: Uuid, o: RequestOptions = {}) => one<CredentialDeleted>("DELETE", `/credentials/${seg(id)}`, o),
      validate: (id: Uuid, o: RequestOptions = {}) => one<CredentialValidation>("POST", `/credentials/${seg(id)}/validate`, o),
    },

    transcripts: {
      list: (params: TranscriptListParams, o: RequestOptions = {}) =>
        page<VoiceTranscriptSummary>("/transcripts", { orgId: params.orgId, sessionId: params.sessionId, ...pageQuery(params) }, o.signal),
      get: (id: Uuid, o: RequestOptions = {}) => one<VoiceTranscript>("GET", `/transcripts/${seg(id)}`, o),
      remove: (id: Uuid, o: RequestOptions = {}) => one<TranscriptDeleted>("DELETE", `/transcripts/${seg(id)}`, o),
    },

    analytics: {
      get: (sessionId: Uuid, o: RequestOptions = {}) => one<VoiceAnalytics>("GET", `/analytics/${seg(sessionId)}`, o),
      regenerate: (sessionId: Uuid, o: RequestOptions = {}) =>
        one<RegenerateAccepted>("POST", `/analytics/${seg(sessionId)}/regenerate`, o),
      stats: (orgId: Uuid, o: RequestOptions = {}) => one<OrgVoiceStats>("GET", "/stats", { query: { orgId }, ...o }),
    },
  };
}

export type VoiceApi = ReturnType<typeof createVoiceApi>;
