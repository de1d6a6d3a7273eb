"""Transcripts (read and delete). The completion job writes them (service_role); users read them.

RLS (db/schema/005): org members read their org's transcripts, org admins/owners delete them. A
transcript the caller cannot see is "not found"; a member who may see but not delete gets 403.
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools import Logger

from access_common.db import user_tx
from access_common.errors import ForbiddenError, NotFoundError
from access_common.identity import Principal
from access_common.pagination import Page
from access_common.roles import org_not_found

logger = Logger(service="module-voice", child=True)

# Lists leave out the text and segments (the bulk of a row); GET by id returns everything.
SUMMARY_COLUMNS = (
    "id, org_id, session_id, candidate_name, interview_type, summary, word_count, transcript_s3_url, "
    "metadata, created_at, updated_at, created_by, updated_by"
)
FULL_COLUMNS = SUMMARY_COLUMNS + ", transcript_text, speaker_segments"

_LIST = f"""
SELECT m.member, t.*
FROM (SELECT public.is_org_member(%(org)s) AS member) m
LEFT JOIN LATERAL (
    SELECT {SUMMARY_COLUMNS}, count(*) OVER () AS total
    FROM public.voice_transcripts
    WHERE m.member AND org_id = %(org)s AND (%(session)s::uuid IS NULL OR session_id = %(session)s::uuid)
    ORDER BY created_at DESC, id
    LIMIT %(limit)s OFFSET %(offset)s
) t ON true
"""


def list_transcripts(
    principal: Principal, org_id: uuid.UUID, session_id: uuid.UUID | None, page: Page
) -> tuple[list[dict[str, Any]], int]:
    """An org's transcripts, newest first, optionally of one session; with the total count.

    The membership check rides on the same statement as the page (one round trip): the outer row
    always exists and says whether the caller is a member; the lateral join adds the page's rows.
    """
    params = {"org": org_id, "session": session_id, "limit": page.limit, "offset": page.offset}
    with user_tx(principal) as cur:
        cur.execute(_LIST, params)
        rows = cur.fetchall()
        if not rows or not rows[0]["member"]:
            raise org_not_found()
        rows = [r for r in rows if r["id"] is not None]
        if rows or page.offset == 0:
            total = int(rows[0]["total"]) if rows else 0
        else:  # past the end: no row carried the window count
            cur.execute(
                "SELECT count(*) AS n FROM public.voice_transcripts WHERE org_id = %(org)s "
                "AND (%(session)s::uuid IS NULL OR session_id = %(session)s::uuid)",
                params,
            )
            total = int((cur.fetchone() or {"n": 0})["n"])
    for r in rows:
        r.pop("member", None)
        r.pop("total", None)
    return rows, total


def get_transcript(principal: Principal, transcript_id: uuid.UUID) -> dict[str, Any]:
    with user_tx(principal) as cur:
        cur.execute(f"SELECT {FULL_COLUMNS} FROM public.voice_transcripts WHERE id = %s", (transcript_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFoundError("Transcript not found", code="TRANSCRIPT_NOT_FOUND")
    return row


_DELETE = """
WITH t AS (
    SELECT id, org_id, session_id, transcript_s3_url, public.is_org_admin(org_id) AS caller_is_admin
    FROM public.voice_transcripts WHERE id = %(id)s
), d AS (
    DELETE FROM public.voice_transcripts v USING t
    WHERE v.id = t.id AND t.caller_is_admin
    RETURNING v.id
), s AS (
    -- The segments go too (candidate erasure); otherwise a later completion job would rebuild the transcript.
    DELETE FROM public.voice_transcript_segments g USING t
    WHERE g.session_id = t.session_id AND t.caller_is_admin
    RETURNING g.id
)
SELECT t.*, EXISTS (SELECT 1 FROM d) AS deleted, (SELECT count(*) FROM s) AS segments_deleted FROM t
"""


def delete_transcript(principal: Principal, transcript_id: uuid.UUID) -> dict[str, Any]:
    """Delete a transcript (org admins), then erase its S3 archive (after the commit, best effort).

    Visibility, the role check and the delete are one statement; the DELETE itself is still subject
    to the table's delete policy, so a disagreement between code and RLS ends in 403, never a delete.
    """
    from voice_common import lifecycle

    with user_tx(principal) as cur:
        cur.execute(_DELETE, {"id": transcript_id})
        row = cur.fetchone()
    if row is None:
        raise NotFoundError("Transcript not found", code="TRANSCRIPT_NOT_FOUND")
    if not row["deleted"]:
        raise ForbiddenError(
            "Deleting transcripts requires the org admin or owner role", code="ORG_ADMIN_REQUIRED"
        )
    url = row["transcript_s3_url"]
    if url:
        lifecycle.on_transcript_deleted(row["session_id"], row["org_id"], [url])
    logger.info(
        "transcript deleted", extra={"transcript_id": str(row["id"]), "session_id": str(row["session_id"])}
    )
    return {
        "id": row["id"],
        "session_id": row["session_id"],
        "org_id": row["org_id"],
        "deleted": True,
        "segments_deleted": row["segments_deleted"],
        "archive_deletion_requested": bool(url),
    }
