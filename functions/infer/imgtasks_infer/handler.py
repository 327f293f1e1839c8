"""Lambda entry point of the infer function.

No model is registered yet, so the API refuses every infer task (400, listing the valid model
ids: none) and nothing reaches this queue in normal operation. A message that does arrive marks
its task failed with `model_unavailable` rather than leaving it queued."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks import aws
from imgtasks.clock import now_rfc3339
from imgtasks.errors import Conflict, NotFound
from imgtasks.models import TaskError, TaskStatus
from imgtasks.observability import logger, metrics, tracer
from imgtasks.queues import parse_task_message
from imgtasks.repositories import TaskRepository
from imgtasks.settings import FunctionSettings

processor = BatchProcessor(event_type=EventType.SQS)
_tasks: TaskRepository | None = None


def tasks() -> TaskRepository:
    global _tasks
    if _tasks is None:
        _tasks = TaskRepository(aws.table(FunctionSettings().table_name))  # type: ignore[call-arg]
    return _tasks


def record_handler(record: SQSRecord) -> None:
    message = parse_task_message(record.body)
    if message is None:
        logger.error("unexpected message dropped", extra={"message_id": record.message_id})
        return
    error = TaskError(code="model_unavailable", message="no inference model is registered in this deployment")
    try:
        tasks().transition(
            message.owner_id,
            message.task_id,
            TaskStatus.FAILED,
            changes={"error": error.model_dump(), "completed_at": now_rfc3339()},
            sources=frozenset({TaskStatus.QUEUED}),
            run=message.run,
        )
    except (Conflict, NotFound):
        logger.info("infer message skipped: the task moved on", extra={"task_id": message.task_id})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
