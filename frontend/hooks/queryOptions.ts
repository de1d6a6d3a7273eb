import { isVoiceApiError } from "../lib/errors";

/** Retry transient failures (network, 5xx) twice; a 4xx answer is final. */
export function voiceRetry(failureCount: number, error: unknown): boolean {
  if (isVoiceApiError(error) && error.status >= 400 && error.status < 500) return false;
  return failureCount < 2;
}
