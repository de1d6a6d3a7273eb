import { useId } from "react";
import { formatTimestamp, humanize } from "../../lib/format";
import type { KeyMoment } from "../../types";

export interface KeyMomentsTimelineProps {
  moments: readonly KeyMoment[];
  /** The interview's length in seconds (the timeline's end); the last moment's time by default. */
  durationSeconds?: number | null;
  onSelect?: (moment: KeyMoment, index: number) => void;
}

/** Key moments on a timeline of the interview; choosing one jumps to its quote in the transcript. */
export function KeyMomentsTimeline({ moments, durationSeconds, onSelect }: KeyMomentsTimelineProps) {
  const ids = useId();
  if (moments.length === 0) return <p className="voice-empty">No key moments were identified.</p>;
  const sorted = moments.map((m, index) => ({ m, index })).sort((a, b) => a.m.timestamp - b.m.timestamp);
  const end = Math.max(durationSeconds ?? 0, ...moments.map((m) => m.timestamp), 1);
  return (
    <div className="voice-moments" aria-labelledby={`${ids}-title`} role="group">
      <h4 id={`${ids}-title`}>Key moments</h4>
      <div className="voice-timeline" aria-hidden="true">
        <div className="voice-timeline__track" />
        {sorted.map(({ m, index }) => (
          <button
            key={`marker-${index}`}
            type="button"
            tabIndex={-1}
            className={`voice-timeline__marker voice-moment--${m.type}`}
            style={{ left: `${(m.timestamp / end) * 100}%` }}
            title={`${formatTimestamp(m.timestamp)} ${m.description}`}
            onClick={() => onSelect?.(m, index)}
          />
        ))}
        <span className="voice-timeline__start">0:00</span>
        <span className="voice-timeline__end">{formatTimestamp(end)}</span>
      </div>
      <ol className="voice-moments__list">
        {sorted.map(({ m, index }) => (
          <li key={index} className={`voice-moment voice-moment--${m.type}`}>
            <button type="button" className="voice-moment__button" onClick={() => onSelect?.(m, index)} aria-label={`${humanize(m.type)} at ${formatTimestamp(m.timestamp)}: ${m.description}. Show in transcript`}>
              <time className="voice-turn__time">{formatTimestamp(m.timestamp)}</time>
              <span className={`voice-badge voice-badge--moment-${m.type}`}>{humanize(m.type)}</span>
              <span className="voice-moment__description">{m.description}</span>
            </button>
            <blockquote className="voice-moment__quote">“{m.quote}”</blockquote>
          </li>
        ))}
      </ol>
    </div>
  );
}
