"""How the workers read their queues: the record model of the task queues, and a batch processor
that drops what no model can read. A module of its own so the API, which only sends task
messages, does not import Powertools' parser and batch utilities."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import BatchTypeModels
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import ConfigDict, Json

from imgtasks.domain.messages import FetchMessage, TaskMessage
from imgtasks.observability import logger


class TaskMessageRecord(SqsRecordModel):
    """An SQS record of a task queue with its body parsed."""

    # Built on the first record, like the service's own models (imgtasks.domain.base).
    model_config = ConfigDict(defer_build=True)

    body: Json[TaskMessage]


class FetchMessageRecord(SqsRecordModel):
    """An SQS record of the fetch queue with its body parsed."""

    model_config = ConfigDict(defer_build=True)

    body: Json[FetchMessage]


class PoisonDroppingBatchProcessor(BatchProcessor):
    """Powertools' BatchProcessor for an SQS queue with one record model, except for a record its
    model cannot read: that is logged once, with its message id, and reported as handled, so SQS
    deletes it. Retrying could never make it readable, and failing it would send it round the
    queue and its dead-letter queue for their whole retention."""

    def __init__(self, model: BatchTypeModels) -> None:
        super().__init__(event_type=EventType.SQS, model=model)

    def _process_record(self, record: dict[str, Any]) -> Any:
        try:
            self._to_batch_type(record=record, event_type=self.event_type, model=self.model)
        except Exception as error:  # a validator may raise anything on a body of the wrong shape
            extra = {"message_id": record.get("messageId"), "reason": str(error)[:1000]}
            logger.error("unreadable message dropped", extra=extra)
            return self.success_handler(record=record, result=None)
        return super()._process_record(record)
