"""Deterministic conversation metrics (voice_common.metrics): computed from segments, no LLM."""

from __future__ import annotations

import pytest

from voice_common.assembly import Segment
from voice_common.metrics import compute_metrics, content_tokens, match_questions


def seg(seq: int, speaker: str, text: str, start: float, end: float) -> Segment:
    return Segment(seq=seq, speaker=speaker, text=text, start_time=start, end_time=end, confidence=0.9)


CONVERSATION = [
    seg(1, "bot", "Hello and welcome. Tell me about a system you built.", 0.0, 4.0),
    seg(2, "candidate", "I built a payment ledger in Go", 6.0, 10.0),  # latency 2.0
    seg(3, "candidate", "that handled ten thousand writes per second", 10.0, 16.0),  # same turn
    seg(4, "bot", "How did you test failure modes?", 17.0, 19.0),
    seg(5, "candidate", "Chaos testing mostly", 18.5, 20.5),  # interrupts: latency floored to 0
    seg(6, "bot", "Thanks, that is all.", 22.0, 24.0),
]


def test_talk_time_words_per_minute_latency_and_monologue() -> None:
    m = compute_metrics(CONVERSATION)
    assert m["bot_talk_seconds"] == pytest.approx(4.0 + 2.0 + 2.0)
    assert m["candidate_talk_seconds"] == pytest.approx(10.0 + 2.0)
    assert m["talk_time_ratio"] == pytest.approx(12.0 / 20.0, abs=1e-3)
    candidate_words = 7 + 7 + 3
    assert m["candidate_words"] == candidate_words
    assert m["candidate_words_per_minute"] == pytest.approx(candidate_words / (12.0 / 60.0), abs=0.1)
    assert m["response_latency"]["count"] == 2
    assert m["mean_response_latency_seconds"] == pytest.approx((2.0 + 0.0) / 2)
    assert m["response_latency"]["max_seconds"] == pytest.approx(2.0)
    # The first candidate turn spans two segments: 6.0 -> 16.0.
    assert m["longest_monologue_seconds"] == pytest.approx(10.0)
    assert m["longest_monologue"]["words"] == 14
    assert m["longest_monologue"]["start_time"] == pytest.approx(6.0)
    assert m["turn_count"] == 5
    assert m["duration_seconds"] == pytest.approx(24.0)


def test_overlapping_segments_of_one_speaker_are_not_counted_twice() -> None:
    segments = [
        seg(1, "candidate", "first part", 0.0, 10.0),
        seg(2, "candidate", "overlapping part", 5.0, 12.0),
        seg(3, "bot", "ok", 20.0, 22.0),
    ]
    m = compute_metrics(segments)
    assert m["candidate_talk_seconds"] == pytest.approx(12.0)
    assert m["talk_time_ratio"] == pytest.approx(12.0 / 14.0, abs=1e-3)


def test_configured_questions_are_matched_fuzzily_in_the_interviewers_words_only() -> None:
    questions = [
        {"id": "q1", "text": "Tell me about a system you have built."},
        {"id": "q2", "text": "How do you test failure modes in production?"},
        {"id": "q3", "text": "Describe your experience with Kubernetes operators."},
        {"id": "q4", "text": "What payment ledgers have you designed?"},  # only the candidate talks about it
    ]
    m = compute_metrics(CONVERSATION, questions)
    items = {i["id"]: i for i in m["questions"]["items"]}
    assert items["q1"]["asked"] is True
    assert items["q1"]["at"] == pytest.approx(0.0)
    assert items["q2"]["asked"] is True  # paraphrase: "How did you test failure modes?"
    assert items["q2"]["at"] == pytest.approx(17.0)
    assert items["q3"]["asked"] is False and items["q3"]["at"] is None
    assert items["q4"]["asked"] is False
    assert m["questions_asked"] == 2
    assert m["questions"]["configured"] == 4
    assert m["questions"]["coverage"] == pytest.approx(0.5)


def test_question_scores_are_the_share_of_content_words_present() -> None:
    segments = [seg(1, "bot", "Walk me through your deployment pipeline.", 0.0, 3.0)]
    [match] = match_questions(
        segments, [{"id": "x", "text": "Describe your deployment pipeline and rollbacks"}]
    )
    wanted = content_tokens("Describe your deployment pipeline and rollbacks")
    assert wanted == {"describe", "deployment", "pipeline", "rollback"}
    assert match["score"] == pytest.approx(2 / 4)
    assert match["asked"] is False


def test_empty_transcript_has_no_ratios() -> None:
    m = compute_metrics([], [{"id": "q1", "text": "Anything?"}])
    assert m["talk_time_ratio"] is None
    assert m["candidate_words_per_minute"] is None
    assert m["mean_response_latency_seconds"] is None
    assert m["longest_monologue_seconds"] is None
    assert m["questions_asked"] == 0 and m["questions"]["coverage"] == 0.0
