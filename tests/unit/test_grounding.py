"""Evidence grounding, rubric weights and segment ordering (pure functions of voice_common)."""

from __future__ import annotations

import pytest

from voice_common.analysis import (
    DEFAULT_RUBRIC,
    GROUNDING_TOLERANCE_SECONDS,
    Criterion,
    TranscriptIndex,
    rubric_from_config,
    weighted_overall,
)
from voice_common.assembly import Segment, assemble, normalize_text, order_segments


def seg(seq: int, speaker: str, text: str, start: float, end: float) -> Segment:
    return Segment(seq=seq, speaker=speaker, text=text, start_time=start, end_time=end)


SEGMENTS = [
    seg(1, "bot", "Why did you choose Postgres over Mongo?", 0.0, 3.0),
    seg(2, "candidate", "Honestly, I'm not entirely sure — it was the team's call.", 4.0, 9.0),
    seg(3, "candidate", "But transactions mattered to us, a lot.", 9.0, 12.0),
    seg(4, "bot", "What would you do differently?", 13.0, 15.0),
    seg(
        5,
        "candidate",
        "I would approach this by measuring first, then sharding that hot table.",
        100.0,
        110.0,
    ),
]


@pytest.fixture
def index() -> TranscriptIndex:
    return TranscriptIndex(SEGMENTS)


def test_normalization_ignores_case_punctuation_and_whitespace() -> None:
    assert normalize_text("  I'M   not, entirely SURE!! ") == "i m not entirely sure"
    assert normalize_text("team’s call…") == normalize_text("TEAM'S CALL...")


def test_quote_in_the_candidates_words_at_the_timestamp_is_grounded(index: TranscriptIndex) -> None:
    assert index.is_grounded("i'm NOT entirely sure", 4.0)
    assert index.is_grounded("I would approach this by measuring first", 104.5)


def test_timestamp_tolerance_is_applied_to_the_segment_interval(index: TranscriptIndex) -> None:
    tol = GROUNDING_TOLERANCE_SECONDS
    assert index.is_grounded("sharding that hot table", 110.0 + tol)
    assert not index.is_grounded("sharding that hot table", 110.0 + tol + 0.1)
    assert index.is_grounded("sharding that hot table", 100.0 - tol)
    assert not index.is_grounded("sharding that hot table", 100.0 - tol - 0.1)
    # The right words at a time where the candidate said something else.
    assert not index.is_grounded("sharding that hot table", 50.0)


def test_the_interviewers_words_are_not_the_candidates(index: TranscriptIndex) -> None:
    assert not index.is_grounded("Why did you choose Postgres over Mongo", 1.0)
    assert not index.is_grounded("what would you do differently", 14.0)


def test_matches_are_on_word_boundaries_and_invented_words_fail(index: TranscriptIndex) -> None:
    assert not index.is_grounded("hat hot", 105.0)  # "that hot" contains the letters, not the words
    assert not index.is_grounded("I would approach this by measuring twice", 105.0)
    assert not index.is_grounded("", 105.0)
    assert not index.is_grounded("...", 105.0)


def test_a_quote_may_cross_segments_of_the_same_candidate_turn(index: TranscriptIndex) -> None:
    assert index.is_grounded("it was the team's call. But transactions mattered", 8.0)
    # Across an interviewer turn it is not one utterance.
    assert not index.is_grounded("transactions mattered to us a lot I would approach", 12.0)


def test_ellipsis_separates_parts_that_must_occur_in_order(index: TranscriptIndex) -> None:
    assert index.is_grounded("I would approach this by...", 100.0)
    assert index.is_grounded("I would approach this… sharding that hot table", 100.0)
    assert not index.is_grounded("sharding that hot table ... I would approach this", 100.0)


def test_rubric_default_when_the_configuration_has_none() -> None:
    rubric, source = rubric_from_config({"interview": {"questions": []}})
    assert source == "default"
    assert [c.name for c in rubric] == [c.name for c in DEFAULT_RUBRIC]
    assert sum(c.weight for c in rubric) == pytest.approx(1.0)


def test_rubric_weights_are_normalized_or_equal() -> None:
    rubric, source = rubric_from_config(
        {"interview": {"scoring_rubric": {"criteria": ["a", "b", "A", "c", "d"]}}}
    )
    assert source == "config"
    assert [c.name for c in rubric] == ["a", "b", "c", "d"]  # "A" repeats "a"
    assert {c.weight for c in rubric} == {0.25}
    weighted, _ = rubric_from_config(
        {
            "interview": {
                "scoring_rubric": {"criteria": [{"name": "x", "weight": 3}, {"name": "y", "weight": 1}]}
            }
        }
    )
    assert [(c.name, c.weight) for c in weighted] == [("x", 0.75), ("y", 0.25)]


def test_overall_is_the_weighted_mean_of_the_categories() -> None:
    rubric = [Criterion("communication", 0.25), Criterion("technical_depth", 0.75)]
    assert weighted_overall({"communication": 80, "technical_depth": 60}, rubric) == pytest.approx(65.0)
    seed_example = {"communication": 85, "technical_depth": 72, "problem_solving": 90, "cultural_fit": 88}
    assert weighted_overall(seed_example, DEFAULT_RUBRIC) == pytest.approx(
        85 * 0.25 + 72 * 0.35 + 90 * 0.25 + 88 * 0.15, abs=0.005
    )


def test_segments_are_ordered_by_time_and_deduplicated() -> None:
    rows = [
        {"seq": 3, "speaker": "bot", "text": "Next question.", "start_time": 20.0, "end_time": 21.0},
        # Finalised late by speech-to-text: higher seq, earlier start.
        {
            "seq": 4,
            "speaker": "candidate",
            "text": "I led the migration.",
            "start_time": 12.0,
            "end_time": 18.0,
        },
        {
            "seq": 1,
            "speaker": "bot",
            "text": "Tell me about your last project.",
            "start_time": 0.0,
            "end_time": 3.0,
        },
        {"seq": 2, "speaker": "candidate", "text": "Sure.", "start_time": 5.0, "end_time": 6.0},
        # Re-sent after a reconnect under a new seq: same words, same moment.
        {
            "seq": 5,
            "speaker": "candidate",
            "text": "i led the migration",
            "start_time": 12.4,
            "end_time": 18.0,
        },
        # Same seq delivered twice.
        {"seq": 2, "speaker": "candidate", "text": "Sure.", "start_time": 5.0, "end_time": 6.0},
        # No times: placed after the previous segment in seq order.
        {"seq": 6, "speaker": "bot", "text": "Thanks!", "start_time": None, "end_time": None},
    ]
    segments, dropped = order_segments(rows)
    assert [s.seq for s in segments] == [1, 2, 4, 3, 6]
    assert dropped == 2
    assert segments[-1].start_time == pytest.approx(21.0)
    # The same words much later are a new utterance, not a duplicate.
    again = [*rows, {"seq": 7, "speaker": "candidate", "text": "Sure.", "start_time": 40.0, "end_time": 41.0}]
    assert len(order_segments(again)[0]) == 6


def test_assembled_text_has_speaker_labels_per_turn() -> None:
    done = assemble(
        [
            {"seq": 1, "speaker": "bot", "text": "Hello.", "start_time": 0.0, "end_time": 1.0},
            {"seq": 2, "speaker": "candidate", "text": "Hi there.", "start_time": 2.0, "end_time": 3.0},
            {"seq": 3, "speaker": "candidate", "text": "Ready.", "start_time": 3.0, "end_time": 4.0},
            {"seq": 4, "speaker": "bot", "text": "Great.", "start_time": 65.0, "end_time": 66.0},
        ]
    )
    assert done.text.splitlines() == [
        "[00:00] Interviewer: Hello.",
        "[00:02] Candidate: Hi there. Ready.",
        "[01:05] Interviewer: Great.",
    ]
    assert done.word_count == 5
    assert done.speaker_segments[1] == {
        "speaker": "candidate",
        "text": "Hi there.",
        "start_time": 2.0,
        "end_time": 3.0,
        "confidence": None,
    }


def test_model_output_normalization_and_validation() -> None:
    from pydantic import ValidationError

    from voice_common.analysis import AnalysisOutput, KeyMoment

    moment = KeyMoment.model_validate(
        {"timestamp": "02:25.5", "type": "Weakness", "description": "d", "quote": "q"}
    )
    assert (moment.timestamp, moment.type) == (145.5, "concern")
    out = AnalysisOutput.model_validate(
        {
            "summary": "s",
            "category_scores": {"a": {"score": 100, "feedback": ""}},
            "strengths": [str(i) for i in range(12)],
        }
    )
    assert len(out.strengths) == 10
    with pytest.raises(ValidationError):
        AnalysisOutput.model_validate({"summary": "s", "category_scores": {"a": {"score": 100.5}}})
    with pytest.raises(ValidationError):
        KeyMoment.model_validate({"timestamp": 1, "type": "gossip", "description": "d", "quote": "q"})
    with pytest.raises(ValidationError):
        KeyMoment.model_validate({"timestamp": -3, "type": "strength", "description": "d", "quote": "q"})
