"""``POST /api/voice/preview``: hear a voice (or a saved configuration's voice and greeting) before an
interview uses it. Contract in docs/api/preview.md; logic in voice_common.preview."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from access_common import responses
from access_common.app import principal
from access_common.responses import ok
from voice_common import preview
from voice_common.integrations.tts import RetryLaterError
from voice_common.preview import PreviewRequest

router = Router()


@router.post(
    "/api/voice/preview",
    summary="Synthesize a short preview of a voice (org members)",
    description="Give voice + orgId, or configId; answers a presigned audioUrl (or audioBase64) of a WAV.",
)
def create_preview(body: PreviewRequest) -> Response[str]:
    return ok(preview.create_preview(principal(router), body))


@router.exception_handler(RetryLaterError)
def _retry_later(err: RetryLaterError) -> Response[str]:
    # 429s (ours and Cartesia's) tell the client when to try again.
    response = responses.error(err)
    response.headers["Retry-After"] = str(err.retry_after)
    return response
