"""voice-worker: completion jobs from SQS (assemble, archive, analytics) and the scheduled retention run.

Logic lives in voice_common.completion (jobs, erasure) and voice_common.retention.
"""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from voice_common import completion, retention

logger = Logger(service="module-voice")
# A batch whose every record failed still answers with batchItemFailures (same redelivery as raising,
# but the response says which messages and why the invocation is not an error of the function itself).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if retention.is_retention_event(event):
        return retention.run_retention()
    # Partial batch failures: only the records that raised are returned to the queue.
    return process_partial_response(
        event=event, record_handler=completion.handle_record, processor=processor, context=context
    )
