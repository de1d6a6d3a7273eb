"""Bot lifecycle callbacks (voice-bot Lambda; no user authorizer, the per-session bot token instead).

``POST /api/voice/bot/sessions/{id}/joined | heartbeat | completed | failed`` with
``Authorization: Bearer <botToken>``: a forged, malformed or expired token is 401, a token for another
session 403, the token of a superseded dispatch 409 ``BOT_SUPERSEDED``. A bot's first heartbeat claims the
session for it (the standby pool's hand-over; docs/orchestration.md). Every call is idempotent: a retry
of a transition already made answers 200 with ``changed: false``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from access_common.app import validation_details
from access_common.errors import ValidationError
from access_common.models import CamelModel
from access_common.responses import ok
from voice_common import bot_token
from voice_common import orchestration as service

router = Router()

SessionPath = Annotated[str, Path(alias="id")]


class FailedIn(CamelModel):
    """Why the bot gave up; stored (first 2000 characters) as the session's failure reason."""

    model_config = ConfigDict(extra="ignore")  # bots may add diagnostics we do not store

    reason: str = Field(min_length=1, max_length=20_000)


def _authenticate(session_id: str) -> tuple[uuid.UUID, str]:
    """The session and the token, after the token was verified for exactly that session."""
    token = bot_token.bearer(dict(router.current_event.headers or {}))
    verified = bot_token.verify(token, session_id)  # 401 / 403
    assert token is not None
    return verified, token


@router.post("/api/voice/bot/sessions/<id>/joined")
def joined(session_id: SessionPath) -> Response[str]:
    """The interview began (ready -> active)."""
    sid, token = _authenticate(session_id)
    return ok(service.bot_callback(sid, token, "joined"))


@router.post("/api/voice/bot/sessions/<id>/heartbeat")
def heartbeat(session_id: SessionPath) -> Response[str]:
    """The bot is alive (records last_heartbeat_at); 409 SESSION_ENDED tells it to leave."""
    sid, token = _authenticate(session_id)
    return ok(service.bot_callback(sid, token, "heartbeat"))


@router.post("/api/voice/bot/sessions/<id>/completed")
def completed(session_id: SessionPath) -> Response[str]:
    """The interview ended normally (active -> completed)."""
    sid, token = _authenticate(session_id)
    return ok(service.bot_callback(sid, token, "completed"))


@router.post("/api/voice/bot/sessions/<id>/failed")
def failed(session_id: SessionPath) -> Response[str]:
    """The bot cannot go on (-> failed, with the reason)."""
    sid, token = _authenticate(session_id)  # before the body: an unauthenticated caller learns nothing
    try:
        body = FailedIn.model_validate(router.current_event.json_body or {})
    except (PydanticValidationError, ValueError) as exc:
        details = (
            validation_details([dict(e) for e in exc.errors()])
            if isinstance(exc, PydanticValidationError)
            else None
        )
        raise ValidationError("Invalid request: reason is required", details=details) from None
    return ok(service.bot_callback(sid, token, "failed", body.reason))
