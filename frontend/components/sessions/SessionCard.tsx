import { useVoiceModule } from "../../hooks/context";
import { formatDateTime, formatDuration } from "../../lib/format";
import type { VoiceSessionSummary } from "../../types";
import { SessionStatusBadge } from "./SessionStatusBadge";

/** One interview in a list: candidate, type, status, when; the name links to the session page. */
export function SessionCard({ session }: { session: VoiceSessionSummary }) {
  const { Link, paths } = useVoiceModule();
  const name = session.candidateName || "Unnamed candidate";
  return (
    <article className="voice-card" aria-labelledby={`session-${session.id}-title`} data-session-id={session.id}>
      <header className="voice-card__header">
        <h3 id={`session-${session.id}-title`} className="voice-card__title">
          <Link to={paths.session(session.id)}>{name}</Link>
        </h3>
        <SessionStatusBadge status={session.status} />
      </header>
      <dl className="voice-card__meta">
        <div>
          <dt>Interview</dt>
          <dd>{session.interviewType}</dd>
        </div>
        {session.candidateEmail ? (
          <div>
            <dt>Email</dt>
            <dd>{session.candidateEmail}</dd>
          </div>
        ) : null}
        <div>
          <dt>Created</dt>
          <dd>{formatDateTime(session.createdAt)}</dd>
        </div>
        {session.durationSeconds !== null ? (
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(session.durationSeconds)}</dd>
          </div>
        ) : null}
      </dl>
      {session.failureReason ? <p className="voice-card__reason">Reason: {session.failureReason}</p> : null}
    </article>
  );
}
