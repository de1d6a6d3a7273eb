import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { CredentialTarget, SaveCredentialInput, Uuid } from "../types";
import { useVoiceApi } from "./context";
import { voiceKeys } from "./keys";
import { voiceRetry } from "./queryOptions";

/** Provider credentials of an org (`{orgId}`, org admins) or the platform defaults (`{scope: "platform"}`). */
export function useVoiceCredentials(target: CredentialTarget | null) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: target ? voiceKeys.credentialList(target) : [...voiceKeys.credentials(), "list", "disabled"],
    queryFn: ({ signal }) => api.credentials.list(target!, {}, { signal }),
    enabled: target !== null,
    retry: voiceRetry,
  });
}

export function useSaveCredential() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: SaveCredentialInput) => api.credentials.save(input),
    onSuccess: () => void client.invalidateQueries({ queryKey: voiceKeys.credentials() }),
  });
}

export function useDeleteCredential() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: Uuid) => api.credentials.remove(id),
    onSuccess: () => void client.invalidateQueries({ queryKey: voiceKeys.credentials() }),
  });
}

/** Checks a stored key with its provider; `valid: false` with a reason is an answer, not an error. */
export function useValidateCredential() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: Uuid) => api.credentials.validate(id),
    onSuccess: () => void client.invalidateQueries({ queryKey: voiceKeys.credentials() }),
  });
}
