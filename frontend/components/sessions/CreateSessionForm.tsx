import { useId, useState, type FormEvent } from "react";
import { useVoiceConfigs } from "../../hooks/useVoiceConfigs";
import { useCreateSession } from "../../hooks/useVoiceSessions";
import { fieldErrorMap, describeError } from "../../lib/errors";
import type { Uuid, VoiceSession } from "../../types";
import { Field, FormErrors } from "../common/Field";

const PLACED = new Set(["candidateName", "candidateEmail", "interviewType", "configId"]);

/** Create a pending interview for a candidate, optionally from one of the org's active configurations. */
export function CreateSessionForm({ orgId, onCreated, onCancel }: { orgId: Uuid; onCreated?: (session: VoiceSession) => void; onCancel?: () => void }) {
  const ids = useId();
  const [candidateName, setName] = useState("");
  const [candidateEmail, setEmail] = useState("");
  const [interviewType, setType] = useState("");
  const [configId, setConfigId] = useState("");
  const configs = useVoiceConfigs({ orgId, isActive: true, limit: 200 });
  const create = useCreateSession();
  const errors = fieldErrorMap(create.error);
  const unplaced = Object.entries(errors).filter(([field]) => !PLACED.has(field));

  const chooseConfig = (id: string) => {
    setConfigId(id);
    const chosen = configs.data?.items.find((c) => c.id === id);
    if (chosen && !interviewType) setType(chosen.interviewType);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      {
        orgId,
        interviewType: interviewType.trim(),
        candidateName: candidateName.trim() || null,
        candidateEmail: candidateEmail.trim() || null,
        configId: configId || null,
      },
      { onSuccess: (session) => onCreated?.(session) },
    );
  };

  return (
    <form className="voice-form" onSubmit={submit} aria-labelledby={`${ids}-title`} noValidate>
      <h2 id={`${ids}-title`}>New interview</h2>
      <div className="voice-grid">
        <Field label="Candidate name" error={errors.candidateName}>
          {(p) => <input {...p} value={candidateName} onChange={(e) => setName(e.target.value)} autoComplete="off" maxLength={255} />}
        </Field>
        <Field label="Candidate email" error={errors.candidateEmail}>
          {(p) => <input {...p} type="email" value={candidateEmail} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />}
        </Field>
        <Field label="Configuration" error={errors.configId} hint={configs.isError ? "Configurations could not be loaded." : undefined}>
          {(p) => (
            <select {...p} value={configId} onChange={(e) => chooseConfig(e.target.value)} disabled={configs.isPending}>
              <option value="">{configs.isPending ? "Loading…" : "No configuration (bot defaults)"}</option>
              {configs.data?.items.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name} (v{c.version})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Interview type" error={errors.interviewType} required hint="e.g. technical, behavioral">
          {(p) => <input {...p} value={interviewType} onChange={(e) => setType(e.target.value)} required maxLength={100} />}
        </Field>
      </div>
      <FormErrors message={create.isError && unplaced.length === 0 && Object.keys(errors).length === 0 ? describeError(create.error) : null} unplaced={unplaced} />
      <div className="voice-actions">
        <button type="submit" className="voice-button voice-button--primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create interview"}
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
