import { useId, useState } from "react";
import { CreateSessionForm } from "../components/sessions/CreateSessionForm";
import { SessionList } from "../components/sessions/SessionList";
import { useVoiceModule } from "../hooks/context";
import type { Uuid } from "../types";

/** `/voice`: the organization's interviews and a form to create one. */
export function VoiceSessionsPage({ orgId: orgIdProp }: { orgId?: Uuid | null }) {
  const { orgId: contextOrg, navigate, paths } = useVoiceModule();
  const orgId = orgIdProp ?? contextOrg;
  const [creating, setCreating] = useState(false);
  const formId = useId();

  return (
    <div className="voice-page">
      <header className="voice-page__header">
        <h1>Voice Interviews</h1>
        {orgId ? (
          <button type="button" className="voice-button voice-button--primary" aria-expanded={creating} aria-controls={formId} onClick={() => setCreating((v) => !v)}>
            {creating ? "Close form" : "New interview"}
          </button>
        ) : null}
      </header>
      {!orgId ? (
        <p className="voice-info" role="note">
          You are not a member of an organization, so there are no interviews to show.
        </p>
      ) : (
        <>
          {creating ? (
            <div id={formId} className="voice-panel">
              <CreateSessionForm orgId={orgId} onCreated={(s) => navigate(paths.session(s.id))} onCancel={() => setCreating(false)} />
            </div>
          ) : null}
          <SessionList orgId={orgId} />
        </>
      )}
    </div>
  );
}
