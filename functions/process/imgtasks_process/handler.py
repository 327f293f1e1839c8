"""Lambda entry point of the process function: one SQS batch of task messages and S3 events,
answered with partial batch failures so one bad record never fails the others."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks import aws
from imgtasks.files import FileService
from imgtasks.files import Limits as FileLimits
from imgtasks.observability import logger, metrics, tracer
from imgtasks.queues import TaskQueue, parse_task_message
from imgtasks.repositories import FileRepository, TaskRepository
from imgtasks.storage import ObjectStore
from imgtasks.tasks import TaskService

from .imaging import Limits as EngineLimits
from .runner import RunnerConfig, TaskRunner
from .settings import ProcessSettings

processor = BatchProcessor(event_type=EventType.SQS)


@dataclass(frozen=True)
class Worker:
    runner: TaskRunner
    files: FileService
    tasks: TaskService

    def handle(self, record: SQSRecord) -> None:
        message = parse_task_message(record.body)
        if message is not None:
            self.runner.handle(message, int(record.attributes.approximate_receive_count))
            return
        try:
            document = json.loads(record.body)
        except ValueError:
            logger.error("unreadable message dropped", extra={"message_id": record.message_id})
            return
        if not isinstance(document, dict):
            logger.error("unexpected message dropped", extra={"message_id": record.message_id})
        elif document.get("Event") == "s3:TestEvent":
            logger.info("S3 test event skipped", extra={"bucket": document.get("Bucket")})
        elif isinstance(document.get("Records"), list):
            for s3_record in document["Records"]:
                self._object_created(s3_record)
        else:
            logger.error("unexpected message dropped", extra={"message_id": record.message_id})

    def _object_created(self, s3_record: dict[str, Any]) -> None:
        if not str(s3_record.get("eventName", "")).startswith("ObjectCreated"):
            return
        s3_object = s3_record.get("s3", {}).get("object", {})
        key = unquote_plus(s3_object.get("key", ""))
        size = int(s3_object.get("size", 0))
        if key.startswith("uploads/"):
            record = self.files.finish_upload(key, size)
            if record is not None:
                logger.info("upload inspected", extra={"file_id": record.id, "status": record.status})
                self.tasks.file_finished(record)
        else:
            logger.warning("object outside the known prefixes skipped", extra={"key": key})


_worker: Worker | None = None


def worker() -> Worker:
    """Built on the first batch of a container (cold start) and kept for the next ones."""
    global _worker
    if _worker is None:
        settings = ProcessSettings()  # type: ignore[call-arg]
        table = aws.table(settings.table_name)
        store = ObjectStore(aws.client("s3"))
        files = FileRepository(table)
        tasks = TaskRepository(table)
        queue = TaskQueue(aws.client("sqs"), settings.process_queue_url, settings.infer_queue_url)
        file_limits = FileLimits(settings.max_upload_bytes, settings.max_image_pixels, settings.max_image_frames)
        config = RunnerConfig(
            results_bucket=settings.results_bucket,
            limits=EngineLimits(max_pixels=settings.max_image_pixels, max_frames=settings.max_image_frames),
            max_receive_count=settings.max_receive_count,
        )
        _worker = Worker(
            runner=TaskRunner(tasks, files, store, config),
            files=FileService(files, store, settings.uploads_bucket, file_limits),
            tasks=TaskService(tasks, files, queue, store),
        )
    return _worker


def record_handler(record: SQSRecord) -> None:
    worker().handle(record)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
