"""Transcript retention: the scheduled voice-worker run deletes what is older than the retention period.

Deleted: ``voice_transcripts`` rows created more than the org's retention ago (its own
``voice_org_settings.transcript_retention_days``, else ``transcript_retention_days`` of settings, default
90), their archived S3 objects (every version), and ``voice_transcript_segments`` older than the same.
Kept: sessions, analytics (their ``transcript_id`` becomes NULL through the foreign key; a trigger strips
the candidate's quotes), configurations, everything else.

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


# A row of ``{table}`` (voice_transcripts or voice_transcript_segments, both carry org_id) older than its
# org's retention: the org's own value, else the module default.
_EXPIRED = """{table}.created_at < %(at)s - make_interval(days => coalesce(
    (SELECT o.transcript_retention_days FROM public.voice_org_settings o WHERE o.org_id = {table}.org_id),
    %(default)s))"""


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
    """Delete expired transcripts (with their archives) and segments; returns the counts.

    ``retention_days`` replaces the module default (orgs with their own value keep theirs)."""
    from voice_common.completion import delete_archives
    from voice_common.settings import get_settings

    at = now or dt.datetime.now(dt.UTC)
    default_days = retention_days if retention_days is not None else get_settings().transcript_retention_days
    before = cutoff(at, default_days)
    expired = {"at": at, "default": default_days}
    transcripts = objects = segments = 0
    complete = True
    for _ in range(max_batches):
        with service_tx() as cur:
            cur.execute(
                f"""
                SELECT t.id, t.transcript_s3_url FROM public.voice_transcripts t
                 WHERE {_EXPIRED.format(table="t")} ORDER BY t.created_at LIMIT %(limit)s
                """,
                {**expired, "limit": transcript_batch},
            )
            rows = cur.fetchall()
        if not rows:
            break
        objects += delete_archives([r["transcript_s3_url"] for r in rows if r["transcript_s3_url"]])
        with service_tx() as cur:
            cur.execute(
                "DELETE FROM public.voice_transcripts t"
                f" WHERE t.id = ANY(%(ids)s) AND {_EXPIRED.format(table='t')}",
                {**expired, "ids": [r["id"] for r in rows]},
            )
            transcripts += cur.rowcount
    else:
        complete = False
    for _ in range(max_batches):
        with service_tx() as cur:
            cur.execute(
                f"""
                DELETE FROM public.voice_transcript_segments
                 WHERE id IN (SELECT g.id FROM public.voice_transcript_segments g
                               WHERE {_EXPIRED.format(table="g")} LIMIT %(limit)s)
                """,
                {**expired, "limit": segment_batch},
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
