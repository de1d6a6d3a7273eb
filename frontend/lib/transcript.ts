/**
 * Transcript helpers shared by the live WebSocket hook and the viewers: at-least-once delivery merging
 * (docs/websocket.md "Order and delivery"), speaker turns, search and quote lookup.
 */
import type { LiveSegment, TranscriptSegment } from "../types";

/** A segment as the viewers render it (live or assembled). */
export interface DisplaySegment {
  seq: number;
  /** "bot" or "candidate" (Speaker); other values are shown as they are. */
  speaker: string;
  text: string;
  startTime: number | null;
  endTime: number | null;
  confidence: number | null;
  isFinal: boolean;
}

export type SegmentMap = ReadonlyMap<number, LiveSegment>;

/**
 * Merge incoming segments into a map keyed by `seq`: a final segment replaces an interim one, a repeated
 * final segment changes nothing (the stored text wins), an interim one never replaces a final one.
 * Returns the same map when nothing changed (cheap to compare in React state).
 */
export function mergeSegments(current: SegmentMap, incoming: readonly LiveSegment[]): SegmentMap {
  let next: Map<number, LiveSegment> | null = null;
  for (const segment of incoming) {
    if (!isLiveSegment(segment)) continue;
    const held = (next ?? current).get(segment.seq);
    if (held && held.isFinal) continue;
    if (held && !segment.isFinal && held.text === segment.text) continue;
    next ??= new Map(current);
    next.set(segment.seq, { ...segment, isFinal: segment.isFinal !== false });
  }
  return next ?? current;
}

function isLiveSegment(value: unknown): value is LiveSegment {
  if (typeof value !== "object" || value === null) return false;
  const s = value as Partial<LiveSegment>;
  return typeof s.seq === "number" && Number.isInteger(s.seq) && s.seq >= 0 && typeof s.text === "string" && typeof s.speaker === "string";
}

export function sortedSegments(map: SegmentMap): LiveSegment[] {
  return [...map.values()].sort((a, b) => a.seq - b.seq);
}

/** The highest final `seq` held (what a re-subscribe sends as `afterSeq`), or null. */
export function highestFinalSeq(map: SegmentMap): number | null {
  let best: number | null = null;
  for (const s of map.values()) if (s.isFinal && (best === null || s.seq > best)) best = s.seq;
  return best;
}

/**
 * The last final `seq` before the first gap (a final seq missing while later ones arrived), or null when
 * the final segments are contiguous. Re-subscribing with this `afterSeq` repairs the gap.
 */
export function seqBeforeFirstGap(map: SegmentMap): number | null {
  const finals = [...map.values()].filter((s) => s.isFinal).map((s) => s.seq).sort((a, b) => a - b);
  for (let i = 0; i + 1 < finals.length; i += 1) {
    const a = finals[i]!;
    const b = finals[i + 1]!;
    if (b - a > 1) return a;
  }
  return null;
}

/** Segments of an assembled transcript (`speakerSegments`) in display form, ordered. */
export function fromStoredSegments(segments: readonly TranscriptSegment[]): DisplaySegment[] {
  return segments
    .filter((s) => typeof s.text === "string" && s.text.length > 0)
    .map((s, index) => ({
      seq: typeof s.seq === "number" ? s.seq : index + 1,
      speaker: s.speaker ?? "unknown",
      text: s.text ?? "",
      startTime: s.startTime,
      endTime: s.endTime,
      confidence: s.confidence,
      isFinal: true,
    }))
    .sort((a, b) => a.seq - b.seq);
}

export interface SpeakerTurn {
  key: string;
  speaker: DisplaySegment["speaker"];
  startTime: number | null;
  segments: DisplaySegment[];
}

/** Consecutive segments of one speaker form a turn. */
export function groupTurns(segments: readonly DisplaySegment[]): SpeakerTurn[] {
  const turns: SpeakerTurn[] = [];
  for (const segment of segments) {
    const last = turns[turns.length - 1];
    if (last && last.speaker === segment.speaker) {
      last.segments.push(segment);
    } else {
      turns.push({ key: `turn-${segment.seq}`, speaker: segment.speaker, startTime: segment.startTime, segments: [segment] });
    }
  }
  return turns;
}

/** Case, punctuation and whitespace folding, like the server's quote grounding. */
export function normalizeText(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[^\p{L}\p{N}']+/gu, " ")
    .trim();
}

/** Where `query` occurs in `text` (case-insensitive), as [start, end) ranges. */
export function findMatches(text: string, query: string): Array<[number, number]> {
  const needle = query.trim().toLowerCase();
  if (!needle) return [];
  const haystack = text.toLowerCase();
  const out: Array<[number, number]> = [];
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(needle, from);
    if (at < 0) break;
    out.push([at, at + needle.length]);
    from = at + needle.length;
  }
  return out;
}

/**
 * The segment a key moment quotes: the candidate segment whose text contains the quote (its parts, when
 * "..." separates them), preferring the one closest to `timestamp`; else the segment nearest in time.
 */
export function findSegmentForQuote(segments: readonly DisplaySegment[], quote: string, timestamp: number): DisplaySegment | null {
  if (segments.length === 0) return null;
  const parts = quote
    .replace(/\u2026/g, "...")
    .split("...")
    .map(normalizeText)
    .filter(Boolean);
  const distance = (s: DisplaySegment) => Math.abs((s.startTime ?? 0) - timestamp);
  const containing = segments.filter((s) => {
    const text = ` ${normalizeText(s.text)} `;
    return parts.length > 0 && parts.every((p) => text.includes(` ${p} `) || text.includes(p));
  });
  const pool = containing.length > 0 ? containing : segments;
  return pool.reduce((best, s) => (distance(s) < distance(best) ? s : best));
}
