"""Lambda entry point of the dispatch function: the table's change stream in, task messages out,
and the tasks of a pending file that was deleted or expired failed.

Whenever a write leaves a task queued and not waiting for its file (created, restarted, or its
upload inspected), the task's message goes to its worker's queue (imgtasks.services.lifecycle's
`needs_dispatch`). The API and the upload function only write records; nothing writes a record
and then sends a message, so no half-failed pair can leave a task queued for ever. A send that
fails is reported as a batch item failure, and the stream delivers the record again. A message
sent twice is harmless: workers claim a task on its run once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.repositories import plain_item
from imgtasks.domain.records import FileRecord, FileStatus, Task
from imgtasks.observability import logger, metrics
from imgtasks.services.lifecycle import needs_dispatch
from imgtasks.wiring import shared_wiring

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def task_image(image: dict[str, Any] | None) -> Task | None:
    """A task from a stream image; None for any other item (users, files) or no image."""
    if not image or image.get("SK") != "TASK":
        return None
    return Task.from_item(image)


def pending_file_image(image: dict[str, Any] | None) -> FileRecord | None:
    if not image or image.get("SK") != "FILE" or image.get("status") != FileStatus.PENDING.value:
        return None
    return FileRecord.model_validate(plain_item(image))


def dispatch(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    if change is None:
        return
    if record.event_name == DynamoDBRecordEventName.REMOVE:
        gone = pending_file_image(change.old_image)
        if gone is not None and gone.waiting_task_ids:
            logger.info("pending file gone; failing its waiting tasks", extra={"file_id": gone.id})
            shared_wiring().task_service.file_gone(gone)
        return
    after = task_image(change.new_image)
    if after is not None and needs_dispatch(task_image(change.old_image), after):
        shared_wiring().task_queue.send([after])
        logger.info("task dispatched", extra={"task_id": after.id, "run": after.run, "type": after.type})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=dispatch, processor=processor, context=context)
