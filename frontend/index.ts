/**
 * module-voice frontend: what the CORA app imports.
 *
 *     <QueryClientProvider client={queryClient}>
 *       <VoiceModuleProvider api={createVoiceApi({ baseUrl, getToken })} websocketUrl={wsUrl} getToken={getToken}
 *                            orgId={org.id} orgRole={membership.orgRole} Link={NextLink} navigate={router.push}>
 *         <VoiceSessionDetailPage sessionId={params.id} />
 *       </VoiceModuleProvider>
 *     </QueryClientProvider>
 *
 * Routes (seed navigation): /voice -> VoiceSessionsPage, /voice/sessions/[id] -> VoiceSessionDetailPage,
 * /admin/org/voice -> OrgVoiceAdminPage, /admin/sys/voice -> SysVoiceAdminPage. Styles: styles/voice.css.
 */
export * from "./types";
export { createVoiceApi, type VoiceApi, type VoiceApiOptions, type TokenSource } from "./lib/api";
export { VoiceApiError, isVoiceApiError, describeError, fieldErrorMap, parseRetryAfter } from "./lib/errors";
export * from "./lib/transcript";
export * from "./lib/format";
export { previewText, previewAudioSrc, describePreviewError, formatPreviewDuration, type PreviewErrorText } from "./lib/preview";

export { VoiceModuleProvider, useVoiceModule, useVoiceApi, DEFAULT_PATHS, type VoiceModuleConfig, type VoicePaths, type OrgRole } from "./hooks/context";
export { voiceKeys } from "./hooks/keys";
export { useVoiceSessions, useCreateSession, useUpdateSession, useDeleteSession } from "./hooks/useVoiceSessions";
export { useVoiceSession, useStartSession, useSessionKbs } from "./hooks/useVoiceSession";
export { useVoiceConfigs, useVoiceConfig, useCreateConfig, useUpdateConfig, useDeleteConfig } from "./hooks/useVoiceConfigs";
export { useVoiceCredentials, useSaveCredential, useDeleteCredential, useValidateCredential } from "./hooks/useVoiceCredentials";
export { useVoiceTranscripts, useVoiceTranscript, useSessionTranscript, useDeleteTranscript } from "./hooks/useVoiceTranscripts";
export { useVoicePreview } from "./hooks/useVoicePreview";
export { useVoiceAnalytics, useRegenerateAnalytics, useVoiceStats } from "./hooks/useVoiceAnalytics";
export { useRealTimeTranscript, type UseRealTimeTranscriptOptions, type UseRealTimeTranscriptResult, type ConnectionState } from "./hooks/useRealTimeTranscript";
export { LiveTranscriptStore } from "./hooks/liveTranscriptStore";
export { useDailyRoom, type DailyRoomState, type UseDailyRoomOptions } from "./hooks/useDailyRoom";

export { SessionList } from "./components/sessions/SessionList";
export { SessionCard } from "./components/sessions/SessionCard";
export { SessionStatusBadge } from "./components/sessions/SessionStatusBadge";
export { CreateSessionForm } from "./components/sessions/CreateSessionForm";
export { ConfigForm } from "./components/configs/ConfigForm";
export { ConfigList } from "./components/configs/ConfigList";
export { TranscriptViewer } from "./components/transcripts/TranscriptViewer";
export { LiveTranscriptPanel, LiveTranscriptView } from "./components/transcripts/LiveTranscriptPanel";
export { InterviewRoom } from "./components/interview/InterviewRoom";
export { AnalyticsSummary } from "./components/analytics/AnalyticsSummary";
export { OrgStatsPanel } from "./components/analytics/OrgStatsPanel";
export { BarChart } from "./components/analytics/BarChart";
export { KeyMomentsTimeline } from "./components/analytics/KeyMomentsTimeline";
export { CredentialsPanel } from "./components/credentials/CredentialsPanel";

export { VoiceSessionsPage } from "./pages/VoiceSessionsPage";
export { VoiceSessionDetailPage } from "./pages/VoiceSessionDetailPage";
export { OrgVoiceAdminPage } from "./pages/OrgVoiceAdminPage";
export { SysVoiceAdminPage } from "./pages/SysVoiceAdminPage";
