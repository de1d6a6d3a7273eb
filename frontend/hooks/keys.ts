import type { ConfigListParams, CredentialTarget, SessionListParams, TranscriptListParams, Uuid } from "../types";

/** react-query keys of the module: everything under ["voice", ...], so a host can invalidate it all. */
export const voiceKeys = {
  all: ["voice"] as const,
  sessions: () => [...voiceKeys.all, "sessions"] as const,
  sessionList: (params: SessionListParams) => [...voiceKeys.sessions(), "list", params] as const,
  session: (id: Uuid) => [...voiceKeys.sessions(), "detail", id] as const,
  sessionKbs: (id: Uuid) => [...voiceKeys.sessions(), "kbs", id] as const,
  configs: () => [...voiceKeys.all, "configs"] as const,
  configList: (params: ConfigListParams) => [...voiceKeys.configs(), "list", params] as const,
  config: (id: Uuid) => [...voiceKeys.configs(), "detail", id] as const,
  credentials: () => [...voiceKeys.all, "credentials"] as const,
  credentialList: (target: CredentialTarget) => [...voiceKeys.credentials(), "list", target] as const,
  transcripts: () => [...voiceKeys.all, "transcripts"] as const,
  transcriptList: (params: TranscriptListParams) => [...voiceKeys.transcripts(), "list", params] as const,
  transcript: (id: Uuid) => [...voiceKeys.transcripts(), "detail", id] as const,
  sessionTranscript: (sessionId: Uuid) => [...voiceKeys.transcripts(), "session", sessionId] as const,
  analytics: (sessionId: Uuid) => [...voiceKeys.all, "analytics", sessionId] as const,
  stats: (orgId: Uuid) => [...voiceKeys.all, "stats", orgId] as const,
  /** The preview mutation (no query: a presigned URL expires, nothing is cached client-side). */
  preview: () => [...voiceKeys.all, "preview"] as const,
};
