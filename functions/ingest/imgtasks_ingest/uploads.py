"""The upload function: S3 ObjectCreated events from the upload-events queue, parsed with
Powertools' S3 event models. An upload to uploads/ finishes its file (ready or
rejected) and starts or fails the tasks waiting on it; an object in inbox/ is an S3 drop-in."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import S3Model, S3RecordModel, SqsRecordModel
from aws_lambda_powertools.utilities.parser.models.s3 import (
    S3Bucket,
    S3Identity,
    S3Message,
    S3Object,
    S3OwnerIdentify,
    S3RequestParameters,
    S3ResponseElements,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Json

from imgtasks.adapters import metering
from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor
from imgtasks.observability import logger, metrics
from imgtasks.services.dropins import INBOX_PREFIX, DropIn, DropIns
from imgtasks.services.files import UPLOAD_PREFIX
from imgtasks.services.tasks import TaskService
from imgtasks.services.uploads import Uploads
from imgtasks.wiring import wiring


# Powertools' S3 event models, with the fields this function never reads made optional: AWS always
# sends them, the embedded emulator (moto) leaves them out, and an event must parse on both.
class EventBucket(S3Bucket):
    ownerIdentity: S3OwnerIdentify | None = None  # type: ignore[assignment]  # noqa: N815


class EventMessage(S3Message):
    bucket: EventBucket
    object: S3Object  # an ObjectCreated event always names its object


class ObjectCreatedRecord(S3RecordModel):
    userIdentity: S3Identity | None = None  # type: ignore[assignment]  # noqa: N815
    requestParameters: S3RequestParameters | None = None  # type: ignore[assignment]  # noqa: N815
    responseElements: S3ResponseElements | None = None  # type: ignore[assignment]  # noqa: N815
    s3: EventMessage


class UploadEvent(S3Model):
    Records: list[ObjectCreatedRecord]  # type: ignore[assignment]  # the records above, made lenient


class S3TestEvent(BaseModel):
    """What S3 sends once when a bucket's notifications are configured."""

    model_config = ConfigDict(extra="allow")

    Event: Literal["s3:TestEvent"]
    Bucket: str


class UploadEventRecord(SqsRecordModel):
    body: Json[UploadEvent | S3TestEvent]


def object_key(s3_record: ObjectCreatedRecord) -> str:
    """S3 URL-encodes keys in events (spaces as '+'); the emulator encodes slashes too."""
    return unquote_plus(s3_record.s3.object.key)


class UploadEvents:
    def __init__(self, files: Uploads, tasks: TaskService, dropins: DropIns) -> None:
        self._files = files
        self._tasks = tasks
        self._dropins = dropins

    def on_message(self, body: UploadEvent | S3TestEvent) -> None:
        if isinstance(body, S3TestEvent):
            logger.info("S3 test event skipped", extra={"bucket": body.Bucket})
            return
        for s3_record in body.Records:
            if s3_record.eventName.startswith("ObjectCreated"):
                self.on_object_created(s3_record)

    def on_object_created(self, s3_record: ObjectCreatedRecord) -> None:
        key = object_key(s3_record)
        size = int(s3_record.s3.object.size or 0)
        if key.startswith(f"{UPLOAD_PREFIX}/"):
            record = self._files.finish_upload(key, size)
            if record is not None:
                logger.info("upload inspected", extra={"file_id": record.id, "status": record.status})
                self._tasks.file_finished(record)
        elif key.startswith(INBOX_PREFIX):
            s3_object = s3_record.s3.object
            sequencer = str(s3_object.sequencer or s3_object.eTag or "")
            self._dropins.accept(DropIn(key, size, s3_record.eventTime.isoformat(), sequencer))
        else:
            logger.warning("object outside the known prefixes skipped", extra={"key": key})


processor = PoisonDroppingBatchProcessor(model=UploadEventRecord)


@cache
def upload_events() -> UploadEvents:
    """Built on the first batch of a container (cold start) and kept for the next ones."""
    return UploadEvents(wiring().uploads, wiring().tasks, wiring().dropins)


def record_handler(record: UploadEventRecord) -> None:
    # Metered per record: a drop-in's task takes what its record used (imgtasks.services.tasks).
    with metering.metered("upload"):
        upload_events().on_message(record.body)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
