"""Interview sessions (``voice_sessions``) and their knowledge-base links (``voice_session_kb``).

Models and the service behind ``/api/voice/sessions`` and ``/api/voice/sessions/{id}/kbs``. All SQL runs
in ``user_tx``: RLS decides (members read; members create their own sessions; the creator or an org admin
changes, deletes and manages KB links), and the status machine is the database trigger's. Each write is
one statement that carries its own checks and reports which one failed, so the success path costs one
round trip; only a write that matched no row pays a second query to tell 404 from 403.

Candidate data (name, email, metadata) is never logged. The bot's room token is never read here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from access_common.db import Cursor, user_tx
from access_common.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnprocessableError,
    ValidationError,
)
from access_common.identity import Principal
from access_common.models import CamelModel, CamelResponse
from access_common.pagination import Page
from access_common.roles import org_not_found

Status = Literal["pending", "ready", "active", "completed", "failed", "cancelled"]
# Statuses a user may set with PUT; ready and active belong to start and to the bot.
USER_STATUSES = frozenset({"completed", "failed", "cancelled"})
SortBy = Literal[
    "created_at", "updated_at", "status", "interview_type", "candidate_name", "started_at", "completed_at"
]
SORT_COLUMNS: tuple[str, ...] = get_args(SortBy)
SortOrder = Literal["asc", "desc"]
MAX_METADATA_BYTES = 16384
DETAIL_FIELDS = (
    "candidate_name",
    "candidate_email",
    "interview_type",
    "config_id",
    "workspace_id",
    "session_metadata",
)

# --- candidate email ------------------------------------------------------------------------------------

# RFC 5321/5322 in the form mail systems accept: a dot-atom local part (non-ASCII allowed, RFC 6531) and
# a host name with at least two labels and an alphabetic (or punycode) top-level label. No quoted local
# parts, IP literals or comments: they are valid in theory and a typo in practice.
_LOCAL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010FFFF-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\U0010FFFF-]+)*$"
)
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_TLD = re.compile(r"^([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$")


def normalize_email(value: str) -> str:
    """A deliverable-looking address with its domain lower-cased; ValueError names what is wrong."""
    if len(value) > 254 or value.count("@") != 1:
        raise ValueError("must be a valid email address like name@example.com")
    local, domain = value.rsplit("@", 1)
    # Beyond ASCII only letters and digits (no invisible or space-like characters such as U+00A0).
    if (
        not local
        or len(local) > 64
        or not _LOCAL.match(local)
        or any(ord(c) > 127 and not c.isalnum() for c in local)
    ):
        raise ValueError("must be a valid email address (the part before @ is not valid)")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError("must be a valid email address (the domain is not valid)") from None
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or len(ascii_domain) > 253
        or not all(_LABEL.match(x) for x in labels)
        or not _TLD.match(labels[-1])
    ):
        raise ValueError("must be a valid email address (the domain is not valid)")
    return f"{local}@{domain.lower()}"


def _metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, separators=(",", ":"))) > MAX_METADATA_BYTES:
        raise PydanticCustomError(
            "metadata_size", "must be at most {limit} bytes of JSON", {"limit": MAX_METADATA_BYTES}
        )
    return value


def _email(value: str) -> str:
    try:
        return normalize_email(value)
    except ValueError as exc:  # a message of our own, without the "Value error, " prefix
        raise PydanticCustomError("email", str(exc)) from None


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
CandidateName = Annotated[str, Field(min_length=1, max_length=255)]
InterviewType = Annotated[str, Field(min_length=1, max_length=100)]
Metadata = Annotated[dict[str, Any], AfterValidator(_metadata)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]

# --- models ---------------------------------------------------------------------------------------------


class SessionCreate(CamelModel):
    """``POST /sessions`` body."""

    org_id: uuid.UUID
    interview_type: InterviewType
    candidate_name: CandidateName | None = None
    candidate_email: Email | None = None
    config_id: uuid.UUID | None = None
    workspace_id: uuid.UUID | None = None
    session_metadata: Metadata = Field(default_factory=dict)


class SessionUpdate(CamelModel):
    """``PUT /sessions/{id}`` body: the fields to change. Candidate details only while pending;
    ``status`` moves the session through the database's state machine."""

    candidate_name: CandidateName | None = None
    candidate_email: Email | None = None
    interview_type: InterviewType | None = None
    config_id: uuid.UUID | None = None
    workspace_id: uuid.UUID | None = None
    session_metadata: Metadata | None = None
    status: Status | None = None
    reason: Reason | None = Field(
        None, description="Why the session is cancelled or failed (stored as failureReason)"
    )

    @field_validator("interview_type", "session_metadata", "status")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("not_null", "may not be null")
        return value

    @model_validator(mode="after")
    def _reason_needs_final_status(self) -> SessionUpdate:
        if self.reason is not None and self.status not in ("failed", "cancelled"):
            raise PydanticCustomError(
                "reason_status", "reason is only accepted together with status failed or cancelled"
            )
        return self

    def detail_changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DETAIL_FIELDS if name in self.model_fields_set}


class SessionSummary(CamelResponse):
    """A session in a list: no room token, no metadata."""

    id: uuid.UUID
    org_id: uuid.UUID
    workspace_id: uuid.UUID | None
    config_id: uuid.UUID | None
    candidate_name: str | None
    candidate_email: str | None
    interview_type: str
    status: Status
    daily_room_url: str | None
    daily_room_name: str | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    duration_seconds: int | None
    dispatch_mode: str | None
    dispatched_at: dt.datetime | None
    bot_joined_at: dt.datetime | None
    failure_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: uuid.UUID
    updated_by: uuid.UUID | None


class Session(SessionSummary):
    """One session as its org's members see it, with the candidate's room token."""

    session_metadata: dict[str, Any]
    daily_room_token: str | None


class KbLinkCreate(CamelModel):
    """``POST /sessions/{id}/kbs`` body."""

    kb_id: uuid.UUID
    is_enabled: bool = True


class KbLinkUpdate(CamelModel):
    """``PUT /sessions/{id}/kbs/{kbId}`` body."""

    is_enabled: bool


class KbLink(CamelResponse):
    """A knowledge base linked to a session, with the knowledge base's name."""

    id: uuid.UUID
    session_id: uuid.UUID
    kb_id: uuid.UUID
    kb_name: str | None
    is_enabled: bool
    added_at: dt.datetime
    added_by: uuid.UUID


_SUMMARY_COLUMNS = ", ".join(f"s.{name}" for name in SessionSummary.model_fields)
_DETAIL_COLUMNS = _SUMMARY_COLUMNS + ", s.session_metadata, s.daily_room_token"


def summary(row: dict[str, Any]) -> dict[str, Any]:
    return SessionSummary.model_validate(row).dump()


def detail(row: dict[str, Any]) -> dict[str, Any]:
    """The API shape of a row: ``bot_room_token`` and dispatch references are never part of it."""
    return Session.model_validate(row).dump()


# --- sessions -------------------------------------------------------------------------------------------


def list_sessions(
    principal: Principal,
    org_id: uuid.UUID,
    page: Page,
    *,
    status: str | None = None,
    interview_type: str | None = None,
    workspace_id: uuid.UUID | None = None,
    sort_by: str = "created_at",
    sort_order: str = "desc",
) -> tuple[list[dict[str, Any]], int]:
    """An org's sessions, one page and the total (403 for an org the caller is not in)."""
    if sort_by not in SORT_COLUMNS or sort_order not in ("asc", "desc"):
        raise ValidationError(f"sortBy must be one of {', '.join(SORT_COLUMNS)} and sortOrder asc or desc")
    params = {
        "org": org_id,
        "status": status,
        "type": interview_type,
        "ws": workspace_id,
        "limit": page.limit,
        "offset": page.offset,
    }
    where = """s.org_id = %(org)s
               AND (%(status)s::text IS NULL OR s.status = %(status)s::text)
               AND (%(type)s::text IS NULL OR s.interview_type = %(type)s::text)
               AND (%(ws)s::uuid IS NULL OR s.workspace_id = %(ws)s::uuid)"""
    # sort_by is one of SORT_COLUMNS (checked above), never caller text; id keeps pages stable.
    order = f"s.{sort_by} {sort_order.upper()} NULLS LAST, s.id {sort_order.upper()}"
    with user_tx(principal) as cur:
        cur.execute(
            f"""SELECT {_SUMMARY_COLUMNS}, count(*) OVER () AS total FROM public.voice_sessions s
                WHERE {where} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s""",
            params,
        )
        rows = cur.fetchall()
        if rows:  # RLS returned this org's rows: the caller is a member
            return [summary(r) for r in rows], int(rows[0]["total"])
        # Empty page: not a member (403), nothing matches, or an offset past the end.
        cur.execute(
            f"""SELECT public.is_org_member(%(org)s) AS is_member,
                       (SELECT count(*) FROM public.voice_sessions s WHERE {where}) AS total""",
            params,
        )
        check = cur.fetchone() or {}
    if not check.get("is_member"):
        raise org_not_found()
    return [], int(check.get("total") or 0)


def get_session(principal: Principal, session_id: uuid.UUID) -> dict[str, Any]:
    """One session; another org's (or a missing) one is "not found"."""
    with user_tx(principal) as cur:
        cur.execute(f"SELECT {_DETAIL_COLUMNS} FROM public.voice_sessions s WHERE s.id = %s", (session_id,))
        row = cur.fetchone()
    if row is None:
        raise _session_not_found(session_id)
    return detail(row)


def create_session(principal: Principal, body: SessionCreate) -> dict[str, Any]:
    """A pending session created by the caller, a member of the org. Its configuration must be an active
    one of the same org, its workspace one of the same org."""
    params = {
        "org": body.org_id,
        "type": body.interview_type,
        "name": body.candidate_name,
        "email": body.candidate_email,
        "config": body.config_id,
        "ws": body.workspace_id,
        "metadata": json.dumps(body.session_metadata),
    }
    with user_tx(principal) as cur:
        cur.execute(
            f"""WITH chk AS (
                    SELECT public.is_org_member(%(org)s) AS is_member,
                           (SELECT c.is_active FROM public.voice_configs c
                             WHERE c.id = %(config)s::uuid AND c.org_id = %(org)s) AS config_active,
                           EXISTS (SELECT 1 FROM public.workspaces w
                                    WHERE w.id = %(ws)s::uuid AND w.org_id = %(org)s) AS workspace_found
                ), ins AS (
                    INSERT INTO public.voice_sessions AS s (org_id, interview_type, candidate_name,
                        candidate_email, config_id, workspace_id, session_metadata, created_by)
                    SELECT %(org)s, %(type)s, %(name)s, %(email)s, %(config)s::uuid, %(ws)s::uuid,
                           %(metadata)s::jsonb, auth.uid()
                    FROM chk
                    WHERE chk.is_member
                      AND (%(config)s::uuid IS NULL OR chk.config_active)
                      AND (%(ws)s::uuid IS NULL OR chk.workspace_found)
                    RETURNING {_DETAIL_COLUMNS}
                )
                SELECT chk.is_member, chk.config_active, chk.workspace_found, ins.*
                FROM chk LEFT JOIN ins ON true""",
            params,
        )
        row = cur.fetchone() or {}
    if row.get("id") is None:
        if not row.get("is_member"):
            raise org_not_found()
        _check_refs(row, body.config_id, body.workspace_id)
    return detail(row)


def update_session(
    principal: Principal, session_id: uuid.UUID, body: SessionUpdate
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Apply a PUT. Returns (API shape, full row for lifecycle effects, previous status)."""
    changes = body.detail_changes()
    if body.status is not None and body.status not in USER_STATUSES:
        raise UnprocessableError(
            f"status {body.status!r} cannot be set directly: a session becomes ready through "
            "POST /sessions/{id}/start and active when its bot joins; use cancelled, completed or failed",
            code="STATUS_NOT_SETTABLE",
        )
    if not changes and body.status is None:
        raise ValidationError(
            "Nothing to update: give candidate details, interviewType, configId, workspaceId, "
            "sessionMetadata or status",
            code="EMPTY_UPDATE",
        )
    values: dict[str, Any] = dict(changes)
    if "session_metadata" in values:
        values["session_metadata"] = json.dumps(values["session_metadata"])
    if body.status is not None:
        values["status"] = body.status
        if body.reason is not None:
            values["failure_reason"] = body.reason
    casts = {"session_metadata": "::jsonb", "config_id": "::uuid", "workspace_id": "::uuid"}
    assignments = ", ".join(
        f"{col} = %(v_{col})s{casts.get(col, '')}" for col in values if col != "failure_reason"
    )
    if "failure_reason" in values:
        # The reason belongs to the transition: repeating the current status does not rewrite it.
        assignments += (
            ", failure_reason = CASE WHEN chk.old_status = %(same_status)s::text"
            " THEN s.failure_reason ELSE %(v_failure_reason)s END"
        )
    params: dict[str, Any] = {f"v_{col}": value for col, value in values.items()}
    params.update(
        id=session_id,
        same_status=body.status,
        details=bool(changes),
        set_config="config_id" in changes,
        config=changes.get("config_id"),
        set_ws="workspace_id" in changes,
        ws=changes.get("workspace_id"),
    )
    with user_tx(principal) as cur:
        # FOR UPDATE serializes with other writers (start, bot callbacks) and, under RLS, only returns
        # a session the caller may update: everyone else falls through to _explain_session_denied.
        cur.execute(
            f"""WITH cur AS (
                    SELECT s.id, s.org_id, s.status FROM public.voice_sessions s
                    WHERE s.id = %(id)s FOR UPDATE
                ), chk AS (
                    SELECT cur.id, cur.status AS old_status,
                           (SELECT c.is_active FROM public.voice_configs c
                             WHERE c.id = %(config)s::uuid AND c.org_id = cur.org_id) AS config_active,
                           EXISTS (SELECT 1 FROM public.workspaces w
                                    WHERE w.id = %(ws)s::uuid AND w.org_id = cur.org_id) AS workspace_found
                    FROM cur
                ), upd AS (
                    UPDATE public.voice_sessions AS s SET {assignments}, updated_by = auth.uid()
                    FROM chk
                    WHERE s.id = chk.id
                      AND (NOT %(details)s OR chk.old_status = 'pending')
                      AND (NOT %(set_config)s OR %(config)s::uuid IS NULL OR chk.config_active)
                      AND (NOT %(set_ws)s OR %(ws)s::uuid IS NULL OR chk.workspace_found)
                    RETURNING s.*
                )
                SELECT chk.old_status, chk.config_active, chk.workspace_found, upd.*
                FROM chk LEFT JOIN upd ON true""",
            params,
        )
        row = cur.fetchone()
        if row is None:
            _explain_session_denied(cur, session_id, action="change")
    assert row is not None
    old_status: str = row.pop("old_status")
    refs = {"config_active": row.pop("config_active"), "workspace_found": row.pop("workspace_found")}
    if row.get("id") is None:
        if changes and old_status != "pending":
            raise ConflictError(
                f"Session details can only be changed while the session is pending (it is {old_status})",
                code="SESSION_NOT_PENDING",
            )
        _check_refs(refs, changes.get("config_id"), changes.get("workspace_id"))
    # The candidate's room token is for the single-session read only, not echoed by a change (a cancel).
    return detail({**row, "daily_room_token": None}), row, old_status


def delete_session(principal: Principal, session_id: uuid.UUID) -> tuple[dict[str, Any], list[str]]:
    """Delete a session that is not active, with its transcripts, segments, analytics and KB links (FK
    cascade). Returns the deleted row and the S3 URLs of its archived transcripts (to be erased)."""
    with user_tx(principal) as cur:
        cur.execute(
            """WITH target AS (
                   SELECT s.id FROM public.voice_sessions s
                   WHERE s.id = %(id)s AND s.status <> 'active' FOR UPDATE
               ), archives AS (
                   SELECT coalesce(array_agg(t.transcript_s3_url)
                                   FILTER (WHERE t.transcript_s3_url IS NOT NULL), '{}') AS urls
                   FROM public.voice_transcripts t JOIN target ON t.session_id = target.id
               ), del AS (
                   DELETE FROM public.voice_sessions s USING target WHERE s.id = target.id RETURNING s.*
               )
               SELECT del.*, archives.urls AS transcript_s3_urls FROM del CROSS JOIN archives""",
            {"id": session_id},
        )
        row = cur.fetchone()
        if row is None:
            status = _explain_session_denied(cur, session_id, action="delete")
            raise ConflictError(
                f"A session that is {status} cannot be deleted; cancel it first (PUT status cancelled)",
                code="SESSION_ACTIVE",
            )
    urls = [str(u) for u in row.pop("transcript_s3_urls") or []]
    return row, urls


# --- knowledge-base links -------------------------------------------------------------------------------

_KB_SESSION_CTE = """
    sess AS (
        SELECT s.id, s.org_id, s.status, public.can_manage_voice_session(s.id) AS can_manage
        FROM public.voice_sessions s WHERE s.id = %(sid)s
    )"""


def list_kb_links(
    principal: Principal, session_id: uuid.UUID, page: Page
) -> tuple[list[dict[str, Any]], int]:
    """A session's knowledge bases with their names, oldest link first."""
    with user_tx(principal) as cur:
        cur.execute(
            """SELECT s.id AS sid,
                      (SELECT count(*) FROM public.voice_session_kb k WHERE k.session_id = s.id) AS total,
                      l.*
               FROM public.voice_sessions s
               LEFT JOIN LATERAL (
                   SELECT k.id, k.session_id, k.kb_id, b.name AS kb_name, k.is_enabled, k.added_at, k.added_by
                   FROM public.voice_session_kb k
                   LEFT JOIN public.kb_bases b ON b.id = k.kb_id
                   WHERE k.session_id = s.id
                   ORDER BY k.added_at, k.id
                   LIMIT %(limit)s OFFSET %(offset)s
               ) l ON true
               WHERE s.id = %(sid)s
               ORDER BY l.added_at, l.id""",
            {"sid": session_id, "limit": page.limit, "offset": page.offset},
        )
        rows = cur.fetchall()
    if not rows:
        raise _session_not_found(session_id)
    links = [KbLink.model_validate(r).dump() for r in rows if r["id"] is not None]
    return links, int(rows[0]["total"])


def add_kb_link(principal: Principal, session_id: uuid.UUID, body: KbLinkCreate) -> dict[str, Any]:
    """Link a knowledge base of the session's org (creator or org admin; pending sessions only)."""
    with user_tx(principal) as cur:
        cur.execute(
            f"""WITH {_KB_SESSION_CTE},
                kb AS (
                    SELECT b.id, b.name FROM public.kb_bases b JOIN sess ON b.org_id = sess.org_id
                    WHERE b.id = %(kb)s
                ), ins AS (
                    INSERT INTO public.voice_session_kb AS k (session_id, kb_id, is_enabled, added_by)
                    SELECT sess.id, kb.id, %(enabled)s, auth.uid() FROM sess CROSS JOIN kb
                    WHERE sess.can_manage AND sess.status = 'pending'
                    ON CONFLICT (session_id, kb_id) DO NOTHING
                    RETURNING k.id, k.session_id, k.kb_id, k.is_enabled, k.added_at, k.added_by
                )
                SELECT sess.status, sess.can_manage, kb.id IS NOT NULL AS kb_found, kb.name AS kb_name, ins.*
                FROM sess LEFT JOIN kb ON true LEFT JOIN ins ON true""",
            {"sid": session_id, "kb": body.kb_id, "enabled": body.is_enabled},
        )
        row = cur.fetchone()
    if row is None:
        raise _session_not_found(session_id)
    if row["id"] is None:
        _check_kb_write(row, session_id)
        if not row["kb_found"]:
            raise NotFoundError(
                f"Knowledge base {body.kb_id} not found in this organization", code="KB_NOT_FOUND"
            )
        raise ConflictError("This knowledge base is already linked to the session", code="KB_ALREADY_LINKED")
    return KbLink.model_validate(row).dump()


def update_kb_link(
    principal: Principal, session_id: uuid.UUID, kb_id: uuid.UUID, body: KbLinkUpdate
) -> dict[str, Any]:
    """Enable or disable a linked knowledge base (creator or org admin; pending sessions only)."""
    with user_tx(principal) as cur:
        cur.execute(
            f"""WITH {_KB_SESSION_CTE},
                upd AS (
                    UPDATE public.voice_session_kb AS k SET is_enabled = %(enabled)s
                    FROM sess
                    WHERE k.session_id = sess.id AND k.kb_id = %(kb)s
                      AND sess.can_manage AND sess.status = 'pending'
                    RETURNING k.id, k.session_id, k.kb_id, k.is_enabled, k.added_at, k.added_by
                )
                SELECT sess.status, sess.can_manage,
                       EXISTS (SELECT 1 FROM public.voice_session_kb k
                                WHERE k.session_id = sess.id AND k.kb_id = %(kb)s) AS link_found,
                       (SELECT b.name FROM public.kb_bases b WHERE b.id = %(kb)s) AS kb_name,
                       upd.*
                FROM sess LEFT JOIN upd ON true""",
            {"sid": session_id, "kb": kb_id, "enabled": body.is_enabled},
        )
        row = cur.fetchone()
    if row is None:
        raise _session_not_found(session_id)
    if row["id"] is None:
        _require_link(row, kb_id)
        _check_kb_write(row, session_id)
    return KbLink.model_validate(row).dump()


def remove_kb_link(principal: Principal, session_id: uuid.UUID, kb_id: uuid.UUID) -> dict[str, Any]:
    """Unlink a knowledge base (creator or org admin; pending sessions only)."""
    with user_tx(principal) as cur:
        cur.execute(
            f"""WITH {_KB_SESSION_CTE},
                del AS (
                    DELETE FROM public.voice_session_kb AS k USING sess
                    WHERE k.session_id = sess.id AND k.kb_id = %(kb)s
                      AND sess.can_manage AND sess.status = 'pending'
                    RETURNING k.id
                )
                SELECT sess.status, sess.can_manage,
                       EXISTS (SELECT 1 FROM public.voice_session_kb k
                                WHERE k.session_id = sess.id AND k.kb_id = %(kb)s) AS link_found,
                       del.id
                FROM sess LEFT JOIN del ON true""",
            {"sid": session_id, "kb": kb_id},
        )
        row = cur.fetchone()
    if row is None:
        raise _session_not_found(session_id)
    if row["id"] is None:
        _require_link(row, kb_id)
        _check_kb_write(row, session_id)
    return {"sessionId": str(session_id), "kbId": str(kb_id), "deleted": True}


# --- helpers --------------------------------------------------------------------------------------------


def _session_not_found(session_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(f"Voice session {session_id} not found", code="SESSION_NOT_FOUND")


def _check_refs(row: dict[str, Any], config_id: uuid.UUID | None, workspace_id: uuid.UUID | None) -> None:
    """Explain why a write that sets config/workspace matched nothing."""
    if config_id is not None and row.get("config_active") is None:
        raise NotFoundError(
            f"Voice configuration {config_id} not found in this organization",
            code="CONFIG_NOT_FOUND",
            details=[{"field": "configId", "message": "not found"}],
        )
    if config_id is not None and not row.get("config_active"):
        raise ConflictError(
            f"Voice configuration {config_id} is inactive; only active configurations can be used "
            "for new sessions",
            code="CONFIG_INACTIVE",
            details=[{"field": "configId", "message": "inactive"}],
        )
    if workspace_id is not None and not row.get("workspace_found"):
        raise NotFoundError(
            f"Workspace {workspace_id} not found in this organization",
            code="WORKSPACE_NOT_FOUND",
            details=[{"field": "workspaceId", "message": "not found"}],
        )
    raise ConflictError("The session changed concurrently; retry", code="CONCURRENT_UPDATE")


def _explain_session_denied(cur: Cursor, session_id: uuid.UUID, *, action: str) -> str:
    """After a write matched no session: 404 if the caller cannot see it, 403 if they may not change it;
    otherwise its status (the write was refused because of it)."""
    cur.execute(
        "SELECT s.status, public.can_manage_voice_session(s.id) AS can_manage "
        "FROM public.voice_sessions s WHERE s.id = %s",
        (session_id,),
    )
    row = cur.fetchone()
    if row is None:
        raise _session_not_found(session_id)
    if not row["can_manage"]:
        raise ForbiddenError(
            f"Only the session's creator or an org admin may {action} it", code="SESSION_MANAGE_DENIED"
        )
    status: str = row["status"]
    return status


def _check_kb_write(row: dict[str, Any], session_id: uuid.UUID) -> None:
    if not row["can_manage"]:
        raise ForbiddenError(
            "Only the session's creator or an org admin may change its knowledge bases",
            code="SESSION_MANAGE_DENIED",
        )
    if row["status"] != "pending":
        raise ConflictError(
            f"Knowledge bases can only be changed while the session is pending (it is {row['status']})",
            code="SESSION_NOT_PENDING",
        )


def _require_link(row: dict[str, Any], kb_id: uuid.UUID) -> None:
    if not row["link_found"]:
        raise NotFoundError(f"Knowledge base {kb_id} is not linked to this session", code="KB_LINK_NOT_FOUND")
