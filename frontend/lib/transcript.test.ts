// @vitest-environment node
import { describe, expect, it } from "vitest";
import type { LiveSegment } from "../types";
import { findMatches, findSegmentForQuote, fromStoredSegments, groupTurns, highestFinalSeq, mergeSegments, seqBeforeFirstGap, sortedSegments, type SegmentMap } from "./transcript";

const seg = (seq: number, text: string, isFinal = true, speaker: "bot" | "candidate" = "bot"): LiveSegment => ({
  seq,
  speaker,
  text,
  startTime: seq,
  endTime: seq + 0.5,
  confidence: null,
  isFinal,
});

describe("mergeSegments (at-least-once delivery)", () => {
  it("keeps one segment per seq, in seq order", () => {
    let map: SegmentMap = new Map();
    map = mergeSegments(map, [seg(3, "c"), seg(1, "a")]);
    map = mergeSegments(map, [seg(2, "b"), seg(1, "a")]);
    expect(sortedSegments(map).map((s) => s.text)).toEqual(["a", "b", "c"]);
  });

  it("lets a final segment replace an interim one, never the reverse; the stored text wins", () => {
    let map: SegmentMap = new Map();
    map = mergeSegments(map, [seg(1, "hel", false)]);
    map = mergeSegments(map, [seg(1, "hello", false)]);
    expect(map.get(1)?.text).toBe("hello");
    map = mergeSegments(map, [seg(1, "Hello.", true)]);
    map = mergeSegments(map, [seg(1, "late interim", false), seg(1, "a duplicate", true)]);
    expect(map.get(1)).toMatchObject({ text: "Hello.", isFinal: true });
  });

  it("returns the same map when nothing changed", () => {
    const map = mergeSegments(new Map(), [seg(1, "a")]);
    expect(mergeSegments(map, [seg(1, "a")])).toBe(map);
    expect(mergeSegments(map, [{ bogus: true } as unknown as LiveSegment])).toBe(map);
  });

  it("knows where to resume and where a gap is", () => {
    const map = mergeSegments(new Map(), [seg(1, "a"), seg(2, "b"), seg(4, "d"), seg(5, "e", false)]);
    expect(highestFinalSeq(map)).toBe(4);
    expect(seqBeforeFirstGap(map)).toBe(2);
    expect(seqBeforeFirstGap(mergeSegments(map, [seg(3, "c")]))).toBeNull();
    expect(highestFinalSeq(new Map())).toBeNull();
  });
});

describe("turns, search and quotes", () => {
  const segments = fromStoredSegments([
    { seq: 2, speaker: "candidate", text: "Hi there.", startTime: 3, endTime: 4, confidence: 1 },
    { seq: 1, speaker: "bot", text: "Hello!", startTime: 0, endTime: 2, confidence: null },
    { seq: 3, speaker: "candidate", text: "I used a Dead-Letter queue, and alarms.", startTime: 4.5, endTime: 8, confidence: 1 },
    { seq: 4, speaker: "bot", text: "Thanks, dead-letter queues help.", startTime: 9, endTime: 11, confidence: 1 },
    { seq: 5, speaker: null, text: null, startTime: null, endTime: null, confidence: null },
  ]);

  it("orders stored segments, drops empty ones and groups consecutive speakers into turns", () => {
    expect(segments.map((s) => s.seq)).toEqual([1, 2, 3, 4]);
    const turns = groupTurns(segments);
    expect(turns.map((t) => [t.speaker, t.segments.length, t.startTime])).toEqual([
      ["bot", 1, 0],
      ["candidate", 2, 3],
      ["bot", 1, 9],
    ]);
  });

  it("finds case-insensitive matches", () => {
    expect(findMatches("a Dead-Letter queue and dead-letter", "dead-letter")).toEqual([
      [2, 13],
      [24, 35],
    ]);
    expect(findMatches("anything", "  ")).toEqual([]);
  });

  it("finds the segment a key moment quotes (folding case and punctuation), else the nearest in time", () => {
    expect(findSegmentForQuote(segments, "a dead letter queue... alarms", 5)?.seq).toBe(3);
    expect(findSegmentForQuote(segments, "dead-letter queue", 10)?.seq).toBe(4);
    expect(findSegmentForQuote(segments, "not said at all", 9.5)?.seq).toBe(4);
    expect(findSegmentForQuote([], "x", 0)).toBeNull();
  });
});
