"""Lambda entry point of the process function: one SQS batch of task messages and S3 events,
answered with partial batch failures so one bad record never fails the others."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks import aws
from imgtasks.dropins import INBOX_PREFIX, DropIn, DropIns
from imgtasks.files import FileService
from imgtasks.files import Limits as FileLimits
from imgtasks.observability import logger, metrics, tracer
from imgtasks.queues import TaskQueue, parse_task_message
from imgtasks.repositories import FileRepository, TaskRepository, UserRepository
from imgtasks.storage import ObjectStore
from imgtasks.tasks import TaskService

from .imaging import Limits as EngineLimits
from .runner import IDEMPOTENCY_KEY, RunnerConfig, TaskRunner
from .settings import ProcessSettings

processor = BatchProcessor(event_type=EventType.SQS)


@dataclass(frozen=True)
class Worker:
    runner: TaskRunner
    files: FileService
    tasks: TaskService
    dropins: DropIns
    idempotency_config: IdempotencyConfig

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
        elif key.startswith(INBOX_PREFIX):
            sequencer = str(s3_object.get("sequencer") or s3_object.get("eTag") or "")
            self.dropins.accept(DropIn(key, size, str(s3_record.get("eventTime", "")), sequencer))
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
        idempotency_config = IdempotencyConfig(
            event_key_jmespath=IDEMPOTENCY_KEY, expires_after_seconds=24 * 3600, raise_on_no_idempotency_key=True
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table_name, boto3_client=aws.client("dynamodb")
        )
        task_service = TaskService(tasks, files, queue, store)
        _worker = Worker(
            runner=TaskRunner(tasks, files, store, config, (persistence, idempotency_config)),
            files=FileService(files, store, settings.uploads_bucket, file_limits),
            tasks=task_service,
            dropins=DropIns(
                UserRepository(table), files, store, task_service, bucket=settings.uploads_bucket, limits=file_limits
            ),
            idempotency_config=idempotency_config,
        )
    return _worker


def record_handler(record: SQSRecord) -> None:
    worker().handle(record)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # An in-progress idempotency record expires with this invocation's deadline, so a redelivery
    # after a crash is not blocked longer than the function could have run.
    worker().idempotency_config.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
