"""Getting a bot to a session: the standby pool (SQS) or a fresh ECS Fargate task.

The choice (``choose_mode``): the pool when it is on (feature ``standby_pool``, ``standby_pool_size`` > 0,
inside the business-hours window of settings, in its timezone) and has idle capacity (fewer waiting
requests than pool bots), otherwise ``run_task``. A pooled request carries a delayed ``DISPATCH_CHECK``
message (``pool_pickup_timeout_seconds``) to the dispatch-check queue: voice-events then runs the task
itself if no standby bot claimed the request (voice_common.events).

What a bot receives is the payload of docs/contracts.md "Dispatch payload": room URL, the bot's Daily
token, its per-session bot token, the session's config and knowledge, and the Secrets Manager ARNs of
the provider keys. Never a key: the task role reads the secrets by ARN.

The two tokens are credentials, and ECS container overrides are not a place for credentials (anyone with
``ecs:DescribeTasks`` reads them, CloudTrail records them). So the ECS path sends them sealed
(``seal_tokens``): one KMS ciphertext bound by its encryption context to the session, which only the
bot's task role may decrypt (``unseal_tokens``, in the bot: voice_bot.config). The pool path sends them
in the SQS message, which is encrypted at rest and readable only by the pool's bots.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from aws_lambda_powertools import Logger

from access_common.aws import client
from access_common.errors import BadGatewayError, ServiceUnavailableError
from voice_common.settings import Settings

logger = Logger(service="module-voice", child=True)

Mode = Literal["pool", "task"]
PAYLOAD_VERSION = 1
# ECS limits the whole ``overrides`` structure of run_task to 8192 characters.
ECS_OVERRIDES_LIMIT = 8192
# Room left for the rest of the overrides structure (names, SESSION_ID, JSON punctuation).
ECS_PAYLOAD_BUDGET = ECS_OVERRIDES_LIMIT - 512
# What goes into an SQS message (max 256 KiB) stays well below the limit.
MAX_KNOWLEDGE_CHARS = 200_000
PROVIDER_SECRETS = ("deepgram", "cartesia")
# The payload fields that are credentials: sealed with KMS on the ECS path.
SEALED_FIELDS = ("roomToken", "botToken")


def utcnow() -> dt.datetime:
    """The dispatch clock (tests replace it to place a start inside or outside business hours)."""
    return dt.datetime.now(dt.UTC)


# --- the decision ------------------------------------------------------------------------------------------


def pool_window_open(settings: Settings, at: dt.datetime) -> bool:
    """Feature on, a pool to speak of, and ``at`` inside the business-hours window (its timezone)."""
    if not settings.features.get("standby_pool", False) or settings.standby_pool_size <= 0:
        return False
    return settings.business_hours.contains(at)


def waiting_pool_requests() -> int | None:
    """Requests in the standby queue no bot has taken yet (approximate); None when SQS cannot tell."""
    url = os.environ.get("STANDBY_QUEUE_URL")
    if not url:
        return None
    try:
        attrs = client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    except Exception as exc:  # a failed probe must not fail the start: fall back below
        logger.warning("standby queue depth unknown", extra={"error": type(exc).__name__})
        return None


def choose_mode(settings: Settings, at: dt.datetime | None = None) -> Mode:
    """``pool`` when the standby pool is on and has an idle bot, else ``task``.

    Idle capacity is estimated from the queue: with as many waiting requests as there are pool bots,
    a new request would wait for a bot to finish an interview, so it goes straight to ECS. An unknown
    depth counts as capacity (the pickup check falls back to ECS anyway).
    """
    if not os.environ.get("STANDBY_QUEUE_URL") or not pool_window_open(settings, at or utcnow()):
        return "task"
    waiting = waiting_pool_requests()
    if waiting is not None and waiting >= settings.standby_pool_size:
        logger.info(
            "standby pool saturated", extra={"waiting": waiting, "pool_size": settings.standby_pool_size}
        )
        return "task"
    return "pool"


# --- the payload -------------------------------------------------------------------------------------------


def _cap_knowledge(docs: list[dict[str, Any]], budget: int) -> tuple[list[dict[str, Any]], bool]:
    """Documents whose content fits ``budget`` characters in total (cut at the end); truncated flag."""
    kept: list[dict[str, Any]] = []
    left = budget
    truncated = False
    for doc in docs:
        content = str(doc.get("content") or "")
        if left <= 0:
            truncated = True
            break
        if len(content) > left:
            content, truncated = content[:left], True
        kept.append({**doc, "content": content})
        left -= len(content)
    return kept, truncated


def build_payload(
    *,
    session_id: uuid.UUID | str,
    org_id: uuid.UUID | str,
    room_url: str,
    room_token: str,
    bot_token: str,
    config: Mapping[str, Any] | None,
    knowledge: list[dict[str, Any]],
    secret_arns: Mapping[str, str | None],
    requested_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The dispatch payload (docs/contracts.md); ``knowledge`` items are ``{kbId, title, content}``."""
    docs, truncated = _cap_knowledge(knowledge, MAX_KNOWLEDGE_CHARS)
    payload: dict[str, Any] = {
        "type": "BOT_REQUEST",
        "version": PAYLOAD_VERSION,
        "sessionId": str(session_id),
        "orgId": str(org_id),
        "roomUrl": room_url,
        "roomToken": room_token,
        "botToken": bot_token,
        "apiBaseUrl": os.environ.get("API_BASE_URL", "").rstrip("/"),
        "websocketUrl": os.environ.get("WEBSOCKET_URL", ""),
        "config": dict(config or {}),
        "knowledge": docs,
        "secretArns": {name: arn for name, arn in secret_arns.items() if arn},
        "requestedAt": (requested_at or utcnow()).isoformat(timespec="milliseconds"),
    }
    if truncated:
        payload["knowledgeTruncated"] = True
    return payload


def _seal_context(session_id: str) -> dict[str, str]:
    # Binds a ciphertext to one session: it cannot be decrypted as another session's, and the task role's
    # kms:Decrypt is conditioned on the purpose (infrastructure/iam.tf).
    return {"module": "module-voice", "purpose": "bot-dispatch", "sessionId": session_id}


def seal_tokens(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload with ``roomToken`` and ``botToken`` replaced by ``sealedTokens`` (KMS, base64)."""
    key = os.environ.get("BOT_DISPATCH_KMS_KEY_ID")
    if not key:
        # Fail closed: without a key the tokens would travel in the clear through the task's overrides.
        logger.error("BOT_DISPATCH_KMS_KEY_ID is not set: refusing to put bot credentials in ECS overrides")
        raise BadGatewayError("Starting the interview bot failed; try again", code="DISPATCH_FAILED")
    session_id = str(payload["sessionId"])
    plain = json.dumps({f: payload.get(f) for f in SEALED_FIELDS}, separators=(",", ":")).encode()
    try:
        blob = client("kms").encrypt(KeyId=key, Plaintext=plain, EncryptionContext=_seal_context(session_id))
    except Exception as exc:  # botocore ClientError / EndpointConnectionError
        logger.warning("sealing the bot tokens failed", extra={"error": type(exc).__name__})
        raise BadGatewayError(
            "Starting the interview bot failed; try again", code="DISPATCH_FAILED"
        ) from None
    sealed = {k: v for k, v in payload.items() if k not in SEALED_FIELDS}
    sealed["sealedTokens"] = base64.b64encode(blob["CiphertextBlob"]).decode()
    return sealed


def unseal_tokens(payload: Mapping[str, Any], kms: Any) -> dict[str, Any]:
    """The inverse of ``seal_tokens`` (a payload without ``sealedTokens`` is returned as it is)."""
    if "sealedTokens" not in payload:
        return dict(payload)
    plain = kms.decrypt(
        CiphertextBlob=base64.b64decode(str(payload["sealedTokens"])),
        EncryptionContext=_seal_context(str(payload["sessionId"])),
    )["Plaintext"]
    opened = {k: v for k, v in payload.items() if k != "sealedTokens"}
    opened.update(json.loads(plain))
    return opened


def fit_for_ecs(payload: dict[str, Any]) -> str:
    """The payload as the ``BOT_PAYLOAD`` value, within ECS's overrides limit.

    The knowledge text is what can be large; it is cut (``knowledgeTruncated``) so the task still
    starts. Without knowledge a payload that is still too large is a configuration problem (502).
    """
    text = json.dumps(payload, separators=(",", ":"))
    if len(text) <= ECS_PAYLOAD_BUDGET:
        return text
    docs = list(payload.get("knowledge") or [])

    def render(chars: int) -> str:
        kept, _ = _cap_knowledge(docs, chars)
        return json.dumps({**payload, "knowledge": kept, "knowledgeTruncated": True}, separators=(",", ":"))

    # The rendered length grows with every character kept, escapes included (an "é" costs 6 bytes), so a
    # binary search finds the most knowledge that fits whatever the text is made of.
    if len(render(0)) > ECS_PAYLOAD_BUDGET:
        raise BadGatewayError(
            "The interview configuration is too large to start a bot task", code="BOT_PAYLOAD_TOO_LARGE"
        )
    low, high = 0, sum(len(str(d.get("content") or "")) for d in docs)  # render(low) fits, the whole does not
    while high - low > 1:
        middle = (low + high) // 2
        if len(render(middle)) <= ECS_PAYLOAD_BUDGET:
            low = middle
        else:
            high = middle
    logger.warning(
        "knowledge truncated for the ECS payload",
        extra={"session_id": payload.get("sessionId"), "knowledge_chars_sent": low},
    )
    return render(low)


# --- the pool ----------------------------------------------------------------------------------------------


def send_pool_request(payload: dict[str, Any]) -> str:
    """Queue a BOT_REQUEST for the standby bots; returns the SQS message id (the claim reference)."""
    try:
        response = client("sqs").send_message(
            QueueUrl=os.environ["STANDBY_QUEUE_URL"],
            MessageBody=json.dumps(payload, separators=(",", ":")),
            MessageAttributes={
                "MessageType": {"DataType": "String", "StringValue": "BOT_REQUEST"},
                "SessionId": {"DataType": "String", "StringValue": str(payload["sessionId"])},
            },
        )
    except Exception as exc:  # botocore ClientError / EndpointConnectionError
        logger.warning("standby request not sent", extra={"error": type(exc).__name__})
        raise BadGatewayError(
            "Could not reach the standby bot queue; try again", code="DISPATCH_FAILED"
        ) from None
    return str(response["MessageId"])


def schedule_pickup_check(payload: dict[str, Any], message_id: str, delay_seconds: int) -> None:
    """A DISPATCH_CHECK for voice-events, visible after ``delay_seconds``: ECS takes over unless claimed."""
    body = {
        "type": "DISPATCH_CHECK",
        "sessionId": payload["sessionId"],
        "dispatchRef": message_id,
        "payload": payload,
    }
    try:
        client("sqs").send_message(
            QueueUrl=os.environ["DISPATCH_CHECK_QUEUE_URL"],
            MessageBody=json.dumps(body, separators=(",", ":")),
            DelaySeconds=max(0, min(int(delay_seconds), 900)),
            MessageAttributes={"MessageType": {"DataType": "String", "StringValue": "DISPATCH_CHECK"}},
        )
    except Exception as exc:
        logger.warning("pickup check not scheduled", extra={"error": type(exc).__name__})
        raise BadGatewayError(
            "Could not schedule the bot pickup check; try again", code="DISPATCH_FAILED"
        ) from None


# --- ECS ---------------------------------------------------------------------------------------------------


def _csv(name: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]


def run_task_client_token(session_id: str, bot_payload: str) -> str:
    """ECS's idempotency token for one dispatch: the session id and a digest of the payload sent.

    ECS answers a reused token with *different* parameters with a ConflictException for 24 hours, and
    every new dispatch of a session carries a new bot token; so the token follows the payload: a redelivered
    call is deduplicated, a new attempt (retried start, pool fallback) gets a task of its own.
    """
    digest = hashlib.sha256(bot_payload.encode()).hexdigest()[:27]
    return f"{session_id[:36]}-{digest}"  # at most 64 characters, ECS's limit


def run_bot_task(payload: dict[str, Any]) -> str:
    """Start one Fargate task for the session; returns its ARN.

    The container gets ``BOT_PAYLOAD`` (non-secret values, secret ARNs and the sealed tokens) and
    ``SESSION_ID``. ``clientToken`` (``run_task_client_token``) makes a repeated call (a
    redelivered fallback) return the same task instead of a second bot; ``startedBy`` = session id ties
    task events back.
    ECS ``failures`` (no capacity, throttling) is a 503 the caller may retry.
    """
    session_id = str(payload["sessionId"])
    container = os.environ.get("ECS_CONTAINER_NAME", "pipecat-bot")
    bot_payload = fit_for_ecs(seal_tokens(payload))
    request: dict[str, Any] = {
        "cluster": os.environ["ECS_CLUSTER"],
        "taskDefinition": os.environ["ECS_TASK_DEFINITION"],
        "count": 1,
        "launchType": "FARGATE",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": _csv("ECS_SUBNETS"),
                "securityGroups": _csv("ECS_SECURITY_GROUPS"),
                "assignPublicIp": os.environ.get("ECS_ASSIGN_PUBLIC_IP", "ENABLED"),
            }
        },
        "overrides": {
            "containerOverrides": [
                {
                    "name": container,
                    "environment": [
                        {"name": "SESSION_ID", "value": session_id},
                        {"name": "BOT_PAYLOAD", "value": bot_payload},
                    ],
                }
            ]
        },
        "startedBy": session_id[:36],
        "clientToken": run_task_client_token(session_id, bot_payload),
        "tags": [{"key": "SessionId", "value": session_id}, {"key": "Module", "value": "voice"}],
    }
    try:
        response = client("ecs").run_task(**request)
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
        logger.warning(
            "run_task failed", extra={"error": code or type(exc).__name__, "session_id": session_id}
        )
        if code in ("ThrottlingException", "ServerException", "LimitExceededException"):
            raise ServiceUnavailableError(
                "ECS cannot start an interview bot right now; the session is still pending, try again",
                code="BOT_CAPACITY_UNAVAILABLE",
            ) from None
        raise BadGatewayError(
            "Starting the interview bot failed; try again", code="DISPATCH_FAILED"
        ) from None
    tasks = response.get("tasks") or []
    if not tasks:
        reasons = sorted({str(f.get("reason")) for f in response.get("failures") or [] if f.get("reason")})
        logger.warning("run_task placed no task", extra={"reasons": reasons, "session_id": session_id})
        raise ServiceUnavailableError(
            "No capacity to start an interview bot right now; the session is still pending, try again soon",
            code="BOT_CAPACITY_UNAVAILABLE",
            details={"reasons": reasons},
        )
    return str(tasks[0]["taskArn"])


def stop_bot_task(task_arn: str, reason: str) -> bool:
    """Stop a session's task; False when ECS no longer knows it or it already stopped (idempotent)."""
    try:
        client("ecs").stop_task(cluster=os.environ["ECS_CLUSTER"], task=task_arn, reason=reason[:255])
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
        if code in ("InvalidParameterException", "ClientException"):
            return False  # unknown or already stopped
        raise
    return True
