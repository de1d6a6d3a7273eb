"""Retention (scheduled) and erasure (session/transcript deletion) remove exactly what they should."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.integration.completion.helpers import INTERVIEW, insert_segments, new_name
from voice_common import completion, lifecycle, retention


def exists(s3: Any, bucket: str, key: str) -> bool:
    return bool(s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))


def all_versions(s3: Any, bucket: str, key: str) -> int:
    page = s3.list_object_versions(Bucket=bucket, Prefix=key)
    return sum(1 for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])] if v["Key"] == key)


@pytest.fixture
def completed_session(admin_conn: Any, make_org: Any, make_user: Any, make_voice_session: Any, aws_env: Any):  # type: ignore[no-untyped-def]
    org = make_org()
    user = make_user(org, "org_admin")

    def _make(age_days: float | None = None) -> dict[str, Any]:
        session = make_voice_session(org, user, "completed")
        insert_segments(admin_conn, session["id"], INTERVIEW)
        outcome = completion.run_completion(session["id"], enqueue=False)
        if age_days is not None:
            old = dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days)
            admin_conn.execute(
                "UPDATE public.voice_transcripts SET created_at = %s WHERE session_id = %s",
                (old, session["id"]),
            )
            admin_conn.execute(
                "UPDATE public.voice_transcript_segments SET created_at = %s WHERE session_id = %s",
                (old, session["id"]),
            )
        return {"session": session, "url": outcome["s3_url"]}

    return _make


def counts(admin_conn: Any, session_id: Any) -> dict[str, int]:
    row = admin_conn.execute(
        """
        SELECT (SELECT count(*) FROM public.voice_sessions WHERE id = %(s)s) AS sessions,
               (SELECT count(*) FROM public.voice_transcripts WHERE session_id = %(s)s) AS transcripts,
               (SELECT count(*) FROM public.voice_transcript_segments WHERE session_id = %(s)s) AS segments,
               (SELECT count(*) FROM public.voice_analytics WHERE session_id = %(s)s) AS analytics
        """,
        {"s": session_id},
    ).fetchone()
    return dict(row)


def test_retention_deletes_old_transcripts_segments_and_archives_only(
    completed_session: Any,
    admin_conn: Any,
    aws_clients: Any,
    make_org: Any,
    make_user: Any,
    make_voice_session: Any,
) -> None:
    s3 = aws_clients("s3")
    old = completed_session(age_days=91)
    fresh = completed_session(age_days=89)
    # Segments of a session that never got a transcript (e.g. cancelled), old and new.
    org = make_org()
    orphan = make_voice_session(org, make_user(org), "cancelled")
    insert_segments(admin_conn, orphan["id"], INTERVIEW[:3])
    admin_conn.execute(
        "UPDATE public.voice_transcript_segments SET created_at = now() - interval '120 days'"
        " WHERE session_id = %s AND seq < 3",
        (orphan["id"],),
    )

    result = retention.run_retention(retention_days=90)

    assert result["complete"] and result["transcripts_deleted"] >= 1 and result["segments_deleted"] >= 8
    bucket, old_key = old["url"][5:].split("/", 1)
    assert not exists(s3, bucket, old_key)
    assert counts(admin_conn, old["session"]["id"]) == {
        "sessions": 1,
        "transcripts": 0,
        "segments": 0,
        "analytics": 1,
    }
    analytics = admin_conn.execute(
        "SELECT transcript_id, metrics FROM public.voice_analytics WHERE session_id = %s",
        (old["session"]["id"],),
    ).fetchone()
    assert analytics["transcript_id"] is None and analytics["metrics"]["segment_count"] == 6  # analytics stay

    _, fresh_key = fresh["url"][5:].split("/", 1)
    assert exists(s3, bucket, fresh_key)
    assert counts(admin_conn, fresh["session"]["id"]) == {
        "sessions": 1,
        "transcripts": 1,
        "segments": 6,
        "analytics": 1,
    }
    assert counts(admin_conn, orphan["id"])["segments"] == 1

    # Nothing left to do: a second run deletes nothing more of ours.
    again = retention.run_retention(retention_days=90)
    assert (
        again["transcripts_deleted"] == 0 and counts(admin_conn, fresh["session"]["id"])["transcripts"] == 1
    )


def test_retention_runs_from_the_schedule_through_the_worker_lambda(
    completed_session: Any, admin_conn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice_common.settings import get_settings
    from voice_local.lambdas import invoke_lambda, lambda_context

    old = completed_session(age_days=10)
    monkeypatch.setenv("VOICE_TRANSCRIPT_RETENTION_DAYS", "7")
    get_settings.cache_clear()
    try:
        event = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        result = invoke_lambda("voice-worker", event, context=lambda_context("voice-worker"))
    finally:
        monkeypatch.delenv("VOICE_TRANSCRIPT_RETENTION_DAYS")
        get_settings.cache_clear()
    assert result["transcripts_deleted"] >= 1
    assert counts(admin_conn, old["session"]["id"])["transcripts"] == 0


def test_erasure_deletes_every_version_in_a_versioned_bucket(aws_clients: Any, versioned_bucket: str) -> None:
    s3 = aws_clients("s3")
    key = "transcripts/org/2025/01/02/session-a.json"
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=versioned_bucket, Key=key, Body=body)
    s3.delete_object(Bucket=versioned_bucket, Key=key)  # a delete marker
    s3.put_object(Bucket=versioned_bucket, Key=key, Body=b"v3")
    neighbour = key.replace("session-a", "session-ab")  # shares the prefix, must survive
    s3.put_object(Bucket=versioned_bucket, Key=neighbour, Body=b"other")
    assert all_versions(s3, versioned_bucket, key) == 4

    deleted = completion.delete_archives([f"s3://{versioned_bucket}/{key}"])

    assert deleted == 4
    assert all_versions(s3, versioned_bucket, key) == 0
    assert all_versions(s3, versioned_bucket, neighbour) == 1


def test_erasure_through_lifecycle_and_refusal_outside_the_transcript_bucket(
    completed_session: Any, aws_clients: Any, admin_conn: Any
) -> None:
    s3 = aws_clients("s3")
    done = completed_session()
    bucket, key = done["url"][5:].split("/", 1)
    other = new_name("not-transcripts")
    s3.create_bucket(Bucket=other)
    s3.put_object(Bucket=other, Key=key, Body=b"keep me")

    session = done["session"]
    lifecycle.on_transcript_deleted(
        session["id"], session["org_id"], [done["url"], f"s3://{other}/{key}", "https://example.com/x"]
    )

    assert not exists(s3, bucket, key)
    assert exists(s3, other, key)  # never deleted: not the transcript bucket


def test_erasure_that_s3_refuses_is_queued_and_retried_by_the_worker(
    aws_clients: Any, worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Candidate erasure does not depend on S3 answering at the moment of the delete request."""
    import uuid

    s3 = aws_clients("s3")
    bucket = new_name("transcripts-later")  # not there yet: S3 answers NoSuchBucket
    monkeypatch.setenv("TRANSCRIPT_BUCKET", bucket)
    session_id, org_id = uuid.uuid4(), uuid.uuid4()
    url = f"s3://{bucket}/transcripts/{org_id}/2026/01/02/{session_id}.json"

    lifecycle.on_transcript_deleted(session_id, org_id, [url])

    [job] = worker.bodies()
    assert (job["type"], job["sessionId"], job["s3Urls"]) == ("erasure", str(session_id), [url])
    # S3 is back (and the object is there): the worker's retry deletes it.
    s3.create_bucket(Bucket=bucket)
    key = url.split("/", 3)[3]
    s3.put_object(Bucket=bucket, Key=key, Body=b"{}")
    worker.drain()
    assert not exists(s3, bucket, key)
    assert worker.receive() == []


def test_an_orgs_own_retention_overrides_the_default(
    completed_session: Any, admin_conn: Any, make_org: Any, make_user: Any, make_voice_session: Any
) -> None:
    def aged_session(org: Any, age_days: float) -> Any:
        session = make_voice_session(org, make_user(org), "completed")
        insert_segments(admin_conn, session["id"], INTERVIEW)
        completion.run_completion(session["id"], enqueue=False)
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days)
        for table in ("voice_transcripts", "voice_transcript_segments"):
            admin_conn.execute(
                f"UPDATE public.{table} SET created_at = %s WHERE session_id = %s", (old, session["id"])
            )
        return session

    strict, lenient, default = make_org(), make_org(), make_org()
    admin_conn.execute(
        "INSERT INTO public.voice_org_settings (org_id, transcript_retention_days) VALUES (%s, 7), (%s, 365)",
        (strict.id, lenient.id),
    )
    strict_old, strict_new = aged_session(strict, 10), aged_session(strict, 5)
    lenient_old = aged_session(lenient, 200)
    default_old, default_new = aged_session(default, 91), aged_session(default, 10)

    retention.run_retention(retention_days=90)

    gone = {s["id"]: counts(admin_conn, s["id"]) for s in (strict_old, default_old)}
    kept = {s["id"]: counts(admin_conn, s["id"]) for s in (strict_new, lenient_old, default_new)}
    assert all(c["transcripts"] == 0 and c["segments"] == 0 for c in gone.values()), gone
    assert all(c["transcripts"] == 1 and c["segments"] == len(INTERVIEW) for c in kept.values()), kept
