import { useMutation } from "@tanstack/react-query";
import type { VoicePreviewRequest } from "../types";
import { useVoiceApi } from "./context";
import { voiceKeys } from "./keys";

/**
 * Synthesize a voice preview (`POST /preview`): `mutate({orgId, voice, text})` for a voice being edited,
 * `mutate({configId})` for a saved configuration. Not retried (each call counts against the org's preview
 * rate limit; a 429 carries `retryAfterSeconds`). Nothing is cached client-side: the presigned URL expires.
 */
export function useVoicePreview() {
  const api = useVoiceApi();
  return useMutation({
    mutationKey: voiceKeys.preview(),
    mutationFn: (request: VoicePreviewRequest) => api.previewVoice(request),
    retry: false,
  });
}
