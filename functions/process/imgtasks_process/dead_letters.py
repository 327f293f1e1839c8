"""Lambda entry points for the dead-letter queues: what no worker could finish in MaxReceiveCount
deliveries ends here, and nothing is left `running` or `pending` forever.

- `task_lambda_handler` (the process and infer dead-letter queues): a task message marks its task
  `failed` with `retries_exhausted`, unless it finished meanwhile.
- `upload_lambda_handler` (the upload-events dead-letter queue): an upload event marks its file
  `rejected` with `retries_exhausted` and fails the tasks waiting on it.

A dead letter that cannot even be parsed is logged once and dropped (PoisonDroppingBatchProcessor)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor, TaskMessageRecord
from imgtasks.observability import logger, metrics
from imgtasks.wiring import shared_wiring

from .upload_events import S3TestEvent, UploadEventRecord, object_key

dead_tasks = PoisonDroppingBatchProcessor(model=TaskMessageRecord)
dead_uploads = PoisonDroppingBatchProcessor(model=UploadEventRecord)


def task_died(record: TaskMessageRecord) -> None:
    shared_wiring().lifecycle.message_died(record.body)


def upload_died(record: UploadEventRecord) -> None:
    if isinstance(record.body, S3TestEvent):
        return
    found = shared_wiring()
    for s3_record in record.body.Records:
        key = object_key(s3_record)
        file = found.file_service.upload_died(key, found.settings.max_receive_count)
        if file is None:
            logger.info("dead upload event: no upload of ours", extra={"key": key})
            continue
        logger.warning("dead upload event", extra={"file_id": file.id, "status": file.status})
        found.task_service.file_finished(file)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def task_lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=task_died, processor=dead_tasks, context=context)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def upload_lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=upload_died, processor=dead_uploads, context=context)
