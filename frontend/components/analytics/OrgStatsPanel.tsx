import { useId } from "react";
import { useVoiceStats } from "../../hooks/useVoiceAnalytics";
import { formatDuration, formatScore } from "../../lib/format";
import { SESSION_STATUSES, type Uuid } from "../../types";
import { ErrorState, LoadingState } from "../common/States";
import { STATUS_LABELS } from "../sessions/SessionStatusBadge";
import { BarChart } from "./BarChart";

/** An organization's interview statistics with a chart of sessions by status. */
export function OrgStatsPanel({ orgId }: { orgId: Uuid }) {
  const ids = useId();
  const stats = useVoiceStats(orgId);
  return (
    <section className="voice-section" aria-labelledby={`${ids}-title`}>
      <div className="voice-section__header">
        <h2 id={`${ids}-title`}>Statistics</h2>
        {stats.data ? (
          <button type="button" className="voice-button voice-button--small" onClick={() => void stats.refetch()} disabled={stats.isFetching}>
            {stats.isFetching ? "Refreshing…" : "Refresh"}
          </button>
        ) : null}
      </div>
      {stats.isPending ? <LoadingState label="Loading statistics…" /> : null}
      {stats.isError ? <ErrorState error={stats.error} title="Statistics could not be loaded" onRetry={() => void stats.refetch()} /> : null}
      {stats.data ? (
        <>
          <dl className="voice-stat-grid">
            <div className="voice-stat">
              <dt>Interviews</dt>
              <dd data-testid="stat-total">{stats.data.totalSessions}</dd>
            </div>
            <div className="voice-stat">
              <dt>Completed</dt>
              <dd>{stats.data.completedSessions}</dd>
            </div>
            <div className="voice-stat">
              <dt>This month</dt>
              <dd>{stats.data.sessionsThisMonth}</dd>
            </div>
            <div className="voice-stat">
              <dt>Average duration</dt>
              <dd>{formatDuration(stats.data.avgDurationSeconds)}</dd>
            </div>
            <div className="voice-stat">
              <dt>Average score</dt>
              <dd>{formatScore(stats.data.avgScore)}</dd>
            </div>
          </dl>
          <BarChart
            title="Interviews by status"
            data={SESSION_STATUSES.map((s) => ({ key: s, label: STATUS_LABELS[s], value: stats.data.sessionsByStatus[s] ?? 0, className: `voice-chart__row--${s}` }))}
            formatValue={(v) => String(v)}
          />
        </>
      ) : null}
    </section>
  );
}
