"""Lambda entry points for the dead-letter queues: what no worker could finish in MaxReceiveCount
deliveries ends here, and nothing is left `running` or `pending` forever.

- `task_lambda_handler` (the process and infer dead-letter queues): a task message marks its task
  `failed` with `retries_exhausted`, unless it finished meanwhile.
- `upload_lambda_handler` (the upload-events dead-letter queue): an upload event marks its file
  `rejected` with `retries_exhausted` and fails the tasks waiting on it.

A dead letter that cannot even be parsed is logged and dropped: retrying it could never help, and
failing it would loop it in the dead-letter queue for the queue's whole retention."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from imgtasks.domain.messages import TaskMessage
from imgtasks.observability import logger, metrics
from imgtasks.settings import FunctionSettings
from imgtasks.wiring import Wiring

from .upload_events import UploadEvent, object_key

processor = BatchProcessor(event_type=EventType.SQS)
_wiring: Wiring | None = None


def wiring() -> Wiring:
    global _wiring
    if _wiring is None:
        _wiring = Wiring(FunctionSettings())  # type: ignore[call-arg]
    return _wiring


def task_died(record: SQSRecord) -> None:
    try:
        message = TaskMessage.model_validate_json(record.body)
    except ValidationError as error:
        extra = {"message_id": record.message_id, "reason": str(error)}
        logger.error("unreadable dead task message dropped", extra=extra)
        return
    wiring().lifecycle.message_died(message)


def upload_died(record: SQSRecord) -> None:
    try:
        event = UploadEvent.model_validate_json(record.body)
    except (ValidationError, ValueError, TypeError, AttributeError) as error:
        # Powertools' S3 record model runs a "before" validator that can raise on a body of the
        # wrong shape (such as {"s3": null}) before pydantic gets to report it.
        extra = {"message_id": record.message_id, "reason": str(error)}
        logger.error("unreadable dead upload event dropped", extra=extra)
        return
    found = wiring()
    for s3_record in event.Records:
        key = object_key(s3_record)
        file = found.file_service.upload_died(key, found.settings.max_receive_count)
        if file is None:
            logger.info("dead upload event: nothing to mark", extra={"key": key})
            continue
        logger.warning("upload rejected: inspection retries exhausted", extra={"file_id": file.id})
        found.task_service.file_finished(file)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def task_lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=task_died, processor=processor, context=context)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def upload_lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=upload_died, processor=processor, context=context)
