"""Evidence grounding, exactly: the rules of voice_common.analysis.TranscriptIndex that `make mutation` found
untested (docs/mutation.md). A quote is the candidate's words, contiguous unless an ellipsis says
otherwise, in order, within the candidate's turn around the timestamp."""

from __future__ import annotations

import pytest

from ai_common.errors import AllProvidersFailedError
from voice_common.analysis import (
    DEFAULT_RUBRIC,
    NOTES_MAX_TOKENS,
    Analyzer,
    KeyMoment,
    MomentsOutput,
    TranscriptIndex,
)
from voice_common.assembly import Segment


def seg(seq: int, speaker: str, text: str, start: float, end: float) -> Segment:
    return Segment(seq=seq, speaker=speaker, text=text, start_time=start, end_time=end)


# One candidate turn of three segments, then an interviewer question, then another candidate turn.
TURN = [
    seg(1, "bot", "Tell me about the outage.", 0.0, 2.0),
    seg(2, "candidate", "We measured the latency first.", 10.0, 14.0),
    seg(3, "candidate", "Then we measured it again after the fix.", 30.0, 34.0),
    seg(4, "candidate", "It was the cache all along.", 50.0, 54.0),
    seg(5, "bot", "What did you learn?", 60.0, 62.0),
    seg(6, "candidate", "Sure, sure, always check the cache.", 70.0, 74.0),
]


@pytest.fixture
def index() -> TranscriptIndex:
    return TranscriptIndex(TURN, tolerance=1.0)


def test_a_quote_running_into_the_next_segment_is_grounded_at_the_first(index: TranscriptIndex) -> None:
    # At 12 s only segment 2 (and its neighbours of the same turn) can ground the quote.
    assert index.is_grounded("latency first. Then we measured", 12.0)


def test_a_quote_running_from_the_previous_segment_is_grounded_at_the_second(index: TranscriptIndex) -> None:
    assert index.is_grounded("latency first. Then we measured", 32.0)
    assert index.is_grounded("after the fix. It was the cache", 52.0)


def test_neighbours_keep_their_order(index: TranscriptIndex) -> None:
    # The words of segment 3 followed by segment 2's: not what was said, whichever segment is asked.
    for at in (12.0, 32.0, 52.0):
        assert not index.is_grounded("after the fix we measured the latency", at)
    # Nor the last segment's words before the first's (the window does not wrap around).
    assert not index.is_grounded("cache all along. We measured", 12.0)


def test_only_direct_neighbours_of_the_same_turn(index: TranscriptIndex) -> None:
    # Segment 4 is two segments away from segment 2.
    assert not index.is_grounded("latency first. It was the cache", 12.0)
    # Segment 6 is another turn.
    assert not index.is_grounded("the cache all along. Sure, sure", 52.0)


def test_words_left_out_without_an_ellipsis_are_not_a_quote(index: TranscriptIndex) -> None:
    assert index.is_grounded("we measured the latency", 12.0)
    assert not index.is_grounded("we measured latency", 12.0)
    assert index.is_grounded("we measured ... latency", 12.0)


def test_ellipsis_parts_may_be_adjacent(index: TranscriptIndex) -> None:
    assert index.is_grounded("We measured... the latency first", 12.0)
    assert index.is_grounded("We...measured...the...latency...first", 12.0)


def test_a_repeated_word_is_matched_at_its_first_place(index: TranscriptIndex) -> None:
    # "measured" occurs twice (segments 2 and 3); the parts after it must follow its first occurrence.
    assert index.is_grounded("measured ... the latency ... measured it again", 32.0)
    assert index.is_grounded("Then we measured ... after the fix", 32.0)


def test_one_occurrence_cannot_serve_two_parts(index: TranscriptIndex) -> None:
    assert not index.is_grounded("latency ... latency", 12.0)
    assert index.is_grounded("sure ... sure", 72.0)  # said twice
    assert not index.is_grounded("always ... always", 72.0)


def test_every_part_must_be_found(index: TranscriptIndex) -> None:
    assert not index.is_grounded("We measured ... the database", 12.0)
    assert not index.is_grounded("the database ... We measured", 12.0)


def test_turns_are_counted_from_the_first_speaker() -> None:
    # A transcript that starts with the candidate: their first turn is still one utterance.
    idx = TranscriptIndex(
        [
            seg(1, "candidate", "Hello there.", 0.0, 1.0),
            seg(2, "candidate", "I am ready.", 1.0, 2.0),
            seg(3, "bot", "Great.", 3.0, 4.0),
            seg(4, "candidate", "Ready indeed.", 5.0, 6.0),
        ],
        tolerance=0.0,
    )
    assert idx.is_grounded("hello there I am ready", 0.5)
    assert not idx.is_grounded("I am ready. Ready indeed", 1.5)


def test_a_one_letter_word_cannot_serve_two_parts() -> None:
    idx = TranscriptIndex([seg(1, "candidate", "It took a week.", 0.0, 2.0)], tolerance=0.0)
    assert idx.is_grounded("took a week", 1.0)
    assert not idx.is_grounded("a ... a", 1.0)


def test_the_window_of_the_first_segment_does_not_wrap_to_the_last() -> None:
    # A single candidate turn: its last segment is not before its first.
    idx = TranscriptIndex(
        [
            seg(1, "bot", "Introduce yourself.", 0.0, 1.0),
            seg(2, "candidate", "Hello there.", 2.0, 3.0),
            seg(3, "candidate", "I am ready.", 3.0, 4.0),
        ],
        tolerance=0.0,
    )
    assert idx.is_grounded("Hello there. I am ready", 2.5)
    assert not idx.is_grounded("I am ready. Hello there", 2.5)


# --- the re-ask step (Analyzer._ground), with the model call replaced by a recording stand-in -------------


class _Chain:
    """What Analyzer reads of a provider chain when the model call itself is stood in for."""

    context_tokens = 100_000


def _moment(at: float, quote: str, kind: str = "strength") -> KeyMoment:
    return KeyMoment(timestamp=at, type=kind, description=f"about {quote}", quote=quote)


@pytest.fixture
def analyzer() -> Analyzer:
    return Analyzer(_Chain(), TURN, DEFAULT_RUBRIC, context_tokens=100_000)  # type: ignore[arg-type]


def test_unsupported_moments_are_asked_again_once_and_recovered(analyzer: Analyzer, monkeypatch) -> None:
    calls: list[dict] = []
    fixed = _moment(11.0, "We measured the latency first")

    def model(messages, schema, **kwargs):
        calls.append({"schema": schema, **kwargs})
        return MomentsOutput(key_moments=[fixed])

    monkeypatch.setattr(analyzer, "_json", model)
    good = _moment(72.0, "always check the cache")
    bad = _moment(11.0, "We measured nothing at all", kind="concern")

    kept = analyzer._ground([good, bad])

    assert kept == [fixed, good]  # sorted by time
    assert calls == [{"schema": MomentsOutput, "max_tokens": NOTES_MAX_TOKENS, "purpose": "reground"}]
    report = analyzer.grounding
    assert (
        report.checked,
        report.grounded_first_pass,
        report.re_asked,
        report.recovered,
        report.dropped,
    ) == (
        2,
        1,
        1,
        1,
        0,
    )
    assert report.ungrounded_items == [{"timestamp": 11.0, "type": "concern", "description": bad.description}]
    assert report.reask_error is None


def test_a_failed_re_ask_drops_the_moments_and_says_why(analyzer: Analyzer, monkeypatch) -> None:
    def model(messages, schema, **kwargs):
        raise AllProvidersFailedError([], retryable=True)

    monkeypatch.setattr(analyzer, "_json", model)
    kept = analyzer._ground([_moment(11.0, "invented words")])
    assert kept == []
    assert analyzer.grounding.reask_error == "AllProvidersFailedError"
    assert (analyzer.grounding.recovered, analyzer.grounding.dropped) == (0, 1)


def test_no_room_for_a_re_ask_drops_the_moments_without_asking(monkeypatch) -> None:
    small = Analyzer(_Chain(), TURN, DEFAULT_RUBRIC, context_tokens=50)  # type: ignore[arg-type]
    monkeypatch.setattr(small, "_json", lambda *a, **k: pytest.fail("the re-ask does not fit: not sent"))
    good = _moment(72.0, "always check the cache")
    assert small._ground([good, _moment(11.0, "invented words")]) == [good]
    # Not asked, so not counted as re-asked; the report says why the second chance was skipped.
    assert (small.grounding.re_asked, small.grounding.recovered, small.grounding.dropped) == (0, 0, 1)
    assert small.grounding.reask_error == "ContextTooSmall"


def test_all_grounded_needs_no_re_ask(analyzer: Analyzer, monkeypatch) -> None:
    monkeypatch.setattr(analyzer, "_json", lambda *a, **k: pytest.fail("nothing to ask again"))
    moments = [_moment(72.0, "always check the cache"), _moment(11.0, "the latency first")]
    assert analyzer._ground(moments) == moments
    assert analyzer.grounding.as_json() == {
        "tolerance_seconds": 5.0,
        "checked": 2,
        "grounded_first_pass": 2,
        "re_asked": 0,
        "recovered": 0,
        "dropped": 0,
        "ungrounded_items": [],
        "reask_error": None,
        "part_moments_dropped": 0,
    }


def test_a_recovered_quote_already_cited_is_not_counted_twice(analyzer: Analyzer, monkeypatch) -> None:
    good = _moment(72.0, "always check the cache")
    monkeypatch.setattr(
        analyzer,
        "_json",
        lambda *a, **k: MomentsOutput(key_moments=[_moment(73.0, "Always check the cache!")]),
    )
    assert analyzer._ground([good, _moment(11.0, "invented words")]) == [good]
    assert (analyzer.grounding.recovered, analyzer.grounding.dropped) == (0, 1)
