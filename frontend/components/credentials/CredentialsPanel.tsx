import { useId, useState, type FormEvent } from "react";
import { useDeleteCredential, useSaveCredential, useValidateCredential, useVoiceCredentials } from "../../hooks/useVoiceCredentials";
import { describeError, fieldErrorMap } from "../../lib/errors";
import { formatDateTime } from "../../lib/format";
import { CREDENTIAL_SERVICES, type CredentialService, type CredentialTarget, type CredentialValidation, type Uuid } from "../../types";
import { Field, FormErrors } from "../common/Field";
import { EmptyState, ErrorState, LoadingState, Notice } from "../common/States";

export const SERVICE_LABELS: Record<CredentialService, string> = {
  daily: "Daily (video rooms)",
  deepgram: "Deepgram (speech-to-text)",
  cartesia: "Cartesia (text-to-speech)",
};

/** A key is never shown: only its last four characters. */
export function maskedKey(last4: string | null): string {
  return last4 ? `••••••••${last4}` : "••••••••";
}

export interface CredentialsPanelProps {
  target: CredentialTarget;
  title?: string;
  description?: string;
}

/**
 * Provider API keys of an org or of the platform: masked list, validate with the provider, delete, and a
 * form to save (create or replace) a key. Keys go in and never come back.
 */
export function CredentialsPanel({ target, title = "Provider credentials", description }: CredentialsPanelProps) {
  const ids = useId();
  const list = useVoiceCredentials(target);
  const save = useSaveCredential();
  const validate = useValidateCredential();
  const remove = useDeleteCredential();
  const [service, setService] = useState<CredentialService>("daily");
  const [apiKey, setApiKey] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  const [results, setResults] = useState<Record<Uuid, CredentialValidation | { error: string }>>({});
  const [confirming, setConfirming] = useState<Uuid | null>(null);
  const errors = fieldErrorMap(save.error);
  const unplaced = Object.entries(errors).filter(([f]) => f !== "apiKey" && f !== "serviceName");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(null);
    save.mutate(
      { ...target, serviceName: service, apiKey: apiKey.trim() },
      {
        onSuccess: (credential) => {
          setApiKey("");
          setSaved(`Saved the ${SERVICE_LABELS[credential.serviceName]} key ending in ${credential.keyLast4 ?? "…"}.`);
        },
      },
    );
  };

  const check = (id: Uuid) =>
    validate.mutate(id, {
      onSuccess: (result) => setResults((r) => ({ ...r, [id]: result })),
      onError: (error) => setResults((r) => ({ ...r, [id]: { error: describeError(error) } })),
    });

  return (
    <section className="voice-section" aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>{title}</h2>
      {description ? <p className="voice-field__hint">{description}</p> : null}
      {list.isPending ? <LoadingState label="Loading credentials…" /> : null}
      {list.isError ? <ErrorState error={list.error} title="Credentials could not be loaded" onRetry={() => void list.refetch()} /> : null}
      {list.data && list.data.items.length === 0 ? <EmptyState>No keys saved yet.</EmptyState> : null}
      {list.data && list.data.items.length > 0 ? (
        <div className="voice-table-wrap">
          <table className="voice-table">
            <caption className="voice-sr-only">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Key</th>
                <th scope="col">State</th>
                <th scope="col">Last validated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((c) => {
                const result = results[c.id];
                const label = SERVICE_LABELS[c.serviceName] ?? c.serviceName;
                return (
                  <tr key={c.id} data-credential-id={c.id} data-service={c.serviceName}>
                    <th scope="row">{label}</th>
                    <td>
                      <span className="voice-mono voice-key" aria-label={`Key ending in ${c.keyLast4 ?? "unknown"}`}>
                        {maskedKey(c.keyLast4)}
                      </span>
                    </td>
                    <td>{c.isActive ? "Active" : "Inactive"}</td>
                    <td>{formatDateTime(c.lastValidatedAt)}</td>
                    <td className="voice-table__actions">
                      <button type="button" className="voice-button voice-button--small" onClick={() => check(c.id)} disabled={validate.isPending && validate.variables === c.id} aria-label={`Validate the ${label} key`}>
                        {validate.isPending && validate.variables === c.id ? "Validating…" : "Validate"}
                      </button>
                      {confirming === c.id ? (
                        <>
                          <button
                            type="button"
                            className="voice-button voice-button--small voice-button--danger"
                            onClick={() => remove.mutate(c.id, { onSettled: () => setConfirming(null) })}
                            disabled={remove.isPending}
                          >
                            Confirm delete
                          </button>
                          <button type="button" className="voice-button voice-button--small" onClick={() => setConfirming(null)}>
                            Keep
                          </button>
                        </>
                      ) : (
                        <button type="button" className="voice-button voice-button--small voice-button--danger" onClick={() => setConfirming(c.id)} aria-label={`Delete the ${label} key`}>
                          Delete
                        </button>
                      )}
                      <span role="status" className="voice-validation">
                        {result && "valid" in result ? (
                          result.valid ? (
                            <span className="voice-badge voice-badge--completed">Valid</span>
                          ) : (
                            <span className="voice-badge voice-badge--failed">Rejected: {result.reason}</span>
                          )
                        ) : null}
                        {result && "error" in result ? <span className="voice-field__error">{result.error}</span> : null}
                      </span>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {remove.isError ? <ErrorState error={remove.error} title="The key could not be deleted" /> : null}

      <form className="voice-form voice-form--inline" onSubmit={submit} aria-labelledby={`${ids}-form-title`} noValidate>
        <h3 id={`${ids}-form-title`}>Save a key</h3>
        <p className="voice-field__hint">Saving replaces the current key of that service. The key is stored in AWS Secrets Manager and never shown again.</p>
        <div className="voice-grid">
          <Field label="Service" error={errors.serviceName}>
            {(p) => (
              <select {...p} value={service} onChange={(e) => setService(e.target.value as CredentialService)}>
                {CREDENTIAL_SERVICES.map((s) => (
                  <option key={s} value={s}>
                    {SERVICE_LABELS[s]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="API key" error={errors.apiKey} required>
            {(p) => <input {...p} type="password" autoComplete="off" spellCheck={false} value={apiKey} onChange={(e) => setApiKey(e.target.value)} required />}
          </Field>
        </div>
        <FormErrors message={save.isError && Object.keys(errors).length === 0 ? describeError(save.error) : null} unplaced={unplaced} />
        {saved ? <Notice>{saved}</Notice> : null}
        <div className="voice-actions">
          <button type="submit" className="voice-button voice-button--primary" disabled={save.isPending || apiKey.trim() === ""}>
            {save.isPending ? "Saving…" : "Save key"}
          </button>
        </div>
      </form>
    </section>
  );
}
