import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { TranscriptListParams, Uuid, VoiceTranscript } from "../types";
import { useVoiceApi } from "./context";
import { voiceKeys } from "./keys";
import { voiceRetry } from "./queryOptions";

/** An organization's transcripts (summaries), optionally of one session. */
export function useVoiceTranscripts(params: TranscriptListParams | null) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: params ? voiceKeys.transcriptList(params) : [...voiceKeys.transcripts(), "list", "disabled"],
    queryFn: ({ signal }) => api.transcripts.list(params!, { signal }),
    enabled: params !== null,
    retry: voiceRetry,
  });
}

/** One transcript with its text and speaker segments. */
export function useVoiceTranscript(id: Uuid | null | undefined) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: voiceKeys.transcript(id ?? "none"),
    queryFn: ({ signal }) => api.transcripts.get(id!, { signal }),
    enabled: Boolean(id),
    retry: voiceRetry,
  });
}

const MAX_POLLS = 300;

export interface UseSessionTranscriptOptions {
  /** Poll until the completion job has assembled the transcript (the session has finished). */
  waitForIt?: boolean;
  pollMs?: number;
}

/**
 * The assembled transcript of a session (`null` until the completion job has written it): the session's
 * entry of `GET /transcripts?sessionId=`, then `GET /transcripts/{id}`.
 */
export function useSessionTranscript(orgId: Uuid | null | undefined, sessionId: Uuid | null | undefined, { waitForIt = false, pollMs = 2_000 }: UseSessionTranscriptOptions = {}) {
  const api = useVoiceApi();
  return useQuery<VoiceTranscript | null>({
    queryKey: voiceKeys.sessionTranscript(sessionId ?? "none"),
    queryFn: async ({ signal }) => {
      const { items } = await api.transcripts.list({ orgId: orgId!, sessionId: sessionId!, limit: 1 }, { signal });
      const first = items[0];
      return first ? api.transcripts.get(first.id, { signal }) : null;
    },
    enabled: Boolean(orgId && sessionId),
    retry: voiceRetry,
    refetchInterval: (query) => (waitForIt && query.state.data === null && query.state.dataUpdateCount < MAX_POLLS ? pollMs : false),
  });
}

export function useDeleteTranscript() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: Uuid) => api.transcripts.remove(id),
    onSuccess: () => void client.invalidateQueries({ queryKey: voiceKeys.transcripts() }),
  });
}
