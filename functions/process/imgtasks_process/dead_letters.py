"""Lambda entry point of the dead-letter function: what no worker could finish in
`maxReceiveCount` deliveries ends here, and nothing is left `running` or `pending` forever.

A task message marks its task `failed` with `retries_exhausted` (unless it finished meanwhile);
an upload event marks its file `rejected` and fails the tasks waiting on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks import aws, outcomes
from imgtasks.files import UPLOAD_PREFIX
from imgtasks.models import FileStatus, TaskStatus
from imgtasks.observability import logger, metrics, tracer
from imgtasks.queues import TaskMessage, TaskQueue, parse_task_message
from imgtasks.repositories import FileRepository, TaskRepository
from imgtasks.settings import FunctionSettings
from imgtasks.storage import ObjectStore
from imgtasks.tasks import TaskService

processor = BatchProcessor(event_type=EventType.SQS)


class DeadLetterSettings(FunctionSettings):
    process_queue_url: str
    infer_queue_url: str
    max_receive_count: int = 3


@dataclass(frozen=True)
class DeadLetters:
    tasks: TaskRepository
    files: FileRepository
    task_service: TaskService
    max_receive_count: int

    def handle(self, record: SQSRecord) -> None:
        message = parse_task_message(record.body)
        if message is not None:
            self._task_died(message)
            return
        try:
            document = json.loads(record.body)
        except ValueError:
            logger.error("unreadable dead letter dropped", extra={"message_id": record.message_id})
            return
        for s3_record in document.get("Records", []) if isinstance(document, dict) else []:
            key = unquote_plus(s3_record.get("s3", {}).get("object", {}).get("key", ""))
            if key.startswith(f"{UPLOAD_PREFIX}/"):
                self._upload_died(key)
            else:
                logger.error("dead S3 event dropped: nothing to mark", extra={"key": key})

    def _task_died(self, message: TaskMessage) -> None:
        task = self.tasks.get(message.task_id)
        if task is None or task.run != message.run:
            logger.info("dead task message: the task had moved on", extra={"task_id": message.task_id})
            return
        outcomes.fail(
            self.tasks,
            task,
            outcomes.RETRIES_EXHAUSTED,
            f"the task could not be completed in {self.max_receive_count} attempts",
            sources=frozenset({TaskStatus.QUEUED, TaskStatus.RUNNING}),
        )

    def _upload_died(self, key: str) -> None:
        file_id = key.rsplit("/", 1)[-1]
        record = self.files.finish_inspection(
            file_id,
            {
                "status": FileStatus.REJECTED.value,
                "error": f"the upload could not be inspected in {self.max_receive_count} attempts",
            },
        )
        if record is not None:
            logger.warning("upload rejected: inspection retries exhausted", extra={"file_id": file_id})
            self.task_service.file_finished(record)


_dead_letters: DeadLetters | None = None


def dead_letters() -> DeadLetters:
    global _dead_letters
    if _dead_letters is None:
        settings = DeadLetterSettings()  # type: ignore[call-arg]
        table = aws.table(settings.table_name)
        tasks, files = TaskRepository(table), FileRepository(table)
        queue = TaskQueue(aws.client("sqs"), settings.process_queue_url, settings.infer_queue_url)
        _dead_letters = DeadLetters(
            tasks, files, TaskService(tasks, files, queue, ObjectStore(aws.client("s3"))), settings.max_receive_count
        )
    return _dead_letters


def record_handler(record: SQSRecord) -> None:
    dead_letters().handle(record)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
