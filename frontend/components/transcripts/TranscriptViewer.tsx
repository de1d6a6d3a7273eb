import { Fragment, useEffect, useId, useMemo, useRef, useState, type ReactNode } from "react";
import { formatTimestamp } from "../../lib/format";
import { findMatches, groupTurns, type DisplaySegment } from "../../lib/transcript";

export interface SpeakerNames {
  bot: string;
  candidate: string;
}

export const DEFAULT_SPEAKERS: SpeakerNames = { bot: "Interviewer", candidate: "Candidate" };

export function speakerLabel(speaker: string, names: SpeakerNames = DEFAULT_SPEAKERS): string {
  if (speaker === "bot") return names.bot;
  if (speaker === "candidate") return names.candidate;
  return speaker;
}

function Highlighted({ text, query }: { text: string; query: string }) {
  const ranges = findMatches(text, query);
  if (ranges.length === 0) return <>{text}</>;
  const parts: ReactNode[] = [];
  let at = 0;
  ranges.forEach(([start, end], i) => {
    if (start > at) parts.push(<Fragment key={`t${i}`}>{text.slice(at, start)}</Fragment>);
    parts.push(<mark key={`m${i}`}>{text.slice(start, end)}</mark>);
    at = end;
  });
  if (at < text.length) parts.push(<Fragment key="tail">{text.slice(at)}</Fragment>);
  return <>{parts}</>;
}

export interface TranscriptFocus {
  seq: number;
  /** Change it to focus the same segment again. */
  nonce: number;
}

export interface TranscriptViewerProps {
  segments: readonly DisplaySegment[];
  title?: string;
  speakers?: SpeakerNames;
  searchable?: boolean;
  /** Scroll to, highlight and focus this segment (e.g. a key moment's quote). */
  focus?: TranscriptFocus | null;
  emptyMessage?: string;
}

/** A transcript as speaker turns with timestamps, searchable; segments can be jumped to. */
export function TranscriptViewer({ segments, title = "Transcript", speakers = DEFAULT_SPEAKERS, searchable = true, focus = null, emptyMessage = "Nothing was said yet." }: TranscriptViewerProps) {
  const ids = useId();
  const [query, setQuery] = useState("");
  const listRef = useRef<HTMLOListElement>(null);
  const trimmed = query.trim();

  const turns = useMemo(() => groupTurns(segments), [segments]);
  const { visible, matchCount, segmentCount } = useMemo(() => {
    if (!trimmed) return { visible: turns, matchCount: 0, segmentCount: 0 };
    let matches = 0;
    let segs = 0;
    const shown = turns.filter((turn) => {
      let hit = false;
      for (const s of turn.segments) {
        const n = findMatches(s.text, trimmed).length;
        if (n > 0) {
          matches += n;
          segs += 1;
          hit = true;
        }
      }
      return hit;
    });
    return { visible: shown, matchCount: matches, segmentCount: segs };
  }, [turns, trimmed]);

  const focusSeq = focus?.seq ?? null;
  const focusNonce = focus?.nonce ?? 0;
  useEffect(() => {
    if (focusSeq === null) return;
    const el = listRef.current?.querySelector<HTMLElement>(`[data-seq="${focusSeq}"]`);
    if (!el) return;
    el.scrollIntoView?.({ block: "center", behavior: "smooth" });
    el.focus({ preventScroll: true });
  }, [focusSeq, focusNonce]);

  return (
    <section className="voice-transcript" aria-labelledby={`${ids}-title`}>
      <div className="voice-section__header">
        <h3 id={`${ids}-title`}>{title}</h3>
        {searchable && segments.length > 0 ? (
          <div className="voice-search">
            <label htmlFor={`${ids}-search`}>Search transcript</label>
            <input id={`${ids}-search`} type="search" value={query} onChange={(e) => setQuery(e.target.value)} aria-describedby={`${ids}-count`} />
            <span id={`${ids}-count`} className="voice-search__count" aria-live="polite">
              {trimmed ? `${matchCount} ${matchCount === 1 ? "match" : "matches"} in ${segmentCount} ${segmentCount === 1 ? "segment" : "segments"}` : ""}
            </span>
          </div>
        ) : null}
      </div>
      {segments.length === 0 ? <p className="voice-empty">{emptyMessage}</p> : null}
      {segments.length > 0 && visible.length === 0 ? <p className="voice-empty">No part of the transcript matches “{trimmed}”.</p> : null}
      <ol className="voice-turns" ref={listRef}>
        {visible.map((turn) => (
          <li key={turn.key} className={`voice-turn voice-turn--${turn.speaker}`}>
            <div className="voice-turn__header">
              <span className="voice-turn__speaker">{speakerLabel(turn.speaker, speakers)}</span>
              <time className="voice-turn__time" aria-label={`at ${formatTimestamp(turn.startTime)}`}>
                {formatTimestamp(turn.startTime)}
              </time>
            </div>
            {turn.segments.map((s) => (
              <p
                key={s.seq}
                className={`voice-segment${s.isFinal ? "" : " voice-segment--interim"}${focusSeq === s.seq ? " voice-segment--focused" : ""}`}
                data-seq={s.seq}
                tabIndex={-1}
              >
                {trimmed ? <Highlighted text={s.text} query={trimmed} /> : s.text}
              </p>
            ))}
          </li>
        ))}
      </ol>
    </section>
  );
}
