"""Side effects of a committed session status change, in one place.

Every writer of ``voice_sessions.status`` (REST PUT, start, bot callbacks, the watchdog, ECS events)
calls ``on_status_changed`` after its transaction commits; the database has already validated the
transition. Each effect is best-effort and isolated: a failing push to WebSocket subscribers must not
undo or block the status change, and it is logged without candidate data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="module-voice", child=True)

FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def _safely(name: str, fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:
        logger.exception("status side effect failed", extra={"effect": name})


def on_status_changed(
    session: Mapping[str, Any], old: str | None, new: str, reason: str | None = None
) -> None:
    """Notify subscribers; tear down room/bot on cancel or failure; queue completion work when final."""
    from voice_common import completion, orchestration, realtime

    session_id, org_id = session["id"], session["org_id"]
    _safely("publish_status", lambda: realtime.publish_status(session_id, org_id, new, reason))
    if new in ("cancelled", "failed"):
        _safely("teardown", lambda: orchestration.teardown(session, new))
    if new in ("completed", "failed"):
        _safely("enqueue_completion", lambda: completion.enqueue_completion(session_id, org_id))


def on_session_deleted(session: Mapping[str, Any], transcript_s3_urls: list[str]) -> None:
    """Candidate erasure: the archived transcript objects go with the session."""
    from voice_common import orchestration

    if session.get("status") in ("ready", "active"):
        _safely("teardown", lambda: orchestration.teardown(session, "cancelled"))
    on_transcript_deleted(session["id"], session["org_id"], transcript_s3_urls)


def on_transcript_deleted(session_id: Any, org_id: Any, transcript_s3_urls: list[str]) -> None:
    """Erase the archived objects (retried through the worker queue when S3 fails: completion)."""
    from voice_common import completion

    if transcript_s3_urls:
        _safely("erase_archives", lambda: completion.erase_archives(session_id, org_id, transcript_s3_urls))
