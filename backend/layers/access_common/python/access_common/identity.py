"""The authenticated principal, read only from ``requestContext.authorizer`` (API Gateway REST shape).

API Gateway verified the JWT before the Lambda runs; the handler trusts nothing else in the request
(headers, body, query) about who the caller is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from access_common.errors import UnauthorizedError


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user as Supabase/PostgREST sees it (``auth.uid()`` is ``user_id``)."""

    user_id: uuid.UUID
    email: str | None = None
    role: str = "authenticated"

    def claims(self) -> dict[str, str]:
        """The ``request.jwt.claims`` the database's RLS policies read."""
        claims = {"sub": str(self.user_id), "role": "authenticated"}
        if self.email:
            claims["email"] = self.email
        return claims

    def claims_json(self) -> str:
        return json.dumps(self.claims(), separators=(",", ":"))


def _authorizer(event: Mapping[str, Any]) -> Mapping[str, Any]:
    ctx = event.get("requestContext")
    auth = ctx.get("authorizer") if isinstance(ctx, Mapping) else None
    if not isinstance(auth, Mapping) or not auth:
        raise UnauthorizedError("Authentication required")
    return auth


def principal_from_authorizer(auth: Mapping[str, Any]) -> Principal:
    """Build a principal from either authorizer shape: Lambda-authorizer context or JWT claims."""
    claims = auth.get("claims")
    if isinstance(claims, str):  # some gateways pass claims as a JSON string
        try:
            claims = json.loads(claims)
        except ValueError:
            claims = None
    source: Mapping[str, Any] = claims if isinstance(claims, Mapping) else auth
    raw_id = source.get("sub") or source.get("userId") or source.get("principalId")
    if not raw_id:
        raise UnauthorizedError("Authentication required")
    try:
        user_id = uuid.UUID(str(raw_id))
    except ValueError:
        raise UnauthorizedError("Invalid authenticated user id") from None
    role = str(source.get("role") or "authenticated")
    if role not in ("authenticated", "service_role"):
        raise UnauthorizedError("Authentication required")
    email = source.get("email")
    return Principal(user_id=user_id, email=str(email) if email else None, role="authenticated")


def principal_from_event(event: Mapping[str, Any]) -> Principal:
    """The caller of a REST or WebSocket event; 401 when the authorizer context is missing or malformed."""
    return principal_from_authorizer(_authorizer(event))
