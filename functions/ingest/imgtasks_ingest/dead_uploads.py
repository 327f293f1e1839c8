"""The dead-upload function: upload events and fetches no worker could handle in MaxReceiveCount
deliveries (the upload-events and fetch dead-letter queues) reject their file with
`retries_exhausted` and fail the tasks waiting on it, so no file stays `pending` forever. A dead
letter that cannot even be parsed is logged once and dropped (PoisonDroppingBatchProcessor)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.queue_records import FetchMessageRecord, PoisonDroppingBatchProcessor
from imgtasks.observability import logger, metrics
from imgtasks.wiring import wiring

from .uploads import S3TestEvent, UploadEventRecord, object_key

# The fetch dead-letter queue's name holds its logical id (CloudFormation names it
# <stack>-FetchDeadLetterQueue-<suffix>).
FETCH_DEAD_LETTER_QUEUE = "FetchDeadLetterQueue"
dead_uploads = PoisonDroppingBatchProcessor(model=UploadEventRecord)
dead_fetches = PoisonDroppingBatchProcessor(model=FetchMessageRecord)


def upload_died(record: UploadEventRecord) -> None:
    if isinstance(record.body, S3TestEvent):
        return
    parts = wiring()
    for s3_record in record.body.Records:
        key = object_key(s3_record)
        file = parts.uploads.upload_died(key, parts.settings.max_receive_count)
        if file is None:
            logger.info("dead upload event: no upload of ours", extra={"key": key})
            continue
        logger.warning("dead upload event", extra={"file_id": file.id, "status": file.status})
        parts.tasks.file_finished(file)


def fetch_died(record: FetchMessageRecord) -> None:
    parts = wiring()
    file = parts.url_ingest.fetch_died(record.body.file_id, parts.settings.max_receive_count)
    if file is None:
        logger.info("dead fetch: the file is no longer pending", extra={"file_id": record.body.file_id})
        return
    logger.warning("dead fetch", extra={"file_id": file.id})
    parts.tasks.file_finished(file)


def _from_fetch_queue(record: dict[str, Any]) -> bool:
    return FETCH_DEAD_LETTER_QUEUE in str(record.get("eventSourceARN", "")).split(":")[-1]


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """A batch comes from one event source: the fetch dead-letter queue's, or the upload events'."""
    records = event.get("Records") or []
    if records and _from_fetch_queue(records[0]):
        return process_partial_response(event=event, record_handler=fetch_died, processor=dead_fetches, context=context)
    return process_partial_response(event=event, record_handler=upload_died, processor=dead_uploads, context=context)
