import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ANALYTICS_FINAL, type Uuid } from "../types";
import { useVoiceApi } from "./context";
import { voiceKeys } from "./keys";
import { voiceRetry } from "./queryOptions";

/** Stop polling after this many answers (~10 minutes at the default interval): the page can be reloaded. */
const MAX_POLLS = 200;

export interface UseVoiceAnalyticsOptions {
  /** Poll while the analysis is queued or running (`analytics.ready` on the WebSocket also refreshes it). */
  poll?: boolean;
  pollMs?: number;
}

/** A session's analytics; `status: "not_started"` until the completion job has queued the analysis. */
export function useVoiceAnalytics(sessionId: Uuid | null | undefined, { poll = false, pollMs = 3_000 }: UseVoiceAnalyticsOptions = {}) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: voiceKeys.analytics(sessionId ?? "none"),
    queryFn: ({ signal }) => api.analytics.get(sessionId!, { signal }),
    enabled: Boolean(sessionId),
    retry: voiceRetry,
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      const waiting = !status || !ANALYTICS_FINAL.includes(status);
      return poll && waiting && query.state.dataUpdateCount < MAX_POLLS ? pollMs : false;
    },
  });
}

/** Queue the analysis again (org admins); 202, the result shows up on the next read. */
export function useRegenerateAnalytics() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (sessionId: Uuid) => api.analytics.regenerate(sessionId),
    onSuccess: (accepted) => void client.invalidateQueries({ queryKey: voiceKeys.analytics(accepted.sessionId) }),
  });
}

/** An organization's session statistics. */
export function useVoiceStats(orgId: Uuid | null | undefined) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: voiceKeys.stats(orgId ?? "none"),
    queryFn: ({ signal }) => api.analytics.stats(orgId!, { signal }),
    enabled: Boolean(orgId),
    retry: voiceRetry,
  });
}
