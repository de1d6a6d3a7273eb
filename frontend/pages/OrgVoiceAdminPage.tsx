import { useState } from "react";
import { OrgStatsPanel } from "../components/analytics/OrgStatsPanel";
import { ErrorState, LoadingState, Notice } from "../components/common/States";
import { ConfigForm } from "../components/configs/ConfigForm";
import { ConfigList } from "../components/configs/ConfigList";
import { CredentialsPanel } from "../components/credentials/CredentialsPanel";
import { useVoiceModule } from "../hooks/context";
import { useVoiceConfig } from "../hooks/useVoiceConfigs";
import type { Uuid, VoiceConfig } from "../types";

type Mode = { kind: "list" } | { kind: "create" } | { kind: "edit"; id: Uuid };

function ConfigEditor({ orgId, id, onDone }: { orgId: Uuid; id: Uuid; onDone: (saved?: VoiceConfig) => void }) {
  const config = useVoiceConfig(id);
  if (config.isPending) return <LoadingState label="Loading the configuration…" />;
  if (config.isError) return <ErrorState error={config.error} title="The configuration could not be loaded" onRetry={() => void config.refetch()} />;
  return <ConfigForm key={`${config.data.id}:${config.data.version}`} orgId={orgId} config={config.data} onSaved={onDone} onCancel={() => onDone()} />;
}

/** `/admin/org/voice` (org admins): interview configurations, statistics and the org's provider keys. */
export function OrgVoiceAdminPage({ orgId: orgIdProp }: { orgId?: Uuid | null }) {
  const { orgId: contextOrg, isOrgAdmin, orgRole } = useVoiceModule();
  const orgId = orgIdProp ?? contextOrg;
  const [mode, setMode] = useState<Mode>({ kind: "list" });
  const [notice, setNotice] = useState<string | null>(null);

  if (!orgId) {
    return (
      <div className="voice-page">
        <h1>Voice Settings</h1>
        <p className="voice-info" role="note">
          You are not a member of an organization.
        </p>
      </div>
    );
  }
  const canManage = isOrgAdmin || orgRole === undefined || orgRole === null;
  const done = (verb: string) => (saved?: VoiceConfig) => {
    setMode({ kind: "list" });
    setNotice(saved ? `Configuration “${saved.name}” ${verb} (version ${saved.version}).` : null);
  };

  return (
    <div className="voice-page">
      <header className="voice-page__header">
        <h1>Voice Settings</h1>
      </header>
      {!isOrgAdmin && orgRole ? (
        <p className="voice-info" role="note">
          Only organization admins and owners can change these settings; you can view the configurations and statistics.
        </p>
      ) : null}

      <section className="voice-section" aria-labelledby="voice-configs-title">
        <div className="voice-section__header">
          <h2 id="voice-configs-title">Interview configurations</h2>
          {canManage && mode.kind === "list" ? (
            <button
              type="button"
              className="voice-button voice-button--primary"
              onClick={() => {
                setNotice(null);
                setMode({ kind: "create" });
              }}
            >
              New configuration
            </button>
          ) : null}
        </div>
        {notice ? <Notice>{notice}</Notice> : null}
        {mode.kind === "create" ? (
          <div className="voice-panel">
            <ConfigForm orgId={orgId} onSaved={done("created")} onCancel={() => setMode({ kind: "list" })} />
          </div>
        ) : null}
        {mode.kind === "edit" ? (
          <div className="voice-panel">
            <ConfigEditor orgId={orgId} id={mode.id} onDone={done("saved")} />
          </div>
        ) : null}
        {mode.kind === "list" ? (
          <ConfigList
            orgId={orgId}
            canManage={canManage}
            onEdit={(c) => {
              setNotice(null);
              setMode({ kind: "edit", id: c.id });
            }}
          />
        ) : null}
      </section>

      <OrgStatsPanel orgId={orgId} />

      {canManage ? (
        <CredentialsPanel
          target={{ orgId }}
          title="Provider keys of this organization"
          description="Keys saved here are used for this organization's interviews instead of the platform defaults."
        />
      ) : null}
    </div>
  );
}
