import type { SessionStatus } from "../../types";

export const STATUS_LABELS: Record<SessionStatus, string> = {
  pending: "Pending",
  ready: "Ready",
  active: "In progress",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** The session's status as a coloured badge (the colour is never the only cue: the word is there). */
export function SessionStatusBadge({ status }: { status: SessionStatus }) {
  const label = STATUS_LABELS[status] ?? status;
  return (
    <span className={`voice-badge voice-badge--${status}`} data-status={status}>
      <span className="voice-sr-only">Status: </span>
      {label}
    </span>
  );
}
