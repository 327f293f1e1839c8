"""A worker's Lambda handler over its queue: one SQS batch of task messages, each record parsed
by `TaskMessageRecord` (what no model can read is dropped), answered with partial batch failures
so one bad record never fails the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor, TaskMessageRecord
from imgtasks.domain.messages import TaskMessage

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

processor = PoisonDroppingBatchProcessor(model=TaskMessageRecord)


def handle_batch(
    event: dict[str, Any], context: LambdaContext, run: Callable[[TaskMessage, int], None]
) -> PartialItemFailureResponse:
    """`run` takes each message with its delivery count (ApproximateReceiveCount)."""

    def record_handler(record: TaskMessageRecord) -> None:
        run(record.body, int(record.attributes.ApproximateReceiveCount))

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
