import { formatDuration, formatPercent } from "../../lib/format";
import type { ConversationMetrics as Metrics } from "../../types";

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The deterministic conversation metrics (computed from the transcript, not by the LLM). */
export function ConversationMetrics({ metrics }: { metrics: Metrics | null | undefined }) {
  if (!metrics || Object.keys(metrics).length === 0) return null;
  const questions = metrics.questions ?? {};
  const rows: Array<[string, string]> = [];
  const add = (label: string, value: string | null) => {
    if (value !== null) rows.push([label, value]);
  };
  add("Duration", num(metrics.duration_seconds) !== null ? formatDuration(num(metrics.duration_seconds)) : null);
  add("Turns", num(metrics.turn_count) !== null ? String(metrics.turn_count) : null);
  add("Candidate words", num(metrics.candidate_words) !== null ? String(metrics.candidate_words) : null);
  add("Candidate share of talk time", num(metrics.talk_time_ratio) !== null ? formatPercent(num(metrics.talk_time_ratio)) : null);
  add("Candidate words per minute", num(metrics.candidate_words_per_minute) !== null ? String(Math.round(num(metrics.candidate_words_per_minute)!)) : null);
  add("Mean response time", num(metrics.mean_response_latency_seconds) !== null ? `${num(metrics.mean_response_latency_seconds)!.toFixed(1)} s` : null);
  add("Longest answer", num(metrics.longest_monologue_seconds) !== null ? formatDuration(num(metrics.longest_monologue_seconds)) : null);
  if (num(questions.configured) !== null && questions.configured! > 0) {
    add("Questions asked", `${num(questions.asked) ?? num(metrics.questions_asked) ?? 0} of ${questions.configured}`);
  }
  if (rows.length === 0) return null;
  return (
    <div className="voice-metrics">
      <h4>Conversation metrics</h4>
      <dl className="voice-stat-grid">
        {rows.map(([label, value]) => (
          <div key={label} className="voice-stat">
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
