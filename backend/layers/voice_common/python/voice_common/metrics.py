"""Deterministic conversation metrics, computed from the assembled segments without an LLM.

Stored in ``voice_analytics.metrics`` next to the model's judgement, so a reviewer can check the
judgement against facts (and has them even when analytics are skipped or fail). Definitions:

- talk time: the union of each speaker's segment intervals (overlapping segments of one speaker are not
  counted twice); ``talk_time_ratio`` is the candidate's share of all talk time (0..1);
- ``candidate_words_per_minute``: candidate words / candidate talk minutes;
- response latency: for each interviewer -> candidate turn change, the candidate's first start minus the
  interviewer's last end, floored at 0 (the candidate interrupting counts as 0, not negative);
- longest monologue: the longest candidate turn (consecutive candidate segments), first start to last end;
- questions asked: each configured question is matched against the interviewer's turns by content-word
  overlap (share of the question's content words present in the turn, after case/punctuation folding,
  stop-word removal and light plural/suffix stemming); at or above ``QUESTION_MATCH_THRESHOLD`` it counts
  as asked, so a paraphrase ("Can you tell me about a system you have built?") still matches.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from voice_common.assembly import Segment, normalize_text, turns

METRICS_VERSION = 1
QUESTION_MATCH_THRESHOLD = 0.6

_STOPWORD_TEXT = """a an the and or but if then so to of in on at by for with from about as into over under
is are was were be been being am do does did done have has had having i me my we our you your he she it its
they them their this that these those there here what which who whom whose when where why how can could
would should will shall may might must please tell us let lets just also any some very really"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _stem(token: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(token) > len(suffix) + 2 and token.endswith(suffix):
            return token[: -len(suffix)]
    return token


def content_tokens(text: str) -> set[str]:
    words = normalize_text(text).split()
    content = {_stem(w) for w in words if w not in _STOPWORDS}
    return content or {_stem(w) for w in words}


def _union_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    total = 0.0
    cur_start = cur_end = None
    for start, end in sorted(intervals):
        if cur_end is None or start > cur_end:
            if cur_end is not None and cur_start is not None:
                total += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None and cur_start is not None:
        total += cur_end - cur_start
    return total


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def match_questions(
    segments: Sequence[Segment],
    questions: Sequence[Mapping[str, Any]],
    threshold: float = QUESTION_MATCH_THRESHOLD,
) -> list[dict[str, Any]]:
    """Per configured question: asked or not, best overlap score and when (interviewer turn start)."""
    bot_turns = [
        (start, content_tokens(" ".join(s.text for s in members)))
        for speaker, start, _end, members in turns(segments)
        if speaker == "bot"
    ]
    out = []
    for i, q in enumerate(questions):
        text = str(q.get("text") or "")
        wanted = content_tokens(text)
        best, at = 0.0, None
        for start, tokens in bot_turns:
            score = len(wanted & tokens) / len(wanted) if wanted else 0.0
            if score > best:
                best, at = score, start
        asked = best >= threshold
        out.append(
            {
                "id": str(q.get("id") or f"q{i + 1}"),
                "asked": asked,
                "score": round(best, 2),
                "at": at if asked else None,
            }
        )
    return out


def compute_metrics(
    segments: Sequence[Segment], questions: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The metrics document (JSON-ready) for conversation-ordered segments."""
    talk = {
        speaker: _union_seconds((s.start_time, s.end_time) for s in segments if s.speaker == speaker)
        for speaker in ("bot", "candidate")
    }
    words = {speaker: sum(len(s.text.split()) for s in segments if s.speaker == speaker) for speaker in talk}
    total_talk = talk["bot"] + talk["candidate"]
    conversation = turns(segments)
    latencies: list[float] = []
    longest: tuple[float, int, float] | None = None  # seconds, words, start
    for i, (speaker, start, end, members) in enumerate(conversation):
        if speaker != "candidate":
            continue
        if i > 0 and conversation[i - 1][0] == "bot":
            latencies.append(max(0.0, start - conversation[i - 1][2]))
        length = end - start
        if longest is None or length > longest[0]:
            longest = (length, sum(len(s.text.split()) for s in members), start)
    matched = match_questions(segments, questions)
    asked = sum(1 for m in matched if m["asked"])
    duration = (max(s.end_time for s in segments) - segments[0].start_time) if segments else 0.0
    return {
        "version": METRICS_VERSION,
        "duration_seconds": _r(duration),
        "segment_count": len(segments),
        "turn_count": len(conversation),
        "bot_talk_seconds": _r(talk["bot"]),
        "candidate_talk_seconds": _r(talk["candidate"]),
        "talk_time_ratio": _r(talk["candidate"] / total_talk, 3) if total_talk else None,
        "bot_words": words["bot"],
        "candidate_words": words["candidate"],
        "candidate_words_per_minute": _r(words["candidate"] / (talk["candidate"] / 60.0), 1)
        if talk["candidate"] > 0
        else None,
        "response_latency": {
            "count": len(latencies),
            "mean_seconds": _r(statistics.fmean(latencies)) if latencies else None,
            "median_seconds": _r(statistics.median(latencies)) if latencies else None,
            "max_seconds": _r(max(latencies)) if latencies else None,
        },
        "mean_response_latency_seconds": _r(statistics.fmean(latencies)) if latencies else None,
        "longest_monologue": {
            "seconds": _r(longest[0]) if longest else None,
            "words": longest[1] if longest else 0,
            "start_time": longest[2] if longest else None,
        },
        "longest_monologue_seconds": _r(longest[0]) if longest else None,
        "questions": {
            "configured": len(matched),
            "asked": asked,
            "coverage": _r(asked / len(matched), 3) if matched else None,
            "threshold": QUESTION_MATCH_THRESHOLD,
            "items": matched,
        },
        "questions_asked": asked,
    }
