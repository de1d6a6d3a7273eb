"""After the interview: the voice-worker's jobs (completion and analytics) and candidate erasure.

Flow (ARCHITECTURE decision 9; docs/analytics.md):

1. ``lifecycle`` calls ``enqueue_completion`` when a session becomes completed or failed: a ``completion``
   job on ``WORKER_QUEUE_URL``.
2. The completion job assembles the transcript from the persisted segments, archives it to S3, upserts
   ``voice_transcripts`` and computes the deterministic metrics into ``voice_analytics`` (status
   ``pending``), then queues an ``analytics`` job. Re-running it with the same segments writes nothing.
3. The analytics job claims the row (``running``), calls the LLM through ai_common outside any database
   transaction, and stores the result (``completed``), the reason (``failed``), or why it did not run
   (``skipped``: no LLM configured, analytics disabled, failed session, nothing said by the candidate).
   Transient LLM failures (outage, timeouts, open circuits) are retried through SQS redelivery up to
   ``ANALYTICS_MAX_ATTEMPTS`` receives (status back to ``pending`` with the reason meanwhile).
4. Admins' "regenerate" calls ``enqueue_analytics(..., regenerate=True)``.

Jobs are idempotent because SQS delivers at least once: the transcript upsert is keyed by session and
content hash, and the analytics claim is a single conditional UPDATE.

Logs carry session and org ids only: never transcript text, quotes or the candidate's name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from aws_lambda_powertools import Logger
from psycopg import sql
from pydantic import BaseModel, ConfigDict, Field

from access_common.db import Cursor, service_tx
from access_common.errors import ServiceUnavailableError
from voice_common import assembly
from voice_common.metrics import compute_metrics

logger = Logger(service="module-voice", child=True)

JOB_VERSION = 1
STALE_RUNNING = dt.timedelta(minutes=15)  # a claim older than this is a crashed worker's
DEADLINE_MARGIN_SECONDS = 10.0


class Job(BaseModel):
    """A worker queue message body (camelCase on the wire, like every payload of the module)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    type: Literal["completion", "analytics", "erasure"]
    version: int = JOB_VERSION
    session_id: uuid.UUID = Field(alias="sessionId")
    org_id: uuid.UUID = Field(alias="orgId")
    regenerate: bool = False
    requested_at: str | None = Field(default=None, alias="requestedAt")
    s3_urls: list[str] = Field(default_factory=list, alias="s3Urls")  # erasure: the archives to delete


class RetryLaterError(Exception):
    """Raised from a record handler so SQS redelivers the message (partial batch failure)."""


# --- producers -----------------------------------------------------------------------------------------


def _send(job: Job) -> str:
    url = os.environ.get("WORKER_QUEUE_URL")
    if not url:
        raise ServiceUnavailableError("Worker queue is not configured", code="WORKER_QUEUE_NOT_CONFIGURED")
    from access_common.aws import client

    body = job.model_dump_json(by_alias=True)
    message_id = str(client("sqs").send_message(QueueUrl=url, MessageBody=body)["MessageId"])
    logger.info(
        "job queued", extra={"job": job.type, "session_id": str(job.session_id), "message_id": message_id}
    )
    return message_id


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def enqueue_completion(session_id: uuid.UUID | str, org_id: uuid.UUID | str) -> str:
    """Queue transcript assembly, archival and analytics of a completed or failed session."""
    return _send(
        Job(
            type="completion",
            session_id=uuid.UUID(str(session_id)),
            org_id=uuid.UUID(str(org_id)),
            requested_at=_now_iso(),
        )
    )


def enqueue_analytics(session_id: uuid.UUID | str, org_id: uuid.UUID | str, regenerate: bool = False) -> str:
    """Queue the analytics of a session; ``regenerate`` runs it again even when it already finished."""
    return _send(
        Job(
            type="analytics",
            session_id=uuid.UUID(str(session_id)),
            org_id=uuid.UUID(str(org_id)),
            regenerate=regenerate,
            requested_at=_now_iso(),
        )
    )


# --- erasure -------------------------------------------------------------------------------------------


def erase_archives(session_id: uuid.UUID | str, org_id: uuid.UUID | str, s3_urls: list[str]) -> str:
    """Delete a deleted session's or transcript's archives now, or queue the deletion when S3 fails.

    Candidate erasure must not depend on S3 answering at the moment of the request: a failure becomes an
    ``erasure`` job on the worker queue, retried by SQS (and kept in its dead-letter queue, with an
    alarm, if it never succeeds). Returns ``deleted`` or ``queued``.
    """
    try:
        delete_archives(s3_urls)
        return "deleted"
    except Exception as exc:
        logger.warning(
            "archive deletion failed; queued for retry",
            extra={"session_id": str(session_id), "error": type(exc).__name__},
        )
    _send(
        Job(
            type="erasure",
            session_id=uuid.UUID(str(session_id)),
            org_id=uuid.UUID(str(org_id)),
            s3_urls=list(s3_urls),
            requested_at=_now_iso(),
        )
    )
    return "queued"


def delete_archives(s3_urls: Iterable[str]) -> int:
    """Delete archived transcript objects, every version of them when the bucket is versioned.

    Only objects in ``TRANSCRIPT_BUCKET`` are deleted: a URL pointing elsewhere is refused (logged),
    so a tampered row cannot make the worker delete arbitrary objects. Returns the number of object
    versions (or objects) deleted; an S3 error raises, so callers can retry.
    """
    from access_common.aws import client

    allowed = os.environ.get("TRANSCRIPT_BUCKET")
    keys: dict[str, set[str]] = {}
    for url in s3_urls:
        if not url:
            continue
        try:
            bucket, key = assembly.parse_s3_url(url)
        except ValueError:
            logger.warning("not an s3 URL; not deleted")
            continue
        if bucket != allowed:
            logger.warning("archive outside the transcript bucket; not deleted", extra={"bucket": bucket})
            continue
        keys.setdefault(bucket, set()).add(key)
    s3 = client("s3")
    deleted = 0
    for bucket, wanted in keys.items():
        versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        objects: list[dict[str, str]] = []
        if versioning in ("Enabled", "Suspended"):
            paginator = s3.get_paginator("list_object_versions")
            for key in sorted(wanted):
                for page in paginator.paginate(Bucket=bucket, Prefix=key):
                    for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                        if v["Key"] == key:
                            objects.append({"Key": key, "VersionId": v["VersionId"]})
        else:
            objects = [{"Key": key} for key in sorted(wanted)]
        for i in range(0, len(objects), 1000):
            batch = objects[i : i + 1000]
            resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            errors = resp.get("Errors") or []
            if errors:
                raise RuntimeError(
                    f"S3 refused to delete {len(errors)} archive object(s): {errors[0].get('Code')}"
                )
            deleted += len(batch)
    if deleted:
        logger.info("archives deleted", extra={"objects": deleted})
    return deleted


# --- the completion job --------------------------------------------------------------------------------


def _questions(config_json: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    interview = (config_json or {}).get("interview") or {}
    questions = interview.get("questions") or []
    return [q for q in questions if isinstance(q, Mapping) and q.get("text")]


def _upsert_analytics_state(
    cur: Cursor,
    session: Mapping[str, Any],
    transcript_id: uuid.UUID | None,
    metrics: Mapping[str, Any],
    *,
    changed: bool,
    status: str = "pending",
    error: str | None = None,
) -> str:
    """Create the analytics row (or refresh its metrics); a changed transcript makes it pending again."""
    cur.execute(
        """
        INSERT INTO public.voice_analytics AS a
               (org_id, session_id, transcript_id, metrics, status, error, created_by)
        VALUES (%(org)s, %(session)s, %(transcript)s, %(metrics)s, %(status)s, %(error)s, %(created_by)s)
        ON CONFLICT (session_id) DO UPDATE
           SET transcript_id = EXCLUDED.transcript_id,
               metrics = EXCLUDED.metrics,
               status = CASE WHEN %(changed)s AND a.status <> 'running'
                             THEN EXCLUDED.status ELSE a.status END,
               error = CASE WHEN %(changed)s AND a.status <> 'running'
                            THEN EXCLUDED.error ELSE a.error END
         WHERE %(changed)s
            OR a.transcript_id IS DISTINCT FROM EXCLUDED.transcript_id
            OR a.metrics IS DISTINCT FROM EXCLUDED.metrics
        RETURNING status
        """,
        {
            "org": session["org_id"],
            "session": session["id"],
            "transcript": transcript_id,
            "metrics": json.dumps(dict(metrics)),
            "status": status,
            "error": error,
            "created_by": session["created_by"],
            "changed": changed,
        },
    )
    row = cur.fetchone()
    if row is not None:
        return str(row["status"])
    cur.execute("SELECT status FROM public.voice_analytics WHERE session_id = %s", (session["id"],))
    current = cur.fetchone()
    return str(current["status"]) if current else status


def run_completion(session_id: uuid.UUID | str, *, enqueue: bool = True) -> dict[str, Any]:
    """Assemble, archive and measure a finished session's transcript; returns what happened."""
    with service_tx() as cur:
        session = assembly.load_session(cur, session_id)
        if session is None:
            return {"outcome": "session_gone"}
        if session["status"] not in assembly.FINAL_FOR_ASSEMBLY:
            return {"outcome": "not_final", "status": session["status"]}
        rows = assembly.load_segment_rows(cur, session_id)
        existing = assembly.load_transcript(cur, session_id)
    started = time.perf_counter()
    assembled = assembly.assemble(rows)
    metrics = compute_metrics(assembled.segments, _questions(session.get("config_json")))
    if not assembled.segments:
        with service_tx() as cur:
            status = _upsert_analytics_state(
                cur,
                session,
                existing["id"] if existing else None,
                metrics,
                changed=existing is None,
                status="skipped",
                error="No transcript segments were stored for this session",
            )
        logger.info("completion without segments", extra={"session_id": str(session_id)})
        return {"outcome": "no_segments", "analytics_status": status}

    document = assembly.archive_document(session, assembled)
    body = assembly.canonical_json(document)
    digest = hashlib.sha256(body).hexdigest()
    url = (existing or {}).get("transcript_s3_url")
    if not url:
        bucket = assembly.transcript_bucket()
        key = assembly.archive_key(session["org_id"], session["id"], assembly.archive_date(session))
        url = f"s3://{bucket}/{key}"
    unchanged = bool(existing) and (existing or {}).get("metadata", {}).get("content_sha256") == digest
    if not unchanged:
        bucket, key = assembly.parse_s3_url(url)
        assembly.put_archive(bucket, key, body, str(session["org_id"]), str(session["id"]))
    metadata = {
        "content_sha256": digest,
        "archive_schema_version": assembly.ARCHIVE_SCHEMA_VERSION,
        "segment_count": len(assembled.segments),
        "duplicates_dropped": assembled.duplicates_dropped,
        "duration_seconds": assembled.duration_seconds,
        "session_status": session["status"],
        "source": "voice_transcript_segments",
    }
    with service_tx() as cur:
        transcript_id, changed = assembly.upsert_transcript(cur, session, assembled, url, metadata)
        status = _upsert_analytics_state(cur, session, transcript_id, metrics, changed=changed)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    logger.info(
        "transcript assembled",
        extra={
            "session_id": str(session_id),
            "segments": len(assembled.segments),
            "changed": changed,
            "archived": not unchanged,
            "elapsed_ms": elapsed_ms,
        },
    )
    queued = False
    if enqueue and status == "pending":
        enqueue_analytics(session["id"], session["org_id"])
        queued = True
    return {
        "outcome": "assembled",
        "transcript_id": transcript_id,
        "changed": changed,
        "archived": not unchanged,
        "s3_url": url,
        "analytics_status": status,
        "analytics_queued": queued,
    }


# --- the analytics job ---------------------------------------------------------------------------------


def _max_attempts() -> int:
    return max(1, int(os.environ.get("ANALYTICS_MAX_ATTEMPTS", "3")))


def _claim(cur: Cursor, session_id: uuid.UUID | str, regenerate: bool) -> dict[str, Any] | None:
    """Atomically mark the row running, if this job may run it; None when it may not."""
    cur.execute(
        """
        UPDATE public.voice_analytics
           SET status = 'running', error = NULL
         WHERE session_id = %(session)s
           AND (status = 'pending'
                OR (status = 'running' AND updated_at < now() - %(stale)s)
                OR (%(regenerate)s AND status <> 'running'))
        RETURNING id, status
        """,
        {"session": session_id, "stale": STALE_RUNNING, "regenerate": regenerate},
    )
    return cur.fetchone()


def _finish(
    cur: Cursor, session_id: uuid.UUID | str, status: str, error: str | None = None, **columns: Any
) -> None:
    """Write the job's end state, only over this job's own claim (``status = 'running'``)."""
    values: dict[str, Any] = {"status": status, "error": error[:4000] if error else None, **columns}
    query = sql.SQL(
        "UPDATE public.voice_analytics SET {} WHERE session_id = {} AND status = 'running'"
    ).format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in values),
        sql.Placeholder("session_id"),
    )
    cur.execute(query, {**values, "session_id": session_id})


def _skip_reason(
    session: Mapping[str, Any], segments: list[assembly.Segment], regenerate: bool
) -> str | None:
    from voice_common.settings import get_settings

    if not get_settings().features.get("ai_analytics", True):
        return "AI analytics are disabled for this module (features.ai_analytics)"
    if session["status"] == "failed" and not regenerate:
        return "The session failed; analytics run for completed interviews (an admin can regenerate them)"
    if not any(s.speaker == "candidate" for s in segments):
        return "The candidate said nothing in the transcript"
    return None


def run_analytics(
    session_id: uuid.UUID | str,
    *,
    regenerate: bool = False,
    receive_count: int = 1,
    deadline: float | None = None,
) -> str:
    """Run (or skip) the LLM analysis of a session; returns the resulting analytics status or outcome."""
    from ai_common.config import org_settings, resolve_providers
    from ai_common.errors import LLMError
    from ai_common.providers import ProviderChain
    from voice_common import analysis

    with service_tx() as cur:
        session = assembly.load_session(cur, session_id)
        transcript = assembly.load_transcript(cur, session_id) if session else None
    if session is None:
        return "session_gone"
    if transcript is None:
        # Regenerate (or a lost completion job) before the transcript exists: assemble it first.
        done = run_completion(session_id, enqueue=False)
        if done["outcome"] != "assembled":
            return str(done.get("analytics_status") or done["outcome"])
        with service_tx() as cur:
            transcript = assembly.load_transcript(cur, session_id)
        assert transcript is not None
    sid = str(session["id"])
    with service_tx() as cur:
        claimed = _claim(cur, session["id"], regenerate)
        if claimed is None:
            cur.execute(
                "SELECT status, updated_at > now() - %s AS fresh"
                " FROM public.voice_analytics WHERE session_id = %s",
                (STALE_RUNNING, session["id"]),
            )
            current = cur.fetchone()
    if claimed is None:
        busy = bool(current and current["status"] == "running" and current["fresh"])
        if busy and receive_count < _max_attempts():
            # Another job is running it (a regeneration queued just as a run began, or a second delivery):
            # come back after the visibility timeout, when it has finished, rather than drop this one.
            raise RetryLaterError("analytics of this session are running in another job")
        log = logger.warning if busy and regenerate else logger.info
        log("analytics not claimed", extra={"session_id": sid, "status": current and current["status"]})
        return str(current["status"]) if current else "no_row"

    segments, _ = assembly.order_segments(
        {"seq": i, **s} for i, s in enumerate(transcript.get("speaker_segments") or [])
    )
    digest = (transcript.get("metadata") or {}).get("content_sha256")
    reason = _skip_reason(session, segments, regenerate)
    providers = []
    if reason is None:
        try:
            providers = resolve_providers(org_settings(str(session["org_id"])))
        except Exception as exc:  # a broken provider setting is a visible skip, not a crash loop
            reason = f"LLM provider configuration could not be read ({type(exc).__name__})"
        else:
            if not providers:
                reason = (
                    "No LLM provider is configured (set OPENAI_API_KEY_SECRET_ARN or OPENAI_API_KEY, "
                    "and/or OPENAI_BASE_URL)"
                )
    if reason is not None:
        with service_tx() as cur:
            _finish(
                cur,
                session["id"],
                "skipped",
                reason,
                detailed_analysis=json.dumps({"transcript_sha256": digest, "skipped_reason": reason}),
            )
        logger.info("analytics skipped", extra={"session_id": sid})
        return "skipped"

    config_json = session.get("config_json")
    rubric, rubric_source = analysis.rubric_from_config(config_json)
    analyzer = analysis.Analyzer(
        ProviderChain(providers),
        segments,
        rubric,
        interview_type=session.get("interview_type"),
        deadline=deadline,
    )
    try:
        result = analyzer.run()
    except Exception as exc:  # the claim must never be left "running": record the outcome, then decide
        # Model/validation/budget problems do not get better by retrying; outages and the unexpected may.
        retryable = exc.retryable if isinstance(exc, LLMError) else not isinstance(exc, ValueError)
        usage = analyzer.usage
        extra_usage = getattr(exc, "usage", None)
        if extra_usage is not None:
            usage.extend(extra_usage)
        message = f"{type(exc).__name__}: {exc}"
        if retryable and receive_count < _max_attempts():
            with service_tx() as cur:
                cur.execute(
                    "UPDATE public.voice_analytics SET status = 'pending', error = %s, usage = %s "
                    "WHERE session_id = %s AND status = 'running'",
                    (
                        f"Attempt {receive_count} failed, retrying: {message}"[:4000],
                        json.dumps(usage.summary()),
                        session["id"],
                    ),
                )
            logger.warning(
                "analytics attempt failed; will retry",
                extra={"session_id": sid, "attempt": receive_count, "error_type": type(exc).__name__},
            )
            raise RetryLaterError(message) from exc
        with service_tx() as cur:
            _finish(
                cur,
                session["id"],
                "failed",
                message,
                usage=json.dumps(usage.summary()),
                model_used=(", ".join(usage.models)[:100] or None),
            )
        logger.warning("analytics failed", extra={"session_id": sid, "error_type": type(exc).__name__})
        return "failed"

    detailed = {
        "schema_version": 1,
        "summary": result.summary,
        "transcript_sha256": digest,
        "rubric": [
            {"name": c.name, "weight": round(c.weight, 4), "description": c.description} for c in rubric
        ],
        "rubric_source": rubric_source,
        "overall_score_method": "weighted mean of category_scores by rubric weight (not the model's)",
        "grounding": result.grounding.as_json(),
        "plan": result.plan,
        "repaired": result.repaired,
        "regenerated": regenerate,
    }
    with service_tx() as cur:
        _finish(
            cur,
            session["id"],
            "completed",
            None,
            overall_score=result.overall_score,
            category_scores=json.dumps(result.category_scores),
            strengths=result.strengths,
            weaknesses=result.weaknesses,
            recommendations=result.recommendations,
            key_moments=json.dumps(result.key_moments),
            detailed_analysis=json.dumps(detailed),
            model_used=result.model_used or None,
            processing_time_ms=result.processing_time_ms,
            usage=json.dumps(result.usage.summary()),
            transcript_id=transcript["id"],
        )
        cur.execute(
            "UPDATE public.voice_transcripts SET summary = %s WHERE id = %s",
            (result.summary, transcript["id"]),
        )
    logger.info(
        "analytics completed",
        extra={
            "session_id": sid,
            "mode": result.plan.get("mode"),
            "calls": len(result.usage.calls),
            "dropped_moments": result.grounding.dropped,
            "processing_time_ms": result.processing_time_ms,
        },
    )
    from voice_common import realtime

    try:
        realtime.publish_analytics_ready(session["id"], session["org_id"])
    except Exception:  # best-effort notification; the result is stored
        logger.warning("analytics.ready not published", extra={"session_id": sid}, exc_info=True)
    return "completed"


# --- SQS record handler ------------------------------------------------------------------------------


def handle_record(record: Any, lambda_context: Any = None) -> dict[str, Any] | str:
    """One worker message (Powertools ``BatchProcessor`` record handler). Raising = partial failure."""
    job = Job.model_validate_json(record.body)
    logger.append_keys(session_id=str(job.session_id), job=job.type)
    try:
        if job.type == "completion":
            return run_completion(job.session_id)
        if job.type == "erasure":
            return {"outcome": "erased", "objects": delete_archives(job.s3_urls)}  # raising = retried
        deadline = None
        if lambda_context is not None:
            remaining = lambda_context.get_remaining_time_in_millis() / 1000.0
            deadline = time.monotonic() + max(1.0, remaining - DEADLINE_MARGIN_SECONDS)
        receive_count = int((record.raw_event.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
        return run_analytics(
            job.session_id, regenerate=job.regenerate, receive_count=receive_count, deadline=deadline
        )
    finally:
        logger.remove_keys(["session_id", "job"])
