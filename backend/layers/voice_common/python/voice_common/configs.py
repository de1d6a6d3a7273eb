"""Interview configurations (``voice_configs``): models and the service behind ``/api/voice/configs``.

Every statement runs inside ``user_tx``, so RLS decides what the caller sees and may change (members
read, org admins write). Writes are optimistic: the statement itself carries the permission check and
only when it touches no row does a second query find the precise answer (404, 403, 409). The success
path is one statement.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from access_common.db import Cursor, user_tx
from access_common.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from access_common.identity import Principal
from access_common.models import CamelModel, CamelResponse
from access_common.pagination import Page
from access_common.roles import membership, org_not_found
from voice_common.config_schema import InterviewConfig

NAME_CONSTRAINT = "voice_configs_name_org_unique"
LIVE_STATUSES = ("pending", "ready", "active")

Name = Annotated[str, Field(min_length=1, max_length=255)]
InterviewType = Annotated[str, Field(min_length=1, max_length=100)]
Description = Annotated[str, Field(max_length=5000)]


# --- models -------------------------------------------------------------------------------------------


class ConfigCreate(CamelModel):
    """``POST /configs`` body."""

    org_id: uuid.UUID
    name: Name
    interview_type: InterviewType
    description: Description | None = None
    config_json: InterviewConfig
    is_active: bool = True


class ConfigUpdate(CamelModel):
    """``PUT /configs/{id}`` body: the fields to change (``configJson`` replaces the whole document)."""

    name: Name | None = None
    interview_type: InterviewType | None = None
    description: Description | None = None
    config_json: InterviewConfig | None = None
    is_active: bool | None = None

    @field_validator("name", "interview_type", "config_json", "is_active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only description may be cleared; the others are required columns.
        if value is None:
            raise PydanticCustomError("not_null", "may not be null")
        return value


class ConfigSummary(CamelResponse):
    """A configuration in a list (without the possibly large ``configJson``)."""

    id: uuid.UUID
    org_id: uuid.UUID
    name: str
    interview_type: str
    description: str | None
    is_active: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: uuid.UUID
    updated_by: uuid.UUID | None


class Config(ConfigSummary):
    """A configuration with its document (snake_case keys, as stored and as the bot reads it)."""

    config_json: dict[str, Any]


_SUMMARY_COLUMNS = (
    "c.id, c.org_id, c.name, c.interview_type, c.description, c.is_active, c.version, "
    "c.created_at, c.updated_at, c.created_by, c.updated_by"
)
_COLUMNS = _SUMMARY_COLUMNS + ", c.config_json"


# --- queries ------------------------------------------------------------------------------------------


def list_configs(
    principal: Principal,
    org_id: uuid.UUID,
    page: Page,
    *,
    is_active: bool | None = None,
    interview_type: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """An org's configurations, newest first, and their total (403 for an org the caller is not in)."""
    params = {
        "org": org_id,
        "active": is_active,
        "type": interview_type,
        "limit": page.limit,
        "offset": page.offset,
    }
    where = """c.org_id = %(org)s
               AND (%(active)s::boolean IS NULL OR c.is_active = %(active)s::boolean)
               AND (%(type)s::text IS NULL OR c.interview_type = %(type)s::text)"""
    with user_tx(principal) as cur:
        cur.execute(
            f"""SELECT {_SUMMARY_COLUMNS}, count(*) OVER () AS total FROM public.voice_configs c
                WHERE {where} ORDER BY c.created_at DESC, c.id LIMIT %(limit)s OFFSET %(offset)s""",
            params,
        )
        rows = cur.fetchall()
        if rows:  # RLS showed rows of this org: the caller is a member
            return [ConfigSummary.model_validate(r).dump() for r in rows], int(rows[0]["total"])
        # An empty page: not a member (403), an empty org, or an offset past the end (total still counts).
        cur.execute(
            f"""SELECT public.is_org_member(%(org)s) AS is_member,
                       (SELECT count(*) FROM public.voice_configs c WHERE {where}) AS total""",
            params,
        )
        check = cur.fetchone() or {}
    if not check.get("is_member"):
        raise org_not_found()
    return [], int(check.get("total") or 0)


def get_config(principal: Principal, config_id: uuid.UUID) -> dict[str, Any]:
    """One configuration; another org's (or a missing) one is "not found"."""
    with user_tx(principal) as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM public.voice_configs c WHERE c.id = %s", (config_id,))
        row = cur.fetchone()
    if row is None:
        raise _not_found(config_id)
    return Config.model_validate(row).dump()


def create_config(principal: Principal, body: ConfigCreate) -> dict[str, Any]:
    """Insert a configuration (org admins and owners)."""
    params = {
        "org": body.org_id,
        "name": body.name,
        "type": body.interview_type,
        "description": body.description,
        "config": json.dumps(body.config_json.to_storage()),
        "active": body.is_active,
    }
    with _unique_name(body.name), user_tx(principal) as cur:
        # The WHERE keeps a non-admin's insert from reaching the RLS check (which would only say 42501).
        cur.execute(
            f"""INSERT INTO public.voice_configs AS c
                    (org_id, name, interview_type, description, config_json, is_active, created_by)
                SELECT %(org)s, %(name)s, %(type)s, %(description)s, %(config)s::jsonb, %(active)s, auth.uid()
                WHERE public.is_org_admin(%(org)s)
                RETURNING {_COLUMNS}""",
            params,
        )
        row = cur.fetchone()
        if row is None:
            _require_admin(cur, principal, body.org_id)
    assert row is not None
    return Config.model_validate(row).dump()


def update_config(principal: Principal, config_id: uuid.UUID, body: ConfigUpdate) -> dict[str, Any]:
    """Change the given fields; the database bumps ``version`` when the content changes."""
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("name", "interview_type", "description", "is_active")
        if name in body.model_fields_set
    }
    if body.config_json is not None:
        changes["config_json"] = json.dumps(body.config_json.to_storage())
    if not changes:
        raise ValidationError(
            "Nothing to update: give at least one of name, interviewType, description, configJson, isActive",
            code="EMPTY_UPDATE",
        )
    assignments = ", ".join(
        f"{column} = %({column})s::jsonb" if column == "config_json" else f"{column} = %({column})s"
        for column in changes
    )
    with _unique_name(body.name or ""), user_tx(principal) as cur:
        # RLS lets only org admins update; for anyone else the UPDATE silently matches no row.
        cur.execute(
            f"""UPDATE public.voice_configs AS c SET {assignments}, updated_by = auth.uid()
                WHERE c.id = %(id)s RETURNING {_COLUMNS}""",
            {**changes, "id": config_id},
        )
        row = cur.fetchone()
        if row is None:
            _explain_denied(cur, principal, config_id)
    assert row is not None
    return Config.model_validate(row).dump()


def delete_config(principal: Principal, config_id: uuid.UUID) -> dict[str, Any]:
    """Delete a configuration no unfinished session uses (finished sessions keep running data, config_id
    becomes NULL); an in-use one answers 409 and can be deactivated instead."""
    with user_tx(principal) as cur:
        cur.execute(
            """DELETE FROM public.voice_configs c
               WHERE c.id = %(id)s
                 AND NOT EXISTS (SELECT 1 FROM public.voice_sessions s
                                 WHERE s.config_id = c.id AND s.status = ANY(%(live)s))
               RETURNING c.id, c.org_id, c.name""",
            {"id": config_id, "live": list(LIVE_STATUSES)},
        )
        row = cur.fetchone()
        if row is None:
            org_id = _explain_denied(cur, principal, config_id)
            cur.execute(
                "SELECT count(*) AS n FROM public.voice_sessions WHERE config_id = %s AND status = ANY(%s)",
                (config_id, list(LIVE_STATUSES)),
            )
            live = (cur.fetchone() or {}).get("n", 0)
            raise ConflictError(
                f"The configuration is used by {live} session(s) that have not finished; "
                "deactivate it (isActive: false) instead, or delete it once they have ended",
                code="CONFIG_IN_USE",
                details={"orgId": str(org_id), "unfinishedSessions": live},
            )
    return {"id": str(row["id"]), "deleted": True}


# --- helpers ------------------------------------------------------------------------------------------


def _not_found(config_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(f"Voice configuration {config_id} not found", code="CONFIG_NOT_FOUND")


def _require_admin(cur: Cursor, principal: Principal, org_id: uuid.UUID) -> None:
    m = membership(cur, principal, org_id)
    if not m.is_member:
        raise org_not_found()
    if not m.is_admin:
        raise ForbiddenError(
            "Managing voice configurations requires the org admin or owner role", code="ORG_ADMIN_REQUIRED"
        )


def _explain_denied(cur: Cursor, principal: Principal, config_id: uuid.UUID) -> uuid.UUID:
    """After a write matched no row: 404 if the caller cannot see the configuration, 403 if they may not
    change it; otherwise return its org (the write was refused for another reason)."""
    cur.execute(
        "SELECT c.org_id, public.is_org_admin(c.org_id) AS is_admin "
        "FROM public.voice_configs c WHERE c.id = %s",
        (config_id,),
    )
    row = cur.fetchone()
    if row is None:
        raise _not_found(config_id)
    if not row["is_admin"]:
        raise ForbiddenError(
            "Managing voice configurations requires the org admin or owner role", code="ORG_ADMIN_REQUIRED"
        )
    org_id: uuid.UUID = row["org_id"]
    return org_id


@contextmanager
def _unique_name(name: str) -> Iterator[None]:
    """Turn the (org_id, name) unique violation into a message that names the clash."""
    try:
        yield
    except ConflictError as exc:
        if isinstance(exc.details, dict) and exc.details.get("constraint") == NAME_CONSTRAINT:
            raise ConflictError(
                f"A voice configuration named {name!r} already exists in this organization",
                code="CONFIG_NAME_EXISTS",
                details=[{"field": "name", "message": "already used in this organization"}],
            ) from exc
        raise
