"""Analytics end to end: the worker Lambda fed from SQS, real PostgreSQL, moto, the scripted LLM server."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from ai_common.tokens import estimate_messages
from tests.fakes.openai_server import FakeOpenAI, Reply, closed_port_url
from tests.integration.completion.helpers import (
    INTERVIEW,
    Analyst,
    Worker,
    insert_segments,
    sixty_minute_interview,
    transcript_lines,
)
from voice_common import completion

RUBRIC = {"criteria": [{"name": "communication", "weight": 1}, {"name": "technical_depth", "weight": 3}]}
SCORES = {"communication": 80.0, "technical_depth": 60.0}  # weighted: 0.25 * 80 + 0.75 * 60 = 65


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Records the analytics.ready publications (the WebSocket fan-out itself is tested by its owner)."""
    from voice_common import realtime

    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(realtime, "publish_analytics_ready", lambda s, o: calls.append((str(s), str(o))))
    return calls


@pytest.fixture
def interview(
    admin_conn: Any, make_org: Any, make_user: Any, make_voice_config: Any, make_voice_session: Any
):  # type: ignore[no-untyped-def]
    def _make(status: str = "completed", segments: Any = INTERVIEW, rubric: Any = RUBRIC) -> dict[str, Any]:
        org = make_org()
        user = make_user(org, "org_admin")
        config_json = {
            "interview": {
                "questions": [{"id": "q1", "text": "Tell me about a system you built."}],
                "scoring_rubric": rubric,
            }
        }
        config = make_voice_config(org, user, config_json=config_json)
        session = make_voice_session(org, user, status, config_id=config["id"])
        insert_segments(admin_conn, session["id"], segments)
        return session

    return _make


def analytics(admin_conn: Any, session_id: Any) -> dict[str, Any]:
    row = admin_conn.execute(
        "SELECT * FROM public.voice_analytics WHERE session_id = %s", (session_id,)
    ).fetchone()
    assert row is not None
    return row


def configure(llm: FakeOpenAI) -> None:
    os.environ.update(llm.env())


def complete_via_worker(worker: Worker, session: dict[str, Any]) -> list[dict[str, Any]]:
    completion.enqueue_completion(session["id"], session["org_id"])
    return worker.drain()


def test_completed_interview_is_scored_with_computed_overall_and_grounded_moments(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: list[tuple[str, str]]
) -> None:
    configure(llm)
    llm.responder = Analyst(SCORES)
    session = interview()

    results = complete_via_worker(worker, session)

    assert all(r == {"batchItemFailures": []} for r in results) and len(results) == 2
    row = analytics(admin_conn, session["id"])
    assert row["status"] == "completed" and row["error"] is None
    # The model claimed 99 overall; the stored overall is the weighted mean of its category scores.
    assert float(row["overall_score"]) == pytest.approx(65.0)
    assert row["category_scores"] == {
        "communication": {"score": 80.0, "weight": 0.25, "feedback": "communication feedback"},
        "technical_depth": {"score": 60.0, "weight": 0.75, "feedback": "technical_depth feedback"},
    }
    assert row["strengths"] == ["Clear explanations"] and row["weaknesses"] == ["Thin on failure testing"]
    assert row["recommendations"] == ["Follow up on distributed systems"]
    assert [m["timestamp"] for m in row["key_moments"]] == [5.0, 11.0]
    assert row["key_moments"][0]["quote"] == "I built a payment ledger that"
    assert row["model_used"] == "fake-gpt" and row["processing_time_ms"] >= 0
    assert row["usage"]["totals"]["calls"] == 1 and row["usage"]["totals"]["prompt_tokens"] > 0
    assert row["metrics"]["questions_asked"] == 1 and row["metrics"]["talk_time_ratio"] > 0
    detailed = row["detailed_analysis"]
    assert detailed["grounding"]["checked"] == 2 and detailed["grounding"]["dropped"] == 0
    assert detailed["plan"]["mode"] == "single" and detailed["rubric_source"] == "config"
    summary = admin_conn.execute(
        "SELECT summary FROM public.voice_transcripts WHERE session_id = %s", (session["id"],)
    ).fetchone()["summary"]
    assert summary == "The candidate explained a ledger design clearly."
    assert published == [(str(session["id"]), str(session["org_id"]))]
    # What the model was shown: the rubric with weights, every line, no candidate name.
    [request] = llm.requests
    prompt = request.text()
    assert "technical_depth (weight 0.75)" in prompt and "Ada Candidate" not in prompt
    assert len(transcript_lines(request)) == len(INTERVIEW)


def test_ungrounded_quotes_are_asked_for_again_once_then_dropped_and_counted(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: Any
) -> None:
    configure(llm)
    bad = [
        # Invented words at a real candidate moment.
        {"timestamp": 21.0, "type": "concern", "description": "Doubts", "quote": "I never test anything"},
        # The interviewer's words attributed to the candidate.
        {
            "timestamp": 17.0,
            "type": "concern",
            "description": "Testing",
            "quote": "How did you test failure modes",
        },
    ]
    regrounded = [
        {
            "timestamp": 21.0,
            "type": "concern",
            "description": "Doubts",
            "quote": "not entirely sure we covered",
        },
        {"timestamp": 17.0, "type": "concern", "description": "Testing", "quote": "we test everything twice"},
    ]
    llm.responder = Analyst(SCORES, bad_moments=bad, reground=regrounded)
    session = interview()

    complete_via_worker(worker, session)

    row = analytics(admin_conn, session["id"])
    assert row["status"] == "completed"
    quotes = [m["quote"] for m in row["key_moments"]]
    assert quotes == [
        "I built a payment ledger that",
        "We used Postgres with careful partitioning",
        "not entirely sure we covered",
    ]
    grounding = row["detailed_analysis"]["grounding"]
    assert grounding | {"ungrounded_items": None} == {
        "tolerance_seconds": 5.0,
        "checked": 4,
        "grounded_first_pass": 2,
        "re_asked": 2,
        "recovered": 1,
        "dropped": 1,
        "ungrounded_items": None,
        "reask_error": None,
        "part_moments_dropped": 0,
    }
    assert {i["timestamp"] for i in grounding["ungrounded_items"]} == {21.0, 17.0}
    # Asked again exactly once, with the transcript around each moment.
    reasks = [r for r in llm.requests if r.messages[-1]["content"].startswith("These key moments")]
    assert len(reasks) == 1
    assert "[21.0] Candidate: I'm not entirely sure" in reasks[0].text()
    assert row["usage"]["totals"]["calls"] == 2


def test_malformed_json_is_repaired_and_invalid_scores_fail_with_the_reason(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: Any
) -> None:
    configure(llm)
    analyst = Analyst(SCORES)
    session = interview()
    llm.script(Reply.text('{"summary": "cut off'))
    llm.responder = analyst
    complete_via_worker(worker, session)
    row = analytics(admin_conn, session["id"])
    assert row["status"] == "completed" and row["detailed_analysis"]["repaired"] is True

    # Out-of-range scores twice: not retryable, the job fails with the validation problem as reason.
    other = interview()
    out_of_range = Analyst({"communication": 180.0, "technical_depth": 60.0})
    llm.reset()
    llm.responder = out_of_range
    results = complete_via_worker(worker, other)
    assert all(r == {"batchItemFailures": []} for r in results)
    row = analytics(admin_conn, other["id"])
    assert row["status"] == "failed"
    assert "StructuredOutputError" in row["error"] and "less than or equal to 100" in row["error"]
    assert row["overall_score"] is None and row["usage"]["totals"]["calls"] == 2
    assert len(llm.requests) == 2  # the answer and one repair, no more


def test_without_an_llm_configured_analytics_are_skipped_visibly(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: Any
) -> None:
    session = interview()  # nothing in OPENAI_* (the llm fixture cleared it)
    complete_via_worker(worker, session)
    row = analytics(admin_conn, session["id"])
    assert row["status"] == "skipped" and "No LLM provider is configured" in row["error"]
    assert row["metrics"]["candidate_words"] > 0  # the deterministic metrics are there anyway
    assert llm.requests == [] and published == []


def test_primary_down_uses_the_fallback_and_records_it(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: Any
) -> None:
    os.environ.update(
        {"OPENAI_BASE_URL": closed_port_url(), "OPENAI_API_KEY": "sk-down", "AI_MAX_RETRIES": "0"}
    )
    os.environ["AI_FALLBACK_PROVIDERS"] = json.dumps(
        [{"name": "backup", "baseUrl": llm.base_url, "model": "fake-gpt", "apiKeyEnv": "BACKUP_KEY"}]
    )
    os.environ["BACKUP_KEY"] = "sk-test-platform"
    try:
        llm.responder = Analyst(SCORES)
        session = interview()
        complete_via_worker(worker, session)
    finally:
        os.environ.pop("BACKUP_KEY")
    row = analytics(admin_conn, session["id"])
    assert row["status"] == "completed"
    assert [c["provider"] for c in row["usage"]["calls"]] == ["backup"]


def test_transient_failures_are_retried_through_sqs_then_fail(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: Any
) -> None:
    configure(llm)
    os.environ.update({"ANALYTICS_MAX_ATTEMPTS": "2", "AI_MAX_RETRIES": "0"})
    llm.responder = lambda _r: Reply.error(503)
    session = interview()
    completion.enqueue_completion(session["id"], session["org_id"])
    worker.invoke(worker.receive())  # completion -> queues analytics
    [job] = worker.receive()

    first = worker.invoke([job])

    assert first == {"batchItemFailures": [{"itemIdentifier": job["MessageId"]}]}
    row = analytics(admin_conn, session["id"])
    assert row["status"] == "pending" and row["error"].startswith("Attempt 1 failed, retrying")
    [redelivered] = worker.receive()
    assert redelivered["Attributes"]["ApproximateReceiveCount"] == "2"

    second = worker.invoke([redelivered])

    assert second == {"batchItemFailures": []}
    row = analytics(admin_conn, session["id"])
    assert row["status"] == "failed" and "HTTP 503" in row["error"]
    assert worker.receive() == []


def test_regenerate_runs_again_and_duplicate_deliveries_do_not(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: Any
) -> None:
    configure(llm)
    llm.responder = Analyst(SCORES)
    session = interview()
    complete_via_worker(worker, session)
    assert len(llm.requests) == 1

    completion.enqueue_analytics(session["id"], session["org_id"])  # a duplicate delivery of the job
    worker.drain()
    assert len(llm.requests) == 1 and analytics(admin_conn, session["id"])["status"] == "completed"

    llm.responder = Analyst({"communication": 100.0, "technical_depth": 100.0})
    completion.enqueue_analytics(session["id"], session["org_id"], regenerate=True)
    worker.drain()
    row = analytics(admin_conn, session["id"])
    assert len(llm.requests) == 2
    assert row["status"] == "completed" and float(row["overall_score"]) == 100.0
    assert row["detailed_analysis"]["regenerated"] is True
    assert len(published) == 2


def test_a_regeneration_arriving_during_a_run_waits_for_it(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: Any
) -> None:
    """Queued while another job holds the row, the regeneration is retried later, not dropped."""
    configure(llm)
    llm.responder = Analyst(SCORES)
    session = interview()
    complete_via_worker(worker, session)
    admin_conn.execute(
        "UPDATE public.voice_analytics SET status = 'running' WHERE session_id = %s", (session["id"],)
    )
    llm.responder = Analyst({"communication": 100.0, "technical_depth": 100.0})
    completion.enqueue_analytics(session["id"], session["org_id"], regenerate=True)

    [message] = worker.receive()
    result = worker.invoke([message])

    assert result["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]  # back to the queue
    assert len(llm.requests) == 1
    # The other run ends; the redelivered regeneration now runs.
    admin_conn.execute(
        "UPDATE public.voice_analytics SET status = 'completed' WHERE session_id = %s", (session["id"],)
    )
    worker.drain()
    assert len(llm.requests) == 2
    assert float(analytics(admin_conn, session["id"])["overall_score"]) == 100.0


def test_failed_sessions_are_skipped_unless_regenerated(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: Any
) -> None:
    configure(llm)
    llm.responder = Analyst(SCORES)
    session = interview(status="failed")
    complete_via_worker(worker, session)
    row = analytics(admin_conn, session["id"])
    assert row["status"] == "skipped" and "session failed" in row["error"]
    assert llm.requests == []
    completion.enqueue_analytics(session["id"], session["org_id"], regenerate=True)
    worker.drain()
    assert analytics(admin_conn, session["id"])["status"] == "completed"


def test_a_sixty_minute_interview_is_analyzed_within_the_context_budget(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, published: Any
) -> None:
    configure(llm)
    context = 6000
    os.environ["AI_CONTEXT_TOKENS"] = str(context)
    # Verbose part notes, so that they must be merged before the final call fits.
    llm.responder = Analyst(SCORES, notes_summary="The candidate walked through queueing and batching. " * 16)
    segments = sixty_minute_interview()
    session = interview(segments=segments)

    complete_via_worker(worker, session)

    row = analytics(admin_conn, session["id"])
    assert row["status"] == "completed", row["error"]
    plan = row["detailed_analysis"]["plan"]
    assert plan["mode"] == "chunked" and plan["parts"] >= 5 and plan["merge_rounds"] >= 1
    assert plan["transcript_tokens_estimate"] > context
    assert any(r.messages[-1]["content"].startswith("Merge these notes") for r in llm.requests)
    for request in llm.requests:  # every prompt plus its answer (and a repair round) fits the window
        assert estimate_messages(request.messages) + 2 * request.body["max_tokens"] <= context
    parts = [r for r in llm.requests if r.messages[-1]["content"].startswith("This is part")]
    assert len(parts) == plan["parts"]
    # Every transcript line was shown to the model exactly once across the parts.
    shown = [line for r in parts for line in transcript_lines(r)]
    assert len(shown) == len(segments)
    assert row["key_moments"] and row["detailed_analysis"]["grounding"]["dropped"] == 0
    assert row["metrics"]["candidate_words"] >= 9000


def test_an_unexpected_error_never_leaves_the_claim_running(
    interview: Any, admin_conn: Any, worker: Worker, llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice_common import analysis

    configure(llm)
    os.environ["ANALYTICS_MAX_ATTEMPTS"] = "1"

    def broken(self: Any) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(analysis.Analyzer, "run", broken)
    session = interview()
    results = complete_via_worker(worker, session)
    assert results[-1] == {"batchItemFailures": []}  # last attempt: recorded as failed, not redelivered
    row = analytics(admin_conn, session["id"])
    assert row["status"] == "failed" and row["error"] == "RuntimeError: bug"
