"""The dead-upload function: upload events no worker could handle in MaxReceiveCount deliveries
(the upload-events dead-letter queue) reject their file with `retries_exhausted` and fail the
tasks waiting on it, so no file stays `pending` forever. A dead letter that cannot even be parsed
is logged once and dropped (PoisonDroppingBatchProcessor)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor
from imgtasks.observability import logger, metrics
from imgtasks.wiring import wiring

from .uploads import S3TestEvent, UploadEventRecord, object_key

dead_uploads = PoisonDroppingBatchProcessor(model=UploadEventRecord)


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


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=upload_died, processor=dead_uploads, context=context)
