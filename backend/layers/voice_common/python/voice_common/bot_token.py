"""Short-lived per-session bot tokens: ``vbt1.<session>.<exp>.<hmac-sha256>``.

A bot may call only its own session's bot routes and publish only its own session's transcript. The
signing secret lives in Secrets Manager (BOT_TOKEN_SECRET_ARN); ``BOT_TOKEN_SECRET`` may supply it
directly in tests. Tokens are verified without a database round trip.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import time
import uuid

from access_common.errors import ForbiddenError, UnauthorizedError

PREFIX = "vbt1"


@functools.cache
def _secret() -> bytes:
    direct = os.environ.get("BOT_TOKEN_SECRET")
    if direct:
        return direct.encode()
    arn = os.environ.get("BOT_TOKEN_SECRET_ARN")
    if not arn:
        raise UnauthorizedError("Bot authentication is not configured", code="BOT_TOKEN_UNCONFIGURED")
    from access_common.aws import client

    return str(client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]).encode()


def reset_secret_cache() -> None:
    _secret.cache_clear()


def _sign(message: str) -> str:
    return hmac.new(_secret(), message.encode(), hashlib.sha256).hexdigest()


def digest(token: str) -> str:
    """What the database keeps of a session's current token (``voice_sessions.bot_token_hash``)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session_id: uuid.UUID | str, ttl_seconds: int, *, now: float | None = None) -> str:
    """A token for ``session_id`` valid for ``ttl_seconds``."""
    exp = int((now if now is not None else time.time()) + ttl_seconds)
    message = f"{PREFIX}.{uuid.UUID(str(session_id))}.{exp}"
    return f"{message}.{_sign(message)}"


def verify(
    token: str | None, session_id: uuid.UUID | str | None = None, *, now: float | None = None
) -> uuid.UUID:
    """The session a valid token is for; 401 if forged/expired/malformed, 403 if for another session."""
    if not token:
        raise UnauthorizedError("Bot token required", code="BOT_TOKEN_REQUIRED")
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != PREFIX:
        raise UnauthorizedError("Malformed bot token", code="BOT_TOKEN_INVALID")
    _, sid, exp, signature = parts
    if not hmac.compare_digest(_sign(f"{PREFIX}.{sid}.{exp}"), signature):
        raise UnauthorizedError("Invalid bot token signature", code="BOT_TOKEN_INVALID")
    try:
        token_session = uuid.UUID(sid)
        expires = int(exp)
    except ValueError:
        raise UnauthorizedError("Malformed bot token", code="BOT_TOKEN_INVALID") from None
    if expires <= (now if now is not None else time.time()):
        raise UnauthorizedError("Bot token expired", code="BOT_TOKEN_EXPIRED")
    if session_id is not None and str(token_session) != str(session_id):
        raise ForbiddenError("Bot token is for another session", code="BOT_TOKEN_WRONG_SESSION")
    return token_session


def bearer(headers: dict[str, str] | None) -> str | None:
    """The token from an ``Authorization: Bearer`` header (header names are case-insensitive)."""
    for key, value in (headers or {}).items():
        if key.lower() == "authorization" and value and value.lower().startswith("bearer "):
            return value[7:].strip()
    return None
