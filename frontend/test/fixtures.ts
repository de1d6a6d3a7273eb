import type { VoiceAnalyticsRecord, VoiceConfig, VoiceSession, VoiceTranscript } from "../types";
import { ORG } from "./render";

export const SESSION_ID = "4ea95d37-937e-4e70-89d8-47bed6326f82";
export const USER = "18c18e7b-9f2b-46f4-af0c-5c9f656185b5";

export function session(overrides: Partial<VoiceSession> = {}): VoiceSession {
  return {
    id: SESSION_ID,
    orgId: ORG,
    workspaceId: null,
    configId: null,
    candidateName: "John Doe",
    candidateEmail: "john@example.com",
    interviewType: "technical",
    status: "pending",
    dailyRoomUrl: null,
    dailyRoomName: null,
    startedAt: null,
    completedAt: null,
    durationSeconds: null,
    dispatchMode: null,
    dispatchedAt: null,
    botJoinedAt: null,
    failureReason: null,
    createdAt: "2026-01-16T13:55:00.951456Z",
    updatedAt: "2026-01-16T13:55:00.951456Z",
    createdBy: USER,
    updatedBy: null,
    sessionMetadata: {},
    dailyRoomToken: null,
    ...overrides,
  };
}

export function config(overrides: Partial<VoiceConfig> = {}): VoiceConfig {
  return {
    id: "bc2bccbe-5636-4622-9b0a-53c94736055c",
    orgId: ORG,
    name: "Technical Interview v1",
    interviewType: "technical",
    description: "Standard technical interview template",
    isActive: true,
    version: 1,
    createdAt: "2026-01-16T12:38:45.623051Z",
    updatedAt: "2026-01-16T12:38:45.623051Z",
    createdBy: USER,
    updatedBy: null,
    configJson: {
      bot_name: "Interview Assistant",
      voice: { provider: "cartesia", voice_id: "sonic-english", speed: 1.0 },
      llm: { provider: "openai", model: "gpt-4o-mini", temperature: 0.7, max_tokens: 500 },
      interview: {
        max_duration_minutes: 30,
        questions: [
          { id: "q1", text: "Tell me about a system you built.", type: "open", follow_up_enabled: true },
          { id: "q2", text: "How did you test it?" },
        ],
        scoring_rubric: { criteria: ["communication", { name: "technical_depth", weight: 0.75, description: "Depth" }] },
      },
    },
    ...overrides,
  };
}

export const SEGMENTS = [
  { seq: 1, speaker: "bot", text: "Hello! Thanks for joining.", startTime: 0, endTime: 2.5, confidence: 0.98 },
  { seq: 2, speaker: "candidate", text: "Hi, happy to be here.", startTime: 3, endTime: 4.2, confidence: 0.95 },
  { seq: 3, speaker: "bot", text: "Tell me about a system you built.", startTime: 5, endTime: 7 },
  { seq: 4, speaker: "candidate", text: "I built an event pipeline on AWS.", startTime: 8, endTime: 11, confidence: 0.9 },
  { seq: 5, speaker: "candidate", text: "It used a dead-letter queue for failures.", startTime: 11.2, endTime: 14, confidence: 0.9 },
].map((s) => ({ confidence: null, ...s }));

export function transcript(overrides: Partial<VoiceTranscript> = {}): VoiceTranscript {
  return {
    id: "5a729ed7-c526-4be3-bffe-55023a6dbca6",
    orgId: ORG,
    sessionId: SESSION_ID,
    candidateName: "John Doe",
    interviewType: "technical",
    summary: null,
    wordCount: 30,
    transcriptS3Url: null,
    metadata: {},
    createdAt: "2026-01-16T14:00:00Z",
    updatedAt: "2026-01-16T14:00:00Z",
    createdBy: USER,
    updatedBy: null,
    transcriptText: null,
    speakerSegments: SEGMENTS,
    ...overrides,
  };
}

export function analytics(overrides: Partial<VoiceAnalyticsRecord> = {}): VoiceAnalyticsRecord {
  return {
    id: "149e0002-0a52-49a7-9741-d4d710b66848",
    sessionId: SESSION_ID,
    orgId: ORG,
    transcriptId: "5a729ed7-c526-4be3-bffe-55023a6dbca6",
    sessionStatus: "completed",
    status: "completed",
    error: null,
    overallScore: 82.5,
    categoryScores: {
      communication: { score: 85, weight: 0.25, feedback: "Clear and articulate" },
      technical_depth: { score: 80, weight: 0.75, feedback: "Solid" },
    },
    strengths: ["Clear examples"],
    weaknesses: ["Few trade-offs"],
    recommendations: ["Second round"],
    keyMoments: [
      { timestamp: 11.5, type: "strength", description: "Reliability", quote: "a dead-letter queue" },
      { timestamp: 8.2, type: "highlight", description: "The system", quote: "I built an event pipeline" },
    ],
    detailedAnalysis: {},
    metrics: { duration_seconds: 14, turn_count: 4, candidate_words: 20, talk_time_ratio: 0.5, questions: { asked: 1, configured: 2 } },
    modelUsed: "gpt-4o-mini",
    processingTimeMs: 4210,
    createdAt: "2026-01-16T14:00:00Z",
    updatedAt: "2026-01-16T14:00:00Z",
    ...overrides,
  };
}
