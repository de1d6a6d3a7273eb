import type { FieldError } from "../types";

/** Codes this client uses for failures that never reached the API's envelope. */
export const CLIENT_ERROR_CODES = {
  network: "NETWORK_ERROR",
  badResponse: "BAD_RESPONSE",
  aborted: "ABORTED",
} as const;

/**
 * A failed API call, from the envelope `{success: false, error, code, details}` (or a network failure:
 * `status` 0 and code `NETWORK_ERROR`). `fieldErrors` lists `details` when they are field errors
 * (`[{field, message}]`, e.g. `configJson.voice.provider`).
 */
export class VoiceApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  readonly requestId: string | null;
  /** Seconds to wait before trying again, from a 429/503 answer's `Retry-After` header (null without one). */
  readonly retryAfterSeconds: number | null;

  constructor(
    message: string,
    options: { status: number; code: string; details?: unknown; requestId?: string | null; retryAfterSeconds?: number | null },
  ) {
    super(message);
    this.name = "VoiceApiError";
    this.status = options.status;
    this.code = options.code;
    this.details = options.details;
    this.requestId = options.requestId ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }

  get fieldErrors(): FieldError[] {
    return fieldErrorsOf(this.details);
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }

  get isForbidden(): boolean {
    return this.status === 403;
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }

  get isNetworkError(): boolean {
    return this.code === CLIENT_ERROR_CODES.network;
  }
}

/**
 * A `Retry-After` header in whole seconds (at least 0): delta-seconds, or an HTTP date counted from `now`.
 * Null when absent or unreadable (a cross-origin answer only exposes it with Access-Control-Expose-Headers).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^[A-Za-z]{3},/.test(text)) return null; // an HTTP date ("Fri, 16 Jan 2026 15:00:30 GMT"), nothing else
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export function isVoiceApiError(value: unknown): value is VoiceApiError {
  return value instanceof VoiceApiError;
}

export function fieldErrorsOf(details: unknown): FieldError[] {
  if (!Array.isArray(details)) return [];
  return details.filter(
    (d): d is FieldError =>
      typeof d === "object" && d !== null && typeof (d as FieldError).field === "string" && typeof (d as FieldError).message === "string",
  );
}

/** Field errors keyed by field path (the first message of each field wins). */
export function fieldErrorMap(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isVoiceApiError(error)) return out;
  for (const { field, message } of error.fieldErrors) {
    out[field] ??= message.replace(/^Value error, /, "");
  }
  return out;
}

/** A sentence for a user: what failed, without stack traces or raw JSON. */
export function describeError(error: unknown): string {
  if (isVoiceApiError(error)) {
    if (error.isNetworkError) return "The voice service cannot be reached. Check your connection and try again.";
    if (error.isUnauthorized) return "Your sign-in has expired or is not valid. Sign in again.";
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
