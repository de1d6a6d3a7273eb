"""Transcript assembly and S3 archival: real PostgreSQL, moto S3/SQS, the completion job."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import pytest

from tests.integration.completion.helpers import INTERVIEW, Worker, insert_segments
from voice_common import completion


@pytest.fixture
def finished(admin_conn: Any, make_org: Any, make_user: Any, make_voice_config: Any, make_voice_session: Any):  # type: ignore[no-untyped-def]
    """A completed session (fixed end time) of a fresh org, with its config; segments added per test."""

    def _make(status: str = "completed", **columns: Any) -> dict[str, Any]:
        org = make_org()
        user = make_user(org, "org_admin")
        config = make_voice_config(org, user)
        session = make_voice_session(
            org,
            user,
            status,
            config_id=config["id"],
            candidate_name="Grace Candidate",
            interview_type="system-design",
            **columns,
        )
        # 23:30 in New York on 7 March is 04:30 UTC on 8 March: the key uses the UTC date.
        ended = dt.datetime(2025, 3, 7, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
        admin_conn.execute(
            "UPDATE public.voice_sessions SET started_at = %s, completed_at = %s WHERE id = %s",
            (ended - dt.timedelta(minutes=30), ended, session["id"]),
        )
        return {"org": org, "user": user, "config": config, "session": session}

    return _make


def transcript_row(admin_conn: Any, session_id: Any) -> dict[str, Any] | None:
    return admin_conn.execute(
        "SELECT * FROM public.voice_transcripts WHERE session_id = %s", (session_id,)
    ).fetchone()


def analytics_row(admin_conn: Any, session_id: Any) -> dict[str, Any] | None:
    return admin_conn.execute(
        "SELECT * FROM public.voice_analytics WHERE session_id = %s", (session_id,)
    ).fetchone()


def versions(s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    return [
        v for v in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []) if v["Key"] == key
    ]


def test_assembles_out_of_order_and_duplicated_segments_and_archives_them(
    finished: Any, admin_conn: Any, aws_clients: Any, worker: Worker
) -> None:
    ctx = finished()
    session, org = ctx["session"], ctx["org"]
    shuffled = [INTERVIEW[i] for i in (3, 0, 5, 2, 1, 4)]
    # The bot re-sent segment 2 after a reconnect under a new seq (same words, same moment).
    resent = (7, "candidate", INTERVIEW[1][2].upper(), INTERVIEW[1][3] + 0.2, INTERVIEW[1][4])
    # Speech-to-text finalised a candidate remark late: higher seq, earlier time.
    late = (8, "candidate", "Sure, happy to.", 4.2, 4.8)
    insert_segments(admin_conn, session["id"], [*shuffled, resent, late])

    outcome = completion.run_completion(session["id"])

    assert outcome["outcome"] == "assembled" and outcome["changed"] and outcome["archived"]
    row = transcript_row(admin_conn, session["id"])
    assert row is not None and row["org_id"] == org.id
    texts = [s["text"] for s in row["speaker_segments"]]
    assert texts == [INTERVIEW[0][2], "Sure, happy to.", *[r[2] for r in INTERVIEW[1:]]]
    assert set(row["speaker_segments"][0]) == {"speaker", "text", "start_time", "end_time", "confidence"}
    assert row["metadata"]["duplicates_dropped"] == 1 and row["metadata"]["segment_count"] == 7
    assert row["word_count"] == sum(len(t.split()) for t in texts)
    assert row["candidate_name"] == "Grace Candidate" and row["interview_type"] == "system-design"
    lines = row["transcript_text"].splitlines()
    assert lines[0].startswith("[00:00] Interviewer: Hello, welcome")
    assert lines[1] == f"[00:04] Candidate: Sure, happy to. {INTERVIEW[1][2]} {INTERVIEW[2][2]}"
    assert row["created_by"] == ctx["user"].id

    bucket = os.environ["TRANSCRIPT_BUCKET"]
    key = f"transcripts/{org.id}/2025/03/08/{session['id']}.json"
    assert row["transcript_s3_url"] == f"s3://{bucket}/{key}"
    obj = aws_clients("s3").get_object(Bucket=bucket, Key=key)
    assert obj["ServerSideEncryption"] == "AES256"
    assert obj["Metadata"] == {"org_id": str(org.id), "session_id": str(session["id"])}
    assert obj["ContentType"] == "application/json"
    archived = json.loads(obj["Body"].read())
    assert archived["speakerSegments"] == row["speaker_segments"]
    assert archived["transcriptText"] == row["transcript_text"]
    assert archived["sessionId"] == str(session["id"]) and archived["sessionStatus"] == "completed"

    analytics = analytics_row(admin_conn, session["id"])
    assert analytics is not None and analytics["status"] == "pending"
    assert analytics["transcript_id"] == row["id"]
    assert analytics["metrics"]["segment_count"] == 7 and analytics["metrics"]["questions"]["configured"] == 1
    [job] = worker.bodies()
    assert (
        job["type"] == "analytics" and job["sessionId"] == str(session["id"]) and job["regenerate"] is False
    )


def test_rerunning_the_step_changes_nothing(
    finished: Any, admin_conn: Any, aws_clients: Any, worker: Worker, versioned_bucket: str
) -> None:
    ctx = finished()
    session = ctx["session"]
    insert_segments(admin_conn, session["id"], INTERVIEW)
    first = completion.run_completion(session["id"])
    before = transcript_row(admin_conn, session["id"])
    analytics_before = analytics_row(admin_conn, session["id"])
    for m in worker.receive():  # forget the queued analytics job: only the re-run is under test
        worker.sqs.delete_message(QueueUrl=worker.queue_url, ReceiptHandle=m["ReceiptHandle"])

    again = completion.run_completion(session["id"])

    # Analytics are still pending (never ran), so the job is queued again; the claim makes that harmless.
    assert again["changed"] is False and again["archived"] is False and again["analytics_queued"] is True
    after = transcript_row(admin_conn, session["id"])
    assert after == before  # same row, same updated_at: nothing was written
    assert analytics_row(admin_conn, session["id"]) == analytics_before
    count = admin_conn.execute(
        "SELECT count(*) AS n FROM public.voice_transcripts WHERE session_id = %s", (session["id"],)
    ).fetchone()
    assert count["n"] == 1
    key = first["s3_url"].split(f"s3://{versioned_bucket}/", 1)[1]
    assert len(versions(aws_clients("s3"), versioned_bucket, key)) == 1  # no second S3 version either

    # A segment arriving after completion changes the transcript: same key, new version, analytics again.
    insert_segments(
        admin_conn, session["id"], [(7, "candidate", "One more thing: we also load tested.", 31.0, 34.0)]
    )
    admin_conn.execute(
        "UPDATE public.voice_analytics SET status = 'completed' WHERE session_id = %s", (session["id"],)
    )
    changed = completion.run_completion(session["id"])
    assert changed["changed"] and changed["archived"] and changed["s3_url"] == first["s3_url"]
    row = transcript_row(admin_conn, session["id"])
    assert row["id"] == before["id"] and row["speaker_segments"][-1]["text"].startswith("One more thing")
    assert len(versions(aws_clients("s3"), versioned_bucket, key)) == 2
    assert analytics_row(admin_conn, session["id"])["status"] == "pending"


def test_a_failed_session_is_assembled_from_whatever_was_stored(
    finished: Any, admin_conn: Any, worker: Worker
) -> None:
    ctx = finished(status="active")
    session = ctx["session"]
    insert_segments(admin_conn, session["id"], INTERVIEW[:3])
    admin_conn.execute(
        "UPDATE public.voice_sessions SET status = 'failed', failure_reason = 'bot lost' WHERE id = %s",
        (session["id"],),
    )
    outcome = completion.run_completion(session["id"])
    row = transcript_row(admin_conn, session["id"])
    assert outcome["outcome"] == "assembled"
    assert [s["text"] for s in row["speaker_segments"]] == [r[2] for r in INTERVIEW[:3]]
    assert row["metadata"]["session_status"] == "failed"


def test_nothing_stored_means_no_transcript_and_visibly_skipped_analytics(
    finished: Any, admin_conn: Any
) -> None:
    session = finished()["session"]
    outcome = completion.run_completion(session["id"])
    assert outcome == {"outcome": "no_segments", "analytics_status": "skipped"}
    assert transcript_row(admin_conn, session["id"]) is None
    analytics = analytics_row(admin_conn, session["id"])
    assert analytics["status"] == "skipped" and "No transcript segments" in analytics["error"]


def test_sessions_that_have_not_ended_are_left_alone(
    admin_conn: Any, make_org: Any, make_user: Any, make_voice_session: Any
) -> None:
    org = make_org()
    session = make_voice_session(org, make_user(org), "active")
    insert_segments(admin_conn, session["id"], INTERVIEW[:2])
    assert completion.run_completion(session["id"]) == {"outcome": "not_final", "status": "active"}
    assert transcript_row(admin_conn, session["id"]) is None
    assert analytics_row(admin_conn, session["id"]) is None


def test_enqueue_completion_sends_a_job_to_the_worker_queue(worker: Worker) -> None:
    import uuid

    session_id, org_id = uuid.uuid4(), uuid.uuid4()
    completion.enqueue_completion(session_id, str(org_id))
    completion.enqueue_analytics(str(session_id), org_id, regenerate=True)
    jobs = worker.bodies()
    assert [(j["type"], j["sessionId"], j["orgId"], j["regenerate"]) for j in jobs] == [
        ("completion", str(session_id), str(org_id), False),
        ("analytics", str(session_id), str(org_id), True),
    ]
    assert all(j["version"] == 1 and j["requestedAt"] for j in jobs)


def test_the_worker_lambda_reports_only_the_failed_records(
    finished: Any, admin_conn: Any, worker: Worker
) -> None:
    session = finished()["session"]
    insert_segments(admin_conn, session["id"], INTERVIEW)
    completion.enqueue_completion(session["id"], session["org_id"])
    worker.sqs.send_message(QueueUrl=worker.queue_url, MessageBody='{"type": "completion"}')
    messages = worker.receive()
    assert len(messages) == 2
    bad = next(m for m in messages if "sessionId" not in m["Body"])

    result = worker.invoke(messages)

    assert result == {"batchItemFailures": [{"itemIdentifier": bad["MessageId"]}]}
    assert transcript_row(admin_conn, session["id"]) is not None
