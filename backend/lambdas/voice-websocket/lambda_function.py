"""voice-websocket: the live transcript WebSocket (API Gateway WebSocket API, routes on ``action``).

Routes ``$connect`` (user JWT or bot token in the ``token`` query parameter), ``$disconnect``,
``subscribe``, ``unsubscribe``, ``transcript`` (bot only), ``ping`` and ``$default`` (unknown actions).
All logic is in ``voice_common.realtime``; the message schema is docs/websocket.md.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger

from access_common.tracing import get_tracer, tracing_enabled

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "module-voice")
# The parent logger exists before voice_common's child loggers log, so they share its keys and format.
logger = Logger(service=SERVICE)

from voice_common import realtime  # noqa: E402


@realtime.metrics.log_metrics
def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return realtime.handle(event)


# X-Ray only where it is on (access_common.tracing): building the tracer costs ~300 ms of cold start.
_traced = (
    get_tracer().capture_lambda_handler(capture_response=False)(_handle) if tracing_enabled() else _handle
)
lambda_handler = logger.inject_lambda_context(clear_state=True)(_traced)
