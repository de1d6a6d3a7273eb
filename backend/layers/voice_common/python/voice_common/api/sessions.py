"""``/api/voice/sessions`` and ``/api/voice/sessions/{id}/kbs`` (docs/api/sessions.md).

Members list, read and create sessions; the creator or an org admin changes and deletes them and
manages their knowledge-base links. Side effects of a status change or a deletion (notifications,
room/bot teardown, erasure of archived transcripts) run after the transaction has committed, through
``voice_common.lifecycle``. ``POST /sessions/{id}/start`` lives in ``api.orchestration``.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BeforeValidator

from access_common.app import principal
from access_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from access_common.responses import ok
from voice_common import lifecycle, sessions
from voice_common.sessions import (
    KbLinkCreate,
    KbLinkUpdate,
    SessionCreate,
    SessionUpdate,
    SortBy,
    SortOrder,
    Status,
)

router = Router()

BASE = "/api/voice/sessions"
SessionId = Annotated[uuid.UUID, Path(description="Session id")]
KbId = Annotated[uuid.UUID, Path(alias="kbId", description="Knowledge base id (kb_bases.id)")]


def _snake(value: Any) -> Any:
    # sortBy=createdAt and sortBy=created_at name the same column.
    return re.sub(r"(?<!^)(?=[A-Z])", "_", value).lower() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@router.get(BASE, summary="List an organization's sessions")
def list_sessions(
    org_id: Annotated[uuid.UUID, Query(alias="orgId", description="Organization id")],
    status: Annotated[Status | None, Query(description="Only sessions in this status")] = None,
    interview_type: Annotated[str | None, Query(alias="interviewType", min_length=1, max_length=100)] = None,
    workspace_id: Annotated[uuid.UUID | None, Query(alias="workspaceId")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
    sort_by: Annotated[Annotated[SortBy, BeforeValidator(_snake)], Query(alias="sortBy")] = "created_at",
    sort_order: Annotated[Annotated[SortOrder, BeforeValidator(_lower)], Query(alias="sortOrder")] = "desc",
) -> Response[str]:
    page = Page(limit=limit, offset=offset)
    items, total = sessions.list_sessions(
        principal(router),
        org_id,
        page,
        status=status,
        interview_type=interview_type,
        workspace_id=workspace_id,
        sort_by=sort_by,
        sort_order=sort_order,
    )
    return ok(items, page=page, total=total)


@router.get(f"{BASE}/<id>", summary="Get a session (with the candidate's room token)")
def get_session(id: SessionId) -> Response[str]:
    return ok(sessions.get_session(principal(router), id))


@router.post(BASE, summary="Create a pending session")
def create_session(body: SessionCreate) -> Response[str]:
    return ok(sessions.create_session(principal(router), body), status=201)


@router.put(f"{BASE}/<id>", summary="Update candidate details (while pending) or the status")
def update_session(id: SessionId, body: SessionUpdate) -> Response[str]:
    data, row, old_status = sessions.update_session(principal(router), id, body)
    if row["status"] != old_status:
        lifecycle.on_status_changed(row, old_status, row["status"], body.reason)
    return ok(data)


@router.delete(f"{BASE}/<id>", summary="Delete a session that is not active, with its transcripts")
def delete_session(id: SessionId) -> Response[str]:
    row, archive_urls = sessions.delete_session(principal(router), id)
    lifecycle.on_session_deleted(row, archive_urls)
    return ok({"id": str(row["id"]), "deleted": True})


@router.get(f"{BASE}/<id>/kbs", summary="List a session's knowledge bases")
def list_kb_links(
    id: SessionId,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response[str]:
    page = Page(limit=limit, offset=offset)
    items, total = sessions.list_kb_links(principal(router), id, page)
    return ok(items, page=page, total=total)


@router.post(f"{BASE}/<id>/kbs", summary="Link a knowledge base of the session's organization")
def add_kb_link(id: SessionId, body: KbLinkCreate) -> Response[str]:
    return ok(sessions.add_kb_link(principal(router), id, body), status=201)


@router.put(f"{BASE}/<id>/kbs/<kbId>", summary="Enable or disable a linked knowledge base")
def update_kb_link(id: SessionId, kb_id: KbId, body: KbLinkUpdate) -> Response[str]:
    return ok(sessions.update_kb_link(principal(router), id, kb_id, body))


@router.delete(f"{BASE}/<id>/kbs/<kbId>", summary="Unlink a knowledge base")
def remove_kb_link(id: SessionId, kb_id: KbId) -> Response[str]:
    return ok(sessions.remove_kb_link(principal(router), id, kb_id))
