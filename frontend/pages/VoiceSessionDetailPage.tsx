import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { AnalyticsSummary } from "../components/analytics/AnalyticsSummary";
import { ErrorState, LoadingState } from "../components/common/States";
import { InterviewRoom } from "../components/interview/InterviewRoom";
import { SessionStatusBadge } from "../components/sessions/SessionStatusBadge";
import { LiveTranscriptView } from "../components/transcripts/LiveTranscriptPanel";
import { TranscriptViewer, type TranscriptFocus } from "../components/transcripts/TranscriptViewer";
import { useVoiceModule } from "../hooks/context";
import { voiceKeys } from "../hooks/keys";
import { useRealTimeTranscript } from "../hooks/useRealTimeTranscript";
import { useRegenerateAnalytics, useVoiceAnalytics } from "../hooks/useVoiceAnalytics";
import { useStartSession, useVoiceSession } from "../hooks/useVoiceSession";
import { useDeleteSession, useUpdateSession } from "../hooks/useVoiceSessions";
import { useSessionTranscript } from "../hooks/useVoiceTranscripts";
import { isVoiceApiError } from "../lib/errors";
import { formatDateTime, formatDuration } from "../lib/format";
import { findSegmentForQuote, fromStoredSegments, type DisplaySegment } from "../lib/transcript";
import { FINAL_STATUSES, type KeyMoment, type SessionStatus, type Uuid } from "../types";

const RANK: Record<SessionStatus, number> = { pending: 0, ready: 1, active: 2, completed: 3, failed: 3, cancelled: 3 };

/** The later of two views of a session's status (the WebSocket push and the REST read race). */
export function latestStatus(a: SessionStatus | null | undefined, b: SessionStatus | null | undefined): SessionStatus | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return RANK[b] > RANK[a] ? b : a;
}

/**
 * `/voice/sessions/[id]`: an interview's status and actions (start, cancel, delete), its room, the live
 * transcript while it runs, and once it has finished the assembled transcript and the analysis.
 */
export function VoiceSessionDetailPage({ sessionId }: { sessionId: Uuid }) {
  const { Link, paths, navigate, isOrgAdmin } = useVoiceModule();
  const client = useQueryClient();
  const sessionQuery = useVoiceSession(sessionId);
  const session = sessionQuery.data;
  const start = useStartSession();
  const update = useUpdateSession();
  const remove = useDeleteSession();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [focus, setFocus] = useState<TranscriptFocus | null>(null);

  const onStatus = useCallback(
    (status: SessionStatus) => {
      void client.invalidateQueries({ queryKey: voiceKeys.session(sessionId) });
      void client.invalidateQueries({ queryKey: voiceKeys.sessions() });
      if (FINAL_STATUSES.includes(status)) {
        void client.invalidateQueries({ queryKey: voiceKeys.sessionTranscript(sessionId) });
        void client.invalidateQueries({ queryKey: voiceKeys.analytics(sessionId) });
        void client.invalidateQueries({ queryKey: [...voiceKeys.all, "stats"] });
      }
    },
    [client, sessionId],
  );
  const onAnalyticsReady = useCallback(() => void client.invalidateQueries({ queryKey: voiceKeys.analytics(sessionId) }), [client, sessionId]);
  const live = useRealTimeTranscript(sessionId, { enabled: Boolean(session), onStatus, onAnalyticsReady });

  const status = latestStatus(session?.status, live.sessionStatus) ?? "pending";
  const finished = FINAL_STATUSES.includes(status);
  const scored = status === "completed" || status === "failed";
  const transcript = useSessionTranscript(session?.orgId, finished ? sessionId : null, { waitForIt: scored });
  const analytics = useVoiceAnalytics(scored ? sessionId : null, { poll: true });
  const regenerate = useRegenerateAnalytics();

  const assembled = useMemo<DisplaySegment[] | null>(() => (transcript.data ? fromStoredSegments(transcript.data.speakerSegments) : null), [transcript.data]);
  const liveSegments = useMemo<DisplaySegment[]>(() => live.segments.map((s) => ({ ...s })), [live.segments]);
  const shownSegments = assembled ?? liveSegments;

  const selectMoment = (moment: KeyMoment) => {
    const segment = findSegmentForQuote(shownSegments, moment.quote, moment.timestamp);
    if (segment) setFocus((f) => ({ seq: segment.seq, nonce: (f?.nonce ?? 0) + 1 }));
  };

  if (sessionQuery.isPending) return <LoadingState label="Loading the interview…" />;
  if (sessionQuery.isError) {
    const notFound = isVoiceApiError(sessionQuery.error) && sessionQuery.error.isNotFound;
    return (
      <div className="voice-page">
        <h1>{notFound ? "Interview not found" : "Interview unavailable"}</h1>
        {notFound ? (
          <p className="voice-info" role="alert">
            This interview does not exist, or it belongs to an organization you are not a member of.
          </p>
        ) : (
          <ErrorState error={sessionQuery.error} onRetry={() => void sessionQuery.refetch()} />
        )}
        <Link to={paths.sessions}>Back to interviews</Link>
      </div>
    );
  }
  if (!session) return null;

  const actionError = start.error ?? update.error ?? remove.error;
  const name = session.candidateName || "Unnamed candidate";

  return (
    <div className="voice-page" data-session-id={session.id}>
      <nav aria-label="Breadcrumb" className="voice-breadcrumb">
        <Link to={paths.sessions}>Voice Interviews</Link> <span aria-hidden="true">/</span> <span aria-current="page">{name}</span>
      </nav>
      <header className="voice-page__header">
        <div>
          <h1>{name}</h1>
          <p className="voice-page__sub">
            {session.interviewType}
            {session.candidateEmail ? ` · ${session.candidateEmail}` : ""}
          </p>
        </div>
        <div className="voice-page__status" aria-live="polite">
          <SessionStatusBadge status={status} />
        </div>
      </header>

      <dl className="voice-stat-grid voice-session-facts">
        <div className="voice-stat">
          <dt>Created</dt>
          <dd>{formatDateTime(session.createdAt)}</dd>
        </div>
        <div className="voice-stat">
          <dt>Started</dt>
          <dd>{formatDateTime(session.startedAt)}</dd>
        </div>
        <div className="voice-stat">
          <dt>Finished</dt>
          <dd>{formatDateTime(session.completedAt)}</dd>
        </div>
        <div className="voice-stat">
          <dt>Duration</dt>
          <dd>{formatDuration(session.durationSeconds)}</dd>
        </div>
        {session.dispatchMode ? (
          <div className="voice-stat">
            <dt>Bot</dt>
            <dd>{session.dispatchMode === "pool" ? "Standby pool" : "New task"}</dd>
          </div>
        ) : null}
      </dl>
      {session.failureReason ? <p className="voice-info">Reason: {session.failureReason}</p> : null}

      <div className="voice-actions">
        {status === "pending" ? (
          <button type="button" className="voice-button voice-button--primary" onClick={() => start.mutate(session.id)} disabled={start.isPending}>
            {start.isPending ? "Starting…" : "Start interview"}
          </button>
        ) : null}
        {!finished ? (
          <button
            type="button"
            className="voice-button"
            onClick={() => update.mutate({ id: session.id, input: { status: "cancelled", reason: "Cancelled from the interview page" } })}
            disabled={update.isPending}
          >
            {update.isPending ? "Cancelling…" : "Cancel interview"}
          </button>
        ) : null}
        {status !== "active" ? (
          confirmDelete ? (
            <>
              <button
                type="button"
                className="voice-button voice-button--danger"
                onClick={() => remove.mutate(session.id, { onSuccess: () => navigate(paths.sessions) })}
                disabled={remove.isPending}
              >
                Confirm: delete interview and transcript
              </button>
              <button type="button" className="voice-button" onClick={() => setConfirmDelete(false)}>
                Keep
              </button>
            </>
          ) : (
            <button type="button" className="voice-button voice-button--danger" onClick={() => setConfirmDelete(true)}>
              Delete
            </button>
          )
        ) : null}
      </div>
      {actionError ? <ErrorState error={actionError} title="That did not work" /> : null}

      {finished ? (
        <div className="voice-columns">
          <div className="voice-column">
            {transcript.isError ? <ErrorState error={transcript.error} title="The transcript could not be loaded" onRetry={() => void transcript.refetch()} /> : null}
            {assembled ? <TranscriptViewer segments={assembled} focus={focus} title="Transcript" /> : null}
            {!assembled && scored && !transcript.isError ? <LoadingState label="Assembling the transcript…" /> : null}
            {!assembled ? <LiveTranscriptView live={live} title="Transcript (as recorded live)" emptyMessage="Nothing was recorded." /> : null}
          </div>
          {scored ? (
            <div className="voice-column">
              {analytics.data ? (
                <AnalyticsSummary
                  analytics={analytics.data}
                  durationSeconds={session.durationSeconds}
                  onMomentSelect={selectMoment}
                  onRegenerate={isOrgAdmin && analytics.data.status !== "pending" && analytics.data.status !== "running" ? () => regenerate.mutate(session.id) : undefined}
                  regenerating={regenerate.isPending}
                  regenerateError={regenerate.error}
                />
              ) : null}
              {analytics.isPending ? <LoadingState label="Loading the analysis…" /> : null}
              {analytics.isError ? <ErrorState error={analytics.error} title="The analysis could not be loaded" onRetry={() => void analytics.refetch()} /> : null}
            </div>
          ) : null}
        </div>
      ) : (
        <div className="voice-columns">
          <div className="voice-column">
            <InterviewRoom roomUrl={session.dailyRoomUrl} token={session.dailyRoomToken} status={status} userName={session.candidateName ?? undefined} />
          </div>
          <div className="voice-column">
            <LiveTranscriptView live={live} />
          </div>
        </div>
      )}
    </div>
  );
}
