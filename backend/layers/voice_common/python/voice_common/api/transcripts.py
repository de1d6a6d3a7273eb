"""Transcript routes: list and read (org members), delete (org admins). See docs/api/transcripts.md."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import field_validator

from access_common.app import principal
from access_common.models import CamelResponse
from access_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from access_common.responses import ok
from voice_common import transcripts as service

router = Router()


class Segment(CamelResponse):
    """One utterance; stored snake_case by the completion job, served camelCase."""

    seq: int | None = None
    speaker: str | None = None
    text: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    confidence: float | None = None


class TranscriptSummary(CamelResponse):
    id: uuid.UUID
    org_id: uuid.UUID
    session_id: uuid.UUID
    candidate_name: str | None
    interview_type: str | None
    summary: str | None
    word_count: int | None
    transcript_s3_url: str | None
    metadata: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: uuid.UUID
    updated_by: uuid.UUID | None


class Transcript(TranscriptSummary):
    transcript_text: str | None
    speaker_segments: list[Segment]

    @field_validator("speaker_segments", mode="before")
    @classmethod
    def _objects_only(cls, value: Any) -> Any:
        # The column is a JSON array written by the completion job; skip anything that is not a segment
        # rather than fail the whole read.
        return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


class TranscriptDeleted(CamelResponse):
    id: uuid.UUID
    session_id: uuid.UUID
    org_id: uuid.UUID
    deleted: bool
    segments_deleted: int
    archive_deletion_requested: bool


@router.get("/api/voice/transcripts", summary="List an organization's transcripts")
def list_transcripts(
    org_id: Annotated[uuid.UUID, Query(alias="orgId", description="Organization id")],
    session_id: Annotated[
        uuid.UUID | None, Query(alias="sessionId", description="Only this session's")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response[str]:
    """An org's transcripts, newest first, without text and segments (GET by id has them)."""
    page = Page(limit=limit, offset=offset)
    rows, total = service.list_transcripts(principal(router), org_id, session_id, page)
    return ok([TranscriptSummary.model_validate(r).dump() for r in rows], page=page, total=total)


@router.get("/api/voice/transcripts/<id>", summary="Get a transcript with text and segments")
def get_transcript(transcript_id: Annotated[uuid.UUID, Path(alias="id")]) -> Response[str]:
    """A transcript with its full text and speaker segments."""
    return ok(Transcript.model_validate(service.get_transcript(principal(router), transcript_id)).dump())


@router.delete("/api/voice/transcripts/<id>", summary="Delete a transcript and its archive (org admin)")
def delete_transcript(transcript_id: Annotated[uuid.UUID, Path(alias="id")]) -> Response[str]:
    """Delete a transcript and its S3 archive (org admins and owners)."""
    return ok(
        TranscriptDeleted.model_validate(service.delete_transcript(principal(router), transcript_id)).dump()
    )
