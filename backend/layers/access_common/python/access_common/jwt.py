"""HS256 user JWTs in the Supabase style (``sub``, ``role``, ``exp``, ``email``).

In AWS the API Gateway authorizer verifies tokens; this module is what that authorizer, the local
gateway and the WebSocket ``$connect`` route use.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any

import jwt as pyjwt

from access_common.errors import UnauthorizedError

_ALGORITHM = "HS256"


@functools.cache
def _secret_from_arn(arn: str) -> str:
    from access_common.aws import client

    return str(client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def _secret(secret: str | None) -> str:
    """The explicit secret, SUPABASE_JWT_SECRET (local), or the secret at SUPABASE_JWT_SECRET_ARN (AWS)."""
    value = secret or os.environ.get("SUPABASE_JWT_SECRET")
    if not value and os.environ.get("SUPABASE_JWT_SECRET_ARN"):
        value = _secret_from_arn(os.environ["SUPABASE_JWT_SECRET_ARN"])
    if not value:
        raise UnauthorizedError("Token verification is not configured")
    return value


def mint_user_jwt(
    user_id: str,
    email: str | None,
    *,
    secret: str,
    ttl_seconds: int = 86400,
    role: str = "authenticated",
) -> str:
    """Sign a user token (dev tools and tests; production tokens come from Supabase Auth)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user_id,
        "role": role,
        "iat": now,
        "exp": now + ttl_seconds,
        "aud": "authenticated",
    }
    if email:
        claims["email"] = email
    return pyjwt.encode(claims, secret, algorithm=_ALGORITHM)


def verify_user_jwt(token: str, *, secret: str | None = None) -> dict[str, Any]:
    """Verified claims of a user token; ``UnauthorizedError`` for anything malformed, forged or expired."""
    if not token:
        raise UnauthorizedError("Missing token")
    try:
        claims: dict[str, Any] = pyjwt.decode(
            token,
            _secret(secret),
            algorithms=[_ALGORITHM],
            options={"require": ["sub", "exp"], "verify_aud": False},
        )
    except pyjwt.ExpiredSignatureError:
        raise UnauthorizedError("Token expired", code="TOKEN_EXPIRED") from None
    except pyjwt.PyJWTError:
        raise UnauthorizedError("Invalid token", code="INVALID_TOKEN") from None
    if claims.get("role", "authenticated") != "authenticated":
        raise UnauthorizedError("Token is not a user token", code="INVALID_TOKEN")
    return claims
