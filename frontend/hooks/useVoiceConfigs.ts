import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ConfigListParams, CreateConfigInput, UpdateConfigInput, Uuid } from "../types";
import { useVoiceApi } from "./context";
import { voiceKeys } from "./keys";
import { voiceRetry } from "./queryOptions";

/** An organization's interview configurations (without `configJson`). */
export function useVoiceConfigs(params: ConfigListParams | null) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: params ? voiceKeys.configList(params) : [...voiceKeys.configs(), "list", "disabled"],
    queryFn: ({ signal }) => api.configs.list(params!, { signal }),
    enabled: params !== null,
    placeholderData: keepPreviousData,
    retry: voiceRetry,
  });
}

/** One configuration with its document. */
export function useVoiceConfig(id: Uuid | null | undefined) {
  const api = useVoiceApi();
  return useQuery({
    queryKey: voiceKeys.config(id ?? "none"),
    queryFn: ({ signal }) => api.configs.get(id!, { signal }),
    enabled: Boolean(id),
    retry: voiceRetry,
  });
}

export function useCreateConfig() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateConfigInput) => api.configs.create(input),
    onSuccess: (config) => {
      client.setQueryData(voiceKeys.config(config.id), config);
      void client.invalidateQueries({ queryKey: voiceKeys.configs() });
    },
  });
}

export function useUpdateConfig() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, input }: { id: Uuid; input: UpdateConfigInput }) => api.configs.update(id, input),
    onSuccess: (config) => {
      client.setQueryData(voiceKeys.config(config.id), config);
      void client.invalidateQueries({ queryKey: voiceKeys.configs() });
    },
  });
}

export function useDeleteConfig() {
  const api = useVoiceApi();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: Uuid) => api.configs.remove(id),
    onSuccess: (_r, id) => {
      client.removeQueries({ queryKey: voiceKeys.config(id) });
      void client.invalidateQueries({ queryKey: voiceKeys.configs() });
    },
  });
}
