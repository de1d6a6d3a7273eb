import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { CreateSessionInput, SessionListParams, UpdateSessionInput, Uuid, VoiceSession } from "../types";
import { useVoiceApi } from "./context";
import { voiceKeys } from "./keys";
import { voiceRetry } from "./queryOptions";

/** An organization's sessions (one page); `params` null waits (e.g. no org yet). */
export function useVoiceSessions(params: SessionListParams | null) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: params ? voiceKeys.sessionList(params) : [...voiceKeys.sessions(), "list", "disabled"],
    queryFn: ({ signal }) => api.sessions.list(params!, { signal }),
    enabled: params !== null,
    placeholderData: keepPreviousData,
    retry: voiceRetry,
  });
}

export function useCreateSession() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateSessionInput) => api.sessions.create(input),
    onSuccess: (session) => {
      client.setQueryData(voiceKeys.session(session.id), session);
      void client.invalidateQueries({ queryKey: voiceKeys.sessions() });
      void client.invalidateQueries({ queryKey: voiceKeys.stats(session.orgId) });
    },
  });
}

export function useUpdateSession() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, input }: { id: Uuid; input: UpdateSessionInput }) => api.sessions.update(id, input),
    onSuccess: (session: VoiceSession) => {
      client.setQueryData(voiceKeys.session(session.id), session);
      void client.invalidateQueries({ queryKey: voiceKeys.sessions() });
      void client.invalidateQueries({ queryKey: voiceKeys.stats(session.orgId) });
    },
  });
}

export function useDeleteSession() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: Uuid) => api.sessions.remove(id),
    onSuccess: (_result, id) => {
      client.removeQueries({ queryKey: voiceKeys.session(id) });
      void client.invalidateQueries({ queryKey: voiceKeys.sessions() });
      void client.invalidateQueries({ queryKey: [...voiceKeys.all, "stats"] });
    },
  });
}
