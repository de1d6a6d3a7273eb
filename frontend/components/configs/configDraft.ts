/**
 * The configuration form's state and its conversion to and from the API's `configJson` (snake_case, only
 * the keys that are set: the bot applies its defaults to the rest). Field errors are keyed by the API's
 * field paths (`configJson.voice.provider`, `configJson.interview.questions[1].text`), so client-side and
 * server-side errors land on the same inputs.
 */
import type {
  CreateConfigInput,
  InterviewConfigJson,
  InterviewQuestion,
  LlmProvider,
  PreviewProvider,
  RubricCriterion,
  TranscriptionProvider,
  UpdateConfigInput,
  Uuid,
  VoiceConfig,
  VoicePreviewOfVoice,
  VoiceProvider,
} from "../../types";
import { PREVIEW_PROVIDERS, PREVIEW_TEXT_MAX_CHARS } from "../../types";
import { previewText } from "../../lib/preview";

export interface QuestionDraft {
  key: string;
  id: string;
  text: string;
  type: string;
  followUpEnabled: boolean;
}

export interface CriterionDraft {
  key: string;
  name: string;
  weight: string;
  description: string;
}

export interface ConfigDraft {
  name: string;
  interviewType: string;
  description: string;
  isActive: boolean;
  botName: string;
  systemPrompt: string;
  initialMessage: string;
  voiceProvider: VoiceProvider | "";
  voiceId: string;
  voiceModel: string;
  voiceSpeed: string;
  voiceModelPath: string;
  voicesPath: string;
  transcriptionProvider: TranscriptionProvider | "";
  transcriptionLanguage: string;
  transcriptionModel: string;
  llmProvider: LlmProvider | "";
  llmModel: string;
  llmTemperature: string;
  llmMaxTokens: string;
  llmBaseUrl: string;
  maxDurationMinutes: string;
  maxFollowUps: string;
  closingMessage: string;
  timeUpMessage: string;
  questions: QuestionDraft[];
  criteria: CriterionDraft[];
}

let keySeq = 0;
/** A stable React key for a new list row. */
export function newKey(prefix: string): string {
  keySeq += 1;
  return `${prefix}-${keySeq}`;
}

export function emptyQuestion(index: number): QuestionDraft {
  return { key: newKey("q"), id: `q${index + 1}`, text: "", type: "", followUpEnabled: false };
}

export function emptyCriterion(): CriterionDraft {
  return { key: newKey("c"), name: "", weight: "", description: "" };
}

const str = (value: string | number | boolean | null | undefined): string => (value === undefined || value === null ? "" : String(value));

/** The form state for a configuration (or for a new one). */
export function draftFromConfig(config?: VoiceConfig | null): ConfigDraft {
  const doc: InterviewConfigJson = config?.configJson ?? {};
  const voice = doc.voice ?? {};
  const stt = doc.transcription ?? {};
  const llm = doc.llm ?? {};
  const interview = doc.interview ?? {};
  const criteria = interview.scoring_rubric?.criteria ?? [];
  return {
    name: config?.name ?? "",
    interviewType: config?.interviewType ?? "",
    description: config?.description ?? "",
    isActive: config?.isActive ?? true,
    botName: str(doc.bot_name),
    systemPrompt: str(doc.system_prompt),
    initialMessage: str(doc.initial_message),
    voiceProvider: voice.provider ?? "",
    voiceId: str(voice.voice_id),
    voiceModel: str(voice.model),
    voiceSpeed: str(voice.speed),
    voiceModelPath: str(voice.model_path),
    voicesPath: str(voice.voices_path),
    transcriptionProvider: stt.provider ?? "",
    transcriptionLanguage: str(stt.language),
    transcriptionModel: str(stt.model),
    llmProvider: llm.provider ?? "",
    llmModel: str(llm.model),
    llmTemperature: str(llm.temperature),
    llmMaxTokens: str(llm.max_tokens),
    llmBaseUrl: str(llm.base_url),
    maxDurationMinutes: str(interview.max_duration_minutes),
    maxFollowUps: str(interview.max_follow_ups),
    closingMessage: str(interview.closing_message),
    timeUpMessage: str(interview.time_up_message),
    questions: (interview.questions ?? []).map((q) => ({
      key: newKey("q"),
      id: q.id,
      text: q.text,
      type: q.type ?? "",
      followUpEnabled: Boolean(q.follow_up_enabled),
    })),
    criteria: criteria.map((c) =>
      typeof c === "string"
        ? { key: newKey("c"), name: c, weight: "", description: "" }
        : { key: newKey("c"), name: c.name, weight: str(c.weight), description: str(c.description) },
    ),
  };
}

export interface BuiltConfig {
  configJson: InterviewConfigJson;
  /** Client-side errors (numbers that are not numbers), keyed like the API's field errors. */
  errors: Record<string, string>;
}

/** The `configJson` of a draft: trimmed, empty fields left out, numbers parsed. */
export function buildConfigJson(draft: ConfigDraft): BuiltConfig {
  const errors: Record<string, string> = {};
  const text = (value: string) => {
    const v = value.trim();
    return v ? v : undefined;
  };
  const number = (value: string, field: string, integer = false) => {
    const v = value.trim();
    if (!v) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) {
      errors[field] = "must be a number";
      return undefined;
    }
    if (integer && !Number.isInteger(n)) {
      errors[field] = "must be a whole number";
      return undefined;
    }
    return n;
  };
  const prune = <T extends object>(obj: T): T | undefined => {
    const entries = Object.entries(obj).filter(([, v]) => v !== undefined);
    return entries.length ? (Object.fromEntries(entries) as T) : undefined;
  };

  const questions: InterviewQuestion[] = draft.questions.map((q) => {
    const out: InterviewQuestion = { id: q.id.trim(), text: q.text.trim() };
    if (q.type.trim()) out.type = q.type.trim(); // empty: the default ("open")
    if (q.followUpEnabled) out.follow_up_enabled = true;
    return out;
  });
  const criteria: Array<string | RubricCriterion> = draft.criteria.map((c, i) => {
    const weight = number(c.weight, `configJson.interview.scoringRubric.criteria[${i}].weight`);
    const description = text(c.description);
    if (weight === undefined && description === undefined) return c.name.trim();
    const out: RubricCriterion = { name: c.name.trim() };
    if (weight !== undefined) out.weight = weight;
    if (description !== undefined) out.description = description;
    return out;
  });

  const configJson: InterviewConfigJson = {};
  const assign = <K extends keyof InterviewConfigJson>(key: K, value: InterviewConfigJson[K] | undefined) => {
    if (value !== undefined) configJson[key] = value;
  };
  assign("bot_name", text(draft.botName));
  assign("system_prompt", text(draft.systemPrompt));
  assign("initial_message", text(draft.initialMessage));
  assign(
    "voice",
    prune({
      provider: draft.voiceProvider || undefined,
      voice_id: text(draft.voiceId),
      model: text(draft.voiceModel),
      speed: number(draft.voiceSpeed, "configJson.voice.speed"),
      model_path: text(draft.voiceModelPath),
      voices_path: text(draft.voicesPath),
    }),
  );
  assign(
    "transcription",
    prune({
      provider: draft.transcriptionProvider || undefined,
      language: text(draft.transcriptionLanguage),
      model: text(draft.transcriptionModel),
    }),
  );
  assign(
    "llm",
    prune({
      provider: draft.llmProvider || undefined,
      model: text(draft.llmModel),
      temperature: number(draft.llmTemperature, "configJson.llm.temperature"),
      max_tokens: number(draft.llmMaxTokens, "configJson.llm.maxTokens", true),
      base_url: text(draft.llmBaseUrl),
    }),
  );
  assign(
    "interview",
    prune({
      max_duration_minutes: number(draft.maxDurationMinutes, "configJson.interview.maxDurationMinutes"),
      max_follow_ups: number(draft.maxFollowUps, "configJson.interview.maxFollowUps", true),
      closing_message: text(draft.closingMessage),
      time_up_message: text(draft.timeUpMessage),
      questions: questions.length ? questions : undefined,
      scoring_rubric: criteria.length ? { criteria } : undefined,
    }),
  );
  return { configJson, errors };
}

export function createInput(orgId: Uuid, draft: ConfigDraft, configJson: InterviewConfigJson): CreateConfigInput {
  return {
    orgId,
    name: draft.name.trim(),
    interviewType: draft.interviewType.trim(),
    description: draft.description.trim() || null,
    isActive: draft.isActive,
    configJson,
  };
}

export function updateInput(draft: ConfigDraft, configJson: InterviewConfigJson): UpdateConfigInput {
  return {
    name: draft.name.trim(),
    interviewType: draft.interviewType.trim(),
    description: draft.description.trim() || null,
    isActive: draft.isActive,
    configJson,
  };
}

/**
 * The API's field path in the form's terms (camelCase): rubric items are a tagged union on the server,
 * whose error paths carry the tag (`criteria[0].criterion.weight`); the form has one set of inputs per
 * criterion.
 */
export function normalizeFieldPath(field: string): string {
  // The API names fields as they were sent; this client sends configJson in snake_case, the form's keys
  // are camelCase (the API's documented spelling).
  return field.replace(/(criteria\[\d+\])\.criterion\./, "$1.").replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Relative weights as shares of 1 (what the API stores), for a preview beside the inputs. */
export function normalizedWeights(criteria: readonly CriterionDraft[]): Array<number | null> {
  const values = criteria.map((c) => Number(c.weight.trim()));
  const valid = criteria.every((c, i) => c.weight.trim() !== "" && Number.isFinite(values[i]) && values[i]! > 0);
  if (!valid || criteria.length === 0) return criteria.map(() => null);
  const total = values.reduce((a, b) => a + b, 0);
  return values.map((v) => v / total);
}

/** Whether (and how) the form's current voice can be previewed. */
export type PreviewPlan =
  | { ok: true; request: VoicePreviewOfVoice; provider: PreviewProvider; textTruncated: boolean }
  | { ok: false; provider: string; reason: string };

const isPreviewProvider = (value: string): value is PreviewProvider => (PREVIEW_PROVIDERS as readonly string[]).includes(value);

/**
 * The `POST /preview` request for the form's current voice (provider, voice id, speed, the Cartesia model)
 * and its opening message (cut to 300 characters), or why it cannot be previewed. An empty provider is
 * the bot's default, cartesia.
 */
export function previewPlanFromDraft(orgId: Uuid, draft: ConfigDraft): PreviewPlan {
  const provider = draft.voiceProvider || "cartesia";
  if (!isPreviewProvider(provider)) {
    return { ok: false, provider, reason: `${provider[0]!.toUpperCase()}${provider.slice(1)} voices cannot be previewed: previews support Cartesia and Piper.` };
  }
  const voiceId = draft.voiceId.trim();
  if (provider === "cartesia" && !voiceId) return { ok: false, provider, reason: "Enter a Cartesia voice id to preview the voice." };
  if (provider === "piper" && draft.voiceModelPath.trim()) {
    return { ok: false, provider, reason: "A Piper voice loaded from a model path cannot be previewed: previews use the voices installed with the module." };
  }
  const speedText = draft.voiceSpeed.trim();
  const speed = speedText ? Number(speedText) : undefined;
  if (speed !== undefined && !Number.isFinite(speed)) return { ok: false, provider, reason: "The speed must be a number to preview the voice." };
  const model = provider === "cartesia" ? draft.voiceModel.trim() : "";
  const { text, truncated } = previewText(draft.initialMessage, PREVIEW_TEXT_MAX_CHARS);
  const request: VoicePreviewOfVoice = { orgId, voice: { provider } };
  if (voiceId) request.voice.voiceId = voiceId;
  if (speed !== undefined) request.voice.speed = speed;
  if (model) request.voice.model = model;
  if (text !== undefined) request.text = text;
  return { ok: true, request, provider, textTruncated: truncated };
}
