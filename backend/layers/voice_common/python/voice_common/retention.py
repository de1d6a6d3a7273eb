"""Transcript retention: the scheduled voice-worker run deletes what is older than the retention period.

Deleted: ``voice_transcripts`` rows created before ``now - transcript_retention_days`` (settings,
default 90), their archived S3 objects (every version), and ``voice_transcript_segments`` created before
the same cut-off. Kept: sessions, analytics (their ``transcript_id`` becomes NULL through the foreign
key), configurations, everything else.

Order per batch: the S3 objects first, then the rows, in one transaction. If S3 fails the rows stay and
the next run tries again; the reverse order could leave an orphaned object that no row points to.
Batches are bounded so one run fits the Lambda timeout; what is left is taken by the next run. The
Terraform bucket lifecycle rule is the backstop for objects whose row was removed another way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from access_common.db import service_tx

logger = Logger(service="module-voice", child=True)

TRANSCRIPT_BATCH = 200
SEGMENT_BATCH = 5000
MAX_BATCHES = 50


def is_retention_event(event: Mapping[str, Any]) -> bool:
    """An EventBridge schedule (``Scheduled Event``) or a manual ``{"action": "retention"}`` invoke."""
    if "Records" in event:
        return False
    return event.get("detail-type") == "Scheduled Event" or event.get("action") == "retention"


def cutoff(now: dt.datetime | None = None, retention_days: int | None = None) -> dt.datetime:
    if retention_days is None:
        from voice_common.settings import get_settings

        retention_days = get_settings().transcript_retention_days
    return (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=retention_days)


def run_retention(
    now: dt.datetime | None = None,
    *,
    retention_days: int | None = None,
    transcript_batch: int = TRANSCRIPT_BATCH,
    segment_batch: int = SEGMENT_BATCH,
    max_batches: int = MAX_BATCHES,
) -> dict[str, Any]:
    """Delete expired transcripts (with their archives) and segments; returns the counts."""
    from voice_common.completion import delete_archives

    before = cutoff(now, retention_days)
    transcripts = objects = segments = 0
    complete = True
    for _ in range(max_batches):
        with service_tx() as cur:
            cur.execute(
                """
                SELECT id, transcript_s3_url FROM public.voice_transcripts
                 WHERE created_at < %s ORDER BY created_at LIMIT %s
                """,
                (before, transcript_batch),
            )
            rows = cur.fetchall()
        if not rows:
            break
        objects += delete_archives([r["transcript_s3_url"] for r in rows if r["transcript_s3_url"]])
        with service_tx() as cur:
            cur.execute(
                "DELETE FROM public.voice_transcripts WHERE id = ANY(%s) AND created_at < %s",
                ([r["id"] for r in rows], before),
            )
            transcripts += cur.rowcount
    else:
        complete = False
    for _ in range(max_batches):
        with service_tx() as cur:
            cur.execute(
                """
                DELETE FROM public.voice_transcript_segments
                 WHERE id IN (SELECT id FROM public.voice_transcript_segments WHERE created_at < %s LIMIT %s)
                """,
                (before, segment_batch),
            )
            deleted = cur.rowcount
        segments += deleted
        if deleted < segment_batch:
            break
    else:
        complete = False
    summary = {
        "cutoff": before.isoformat(),
        "transcripts_deleted": transcripts,
        "archive_objects_deleted": objects,
        "segments_deleted": segments,
        "complete": complete,
    }
    logger.info("retention run", extra=summary)
    return summary
