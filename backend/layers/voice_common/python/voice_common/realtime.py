"""Live transcript over the API Gateway WebSocket (ARCHITECTURE decision 8); docs/websocket.md.

Connections live in DynamoDB (``CONNECTIONS_TABLE``): one item per open socket, keyed by connection id,
holding who opened it (a user, or the bot of one session), when its token expires, a TTL and, while
subscribed, ``session_id``: the hash key of the sparse ``session_id-index`` GSI. Fan-out queries that
index, so a segment costs the same with 10 or 10,000 open sockets, and posts to the subscribers in
parallel on a bounded thread pool; a post answered ``GoneException`` deletes the connection.

A connection watches one session at a time: the table's key is the connection id, so a socket is one
index entry, and subscribing to another session replaces the subscription.

A bot's final segment is stored first (``service_tx``, idempotent on ``(session_id, seq)``) and only
then pushed, so a subscriber never sees a line the transcript does not have. Delivery is at least once:
a segment the bot re-sends is pushed again from the stored row; clients key segments by ``seq``.

Routes reply through the management API (``post_to_connection``), never through the route response, so
the order of replies is the order of the calls (``subscribed`` before the backlog, push before ack).
Candidate text is never logged; log lines carry the connection id and the session id.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from access_common.aws import client
from access_common.errors import AppError
from access_common.identity import Principal
from voice_common import ws_messages as msg

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "module-voice")
logger = Logger(service=SERVICE, child=True)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ModuleVoice"), service=SERVICE)

SESSION_INDEX = "session_id-index"
# API Gateway closes a WebSocket after 2 hours; the TTL removes records whose $disconnect was lost.
CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60
LIVE_STATUSES = ("ready", "active")
# post_to_connection accepts 128 KB; backlog frames stay well below it.
BACKLOG_FRAME_BYTES = 96 * 1024
# botocore keeps 10 pooled HTTP connections per client; more workers would only queue on them.
FANOUT_WORKERS = max(1, int(os.environ.get("WS_FANOUT_WORKERS", "10")))

Event = dict[str, Any]
Result = dict[str, Any]
Outcome = Literal["delivered", "gone", "failed"]
_M = TypeVar("_M", bound=BaseModel)


class Refused(AppError):
    """A request the server answers with an ``error`` message (the connection stays open)."""

    status = 400


# ------------------------------------------------------------------------------------------ connections


@dataclass(frozen=True, slots=True)
class Caller:
    """The identity a connection was opened with ($connect), read back from its DynamoDB item."""

    connection_id: str
    kind: Literal["user", "bot"]
    user_id: uuid.UUID | None
    bot_session_id: uuid.UUID | None
    auth_expires_at: int
    session_id: str | None
    token_hash: str | None = None  # a bot's: compared with the session's current dispatch on each store

    def principal(self) -> Principal:
        if self.user_id is None:
            raise Refused("Only user connections can do this", code=msg.FORBIDDEN)
        return Principal(user_id=self.user_id)


def _table() -> str | None:
    return os.environ.get("CONNECTIONS_TABLE") or None


def _require_table() -> str:
    table = _table()
    if table is None:
        raise RuntimeError("CONNECTIONS_TABLE is not configured")
    return table


def register_connection(connection_id: str, identity: dict[str, str], auth_expires_at: int) -> None:
    """Record a just-authenticated connection (``identity``: kind + user_id or bot_session_id)."""
    now = int(time.time())
    item = {key: {"S": value} for key, value in identity.items()}
    item |= {
        "connection_id": {"S": connection_id},
        "auth_expires_at": {"N": str(auth_expires_at)},
        "connected_at": {"N": str(now)},
        "expires_at": {"N": str(now + CONNECTION_TTL_SECONDS)},
    }
    client("dynamodb").put_item(TableName=_require_table(), Item=item)


def forget_connection(connection_id: str) -> None:
    client("dynamodb").delete_item(TableName=_require_table(), Key={"connection_id": {"S": connection_id}})


def get_caller(connection_id: str) -> Caller | None:
    """The connection's record (strongly consistent: a socket that just connected is found)."""
    item = (
        client("dynamodb")
        .get_item(
            TableName=_require_table(), Key={"connection_id": {"S": connection_id}}, ConsistentRead=True
        )
        .get("Item")
    )
    if not item:
        return None

    def text(name: str) -> str | None:
        value = item.get(name)
        return value["S"] if value else None

    user, bot = text("user_id"), text("bot_session_id")
    return Caller(
        connection_id=connection_id,
        kind="bot" if text("kind") == "bot" else "user",
        user_id=uuid.UUID(user) if user else None,
        bot_session_id=uuid.UUID(bot) if bot else None,
        auth_expires_at=int(item.get("auth_expires_at", {"N": "0"})["N"]),
        session_id=text("session_id"),
        token_hash=text("token_hash"),
    )


def set_subscription(connection_id: str, session_id: uuid.UUID, org_id: uuid.UUID) -> bool:
    """Point the connection at ``session_id`` (replacing any other); False if the socket is gone."""
    ddb = client("dynamodb")
    try:
        ddb.update_item(
            TableName=_require_table(),
            Key={"connection_id": {"S": connection_id}},
            UpdateExpression="SET session_id = :s, org_id = :o, subscribed_at = :t",
            ConditionExpression="attribute_exists(connection_id)",  # never resurrect a closed socket
            ExpressionAttributeValues={
                ":s": {"S": str(session_id)},
                ":o": {"S": str(org_id)},
                ":t": {"N": str(int(time.time()))},
            },
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def clear_subscription(connection_id: str, session_id: uuid.UUID) -> None:
    """Stop watching ``session_id`` (a subscription to another session is left alone)."""
    ddb = client("dynamodb")
    with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):
        ddb.update_item(
            TableName=_require_table(),
            Key={"connection_id": {"S": connection_id}},
            UpdateExpression="REMOVE session_id, org_id, subscribed_at",
            ConditionExpression="session_id = :s",
            ExpressionAttributeValues={":s": {"S": str(session_id)}},
        )


@dataclass(frozen=True, slots=True)
class Subscriber:
    connection_id: str
    user_id: uuid.UUID | None
    auth_expires_at: int | None

    def authenticated(self, now: float) -> bool:
        """Its token still valid (unknown counts as expired: the index must project auth_expires_at)."""
        return self.auth_expires_at is not None and self.auth_expires_at > now


def subscriber_records(session_id: uuid.UUID | str) -> list[Subscriber]:
    """The connections subscribed to the session: a GSI query, never a table scan.

    Items whose TTL passed are skipped here (DynamoDB deletes expired items only eventually). The index
    projects ``expires_at``, ``user_id`` and ``auth_expires_at`` (infrastructure/dynamodb.tf), so who
    may still receive a push is decided without reading the table.
    """
    table = _table()
    if table is None:
        return []
    ddb = client("dynamodb")
    now = int(time.time())
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": SESSION_INDEX,
        "KeyConditionExpression": "session_id = :s",
        "ProjectionExpression": "connection_id, expires_at, user_id, auth_expires_at",
        "ExpressionAttributeValues": {":s": {"S": str(session_id)}},
    }
    found: list[Subscriber] = []
    while True:
        page = ddb.query(**request)
        for item in page.get("Items", []):
            expires = item.get("expires_at")
            if expires is not None and int(expires["N"]) <= now:
                continue
            user, auth = item.get("user_id"), item.get("auth_expires_at")
            found.append(
                Subscriber(
                    connection_id=item["connection_id"]["S"],
                    user_id=uuid.UUID(user["S"]) if user else None,
                    auth_expires_at=int(auth["N"]) if auth else None,
                )
            )
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def subscribers(session_id: uuid.UUID | str) -> list[str]:
    """Connection ids subscribed to the session whose token has not expired."""
    now = time.time()
    return [s.connection_id for s in subscriber_records(session_id) if s.authenticated(now)]


def revoke(endpoint: str | None, session_id: uuid.UUID, revoked: list[tuple[Subscriber, str]]) -> None:
    """End subscriptions that may no longer receive the session: tell the socket why, then drop it."""
    for sub, code in revoked:
        clear_subscription(sub.connection_id, session_id)
        if endpoint is None:
            continue
        message = (
            "The connection's token has expired; reconnect with a new one and subscribe again"
            if code == msg.TOKEN_EXPIRED
            else "You no longer have access to this session"
        )
        post(endpoint, sub.connection_id, msg.encode(msg.error(code, message, session_id=session_id)))
    if revoked:
        logger.info("subscriptions revoked", extra={"count": len(revoked)})


# ---------------------------------------------------------------------------------------------- delivery


def management_endpoint(event: Event | None = None) -> str | None:
    """The @connections API: ``WEBSOCKET_API_ENDPOINT``, else derived from the WebSocket event."""
    configured = os.environ.get("WEBSOCKET_API_ENDPOINT")
    if configured:
        return configured.rstrip("/")
    ctx = (event or {}).get("requestContext") or {}
    if ctx.get("domainName") and ctx.get("stage"):
        return f"https://{ctx['domainName']}/{ctx['stage']}"
    return None


def post(endpoint: str, connection_id: str, data: bytes) -> Outcome:
    """Push one frame; a gone connection is deleted. Never raises (delivery is best effort)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client("apigatewaymanagementapi", endpoint_url=endpoint).post_to_connection(
            ConnectionId=connection_id, Data=data
        )
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code")
        if code == "GoneException":
            try:
                forget_connection(connection_id)
            except (BotoCoreError, ClientError):
                logger.warning("could not delete gone connection", extra={"gone_connection": connection_id})
            return "gone"
        logger.warning("post_to_connection failed", extra={"error_code": code, "target": connection_id})
        return "failed"
    except BotoCoreError as err:
        logger.warning(
            "post_to_connection failed", extra={"error": type(err).__name__, "target": connection_id}
        )
        return "failed"
    return "delivered"


@dataclass(frozen=True, slots=True)
class FanoutResult:
    recipients: int = 0
    delivered: int = 0
    gone: int = 0
    failed: int = 0


_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    # Created on first use and kept for the warm container (its threads sleep while frozen).
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=FANOUT_WORKERS, thread_name_prefix="ws-fanout")
    return _executor


def deliver(endpoint: str, connection_ids: list[str], message: dict[str, Any]) -> FanoutResult:
    """Post one message to many connections in parallel (bounded); waits for all posts."""
    if not connection_ids:
        return FanoutResult()
    data = msg.encode(message)
    # Create the client here, on the calling thread: boto3's default session is not thread-safe.
    client("apigatewaymanagementapi", endpoint_url=endpoint)
    if len(connection_ids) == 1:
        outcomes = [post(endpoint, connection_ids[0], data)]
    else:
        outcomes = list(_pool().map(lambda cid: post(endpoint, cid, data), connection_ids))
    return FanoutResult(
        recipients=len(outcomes),
        delivered=outcomes.count("delivered"),
        gone=outcomes.count("gone"),
        failed=outcomes.count("failed"),
    )


def fanout(
    session_id: uuid.UUID | str,
    message: dict[str, Any],
    *,
    endpoint: str | None = None,
    targets: list[str] | None = None,
) -> FanoutResult:
    """Push ``message`` to the session's subscribers (``targets`` when the caller already chose them)."""
    targets = subscribers(session_id) if targets is None else targets
    if not targets:
        return FanoutResult()
    endpoint = endpoint or management_endpoint()
    if endpoint is None:
        logger.warning("WEBSOCKET_API_ENDPOINT is not configured; subscribers not notified")
        return FanoutResult(recipients=len(targets), failed=len(targets))
    return deliver(endpoint, targets, message)


def _publish(
    kind: str, session_id: uuid.UUID | str, org_id: uuid.UUID | str, message: dict[str, Any]
) -> FanoutResult:
    try:
        result = fanout(session_id, message)
    except Exception:
        logger.warning(
            "publish failed",
            extra={"message_type": kind, "session_id": str(session_id), "org_id": str(org_id)},
            exc_info=True,
        )
        return FanoutResult()
    if result.recipients:
        logger.debug(
            "published", extra={"message_type": kind, "session_id": str(session_id), **_counts(result)}
        )
    return result


def publish_status(
    session_id: uuid.UUID | str, org_id: uuid.UUID | str, status: str, reason: str | None = None
) -> FanoutResult:
    """``session.status`` to the session's subscribers (lifecycle calls it after each committed change)."""
    return _publish("session.status", session_id, org_id, msg.session_status(session_id, status, reason))


def publish_analytics_ready(session_id: uuid.UUID | str, org_id: uuid.UUID | str) -> FanoutResult:
    """``analytics.ready`` to the session's subscribers (the completion worker calls it)."""
    return _publish("analytics.ready", session_id, org_id, msg.analytics_ready(session_id))


def _counts(result: FanoutResult) -> dict[str, int]:
    return {
        "recipients": result.recipients,
        "delivered": result.delivered,
        "gone": result.gone,
        "failed": result.failed,
    }


# ------------------------------------------------------------------------------------------- persistence

_STORE_SEGMENT = """
WITH s AS (
    -- FOR SHARE: a concurrent status change waits for this insert, and an insert waiting behind a
    -- status change sees the new status, so no segment is stored after the session left ready/active.
    SELECT id, org_id, status, bot_token_hash FROM public.voice_sessions WHERE id = %(sid)s FOR SHARE
), ok AS (
    -- Only the bot of the session's current dispatch may write (a pooled bot superseded by the ECS
    -- fallback may not); a connection recorded without a digest (before it was kept) is not checked.
    SELECT s.* FROM s
     WHERE s.status IN ('ready', 'active')
       AND (%(hash)s::text IS NULL OR s.bot_token_hash IS NULL OR s.bot_token_hash = %(hash)s)
), ins AS (
    INSERT INTO public.voice_transcript_segments
        (session_id, org_id, seq, speaker, text, start_time, end_time, confidence)
    SELECT ok.id, ok.org_id, %(seq)s, %(speaker)s, %(text)s, %(start)s, %(end)s, %(confidence)s
      FROM ok
    ON CONFLICT (session_id, seq) DO NOTHING
    RETURNING seq
)
SELECT s.status,
       (%(hash)s::text IS NOT NULL AND s.bot_token_hash IS NOT NULL AND s.bot_token_hash <> %(hash)s)
         AS superseded,
       -- The subscribers still allowed to read the session: active members of its org, now.
       ARRAY(SELECT m.user_id FROM public.org_members m
              WHERE m.org_id = s.org_id AND m.active AND m.user_id = ANY(%(users)s::uuid[])) AS members,
       EXISTS (SELECT 1 FROM ins) AS inserted,
       (SELECT to_jsonb(e) FROM (
            SELECT seq, speaker, text, start_time, end_time, confidence
              FROM public.voice_transcript_segments
             WHERE session_id = s.id AND seq = %(seq)s) e) AS existing
  FROM s
"""


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    status: str
    inserted: bool
    existing: dict[str, Any] | None  # the stored row when the seq was a duplicate
    superseded: bool = False  # the token is not the session's current dispatch: nothing was stored
    members: frozenset[uuid.UUID] = frozenset()  # of the users asked about, those still org members


def store_segment(
    session_id: uuid.UUID,
    segment: msg.SegmentIn,
    *,
    token_hash: str | None = None,
    users: list[uuid.UUID] | None = None,
) -> StoreOutcome | None:
    """Insert a final segment (one statement, idempotent on seq); None when the session does not exist.

    The same statement checks the bot's dispatch (``token_hash``) and which of ``users`` (the
    subscribers) may still read the session, so the push after it costs no extra round trip.
    """
    from access_common.db import service_tx

    with service_tx() as cur:
        cur.execute(
            _STORE_SEGMENT,
            {
                "sid": session_id,
                "seq": segment.seq,
                "speaker": segment.speaker,
                "text": segment.text,
                "start": segment.start_time,
                "end": segment.end_time,
                "confidence": segment.confidence,
                "hash": token_hash,
                "users": list(users or []),
            },
        )
        row = cur.fetchone()
    if row is None:
        return None
    return StoreOutcome(
        status=row["status"],
        inserted=bool(row["inserted"]),
        existing=row["existing"],
        superseded=bool(row["superseded"]),
        members=frozenset(row["members"] or ()),
    )


def visible_session(principal: Principal, session_id: uuid.UUID) -> dict[str, Any] | None:
    """The session if the user may read it: RLS decides (another org's session is simply absent)."""
    from access_common.db import user_tx

    with user_tx(principal) as cur:
        cur.execute("SELECT id, org_id, status FROM public.voice_sessions WHERE id = %s", (session_id,))
        return cur.fetchone()


def stored_segments(
    principal: Principal, session_id: uuid.UUID, after_seq: int | None
) -> list[dict[str, Any]]:
    """The session's stored segments with seq > after_seq, in order (read as the user: RLS applies)."""
    from access_common.db import user_tx

    with user_tx(principal) as cur:
        cur.execute(
            """SELECT seq, speaker, text, start_time, end_time, confidence
                 FROM public.voice_transcript_segments
                WHERE session_id = %s AND seq > %s ORDER BY seq""",
            (session_id, -1 if after_seq is None else after_seq),
        )
        return cur.fetchall()


def backlog_frames(session_id: uuid.UUID, rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """``transcript.backlog`` messages of at most ~BACKLOG_FRAME_BYTES; the last has ``complete``.

    Always at least one (possibly empty), so a client knows when it has caught up.
    """
    chunk: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        segment = msg.segment_row_out(row)
        length = len(msg.encode(segment))
        if chunk and size + length > BACKLOG_FRAME_BYTES:
            yield msg.backlog(session_id, chunk, complete=False)
            chunk, size = [], 0
        chunk.append(segment)
        size += length + 1
    yield msg.backlog(session_id, chunk, complete=True)


# ---------------------------------------------------------------------------------------------- routes


@dataclass
class Request:
    """One WebSocket message event, with what is known so far for the error reply."""

    event: Event
    connection_id: str
    route: str
    endpoint: str | None
    action: str | None = None
    session_id: uuid.UUID | None = None
    seq: int | None = None

    @property
    def body(self) -> str:
        raw = self.event.get("body")
        if self.event.get("isBase64Encoded") or not isinstance(raw, str):
            raise Refused("Messages must be JSON text frames", code=msg.INVALID_JSON)
        return raw

    def reply(self, message: dict[str, Any]) -> Outcome:
        if self.endpoint is None:
            logger.warning("no management endpoint; reply dropped")
            return "failed"
        return post(self.endpoint, self.connection_id, msg.encode(message))

    def caller(self) -> Caller:
        """The connection's identity; refused when unknown (expired record) or its token expired."""
        caller = get_caller(self.connection_id)
        if caller is None:
            raise Refused("Connection is not authenticated; reconnect with a token", code=msg.UNAUTHORIZED)
        if caller.auth_expires_at <= time.time():
            raise Refused(
                "The connection's token has expired; reconnect with a new one", code=msg.TOKEN_EXPIRED
            )
        return caller


def _parse(model: type[_M], req: Request) -> _M:
    return model.model_validate_json(req.body)


def on_connect(event: Event) -> Result:
    """Authenticate the ``token`` query parameter (user JWT or bot token); anything else is a 401."""
    from access_common.errors import UnauthorizedError

    token = (event.get("queryStringParameters") or {}).get("token") or ""
    connection_id = event["requestContext"]["connectionId"]
    try:
        if token.startswith("vbt1."):
            from voice_common import bot_token

            session_id = bot_token.verify(token)
            identity = {
                "kind": "bot",
                "bot_session_id": str(session_id),
                "token_hash": bot_token.digest(token),
            }
            expires = int(token.split(".")[2])
            logger.append_keys(session_id=str(session_id))
        else:
            from access_common.jwt import verify_user_jwt

            if not token:
                raise UnauthorizedError("A token query parameter is required", code="TOKEN_REQUIRED")
            claims = verify_user_jwt(token)
            user_id = uuid.UUID(str(claims["sub"]))  # a non-uuid sub is refused below
            identity = {"kind": "user", "user_id": str(user_id)}
            expires = int(claims["exp"])
    except (AppError, ValueError) as err:
        code = err.code if isinstance(err, AppError) else "INVALID_TOKEN"
        message = err.message if isinstance(err, AppError) else "Invalid token"
        logger.info("connection refused", extra={"code": code})
        metrics.add_metric(name="ConnectionsRefused", unit=MetricUnit.Count, value=1)
        return {"statusCode": 401, "body": json.dumps({"message": message, "code": code})}
    register_connection(connection_id, identity, expires)
    logger.info("connected", extra={"kind": identity["kind"]})
    return {"statusCode": 200}


def on_disconnect(event: Event) -> Result:
    forget_connection(event["requestContext"]["connectionId"])
    return {"statusCode": 200}


def on_ping(req: Request) -> None:
    """``pong`` with the session the connection is subscribed to (null when none): a client can check
    that its subscription survived without re-subscribing. No identity check: a keep-alive."""
    caller = get_caller(req.connection_id)
    req.reply(msg.pong(caller.session_id if caller else None))


def on_subscribe(req: Request) -> None:
    action = _parse(msg.SubscribeAction, req)
    req.session_id = action.session_id
    logger.append_keys(session_id=str(action.session_id))
    caller = req.caller()
    if caller.kind != "user":
        raise Refused("Bot connections cannot subscribe", code=msg.FORBIDDEN)
    principal = caller.principal()
    session = visible_session(principal, action.session_id)
    if session is None:
        # Another org's session and a missing one look the same: existence is not revealed.
        raise Refused("Session not found", code=msg.SESSION_NOT_FOUND)
    # Order matters: acknowledge, register, then read the backlog. A segment stored after the read is
    # pushed live (the subscription already exists); one stored before it is in the backlog.
    req.reply(msg.subscribed(action.session_id, session["status"], action.after_seq))
    if not set_subscription(req.connection_id, action.session_id, session["org_id"]):
        return  # the socket closed meanwhile
    rows = stored_segments(principal, action.session_id, action.after_seq)
    for frame in backlog_frames(action.session_id, rows):
        req.reply(frame)
    logger.info("subscribed", extra={"backlog": len(rows)})


def on_unsubscribe(req: Request) -> None:
    action = _parse(msg.UnsubscribeAction, req)
    req.session_id = action.session_id
    # No identity check: leaving is always allowed, even with an expired token.
    clear_subscription(req.connection_id, action.session_id)
    req.reply(msg.unsubscribed(action.session_id))


def on_transcript(req: Request) -> None:
    action = _parse(msg.TranscriptAction, req)
    segment = action.segment
    req.session_id, req.seq = action.session_id, segment.seq
    logger.append_keys(session_id=str(action.session_id), seq=segment.seq)
    caller = req.caller()
    if caller.kind != "bot":
        raise Refused("Only the session's bot may publish transcript segments", code=msg.FORBIDDEN)
    if caller.bot_session_id != action.session_id:
        raise Refused("The bot token is for another session", code=msg.BOT_TOKEN_WRONG_SESSION)
    sid = action.session_id
    if not segment.is_final:
        # Interim text is superseded by the final segment of the same seq: pushed, not stored, no ack.
        _push(
            req,
            sid,
            msg.segment_out(
                segment.seq,
                segment.speaker,
                segment.text,
                segment.start_time,
                segment.end_time,
                segment.confidence,
                is_final=False,
            ),
        )
        return
    # Who listens, read before the store so the same statement says who may still read the session.
    subs = subscriber_records(sid)
    outcome = store_segment(
        sid, segment, token_hash=caller.token_hash, users=[s.user_id for s in subs if s.user_id]
    )
    if outcome is None:
        raise Refused("Session not found", code=msg.SESSION_NOT_FOUND)
    if outcome.superseded:
        raise Refused(
            "This bot's dispatch was superseded by another bot; leave the session", code=msg.BOT_SUPERSEDED
        )
    targets = _allowed(req, sid, subs, outcome.members)
    if outcome.inserted:
        metrics.add_metric(name="SegmentsStored", unit=MetricUnit.Count, value=1)
        _push(
            req,
            sid,
            msg.segment_out(
                segment.seq,
                segment.speaker,
                segment.text,
                segment.start_time,
                segment.end_time,
                segment.confidence,
            ),
            targets,
        )
        req.reply(msg.ack(sid, segment.seq, stored=True))
    elif outcome.existing is not None:
        # A re-send (the ack was lost): push the stored row again (at least once), ack as a duplicate.
        metrics.add_metric(name="SegmentDuplicates", unit=MetricUnit.Count, value=1)
        _push(req, sid, msg.segment_row_out(outcome.existing), targets)
        req.reply(msg.ack(sid, segment.seq, stored=True, duplicate=True))
    elif outcome.status not in LIVE_STATUSES:
        raise Refused(
            f"Session is {outcome.status}; segments are accepted while ready or active",
            code=msg.SESSION_NOT_LIVE,
        )
    else:
        # Inserted concurrently by another invocation (not yet visible to this statement): that one pushes.
        req.reply(msg.ack(sid, segment.seq, stored=True, duplicate=True))


def _allowed(
    req: Request, session_id: uuid.UUID, subs: list[Subscriber], members: frozenset[uuid.UUID]
) -> list[str]:
    """The subscribers a segment may go to; the others (token expired, no longer an org member) lose
    their subscription and are told why, so interim text stops reaching them too."""
    now = time.time()
    allowed: list[str] = []
    revoked: list[tuple[Subscriber, str]] = []
    for sub in subs:
        if not sub.authenticated(now):
            revoked.append((sub, msg.TOKEN_EXPIRED))
        elif sub.user_id not in members:
            revoked.append((sub, msg.FORBIDDEN))
        else:
            allowed.append(sub.connection_id)
    if revoked:
        try:
            revoke(req.endpoint, session_id, revoked)
        except Exception:
            logger.warning("revoking subscriptions failed", exc_info=True)
    return allowed


def _push(
    req: Request, session_id: uuid.UUID, segment: dict[str, Any], targets: list[str] | None = None
) -> None:
    try:
        message = msg.transcript_segment(session_id, segment)
        result = fanout(session_id, message, endpoint=req.endpoint, targets=targets)
    except Exception:
        logger.warning("fan-out failed", exc_info=True)
        return
    if result.recipients:
        metrics.add_metric(name="FanoutDeliveries", unit=MetricUnit.Count, value=result.delivered)
    if result.gone:
        metrics.add_metric(name="GoneConnections", unit=MetricUnit.Count, value=result.gone)


def on_default(req: Request) -> None:
    """``$default``: the frame had no known ``action`` (or was not JSON at all)."""
    try:
        parsed = json.loads(req.body)
    except ValueError:
        raise Refused("Message is not valid JSON", code=msg.INVALID_JSON) from None
    if not isinstance(parsed, dict):
        raise Refused("Message must be a JSON object", code=msg.INVALID_JSON)
    action = parsed.get("action")
    raise Refused(
        "Unknown or missing action; expected one of subscribe, unsubscribe, transcript, ping"
        + (f" (got {action!r})" if isinstance(action, str) and len(action) <= 40 else ""),
        code=msg.UNKNOWN_ACTION,
    )


ROUTES: dict[str, Callable[[Request], None]] = {
    "subscribe": on_subscribe,
    "unsubscribe": on_unsubscribe,
    "transcript": on_transcript,
    "ping": on_ping,
}


def _echo(req: Request) -> None:
    """Fill session id / seq for an error reply from a body that failed validation (only valid values)."""
    try:
        parsed = json.loads(req.body)
    except (ValueError, Refused):
        return
    if not isinstance(parsed, dict):
        return
    if isinstance(parsed.get("action"), str) and parsed["action"] in ROUTES:
        req.action = parsed["action"]
    raw = parsed.get("sessionId", parsed.get("session_id"))
    if req.session_id is None and isinstance(raw, str):
        with contextlib.suppress(ValueError):
            req.session_id = uuid.UUID(raw)
    segment = parsed.get("segment")
    if req.seq is None and isinstance(segment, dict) and type(segment.get("seq")) is int:
        req.seq = segment["seq"]


def _validation_reply(err: PydanticValidationError) -> Refused:
    errors = err.errors(include_input=False, include_url=False)
    if any(e["type"] in ("json_invalid", "json_type") for e in errors):
        return Refused("Message is not valid JSON", code=msg.INVALID_JSON)
    if any(e["type"] == "model_type" and not e["loc"] for e in errors):
        return Refused("Message must be a JSON object", code=msg.INVALID_JSON)
    details = [
        {"field": ".".join(str(p) for p in e["loc"]) or "message", "message": str(e["msg"])} for e in errors
    ]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return Refused(f"Invalid message: {summary}", code=msg.VALIDATION_ERROR, details=details)


def handle(event: Event) -> Result:
    """Entry point for every WebSocket event (the Lambda wraps it with logging and metrics)."""
    ctx = event.get("requestContext") or {}
    route = str(ctx.get("routeKey") or "$default")
    connection_id = str(ctx.get("connectionId") or "")
    logger.append_keys(connection_id=connection_id, route=route)
    metrics.add_metric(name="WebSocketEvents", unit=MetricUnit.Count, value=1)
    if route == "$connect":
        return on_connect(event)
    if route == "$disconnect":
        return on_disconnect(event)
    req = Request(
        event=event,
        connection_id=connection_id,
        route=route,
        endpoint=management_endpoint(event),
        action=route if route in ROUTES else None,
    )
    try:
        ROUTES.get(route, on_default)(req)
    except PydanticValidationError as err:
        _echo(req)
        _reply_error(req, _validation_reply(err))
    except AppError as err:  # Refused, and database errors access_common mapped (e.g. unavailable)
        _echo(req)
        _reply_error(req, err)
    except Exception:
        logger.exception("websocket route failed")
        _reply_error(req, Refused("Internal error; try again", code=msg.INTERNAL_ERROR))
        return {"statusCode": 500}
    return {"statusCode": 200}


def _reply_error(req: Request, err: AppError) -> None:
    if err.status >= 500:
        logger.warning("request failed", extra={"code": err.code})
    else:
        logger.info("request refused", extra={"code": err.code})
    details = err.details if isinstance(err.details, list) else None
    req.reply(
        msg.error(
            err.code, err.message, session_id=req.session_id, action=req.action, seq=req.seq, details=details
        )
    )
