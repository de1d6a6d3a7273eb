"""Analytics, read side: a session's scoring, the regenerate request, and org statistics.

The analytics job (voice_common.completion, service_role) writes ``voice_analytics``; this module
only reads it under RLS (org members) and asks the job to run again (org admins).

A session without an analytics row answers ``status: "not_started"``: nothing has been queued for it
yet (it has not finished, or its completion job has not queued the analysis). Once queued the row
exists and its own status (pending, running, completed, failed, skipped) is returned.
"""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools import Logger

from access_common.db import user_tx
from access_common.errors import ConflictError, ForbiddenError, NotFoundError
from access_common.identity import Principal
from access_common.roles import org_not_found

logger = Logger(service="module-voice", child=True)

NOT_STARTED = "not_started"
SESSION_STATUSES = ("pending", "ready", "active", "completed", "failed", "cancelled")
# Sessions whose completion job runs (voice_common.lifecycle): only these can have analytics.
ANALYZABLE_SESSION_STATUSES = frozenset({"completed", "failed"})

_GET = """
SELECT s.id AS session_id, s.org_id, s.status AS session_status,
       a.id, a.transcript_id, a.status, a.error, a.overall_score, a.category_scores, a.strengths,
       a.weaknesses, a.recommendations, a.key_moments, a.detailed_analysis, a.metrics, a.model_used,
       a.processing_time_ms, a.created_at, a.updated_at
FROM public.voice_sessions s
LEFT JOIN public.voice_analytics a ON a.session_id = s.id
WHERE s.id = %s
"""


def get_analytics(principal: Principal, session_id: uuid.UUID) -> dict[str, Any]:
    """The session's analytics row, or ``{"status": "not_started"}`` when there is none yet."""
    with user_tx(principal) as cur:
        cur.execute(_GET, (session_id,))
        row = cur.fetchone()
    if row is None:
        raise NotFoundError("Session not found", code="SESSION_NOT_FOUND")
    if row["id"] is None:
        return {
            "session_id": row["session_id"],
            "org_id": row["org_id"],
            "session_status": row["session_status"],
            "status": NOT_STARTED,
        }
    return row


def request_regeneration(principal: Principal, session_id: uuid.UUID) -> dict[str, Any]:
    """Queue the analysis of a finished session again (org admins); 409 while the session or its analysis
    runs."""
    from voice_common import completion  # the job side; imported here, off the read routes' cold start

    with user_tx(principal) as cur:
        cur.execute(
            """
            SELECT s.id, s.org_id, s.status, public.is_org_admin(s.org_id) AS caller_is_admin,
                   a.status AS analytics_status,
                   (a.status = 'running' AND a.updated_at > now() - %s) AS analytics_running
            FROM public.voice_sessions s LEFT JOIN public.voice_analytics a ON a.session_id = s.id
            WHERE s.id = %s
            """,
            (completion.STALE_RUNNING, session_id),
        )
        row = cur.fetchone()
    if row is None:
        raise NotFoundError("Session not found", code="SESSION_NOT_FOUND")
    if not row["caller_is_admin"]:
        raise ForbiddenError(
            "Regenerating analytics requires the org admin or owner role", code="ORG_ADMIN_REQUIRED"
        )
    if row["status"] not in ANALYZABLE_SESSION_STATUSES:
        raise ConflictError(
            f"Analytics can be generated once the session has completed or failed (status: {row['status']})",
            code="SESSION_NOT_FINISHED",
        )
    if row["analytics_running"]:
        # Accepting would queue a job that finds the row busy: say so rather than drop the request.
        raise ConflictError(
            "The analysis of this session is running; regenerate it once it has finished",
            code="ANALYTICS_RUNNING",
        )
    completion.enqueue_analytics(row["id"], row["org_id"], regenerate=True)
    logger.info("analytics regeneration requested", extra={"session_id": str(row["id"])})
    return {
        "session_id": row["id"],
        "org_id": row["org_id"],
        "status": "pending",
        "previous_status": row["analytics_status"] or NOT_STARTED,
        "regenerate": True,
    }


_STATS = """
SELECT public.is_org_member(%(org)s) AS member,
       public.get_org_voice_stats(%(org)s) AS stats,
       (SELECT coalesce(jsonb_object_agg(x.status, x.n), '{}'::jsonb)
          FROM (SELECT status, count(*) AS n FROM public.voice_sessions
                WHERE org_id = %(org)s GROUP BY status) x) AS by_status
"""


def org_stats(principal: Principal, org_id: uuid.UUID) -> dict[str, Any]:
    """``get_org_voice_stats`` plus session counts by status, for org members, in one statement."""
    with user_tx(principal) as cur:
        cur.execute(_STATS, {"org": org_id})
        row = cur.fetchone()
    if row is None or not row["member"]:
        raise org_not_found()
    stats: dict[str, Any] = dict(row["stats"] or {})
    by_status = row["by_status"] or {}
    return {
        "org_id": org_id,
        "total_sessions": stats.get("total_sessions", 0),
        "completed_sessions": stats.get("completed_sessions", 0),
        "avg_duration_seconds": stats.get("avg_duration_seconds"),
        "avg_score": stats.get("avg_score"),
        "sessions_this_month": stats.get("sessions_this_month", 0),
        "sessions_by_status": {s: int(by_status.get(s, 0)) for s in SESSION_STATUSES},
    }
