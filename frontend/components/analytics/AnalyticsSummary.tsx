import { useId, type ReactNode } from "react";
import { formatPercent, formatScore, humanize } from "../../lib/format";
import type { KeyMoment, VoiceAnalytics } from "../../types";
import { ErrorState } from "../common/States";
import { BarChart } from "./BarChart";
import { ConversationMetrics } from "./ConversationMetrics";
import { KeyMomentsTimeline } from "./KeyMomentsTimeline";

export interface AnalyticsSummaryProps {
  analytics: VoiceAnalytics;
  durationSeconds?: number | null;
  /** A key moment was chosen (jump to its quote in the transcript). */
  onMomentSelect?: (moment: KeyMoment, index: number) => void;
  /** Org admins may queue the analysis again. */
  onRegenerate?: () => void;
  regenerating?: boolean;
  regenerateError?: unknown;
}

function List({ title, items }: { title: string; items: readonly string[] }) {
  if (items.length === 0) return null;
  return (
    <div className="voice-analysis-list">
      <h4>{title}</h4>
      <ul>
        {items.map((item, i) => (
          <li key={i}>{item}</li>
        ))}
      </ul>
    </div>
  );
}

/** The AI scoring of an interview: overall score, category chart, findings, key moments, metrics. */
export function AnalyticsSummary({ analytics, durationSeconds, onMomentSelect, onRegenerate, regenerating = false, regenerateError }: AnalyticsSummaryProps) {
  const ids = useId();
  const regenerate = onRegenerate ? (
    <button type="button" className="voice-button voice-button--small" onClick={onRegenerate} disabled={regenerating}>
      {regenerating ? "Queuing…" : "Analyse again"}
    </button>
  ) : null;

  let body: ReactNode;
  if (analytics.status === "not_started") {
    body = <p className="voice-empty">The analysis starts when the interview has finished.</p>;
  } else if (analytics.status === "pending" || analytics.status === "running") {
    body = (
      <p className="voice-loading" role="status">
        <span className="voice-spinner" aria-hidden="true" />
        {analytics.status === "pending" ? "The analysis is queued…" : "The interview is being scored…"}
        {analytics.error ? ` (retrying: ${analytics.error})` : null}
      </p>
    );
  } else {
    const categories = Object.entries(analytics.categoryScores ?? {});
    body = (
      <>
        {analytics.status === "failed" ? (
          <div className="voice-error" role="alert">
            The analysis failed{analytics.error ? `: ${analytics.error}` : "."} {regenerate}
          </div>
        ) : null}
        {analytics.status === "skipped" ? (
          <div className="voice-info" role="note">
            This interview was not scored{analytics.error ? `: ${analytics.error}` : "."} {regenerate}
          </div>
        ) : null}
        {analytics.status === "completed" ? (
          <>
            <div className="voice-score" aria-label={`Overall score ${formatScore(analytics.overallScore)} out of 100`}>
              <span className="voice-score__value" data-testid="overall-score">
                {formatScore(analytics.overallScore)}
              </span>
              <span className="voice-score__max">/ 100</span>
              <span className="voice-score__label">Overall score</span>
            </div>
            {categories.length > 0 ? (
              <BarChart
                title="Scores by category (0 to 100)"
                max={100}
                data={categories.map(([name, c]) => ({
                  key: name,
                  label: humanize(name),
                  value: typeof c.score === "number" ? c.score : 0,
                  note: typeof c.weight === "number" ? formatPercent(c.weight) : undefined,
                }))}
              />
            ) : null}
            {categories.some(([, c]) => c.feedback) ? (
              <dl className="voice-feedback">
                {categories
                  .filter(([, c]) => c.feedback)
                  .map(([name, c]) => (
                    <div key={name}>
                      <dt>{humanize(name)}</dt>
                      <dd>{c.feedback}</dd>
                    </div>
                  ))}
              </dl>
            ) : null}
            <div className="voice-analysis-columns">
              <List title="Strengths" items={analytics.strengths ?? []} />
              <List title="Weaknesses" items={analytics.weaknesses ?? []} />
              <List title="Recommendations" items={analytics.recommendations ?? []} />
            </div>
            <KeyMomentsTimeline moments={analytics.keyMoments ?? []} durationSeconds={durationSeconds ?? analytics.metrics?.duration_seconds ?? null} onSelect={onMomentSelect} />
            {analytics.modelUsed ? <p className="voice-field__hint">Scored by {analytics.modelUsed}{analytics.processingTimeMs ? ` in ${(analytics.processingTimeMs / 1000).toFixed(1)} s` : ""}.</p> : null}
            {onRegenerate ? <div className="voice-actions voice-actions--inline">{regenerate}</div> : null}
          </>
        ) : null}
        <ConversationMetrics metrics={analytics.metrics} />
      </>
    );
  }

  return (
    <section className="voice-analytics" aria-labelledby={`${ids}-title`} data-analytics-status={analytics.status}>
      <h3 id={`${ids}-title`}>Analysis</h3>
      {regenerateError ? <ErrorState error={regenerateError} title="The analysis could not be queued" /> : null}
      {body}
    </section>
  );
}
