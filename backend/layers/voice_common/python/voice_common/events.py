"""voice-events: the asynchronous half of orchestration. No session is ever left stuck.

Three triggers (``handle`` tells them apart by shape):

- SQS dispatch-check queue (BatchProcessor, partial batch failures): a pooled BOT_REQUEST that no bot
  claimed within ``pool_pickup_timeout_seconds`` is handed to a fresh ECS task. Nothing happens when a bot
  claimed it (first heartbeat), the session moved on, or the dispatch changed meanwhile. The check runs
  under the session's row lock, so it and a bot's claim cannot both win.
- EventBridge "ECS Task State Change" with lastStatus STOPPED: the session whose current task it is and
  that is still ready/active is failed with the stop reason (a bot that completes first is untouched).
- a schedule ("Scheduled Event", or ``{"action": "watchdog"}``): ``watchdog`` fails
  * ready sessions no bot reported in for within ``bot_join_timeout_seconds`` of the dispatch,
  * ready/active sessions whose bot stopped heartbeating for ``bot_heartbeat_timeout_seconds``,
  * active sessions running longer than ``session_timeout_minutes``.
  Rows are taken with ``FOR UPDATE SKIP LOCKED`` so overlapping runs never double-process. Stored
  transcript segments are kept; lifecycle tears the room/task down and queues completion.

Every status change commits first and then calls ``lifecycle.on_status_changed``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from access_common.db import service_tx
from voice_common import bot_token, dispatch, lifecycle
from voice_common.orchestration import MAX_REASON, token_hash
from voice_common.settings import get_settings

logger = Logger(service="module-voice", child=True)

# A batch whose records all failed is reported record by record instead of failing the invocation:
# the same retries, and the pickup checks of other sessions in the next batch are not held up.
_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

_COLUMNS = (
    "id, org_id, status, dispatch_mode, dispatch_ref, ecs_task_arn, daily_room_name, failure_reason, "
    "bot_claimed_at, bot_joined_at, last_heartbeat_at"
)
_S_COLUMNS = ", ".join("s." + c.strip() for c in _COLUMNS.split(","))


def handle(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Route one voice-events invocation to its handler."""
    if isinstance(event.get("Records"), list):
        return process_partial_response(  # type: ignore[return-value]
            event=dict(event),
            record_handler=_dispatch_check_record,
            processor=_processor,
            context=context,
        )
    kind = event.get("detail-type")
    if kind == "ECS Task State Change":
        return on_task_state_change(event.get("detail") or {})
    if kind == "Scheduled Event" or event.get("action") == "watchdog":
        return watchdog()
    logger.warning("unknown event ignored", extra={"detail_type": kind, "source": event.get("source")})
    return {"ignored": True}


# --- pool pickup fallback ---------------------------------------------------------------------------------


def _dispatch_check_record(record: SQSRecord) -> dict[str, Any]:
    body = json.loads(record.body)
    if body.get("type") != "DISPATCH_CHECK":
        logger.warning("unexpected message on the dispatch-check queue", extra={"type": body.get("type")})
        return {"outcome": "ignored"}
    return check_pool_pickup(body)


def check_pool_pickup(body: Mapping[str, Any]) -> dict[str, Any]:
    """Run an ECS task for a pooled request no bot claimed; a no-op in every other case.

    ``run_task`` happens inside the transaction holding the session's row lock: a standby bot's first
    heartbeat waits for it, then finds its token superseded (409) and leaves. A failing ``run_task``
    raises, so the message is retried (SQS) until the watchdog's join timeout gives up on the session.
    """
    session_id = uuid.UUID(str(body["sessionId"]))
    payload = dict(body["payload"])
    settings = get_settings()
    with service_tx() as cur:
        cur.execute(
            f"SELECT {_COLUMNS} FROM public.voice_sessions WHERE id = %(id)s FOR UPDATE", {"id": session_id}
        )
        row = cur.fetchone()
        if row is None:
            return {"outcome": "gone"}
        if (
            row["status"] != "ready"
            or row["dispatch_mode"] != "pool"
            or row["dispatch_ref"] != body.get("dispatchRef")
            or row["bot_claimed_at"] is not None
            or row["bot_joined_at"] is not None
        ):
            return {"outcome": "claimed" if row["bot_claimed_at"] else "noop", "status": row["status"]}
        # A fresh token for the task's bot; the pooled request's token no longer works for callbacks.
        old_token = str(payload.get("botToken") or "")
        token = bot_token.issue(session_id, settings.bot_token_ttl_seconds)
        if token == old_token:
            token = bot_token.issue(session_id, settings.bot_token_ttl_seconds + 1)
        payload["botToken"] = token
        task_arn = dispatch.run_bot_task(payload)
        cur.execute(
            """
            UPDATE public.voice_sessions
               SET dispatch_mode = 'task', dispatch_ref = %(arn)s, ecs_task_arn = %(arn)s,
                   bot_token_hash = %(hash)s, dispatch_fallback_at = clock_timestamp()
             WHERE id = %(id)s
            """,
            {"id": session_id, "arn": task_arn, "hash": token_hash(token)},
        )
    logger.info("pool pickup timed out: fell back to ECS", extra={"session_id": str(session_id)})
    return {"outcome": "fallback", "taskArn": task_arn}


# --- ECS task state changes -------------------------------------------------------------------------------


def _stop_reason(detail: Mapping[str, Any]) -> str:
    parts = [str(detail.get("stoppedReason") or detail.get("stopCode") or "task stopped")]
    codes = [c.get("exitCode") for c in detail.get("containers") or [] if c.get("exitCode") is not None]
    if codes:
        parts.append(f"exit code {codes[0]}")
    return f"Bot task stopped: {'; '.join(parts)}"[:MAX_REASON]


def on_task_state_change(detail: Mapping[str, Any]) -> dict[str, Any]:
    """A STOPPED task whose session is still ready/active: the bot died before completing."""
    if detail.get("lastStatus") != "STOPPED" or not detail.get("taskArn"):
        return {"outcome": "ignored"}
    reason = _stop_reason(detail)
    with service_tx() as cur:
        cur.execute(
            f"""
            WITH target AS (
                SELECT id, status AS old_status FROM public.voice_sessions
                 WHERE (dispatch_ref = %(arn)s OR ecs_task_arn = %(arn)s)
                   AND dispatch_mode = 'task' AND status IN ('ready', 'active')
                 LIMIT 1 FOR UPDATE
            )
            UPDATE public.voice_sessions s
               SET status = 'failed', failure_reason = %(reason)s
              FROM target
             WHERE s.id = target.id
            RETURNING {_S_COLUMNS}, target.old_status
            """,
            {"arn": detail["taskArn"], "reason": reason},
        )
        row = cur.fetchone()
    if row is None:
        return {"outcome": "noop"}
    logger.info("bot task stopped before completion", extra={"session_id": str(row["id"])})
    lifecycle.on_status_changed(row, row["old_status"], "failed", reason)
    return {"outcome": "failed", "sessionId": str(row["id"])}


# --- watchdog ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    name: str
    from_status: str
    where: str
    reason: str


def _rules() -> list[tuple[_Rule, dict[str, Any]]]:
    s = get_settings()
    join, beat, longest, no_show = (
        s.bot_join_timeout_seconds,
        s.bot_heartbeat_timeout_seconds,
        s.session_timeout_minutes,
        s.candidate_join_timeout_minutes,
    )
    return [
        (
            _Rule(
                "never_joined",
                "ready",
                "status = 'ready' AND last_heartbeat_at IS NULL AND bot_joined_at IS NULL"
                " AND coalesce(dispatched_at, updated_at) < now() - make_interval(secs => %(secs)s)",
                f"Bot lost: no bot joined within {join} s of the dispatch",
            ),
            {"secs": join},
        ),
        (
            _Rule(
                "heartbeat_lost",
                "ready",
                "status = 'ready' AND last_heartbeat_at < now() - make_interval(secs => %(secs)s)",
                f"Bot lost: no heartbeat for {beat} s",
            ),
            {"secs": beat},
        ),
        (
            # A bot that claimed the session and heartbeats, but never reports the candidate in the room:
            # its own no-show timeout should have ended it; without this the session would stay ready
            # (and count against the org's concurrency limit) for as long as the bot lives.
            _Rule(
                "no_show",
                "ready",
                "status = 'ready' AND bot_joined_at IS NULL"
                " AND coalesce(dispatched_at, updated_at) < now() - make_interval(mins => %(mins)s)",
                f"Candidate never joined: nobody joined within {no_show} minutes of the dispatch",
            ),
            {"mins": no_show},
        ),
        (
            _Rule(
                "heartbeat_lost",
                "active",
                "status = 'active' AND coalesce(last_heartbeat_at, bot_joined_at, started_at)"
                " < now() - make_interval(secs => %(secs)s)",
                f"Bot lost: no heartbeat for {beat} s",
            ),
            {"secs": beat},
        ),
        (
            _Rule(
                "session_timeout",
                "active",
                "status = 'active' AND started_at < now() - make_interval(mins => %(mins)s)",
                f"Session timeout: the interview ran longer than {longest} minutes",
            ),
            {"mins": longest},
        ),
    ]


WATCHDOG_BATCH = 100


def watchdog() -> dict[str, Any]:
    """Fail the sessions whose bot is gone (see the module doc); returns counts per rule."""
    failed: list[tuple[dict[str, Any], str, str]] = []
    counts: dict[str, int] = {}
    with service_tx() as cur:
        for rule, params in _rules():
            cur.execute(
                f"""
                UPDATE public.voice_sessions s
                   SET status = 'failed', failure_reason = %(reason)s
                  FROM (SELECT id FROM public.voice_sessions
                         WHERE {rule.where}
                         ORDER BY updated_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED) stale
                 WHERE s.id = stale.id
                RETURNING {_S_COLUMNS}
                """,
                {**params, "reason": rule.reason, "limit": WATCHDOG_BATCH},
            )
            rows = cur.fetchall()
            counts[rule.name] = counts.get(rule.name, 0) + len(rows)
            failed.extend((row, rule.from_status, rule.reason) for row in rows)
    for row, old, reason in failed:
        logger.info("watchdog failed a session", extra={"session_id": str(row["id"]), "reason": reason})
        lifecycle.on_status_changed(row, old, "failed", reason)
    return {"failed": len(failed), **counts}
