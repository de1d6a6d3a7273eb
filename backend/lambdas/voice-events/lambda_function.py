"""voice-events: ECS task state changes, the bot watchdog schedule and the pool pickup checks (SQS).

Logic lives in voice_common.events; this only adds the Powertools logging context and metrics flush.
"""

from typing import Any

from access_common.app import logger, metrics
from voice_common import events


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return events.handle(event, context)
