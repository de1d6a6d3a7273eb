"""``POST /api/voice/sessions/{id}/start``: Daily room + tokens, bot dispatch, session -> ready.

Idempotent: a repeated or concurrent start answers with the same room and never dispatches a second
bot (``alreadyStarted`` tells which call did the work). Logic: voice_common.orchestration.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from access_common.app import principal
from access_common.responses import ok

router = Router()


@router.post("/api/voice/sessions/<id>/start")
def start_session(session_id: Annotated[uuid.UUID, Path(alias="id")]) -> Response[str]:
    """Start a pending session: 200 with the room URL, the candidate's token, status and dispatch mode.

    429 at the org's concurrent-session limit; 502 when Daily or the dispatch is unavailable and 503 when
    ECS has no capacity (the session stays pending: retry); 409 for a finished session.
    """
    # Imported here: orchestration (dispatch, the Daily client, settings) is not part of the cold start of
    # the voice-sessions Lambda's other routes.
    from voice_common import orchestration as service

    return ok(service.start_session(principal(router), session_id).dump())
