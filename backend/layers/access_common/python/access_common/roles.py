"""Org role checks done in code, on top of RLS, so callers get a clear 403/404 instead of an empty result.

The database is the authority (RLS); these checks only choose the right message. A non-member asking
about an org gets 404 for resources (existence not revealed) and 403 for an org-scoped listing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from access_common.errors import ForbiddenError, NotFoundError
from access_common.identity import Principal

ORG_ROLES = ("org_user", "org_admin", "org_owner")
ADMIN_ROLES = frozenset({"org_admin", "org_owner"})
SYS_ADMIN_ROLES = frozenset({"sys_admin", "sys_owner"})


@dataclass(frozen=True, slots=True)
class Membership:
    org_id: uuid.UUID
    org_role: str | None  # None: not a member
    is_sys_admin: bool

    @property
    def is_member(self) -> bool:
        return self.org_role is not None

    @property
    def is_admin(self) -> bool:
        return self.org_role in ADMIN_ROLES


def membership(cur: Any, principal: Principal, org_id: uuid.UUID) -> Membership:
    """The caller's role in ``org_id`` and platform role, in one query inside the request's transaction."""
    cur.execute(
        """
        SELECT (SELECT m.org_role FROM public.org_members m
                 WHERE m.org_id = %(org)s AND m.user_id = %(uid)s AND m.active) AS org_role,
               COALESCE((SELECT p.sys_role FROM public.user_profiles p WHERE p.user_id = %(uid)s), 'sys_user')
                 AS sys_role
        """,
        {"org": org_id, "uid": principal.user_id},
    )
    row = cur.fetchone() or {}
    return Membership(
        org_id=org_id, org_role=row.get("org_role"), is_sys_admin=row.get("sys_role") in SYS_ADMIN_ROLES
    )


def org_not_found() -> NotFoundError:
    """The answer for an org the caller is not an active member of, or that does not exist.

    One answer for both, 404 as for any other org's resource: telling them apart would let anyone probe
    which organization ids exist. Platform admins get it too (they administer the platform, not orgs).
    """
    return NotFoundError("Organization not found (or you are not a member of it)", code="ORG_NOT_FOUND")


def require_member(cur: Any, principal: Principal, org_id: uuid.UUID) -> Membership:
    m = membership(cur, principal, org_id)
    if not m.is_member:
        raise org_not_found()
    return m


def require_admin(cur: Any, principal: Principal, org_id: uuid.UUID) -> Membership:
    m = require_member(cur, principal, org_id)
    if not m.is_admin:
        raise ForbiddenError("This action requires the org admin or owner role", code="ORG_ADMIN_REQUIRED")
    return m


def is_sys_admin(cur: Any, principal: Principal) -> bool:
    cur.execute("SELECT sys_role FROM public.user_profiles WHERE user_id = %s", (principal.user_id,))
    row = cur.fetchone()
    return bool(row and row["sys_role"] in SYS_ADMIN_ROLES)
