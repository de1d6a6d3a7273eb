/**
 * module-voice API models, camelCase as the REST API and the WebSocket speak them.
 *
 * Sources of truth: docs/api/*.md and the pydantic response models in
 * backend/layers/voice_common/python/voice_common/api/*.py (CamelResponse dumps), docs/websocket.md and
 * voice_common/ws_messages.py. Timestamps are ISO 8601 strings (UTC, "Z"); ids are UUID strings.
 */

export type Uuid = string;
export type IsoDateTime = string;

// ---------------------------------------------------------------------------------------------- envelope

export interface Pagination {
  total: number;
  limit: number;
  offset: number;
  hasMore: boolean;
}

/** One field error of a VALIDATION_ERROR (`field` is a dotted camelCase path such as `configJson.voice.provider`). */
export interface FieldError {
  field: string;
  message: string;
}

export interface ApiSuccess<T> {
  success: true;
  data: T;
  pagination?: Pagination;
}

export interface ApiFailure {
  success: false;
  error: string;
  code: string;
  details?: unknown;
}

export type ApiEnvelope<T> = ApiSuccess<T> | ApiFailure;

/** A page of a list route. */
export interface Page<T> {
  items: T[];
  pagination: Pagination;
}

export interface PageParams {
  limit?: number;
  offset?: number;
}

// ---------------------------------------------------------------------------------------------- sessions

export const SESSION_STATUSES = ["pending", "ready", "active", "completed", "failed", "cancelled"] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export const LIVE_STATUSES: readonly SessionStatus[] = ["ready", "active"];
export const FINAL_STATUSES: readonly SessionStatus[] = ["completed", "failed", "cancelled"];

export type DispatchMode = "pool" | "task";

/** A session in a list (`GET /sessions`): no room token, no metadata. */
export interface VoiceSessionSummary {
  id: Uuid;
  orgId: Uuid;
  workspaceId: Uuid | null;
  configId: Uuid | null;
  candidateName: string | null;
  candidateEmail: string | null;
  interviewType: string;
  status: SessionStatus;
  dailyRoomUrl: string | null;
  dailyRoomName: string | null;
  startedAt: IsoDateTime | null;
  completedAt: IsoDateTime | null;
  durationSeconds: number | null;
  dispatchMode: DispatchMode | null;
  dispatchedAt: IsoDateTime | null;
  botJoinedAt: IsoDateTime | null;
  failureReason: string | null;
  createdAt: IsoDateTime;
  updatedAt: IsoDateTime;
  createdBy: Uuid;
  updatedBy: Uuid | null;
}

/** One session (`GET /sessions/{id}`), with the candidate's Daily meeting token. */
export interface VoiceSession extends VoiceSessionSummary {
  sessionMetadata: Record<string, unknown>;
  dailyRoomToken: string | null;
}

export const SESSION_SORT_FIELDS = [
  "created_at",
  "updated_at",
  "status",
  "interview_type",
  "candidate_name",
  "started_at",
  "completed_at",
] as const;
export type SessionSortBy = (typeof SESSION_SORT_FIELDS)[number];

export interface SessionListParams extends PageParams {
  orgId: Uuid;
  status?: SessionStatus;
  interviewType?: string;
  workspaceId?: Uuid;
  sortBy?: SessionSortBy;
  sortOrder?: "asc" | "desc";
}

export interface CreateSessionInput {
  orgId: Uuid;
  interviewType: string;
  candidateName?: string | null;
  candidateEmail?: string | null;
  configId?: Uuid | null;
  workspaceId?: Uuid | null;
  sessionMetadata?: Record<string, unknown>;
}

/** `PUT /sessions/{id}`: candidate details (while pending) and/or a status a user may set. */
export interface UpdateSessionInput {
  candidateName?: string | null;
  candidateEmail?: string | null;
  interviewType?: string;
  configId?: Uuid | null;
  workspaceId?: Uuid | null;
  sessionMetadata?: Record<string, unknown>;
  status?: "completed" | "failed" | "cancelled";
  reason?: string;
}

/** `POST /sessions/{id}/start`. */
export interface StartSessionResult {
  id: Uuid;
  status: SessionStatus;
  dailyRoomUrl: string | null;
  dailyRoomName: string | null;
  dailyRoomToken: string | null;
  dispatchMode: DispatchMode | null;
  ecsTaskArn: string | null;
  dispatchedAt: IsoDateTime | null;
  alreadyStarted: boolean;
}

export interface Deleted {
  id: Uuid;
  deleted: true;
}

export interface SessionKbLink {
  id: Uuid;
  sessionId: Uuid;
  kbId: Uuid;
  kbName: string | null;
  isEnabled: boolean;
  addedAt: IsoDateTime;
  addedBy: Uuid;
}

export interface SessionKbDeleted {
  sessionId: Uuid;
  kbId: Uuid;
  deleted: true;
}

// ---------------------------------------------------------------------------------------------- configs

export const VOICE_PROVIDERS = ["cartesia", "kokoro", "piper"] as const;
export const TRANSCRIPTION_PROVIDERS = ["deepgram", "whisper", "moonshine"] as const;
export const LLM_PROVIDERS = ["openai", "openai_compatible"] as const;
export type VoiceProvider = (typeof VOICE_PROVIDERS)[number];
export type TranscriptionProvider = (typeof TRANSCRIPTION_PROVIDERS)[number];
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

export interface InterviewQuestion {
  id: string;
  text: string;
  type?: string;
  follow_up_enabled?: boolean;
}

export interface RubricCriterion {
  name: string;
  weight?: number | null;
  description?: string | null;
}

/**
 * The configuration document as the API returns it (`configJson`, stored snake_case: only the keys that
 * were set). The API also accepts camelCase keys on input; this client always sends snake_case.
 */
export interface InterviewConfigJson {
  bot_name?: string;
  system_prompt?: string;
  initial_message?: string;
  voice?: {
    provider?: VoiceProvider;
    voice_id?: string;
    speed?: number;
    model?: string;
    model_path?: string;
    voices_path?: string;
  };
  transcription?: {
    provider?: TranscriptionProvider;
    language?: string;
    model?: string;
  };
  llm?: {
    provider?: LlmProvider;
    model?: string;
    temperature?: number;
    max_tokens?: number;
    base_url?: string;
  };
  interview?: {
    max_duration_minutes?: number;
    questions?: InterviewQuestion[];
    scoring_rubric?: { criteria?: Array<string | RubricCriterion> };
    max_follow_ups?: number;
    closing_message?: string;
    time_up_message?: string;
  };
}

export interface VoiceConfigSummary {
  id: Uuid;
  orgId: Uuid;
  name: string;
  interviewType: string;
  description: string | null;
  isActive: boolean;
  version: number;
  createdAt: IsoDateTime;
  updatedAt: IsoDateTime;
  createdBy: Uuid;
  updatedBy: Uuid | null;
}

export interface VoiceConfig extends VoiceConfigSummary {
  configJson: InterviewConfigJson;
}

export interface ConfigListParams extends PageParams {
  orgId: Uuid;
  isActive?: boolean;
  interviewType?: string;
}

export interface CreateConfigInput {
  orgId: Uuid;
  name: string;
  interviewType: string;
  description?: string | null;
  isActive?: boolean;
  configJson: InterviewConfigJson;
}

export interface UpdateConfigInput {
  name?: string;
  interviewType?: string;
  description?: string | null;
  isActive?: boolean;
  configJson?: InterviewConfigJson;
}

// ---------------------------------------------------------------------------------------------- voice preview

/** Providers `POST /preview` can synthesize (kokoro cannot be previewed). */
export const PREVIEW_PROVIDERS = ["cartesia", "piper"] as const;
export type PreviewProvider = (typeof PREVIEW_PROVIDERS)[number];
/** The longest `text` a preview accepts (characters). */
export const PREVIEW_TEXT_MAX_CHARS = 300;
export type PreviewDelivery = "url" | "base64";

/** The voice to hear: the `voice` section of a configuration being edited. */
export interface PreviewVoice {
  provider: PreviewProvider;
  /** cartesia: required, a Cartesia voice id; piper: an installed voice (default `en_US-joe-medium`). */
  voiceId?: string;
  /** 0.1 to 4.0 (default 1.0); clamped per provider (the answer's `speed` is the one used). */
  speed?: number;
  /** A Cartesia model id (default: the bot's). */
  model?: string;
}

interface PreviewCommon {
  /** 1 to 300 characters; default: the configuration's `initial_message`, else the bot's greeting. */
  text?: string;
  /** `url` (default): a presigned `audioUrl`; `base64`: the WAV inline in `audioBase64`. */
  delivery?: PreviewDelivery;
}

/** Preview a voice that is not saved yet (a form being edited). */
export interface VoicePreviewOfVoice extends PreviewCommon {
  orgId: Uuid;
  voice: PreviewVoice;
  configId?: never;
}

/** Preview a saved configuration's voice (and, without `text`, its `initial_message`). */
export interface VoicePreviewOfConfig extends PreviewCommon {
  configId: Uuid;
  /** Optional; when given it must be the configuration's org. */
  orgId?: Uuid;
  voice?: never;
}

/** `POST /preview`: exactly one of `voice` (with `orgId`) and `configId`. */
export type VoicePreviewRequest = VoicePreviewOfVoice | VoicePreviewOfConfig;

/** The answer of `POST /preview`: a mono 16-bit PCM WAV, as a presigned URL or inline. */
export interface VoicePreview {
  /** Presigned GET URL (no auth header needed), valid until `expiresAt`; null with `audioBase64`. */
  audioUrl: string | null;
  expiresAt: IsoDateTime | null;
  /** The WAV, base64 (`delivery: "base64"`, or a deployment without a cache bucket). */
  audioBase64: string | null;
  mimeType: "audio/wav";
  sampleRate: number;
  durationMs: number;
  /** Served from the preview cache: the provider was not called. */
  cached: boolean;
  provider: PreviewProvider;
  voiceId: string;
  /** The speed actually used (after the provider's clamping). */
  speed: number;
  /** The text spoken (normalised; a long `initial_message` shortened). */
  text: string;
  textTruncated: boolean;
}

// ---------------------------------------------------------------------------------------------- credentials

export const CREDENTIAL_SERVICES = ["daily", "deepgram", "cartesia"] as const;
export type CredentialService = (typeof CREDENTIAL_SERVICES)[number];
export type CredentialScope = "org" | "platform";

/** A credential's metadata: never the key (only its last four characters) nor the secret's ARN. */
export interface VoiceCredential {
  id: Uuid;
  orgId: Uuid | null;
  scope: CredentialScope;
  serviceName: CredentialService;
  keyLast4: string | null;
  configMetadata: Record<string, unknown>;
  isActive: boolean;
  lastValidatedAt: IsoDateTime | null;
  createdAt: IsoDateTime;
  updatedAt: IsoDateTime;
  createdBy: Uuid;
  updatedBy: Uuid | null;
}

/** Which credentials: an org's (`{orgId}`) or the platform defaults (`{scope: "platform"}`). */
export type CredentialTarget = { orgId: Uuid } | { scope: "platform" };

export type SaveCredentialInput = CredentialTarget & {
  serviceName: CredentialService;
  apiKey: string;
  configMetadata?: Record<string, unknown>;
};

export interface CredentialDeleted {
  id: Uuid;
  orgId: Uuid | null;
  serviceName: CredentialService;
  deleted: true;
  secretDeletionScheduled: boolean;
}

export interface CredentialValidation {
  id: Uuid;
  serviceName: CredentialService;
  valid: boolean;
  reason: string | null;
  lastValidatedAt: IsoDateTime | null;
}

// ---------------------------------------------------------------------------------------------- transcripts

export type Speaker = "bot" | "candidate";

/** A stored segment of an assembled transcript (`speakerSegments`). */
export interface TranscriptSegment {
  seq: number | null;
  /** "bot" or "candidate" (Speaker). */
  speaker: string | null;
  text: string | null;
  startTime: number | null;
  endTime: number | null;
  confidence: number | null;
}

export interface VoiceTranscriptSummary {
  id: Uuid;
  orgId: Uuid;
  sessionId: Uuid;
  candidateName: string | null;
  interviewType: string | null;
  summary: string | null;
  wordCount: number | null;
  transcriptS3Url: string | null;
  metadata: Record<string, unknown>;
  createdAt: IsoDateTime;
  updatedAt: IsoDateTime;
  createdBy: Uuid;
  updatedBy: Uuid | null;
}

export interface VoiceTranscript extends VoiceTranscriptSummary {
  transcriptText: string | null;
  speakerSegments: TranscriptSegment[];
}

export interface TranscriptListParams extends PageParams {
  orgId: Uuid;
  sessionId?: Uuid;
}

export interface TranscriptDeleted {
  id: Uuid;
  sessionId: Uuid;
  orgId: Uuid;
  deleted: true;
  archiveDeletionRequested: boolean;
}

// ---------------------------------------------------------------------------------------------- analytics

export type AnalyticsStatus = "not_started" | "pending" | "running" | "completed" | "failed" | "skipped";
export const ANALYTICS_FINAL: readonly AnalyticsStatus[] = ["completed", "failed", "skipped"];

export interface CategoryScore {
  score: number;
  weight?: number | null;
  feedback?: string | null;
}

export type KeyMomentType = "strength" | "concern" | "highlight";

export interface KeyMoment {
  timestamp: number;
  /** A KeyMomentType; unknown types are shown as they are. */
  type: string;
  description: string;
  quote: string;
}

/**
 * Deterministic conversation metrics computed from the transcript (voice_common.metrics, snake_case as
 * stored). Every key is optional: render what is there.
 */
export interface ConversationMetrics {
  version?: number;
  duration_seconds?: number | null;
  turn_count?: number;
  segment_count?: number;
  candidate_words?: number;
  bot_words?: number;
  talk_time_ratio?: number | null;
  candidate_talk_seconds?: number;
  bot_talk_seconds?: number;
  candidate_words_per_minute?: number | null;
  mean_response_latency_seconds?: number | null;
  longest_monologue_seconds?: number | null;
  questions_asked?: number;
  questions?: { asked?: number; configured?: number; coverage?: number | null };
  [key: string]: unknown;
}

/** `GET /analytics/{sessionId}` before anything was queued. */
export interface VoiceAnalyticsNotStarted {
  sessionId: Uuid;
  orgId: Uuid;
  sessionStatus: SessionStatus;
  status: "not_started";
}

export interface VoiceAnalyticsRecord {
  id: Uuid;
  sessionId: Uuid;
  orgId: Uuid;
  transcriptId: Uuid | null;
  sessionStatus: SessionStatus;
  status: Exclude<AnalyticsStatus, "not_started">;
  error: string | null;
  overallScore: number | null;
  categoryScores: Record<string, CategoryScore>;
  strengths: string[];
  weaknesses: string[];
  recommendations: string[];
  keyMoments: KeyMoment[];
  detailedAnalysis: unknown;
  metrics: ConversationMetrics;
  modelUsed: string | null;
  processingTimeMs: number | null;
  createdAt: IsoDateTime;
  updatedAt: IsoDateTime;
}

export type VoiceAnalytics = VoiceAnalyticsNotStarted | VoiceAnalyticsRecord;

export interface RegenerateAccepted {
  sessionId: Uuid;
  orgId: Uuid;
  status: "pending";
  previousStatus: AnalyticsStatus;
  regenerate: true;
}

export interface OrgVoiceStats {
  orgId: Uuid;
  totalSessions: number;
  completedSessions: number;
  avgDurationSeconds: number | null;
  avgScore: number | null;
  sessionsThisMonth: number;
  sessionsByStatus: Partial<Record<SessionStatus, number>>;
}

export interface HealthCheck {
  status: string;
  [key: string]: unknown;
}

// ---------------------------------------------------------------------------------------------- websocket

/** A segment on the live transcript WebSocket (`transcript.segment` / `transcript.backlog`). */
export interface LiveSegment {
  seq: number;
  speaker: Speaker;
  text: string;
  startTime: number | null;
  endTime: number | null;
  confidence: number | null;
  isFinal: boolean;
}

interface WsBase {
  v: number;
  sessionId: Uuid | null;
}

export type WsServerMessage =
  | (WsBase & { type: "subscribed"; status: SessionStatus; afterSeq: number | null })
  | (WsBase & { type: "transcript.backlog"; segments: LiveSegment[]; complete: boolean })
  | (WsBase & { type: "transcript.segment"; segment: LiveSegment })
  | (WsBase & { type: "unsubscribed" })
  | (WsBase & { type: "session.status"; status: SessionStatus; reason: string | null; at: IsoDateTime })
  | (WsBase & { type: "analytics.ready" })
  | (WsBase & { type: "pong" })
  | (WsBase & {
      type: "error";
      code: string;
      message: string;
      action: string | null;
      seq?: number;
      details?: FieldError[];
    });

export type WsClientMessage =
  | { action: "subscribe"; sessionId: Uuid; afterSeq?: number }
  | { action: "unsubscribe"; sessionId: Uuid }
  | { action: "ping" };
