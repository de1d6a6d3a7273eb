"""Analytics routes: a session's scoring (org members), regenerate (org admins), org statistics (org
members). See docs/api/analytics.md."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from access_common.app import principal
from access_common.models import CamelResponse
from access_common.responses import ok
from voice_common import analytics as service

router = Router()


class AnalyticsPending(CamelResponse):
    """A session with no analytics row yet."""

    session_id: uuid.UUID
    org_id: uuid.UUID
    session_status: str
    status: str


class Analytics(AnalyticsPending):
    id: uuid.UUID
    transcript_id: uuid.UUID | None
    error: str | None
    overall_score: float | None
    category_scores: dict[str, Any]
    strengths: list[str]
    weaknesses: list[str]
    recommendations: list[str]
    key_moments: list[Any]
    detailed_analysis: Any
    metrics: dict[str, Any]
    model_used: str | None
    processing_time_ms: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RegenerateAccepted(CamelResponse):
    session_id: uuid.UUID
    org_id: uuid.UUID
    status: str
    previous_status: str
    regenerate: bool


class OrgStats(CamelResponse):
    org_id: uuid.UUID
    total_sessions: int
    completed_sessions: int
    avg_duration_seconds: int | None
    avg_score: float | None
    sessions_this_month: int
    sessions_by_status: dict[str, int]


@router.get("/api/voice/analytics/<sessionId>", summary="Get the analytics of a session")
def get_analytics(session_id: Annotated[uuid.UUID, Path(alias="sessionId")]) -> Response[str]:
    """The session's analytics; ``status: "not_started"`` when nothing has been queued yet."""
    row = service.get_analytics(principal(router), session_id)
    model = AnalyticsPending if row["status"] == service.NOT_STARTED else Analytics
    return ok(model.model_validate(row).dump())


@router.post("/api/voice/analytics/<sessionId>/regenerate", summary="Queue the analysis again (org admin)")
def regenerate_analytics(session_id: Annotated[uuid.UUID, Path(alias="sessionId")]) -> Response[str]:
    """Queue the analysis again (org admins); 202, the result appears on GET when the job is done."""
    accepted = service.request_regeneration(principal(router), session_id)
    return ok(RegenerateAccepted.model_validate(accepted).dump(), status=202)


@router.get("/api/voice/stats", summary="Session statistics of an organization")
def org_stats(
    org_id: Annotated[uuid.UUID, Query(alias="orgId", description="Organization id")],
) -> Response[str]:
    """Session statistics of an org (org members)."""
    return ok(OrgStats.model_validate(service.org_stats(principal(router), org_id)).dump())
