import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { LIVE_STATUSES, type Uuid, type VoiceSession } from "../types";
import { useVoiceApi } from "./context";
import { voiceKeys } from "./keys";
import { voiceRetry } from "./queryOptions";

export interface UseVoiceSessionOptions {
  /** Poll this often while the session is ready or active (a fallback for the WebSocket's status pushes). */
  livePollMs?: number;
}

/** One session with the candidate's room token. */
export function useVoiceSession(id: Uuid | null | undefined, { livePollMs = 10_000 }: UseVoiceSessionOptions = {}) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: voiceKeys.session(id ?? "none"),
    queryFn: ({ signal }) => api.sessions.get(id!, { signal }),
    enabled: Boolean(id),
    retry: voiceRetry,
    refetchInterval: (query) => {
      const status = query.state.data?.status;
      return status && LIVE_STATUSES.includes(status) ? livePollMs : false;
    },
  });
}

/** `POST /sessions/{id}/start`: creates the room, dispatches the bot; the session becomes ready. */
export function useStartSession() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: Uuid) => api.sessions.start(id),
    onSuccess: (result) => {
      client.setQueryData<VoiceSession>(voiceKeys.session(result.id), (old) =>
        old
          ? {
              ...old,
              status: result.status,
              dailyRoomUrl: result.dailyRoomUrl,
              dailyRoomName: result.dailyRoomName,
              dailyRoomToken: result.dailyRoomToken,
              dispatchMode: result.dispatchMode,
              dispatchedAt: result.dispatchedAt,
            }
          : old,
      );
      void client.invalidateQueries({ queryKey: voiceKeys.session(result.id) });
      void client.invalidateQueries({ queryKey: voiceKeys.sessions() });
    },
  });
}

export function useSessionKbs(id: Uuid | null | undefined) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: voiceKeys.sessionKbs(id ?? "none"),
    queryFn: ({ signal }) => api.sessions.listKbs(id!, {}, { signal }),
    enabled: Boolean(id),
    retry: voiceRetry,
  });
}
