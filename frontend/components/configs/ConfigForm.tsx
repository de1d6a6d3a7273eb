import { useCallback, useId, useState, type FormEvent } from "react";
import { useCreateConfig, useUpdateConfig } from "../../hooks/useVoiceConfigs";
import { describeError, fieldErrorMap } from "../../lib/errors";
import { formatPercent } from "../../lib/format";
import { LLM_PROVIDERS, TRANSCRIPTION_PROVIDERS, VOICE_PROVIDERS, type Uuid, type VoiceConfig } from "../../types";
import { Field, FormErrors } from "../common/Field";
import {
  buildConfigJson,
  createInput,
  draftFromConfig,
  emptyCriterion,
  emptyQuestion,
  normalizedWeights,
  normalizeFieldPath,
  previewPlanFromDraft,
  updateInput,
  type ConfigDraft,
  type CriterionDraft,
  type QuestionDraft,
} from "./configDraft";
import { VoicePreviewPanel } from "./VoicePreviewPanel";

const CJ = "configJson";
const Q = `${CJ}.interview.questions`;
const R = `${CJ}.interview.scoringRubric.criteria`;

/** Every field path the form shows an input for (other API errors are listed above the buttons). */
function placedFields(draft: ConfigDraft): Set<string> {
  const fields = [
    "name",
    "interviewType",
    "description",
    "isActive",
    `${CJ}.botName`,
    `${CJ}.systemPrompt`,
    `${CJ}.initialMessage`,
    `${CJ}.voice.provider`,
    `${CJ}.voice.voiceId`,
    `${CJ}.voice.model`,
    `${CJ}.voice.speed`,
    `${CJ}.voice.modelPath`,
    `${CJ}.voice.voicesPath`,
    `${CJ}.transcription.provider`,
    `${CJ}.transcription.language`,
    `${CJ}.transcription.model`,
    `${CJ}.llm.provider`,
    `${CJ}.llm.model`,
    `${CJ}.llm.temperature`,
    `${CJ}.llm.maxTokens`,
    `${CJ}.llm.baseUrl`,
    `${CJ}.interview.maxDurationMinutes`,
    `${CJ}.interview.maxFollowUps`,
    `${CJ}.interview.closingMessage`,
    `${CJ}.interview.timeUpMessage`,
    Q,
    R,
  ];
  draft.questions.forEach((_, i) => ["id", "text", "type", "followUpEnabled"].forEach((f) => fields.push(`${Q}[${i}].${f}`)));
  draft.criteria.forEach((_, i) => ["name", "weight", "description"].forEach((f) => fields.push(`${R}[${i}].${f}`)));
  return new Set(fields);
}

export interface ConfigFormProps {
  orgId: Uuid;
  /** The configuration to edit; omit to create one. */
  config?: VoiceConfig | null;
  onSaved?: (config: VoiceConfig) => void;
  onCancel?: () => void;
}

/**
 * Create or edit an interview configuration: every `configJson` field, a question editor (add, remove,
 * reorder), rubric criteria with relative weights, the API's validation errors inline on their inputs, and
 * "Preview voice" (the current voice speaking the opening message, before anything is saved).
 */
export function ConfigForm({ orgId, config, onSaved, onCancel }: ConfigFormProps) {
  const ids = useId();
  const [draft, setDraft] = useState<ConfigDraft>(() => draftFromConfig(config));
  const [clientErrors, setClientErrors] = useState<Record<string, string>>({});
  const [focusKey, setFocusKey] = useState<string | null>(null);
  const create = useCreateConfig();
  const update = useUpdateConfig();
  const mutation = config ? update : create;
  const editing = Boolean(config);

  const serverErrors: Record<string, string> = {};
  for (const [field, message] of Object.entries(fieldErrorMap(mutation.error))) serverErrors[normalizeFieldPath(field)] ??= message;
  const errors = { ...serverErrors, ...clientErrors };
  const placed = placedFields(draft);
  const unplaced = Object.entries(errors).filter(([field]) => !placed.has(field));
  const hasFieldErrors = Object.keys(errors).length > 0;

  const set = <K extends keyof ConfigDraft>(key: K, value: ConfigDraft[K]) => setDraft((d) => ({ ...d, [key]: value }));
  const setQuestion = (index: number, patch: Partial<QuestionDraft>) =>
    setDraft((d) => ({ ...d, questions: d.questions.map((q, i) => (i === index ? { ...q, ...patch } : q)) }));
  const moveQuestion = (index: number, by: -1 | 1) =>
    setDraft((d) => {
      const target = index + by;
      if (target < 0 || target >= d.questions.length) return d;
      const questions = [...d.questions];
      [questions[index], questions[target]] = [questions[target]!, questions[index]!];
      return { ...d, questions };
    });
  const setCriterion = (index: number, patch: Partial<CriterionDraft>) =>
    setDraft((d) => ({ ...d, criteria: d.criteria.map((c, i) => (i === index ? { ...c, ...patch } : c)) }));

  const focusRef = useCallback(
    (key: string) => (el: HTMLElement | null) => {
      if (el && key === focusKey) {
        el.focus();
        setFocusKey(null);
      }
    },
    [focusKey],
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const { configJson, errors: local } = buildConfigJson(draft);
    setClientErrors(local);
    if (Object.keys(local).length > 0) return;
    const done = { onSuccess: (saved: VoiceConfig) => onSaved?.(saved) };
    if (config) update.mutate({ id: config.id, input: updateInput(draft, configJson) }, done);
    else create.mutate(createInput(orgId, draft, configJson), done);
  };

  const weights = normalizedWeights(draft.criteria);
  const textInput = (field: string, key: keyof ConfigDraft, label: string, opts: { hint?: string; maxLength?: number; required?: boolean; type?: string; step?: string } = {}) => (
    <Field label={label} error={errors[field]} hint={opts.hint} required={opts.required}>
      {(p) => (
        <input
          {...p}
          type={opts.type ?? "text"}
          step={opts.step}
          inputMode={opts.type === "number" ? "decimal" : undefined}
          value={draft[key] as string}
          maxLength={opts.maxLength}
          required={opts.required}
          onChange={(e) => set(key, e.target.value as never)}
        />
      )}
    </Field>
  );
  const textArea = (field: string, key: keyof ConfigDraft, label: string, rows = 3) => (
    <Field label={label} error={errors[field]}>
      {(p) => <textarea {...p} rows={rows} value={draft[key] as string} onChange={(e) => set(key, e.target.value as never)} />}
    </Field>
  );
  const select = (field: string, key: keyof ConfigDraft, label: string, options: readonly string[]) => (
    <Field label={label} error={errors[field]}>
      {(p) => (
        <select {...p} value={draft[key] as string} onChange={(e) => set(key, e.target.value as never)}>
          <option value="">Default</option>
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      )}
    </Field>
  );

  return (
    <form className="voice-form voice-config-form" onSubmit={submit} aria-labelledby={`${ids}-title`} noValidate>
      <h2 id={`${ids}-title`}>{editing ? `Edit configuration “${config?.name}”` : "New configuration"}</h2>

      <fieldset className="voice-fieldset">
        <legend>Basics</legend>
        <div className="voice-grid">
          {textInput("name", "name", "Name", { required: true, maxLength: 255 })}
          {textInput("interviewType", "interviewType", "Interview type", { required: true, maxLength: 100, hint: "e.g. technical, behavioral" })}
        </div>
        {textArea("description", "description", "Description", 2)}
        <div className="voice-checkbox">
          <input id={`${ids}-active`} type="checkbox" checked={draft.isActive} onChange={(e) => set("isActive", e.target.checked)} />
          <label htmlFor={`${ids}-active`}>Active (new interviews can use it)</label>
        </div>
      </fieldset>

      <fieldset className="voice-fieldset">
        <legend>Interviewer bot</legend>
        {textInput(`${CJ}.botName`, "botName", "Bot name", { maxLength: 100 })}
        {textArea(`${CJ}.systemPrompt`, "systemPrompt", "System prompt", 4)}
        {textArea(`${CJ}.initialMessage`, "initialMessage", "Opening message", 2)}
      </fieldset>

      <fieldset className="voice-fieldset">
        <legend>Voice (text-to-speech)</legend>
        <div className="voice-grid">
          {select(`${CJ}.voice.provider`, "voiceProvider", "Voice provider", VOICE_PROVIDERS)}
          {textInput(`${CJ}.voice.voiceId`, "voiceId", "Voice id")}
          {textInput(`${CJ}.voice.model`, "voiceModel", "Voice model")}
          {textInput(`${CJ}.voice.speed`, "voiceSpeed", "Speed", { type: "number", step: "0.1", hint: "0.1 to 4.0" })}
          {textInput(`${CJ}.voice.modelPath`, "voiceModelPath", "Model path (self-hosted)")}
          {textInput(`${CJ}.voice.voicesPath`, "voicesPath", "Voices path (kokoro)")}
        </div>
        <VoicePreviewPanel plan={previewPlanFromDraft(config?.orgId ?? orgId, draft)} />
      </fieldset>

      <fieldset className="voice-fieldset">
        <legend>Speech-to-text</legend>
        <div className="voice-grid">
          {select(`${CJ}.transcription.provider`, "transcriptionProvider", "Transcription provider", TRANSCRIPTION_PROVIDERS)}
          {textInput(`${CJ}.transcription.language`, "transcriptionLanguage", "Language", { hint: "a language tag such as en-US" })}
          {textInput(`${CJ}.transcription.model`, "transcriptionModel", "Transcription model")}
        </div>
      </fieldset>

      <fieldset className="voice-fieldset">
        <legend>Language model</legend>
        <div className="voice-grid">
          {select(`${CJ}.llm.provider`, "llmProvider", "LLM provider", LLM_PROVIDERS)}
          {textInput(`${CJ}.llm.model`, "llmModel", "LLM model")}
          {textInput(`${CJ}.llm.temperature`, "llmTemperature", "Temperature", { type: "number", step: "0.1", hint: "0 to 2" })}
          {textInput(`${CJ}.llm.maxTokens`, "llmMaxTokens", "Max tokens", { type: "number", step: "1", hint: "1 to 16384" })}
          {textInput(`${CJ}.llm.baseUrl`, "llmBaseUrl", "Base URL", { hint: "for an OpenAI-compatible endpoint: https://…" })}
        </div>
      </fieldset>

      <fieldset className="voice-fieldset">
        <legend>Interview</legend>
        <div className="voice-grid">
          {textInput(`${CJ}.interview.maxDurationMinutes`, "maxDurationMinutes", "Maximum duration (minutes)", { type: "number", step: "1", hint: "up to 240" })}
          {textInput(`${CJ}.interview.maxFollowUps`, "maxFollowUps", "Follow-ups per question", { type: "number", step: "1", hint: "0 to 10" })}
        </div>
        {textArea(`${CJ}.interview.closingMessage`, "closingMessage", "Closing message", 2)}
        {textArea(`${CJ}.interview.timeUpMessage`, "timeUpMessage", "Time-up message", 2)}
      </fieldset>

      <fieldset className="voice-fieldset" aria-describedby={errors[Q] ? `${ids}-questions-error` : undefined}>
        <legend>Questions</legend>
        {errors[Q] ? (
          <p id={`${ids}-questions-error`} className="voice-field__error">
            {errors[Q]}
          </p>
        ) : null}
        {draft.questions.length === 0 ? <p className="voice-empty">No questions: the bot will lead a free conversation.</p> : null}
        <ol className="voice-editor-list">
          {draft.questions.map((q, i) => (
            <li key={q.key}>
              <fieldset className="voice-editor-row">
                <legend>Question {i + 1}</legend>
                <div className="voice-grid voice-grid--question">
                  <Field label="Id" error={errors[`${Q}[${i}].id`]}>
                    {(p) => <input {...p} value={q.id} maxLength={64} onChange={(e) => setQuestion(i, { id: e.target.value })} />}
                  </Field>
                  <Field label="Type" error={errors[`${Q}[${i}].type`]}>
                    {(p) => <input {...p} value={q.type} maxLength={50} placeholder="open" onChange={(e) => setQuestion(i, { type: e.target.value })} />}
                  </Field>
                </div>
                <Field label="Question text" error={errors[`${Q}[${i}].text`]}>
                  {(p) => <textarea {...p} ref={focusRef(q.key)} rows={2} value={q.text} onChange={(e) => setQuestion(i, { text: e.target.value })} />}
                </Field>
                <div className="voice-checkbox">
                  <input id={`${ids}-${q.key}-fu`} type="checkbox" checked={q.followUpEnabled} onChange={(e) => setQuestion(i, { followUpEnabled: e.target.checked })} />
                  <label htmlFor={`${ids}-${q.key}-fu`}>Follow-up questions allowed</label>
                </div>
                <div className="voice-actions voice-actions--inline">
                  <button type="button" className="voice-button voice-button--small" disabled={i === 0} onClick={() => moveQuestion(i, -1)} aria-label={`Move question ${i + 1} up`}>
                    Up
                  </button>
                  <button
                    type="button"
                    className="voice-button voice-button--small"
                    disabled={i === draft.questions.length - 1}
                    onClick={() => moveQuestion(i, 1)}
                    aria-label={`Move question ${i + 1} down`}
                  >
                    Down
                  </button>
                  <button
                    type="button"
                    className="voice-button voice-button--small voice-button--danger"
                    onClick={() => setDraft((d) => ({ ...d, questions: d.questions.filter((_, j) => j !== i) }))}
                    aria-label={`Remove question ${i + 1}`}
                  >
                    Remove
                  </button>
                </div>
              </fieldset>
            </li>
          ))}
        </ol>
        <button
          type="button"
          className="voice-button"
          onClick={() => {
            const q = emptyQuestion(draft.questions.length);
            setDraft((d) => ({ ...d, questions: [...d.questions, q] }));
            setFocusKey(q.key);
          }}
        >
          Add question
        </button>
      </fieldset>

      <fieldset className="voice-fieldset" aria-describedby={errors[R] ? `${ids}-rubric-error` : `${ids}-rubric-hint`}>
        <legend>Scoring rubric</legend>
        <p id={`${ids}-rubric-hint`} className="voice-field__hint">
          Weights are relative (1 and 3 mean 25 % and 75 %): give one for every criterion or for none (equal weights).
        </p>
        {errors[R] ? (
          <p id={`${ids}-rubric-error`} className="voice-field__error">
            {errors[R]}
          </p>
        ) : null}
        <ol className="voice-editor-list">
          {draft.criteria.map((c, i) => (
            <li key={c.key}>
              <fieldset className="voice-editor-row">
                <legend>Criterion {i + 1}</legend>
                <div className="voice-grid voice-grid--criterion">
                  <Field label="Criterion name" error={errors[`${R}[${i}].name`]}>
                    {(p) => <input {...p} ref={focusRef(c.key)} value={c.name} maxLength={100} onChange={(e) => setCriterion(i, { name: e.target.value })} />}
                  </Field>
                  <Field label="Weight" error={errors[`${R}[${i}].weight`]} hint={weights[i] !== null && weights[i] !== undefined ? `${formatPercent(weights[i])} of the score` : undefined}>
                    {(p) => <input {...p} type="number" step="any" min="0" inputMode="decimal" value={c.weight} onChange={(e) => setCriterion(i, { weight: e.target.value })} />}
                  </Field>
                  <Field label="Description" error={errors[`${R}[${i}].description`]}>
                    {(p) => <input {...p} value={c.description} onChange={(e) => setCriterion(i, { description: e.target.value })} />}
                  </Field>
                </div>
                <button
                  type="button"
                  className="voice-button voice-button--small voice-button--danger"
                  onClick={() => setDraft((d) => ({ ...d, criteria: d.criteria.filter((_, j) => j !== i) }))}
                  aria-label={`Remove criterion ${i + 1}`}
                >
                  Remove
                </button>
              </fieldset>
            </li>
          ))}
        </ol>
        <button
          type="button"
          className="voice-button"
          onClick={() => {
            const c = emptyCriterion();
            setDraft((d) => ({ ...d, criteria: [...d.criteria, c] }));
            setFocusKey(c.key);
          }}
        >
          Add criterion
        </button>
      </fieldset>

      <FormErrors
        message={mutation.isError ? (hasFieldErrors ? "Some fields need attention." : describeError(mutation.error)) : hasFieldErrors ? "Some fields need attention." : null}
        unplaced={unplaced}
      />
      <div className="voice-actions">
        <button type="submit" className="voice-button voice-button--primary" disabled={mutation.isPending}>
          {mutation.isPending ? "Saving…" : editing ? "Save changes" : "Create configuration"}
        </button>
        {onCancel ? (
          <button type="button" className="voice-button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
