"""Starting an interview, the bot's lifecycle callbacks, and tearing a session down.

Start (``start_session``), in three steps so no database transaction waits on Daily:

1. read, as the caller (RLS): the session (visible only to members of its org: any member may start
   it), its config, its enabled knowledge, and the org's live-session count. A session already
   ready/active answers with its stored room (idempotent replay, no Daily call); a count at the limit is
   a 429 before anything is created.
2. outside any transaction: the org's Daily key and provider secret ARNs, the dispatch mode, the Daily
   room (deterministic name ``voice-<session id>``, so concurrent or retried starts share one room) and
   two meeting tokens (bot = owner, candidate; requested in parallel).
3. one transaction, as ``service_role`` (a member who did not create the session may start it, but the
   session's update policy admits only its creator and org admins): lock the session row
   (``FOR UPDATE``, only while the caller is still an active member of its org), re-check it is pending,
   take the org's advisory lock and re-count ready + active sessions (the authoritative limit check:
   concurrent starts of different sessions serialize here), move it to ready with the room, dispatch the
   bot, record the dispatch, commit. A concurrent start of the same session waits on the row lock and
   then finds it ready: it answers with the same room and dispatches nothing. A failed dispatch rolls
   everything back: the session stays pending and the start can simply be retried (the room is reused).

This database guard replaces Powertools' DynamoDB idempotency for start: it also covers retries with a
different request, and the database is where the status lives anyway (docs/orchestration.md).

Bot callbacks run as ``service_role`` after the per-session bot token was verified; they accept only the
token of the session's current dispatch (``bot_token_hash``), so a standby bot that picks up a request
after it fell back to ECS is told to leave (409) instead of joining as a second bot.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import Field

from access_common.db import Cursor, service_tx, user_tx
from access_common.errors import (
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    TooManyRequestsError,
)
from access_common.identity import Principal
from access_common.models import CamelResponse
from voice_common import bot_token, dispatch, lifecycle
from voice_common.integrations.daily import DailyClient
from voice_common.settings import Settings, get_settings

logger = Logger(service="module-voice", child=True)

LIVE = ("ready", "active")
FINAL = ("completed", "failed", "cancelled")
MAX_REASON = 2000
# A reused room must still be open for at least this long (else it is replaced).
MIN_ROOM_REMAINING_SECONDS = 3600


class StartResult(CamelResponse):
    """What ``POST /sessions/{id}/start`` answers (seed field names, plus dispatch details)."""

    id: uuid.UUID
    status: str
    daily_room_url: str | None
    daily_room_name: str | None
    daily_room_token: str | None = Field(description="The candidate's Daily meeting token")
    dispatch_mode: str | None
    ecs_task_arn: str | None
    dispatched_at: dt.datetime | None
    already_started: bool = Field(description="True when this call found the session already started")


def room_name(session_id: uuid.UUID | str) -> str:
    return f"voice-{session_id}"


def epoch_now() -> int:
    """Unix seconds; the room-expiry decisions read the clock here (tests set it)."""
    return int(time.time())


def token_hash(token: str) -> str:
    return bot_token.digest(token)


def _org_lock_key(org_id: uuid.UUID | str) -> str:
    return f"voice:start:{org_id}"


def _result(row: Mapping[str, Any], *, already: bool) -> StartResult:
    return StartResult.model_validate({**row, "already_started": already})


# --- start ------------------------------------------------------------------------------------------


_READ_FOR_START = """
SELECT s.id, s.org_id, s.status, s.config_id, s.daily_room_url, s.daily_room_name, s.daily_room_token,
       s.dispatch_mode, s.ecs_task_arn, s.dispatched_at,
       (SELECT c.config_json FROM public.voice_configs c WHERE c.id = s.config_id) AS config_json,
       (SELECT count(*) FROM public.voice_sessions o
         WHERE o.org_id = s.org_id AND o.status IN ('ready', 'active')) AS live_sessions
FROM public.voice_sessions s
WHERE s.id = %(id)s
"""

_KNOWLEDGE = """
SELECT d.kb_id, d.title, d.content
FROM public.voice_session_kb k
JOIN public.kb_docs d ON d.kb_id = k.kb_id
WHERE k.session_id = %(id)s AND k.is_enabled
ORDER BY k.added_at, d.title, d.id
"""


def _limit_error(settings: Settings) -> TooManyRequestsError:
    return TooManyRequestsError(
        f"Your organization already has {settings.max_concurrent_sessions} interviews ready or in progress "
        "(the maximum); end one or try again later",
        code="CONCURRENT_SESSION_LIMIT",
        details={"maxConcurrentSessions": settings.max_concurrent_sessions},
    )


def _not_startable(status: str) -> ConflictError:
    return ConflictError(
        f"The session is {status}; only a pending session can be started",
        code="SESSION_NOT_STARTABLE",
        details={"status": status},
    )


def start_session(principal: Principal, session_id: uuid.UUID) -> StartResult:
    """Create the Daily room and tokens, dispatch a bot, move the session to ready (see the module doc)."""
    settings = get_settings()

    # 1. What the caller may see and do, in one round trip plus the knowledge.
    with user_tx(principal) as cur:
        cur.execute(_READ_FOR_START, {"id": session_id})
        row = cur.fetchone()
        if row is None:
            raise NotFoundError("Session not found", code="SESSION_NOT_FOUND")
        if row["status"] in LIVE:
            return _result(row, already=True)
        if row["status"] != "pending":
            raise _not_startable(row["status"])
        if row["live_sessions"] >= settings.max_concurrent_sessions:
            raise _limit_error(settings)
        knowledge: list[dict[str, Any]] = []
        if settings.features.get("knowledge_base_grounding", True):
            cur.execute(_KNOWLEDGE, {"id": session_id})
            knowledge = [
                {"kbId": str(k["kb_id"]), "title": k["title"] or "", "content": k["content"] or ""}
                for k in cur.fetchall()
            ]
    org_id = row["org_id"]
    config = row["config_json"] or {}

    # 2. Credentials, dispatch mode and the room, outside any transaction.
    from voice_common import credentials

    api_key = credentials.get_api_key(org_id, "daily")
    if not api_key:
        raise ServiceUnavailableError(
            "No Daily API key is configured for this organization or the platform",
            code="DAILY_NOT_CONFIGURED",
        )
    with service_tx() as scur:  # credentials are visible to org admins only; the bot needs them for anyone
        secret_arns: dict[str, str | None] = {
            name: credentials.resolve_secret_arn(scur, org_id, name) for name in dispatch.PROVIDER_SECRETS
        }
    secret_arns["openai"] = os.environ.get("OPENAI_API_KEY_SECRET_ARN")
    mode = dispatch.choose_mode(settings)

    daily = DailyClient(api_key)
    now = epoch_now()
    room = daily.create_room(room_name(session_id), expires_at=now + settings.daily_room_ttl_seconds)
    if room.expires_at is not None and room.expires_at < now + MIN_ROOM_REMAINING_SECONDS:
        # Left over from a start attempt long ago: replace it rather than hand out a room about to close.
        daily.delete_room(room.name)
        room = daily.create_room(
            room.name, expires_at=now + settings.daily_room_ttl_seconds, reuse_existing=False
        )
    expires = room.expires_at or now + settings.daily_room_ttl_seconds
    bot_name = str(config.get("bot_name") or "Interview Assistant")[:100]
    bot_room_token, candidate_token = daily.create_meeting_tokens(
        room.name, [(True, bot_name), (False, "Candidate")], expires_at=expires
    )
    token = bot_token.issue(session_id, settings.bot_token_ttl_seconds)
    payload = dispatch.build_payload(
        session_id=session_id,
        org_id=org_id,
        room_url=room.url,
        room_token=bot_room_token,
        bot_token=token,
        config=config,
        knowledge=knowledge,
        secret_arns=secret_arns,
    )

    # 3. The authoritative checks, the transition and the dispatch, atomically. As service_role: the
    # membership the read of step 1 proved (RLS) is checked again here, in the locking statement.
    with service_tx() as cur:
        cur.execute(
            f"""SELECT {_START_COLUMNS} FROM public.voice_sessions s
                 WHERE s.id = %(id)s
                   AND EXISTS (SELECT 1 FROM public.org_members m
                                WHERE m.org_id = s.org_id AND m.user_id = %(uid)s AND m.active)
                   FOR UPDATE OF s""",
            {"id": session_id, "uid": principal.user_id},
        )
        locked = cur.fetchone()
        if locked is None:
            raise NotFoundError("Session not found", code="SESSION_NOT_FOUND")
        if locked["status"] in LIVE:  # a concurrent start won: same room, no second bot
            return _result(locked, already=True)
        if locked["status"] != "pending":
            raise _not_startable(locked["status"])
        cur.execute(
            """
            SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 0));
            """,
            {"key": _org_lock_key(org_id)},
        )
        cur.execute(
            "SELECT count(*) AS n FROM public.voice_sessions"
            " WHERE org_id = %(org)s AND status IN ('ready', 'active')",
            {"org": org_id},
        )
        live = cur.fetchone()
        if live is not None and live["n"] >= settings.max_concurrent_sessions:
            raise _limit_error(settings)
        cur.execute(
            """
            UPDATE public.voice_sessions
               SET status = 'ready', daily_room_url = %(url)s, daily_room_name = %(name)s,
                   daily_room_token = %(candidate)s, bot_room_token = %(bot)s, bot_token_hash = %(hash)s,
                   dispatch_mode = %(mode)s, failure_reason = NULL, updated_by = %(uid)s
             WHERE id = %(id)s
            """,
            {
                "id": session_id,
                "url": room.url,
                "name": room.name,
                "candidate": candidate_token,
                "bot": bot_room_token,
                "hash": token_hash(token),
                "mode": mode,
                "uid": principal.user_id,
            },
        )
        if mode == "pool":
            ref = dispatch.send_pool_request(payload)
            dispatch.schedule_pickup_check(payload, ref, settings.pool_pickup_timeout_seconds)
        else:
            ref = dispatch.run_bot_task(payload)
        cur.execute(
            f"""
            UPDATE public.voice_sessions
               SET dispatch_ref = %(ref)s, ecs_task_arn = %(task)s, dispatched_at = clock_timestamp()
             WHERE id = %(id)s
            RETURNING {_START_COLUMNS}
            """,
            {"id": session_id, "ref": ref, "task": ref if mode == "task" else None},
        )
        started = cur.fetchone()
    assert started is not None
    logger.info("session started", extra={"session_id": str(session_id), "dispatch_mode": mode})
    lifecycle.on_status_changed(started, "pending", "ready")
    return _result(started, already=False)


_START_COLUMNS = (
    "id, org_id, status, daily_room_url, daily_room_name, daily_room_token, dispatch_mode, dispatch_ref, "
    "ecs_task_arn, dispatched_at"
)


# --- bot callbacks ----------------------------------------------------------------------------------

_BOT_COLUMNS = (
    "id, org_id, status, dispatch_mode, dispatch_ref, ecs_task_arn, daily_room_name, bot_token_hash, "
    "bot_claimed_at, bot_joined_at, last_heartbeat_at, failure_reason"
)


def _lock_for_bot(cur: Cursor, session_id: uuid.UUID, token: str) -> dict[str, Any]:
    cur.execute(
        f"SELECT {_BOT_COLUMNS} FROM public.voice_sessions WHERE id = %(id)s FOR UPDATE", {"id": session_id}
    )
    row = cur.fetchone()
    if row is None:
        raise NotFoundError("Session not found", code="SESSION_NOT_FOUND")
    expected = row["bot_token_hash"]
    if expected and not hmac.compare_digest(expected, token_hash(token)):
        raise ConflictError(
            "This bot's dispatch was superseded by another bot; leave the session",
            code="BOT_SUPERSEDED",
        )
    return row


def _ended(row: Mapping[str, Any]) -> ConflictError:
    return ConflictError(
        f"The session is {row['status']}; the bot should leave",
        code="SESSION_ENDED",
        details={"status": row["status"]},
    )


def _not_ready(row: Mapping[str, Any]) -> ConflictError:
    return ConflictError(
        "The session has not been started", code="SESSION_NOT_READY", details={"status": "pending"}
    )


def _answer(row: Mapping[str, Any], changed: bool) -> dict[str, Any]:
    return {"sessionId": str(row["id"]), "status": row["status"], "changed": changed}


def _transition(
    session_id: uuid.UUID, token: str, action: str, reason: str | None = None
) -> tuple[dict[str, Any], str | None, bool]:
    """One bot callback in one service transaction; returns (row, old status, changed)."""
    with service_tx() as cur:
        row = _lock_for_bot(cur, session_id, token)
        status = row["status"]
        sets: str | None = None
        if action == "heartbeat":
            if status == "pending":
                raise _not_ready(row)
            if status in FINAL:
                raise _ended(row)
            sets = (
                "last_heartbeat_at = clock_timestamp(),"
                " bot_claimed_at = coalesce(bot_claimed_at, clock_timestamp())"
            )
        elif action == "joined":
            if status == "active":
                return row, status, False  # a retried call
            if status == "pending":
                raise _not_ready(row)
            if status in FINAL:
                raise _ended(row)
            sets = (
                "status = 'active', bot_joined_at = clock_timestamp(),"
                " last_heartbeat_at = clock_timestamp(),"
                " bot_claimed_at = coalesce(bot_claimed_at, clock_timestamp())"
            )
        elif action == "completed":
            if status == "completed":
                return row, status, False
            if status != "active":
                if status in FINAL:
                    raise _ended(row)
                raise ConflictError(
                    f"The session is {status}: an interview that never began cannot complete; report failed",
                    code="SESSION_NOT_ACTIVE",
                    details={"status": status},
                )
            sets = "status = 'completed', last_heartbeat_at = clock_timestamp()"
        elif action == "failed":
            if status == "failed":
                return row, status, False
            if status in FINAL:
                raise _ended(row)
            sets = "status = 'failed', failure_reason = %(reason)s"
        else:  # pragma: no cover - the router only calls the four actions
            raise ValueError(action)
        cur.execute(
            f"UPDATE public.voice_sessions SET {sets} WHERE id = %(id)s RETURNING {_BOT_COLUMNS}",
            {"id": session_id, "reason": (reason or "")[:MAX_REASON]},
        )
        updated = cur.fetchone()
    assert updated is not None
    return updated, status, updated["status"] != status


def bot_callback(session_id: uuid.UUID, token: str, action: str, reason: str | None = None) -> dict[str, Any]:
    """joined | heartbeat | completed | failed for the (already authenticated) bot of ``session_id``."""
    row, old, changed = _transition(session_id, token, action, reason)
    if changed:
        logger.info(
            "bot callback", extra={"session_id": str(session_id), "action": action, "status": row["status"]}
        )
        lifecycle.on_status_changed(row, old, row["status"], reason if action == "failed" else None)
    return _answer(row, changed)


# --- teardown ---------------------------------------------------------------------------------------


def teardown(session: Mapping[str, Any], new_status: str) -> None:
    """Stop the session's ECS task and delete its Daily room (cancel, failure, deletion of a live session).

    Best-effort and idempotent: each step runs even if the other failed; an already stopped task or
    deleted room is fine. A standby bot has no task to stop: the room's deletion ejects it, and its next
    heartbeat answers 409.
    """
    errors: list[BaseException] = []
    task_arn = session.get("ecs_task_arn") or (
        session.get("dispatch_ref") if session.get("dispatch_mode") == "task" else None
    )
    if task_arn:
        try:
            dispatch.stop_bot_task(str(task_arn), f"voice session {new_status}")
        except Exception as exc:  # the room must still go
            logger.warning("stopping the bot task failed", extra={"session_id": str(session.get("id"))})
            errors.append(exc)
    room = session.get("daily_room_name")
    if room:
        try:
            from voice_common.integrations.daily import client_for_org

            client_for_org(session["org_id"]).delete_room(str(room))
        except Exception as exc:
            logger.warning("deleting the Daily room failed", extra={"session_id": str(session.get("id"))})
            errors.append(exc)
    if errors:
        raise errors[0]
