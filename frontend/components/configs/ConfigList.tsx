import { useId, useState } from "react";
import { useDeleteConfig, useUpdateConfig, useVoiceConfigs } from "../../hooks/useVoiceConfigs";
import { describeError } from "../../lib/errors";
import { formatDateTime } from "../../lib/format";
import type { Uuid, VoiceConfigSummary } from "../../types";
import { EmptyState, ErrorState, LoadingState } from "../common/States";

export interface ConfigListProps {
  orgId: Uuid;
  /** Org admins edit, (de)activate and delete; members only see the list. */
  canManage?: boolean;
  onEdit?: (config: VoiceConfigSummary) => void;
}

/** An organization's interview configurations as a table, with edit, (de)activate and delete. */
export function ConfigList({ orgId, canManage = false, onEdit }: ConfigListProps) {
  const ids = useId();
  const query = useVoiceConfigs({ orgId, limit: 200 });
  const update = useUpdateConfig();
  const remove = useDeleteConfig();
  const [confirming, setConfirming] = useState<Uuid | null>(null);
  const [actionError, setActionError] = useState<{ id: Uuid; message: string } | null>(null);

  const toggle = (config: VoiceConfigSummary) => {
    setActionError(null);
    update.mutate({ id: config.id, input: { isActive: !config.isActive } }, { onError: (e) => setActionError({ id: config.id, message: describeError(e) }) });
  };
  const destroy = (config: VoiceConfigSummary) => {
    setActionError(null);
    remove.mutate(config.id, {
      onSuccess: () => setConfirming(null),
      onError: (e) => {
        setConfirming(null);
        setActionError({ id: config.id, message: describeError(e) });
      },
    });
  };

  if (query.isPending) return <LoadingState label="Loading configurations…" />;
  if (query.isError) return <ErrorState error={query.error} title="Configurations could not be loaded" onRetry={() => void query.refetch()} />;
  const items = query.data.items;
  if (items.length === 0) return <EmptyState>No interview configurations yet.</EmptyState>;

  return (
    <div className="voice-table-wrap">
      <table className="voice-table" aria-labelledby={`${ids}-caption`}>
        <caption id={`${ids}-caption`} className="voice-sr-only">
          Interview configurations
        </caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">State</th>
            <th scope="col">Version</th>
            <th scope="col">Updated</th>
            {canManage ? <th scope="col">Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {items.map((config) => (
            <tr key={config.id} data-config-id={config.id}>
              <th scope="row">
                {config.name}
                {config.description ? <span className="voice-table__sub">{config.description}</span> : null}
                {actionError?.id === config.id ? (
                  <span className="voice-field__error" role="alert">
                    {actionError.message}
                  </span>
                ) : null}
              </th>
              <td>{config.interviewType}</td>
              <td>
                <span className={`voice-badge ${config.isActive ? "voice-badge--completed" : "voice-badge--cancelled"}`}>{config.isActive ? "Active" : "Inactive"}</span>
              </td>
              <td>v{config.version}</td>
              <td>{formatDateTime(config.updatedAt)}</td>
              {canManage ? (
                <td className="voice-table__actions">
                  <button type="button" className="voice-button voice-button--small" onClick={() => onEdit?.(config)} aria-label={`Edit ${config.name}`}>
                    Edit
                  </button>
                  <button type="button" className="voice-button voice-button--small" onClick={() => toggle(config)} disabled={update.isPending} aria-label={`${config.isActive ? "Deactivate" : "Activate"} ${config.name}`}>
                    {config.isActive ? "Deactivate" : "Activate"}
                  </button>
                  {confirming === config.id ? (
                    <>
                      <button type="button" className="voice-button voice-button--small voice-button--danger" onClick={() => destroy(config)} disabled={remove.isPending}>
                        Confirm delete
                      </button>
                      <button type="button" className="voice-button voice-button--small" onClick={() => setConfirming(null)}>
                        Keep
                      </button>
                    </>
                  ) : (
                    <button type="button" className="voice-button voice-button--small voice-button--danger" onClick={() => setConfirming(config.id)} aria-label={`Delete ${config.name}`}>
                      Delete
                    </button>
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
