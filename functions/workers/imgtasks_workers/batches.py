"""A worker's Lambda handler over its queue: one SQS batch of task messages, each record parsed
by `TaskMessageRecord` (what no model can read is dropped), answered with partial batch failures
so one bad record never fails the others. Each record's work is metered for its task's usage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters import metering
from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor, TaskMessageRecord
from imgtasks.domain.messages import DISPATCH_USAGE_ATTRIBUTE, TaskMessage
from imgtasks.domain.usage import Requests, Usage
from imgtasks.observability import logger

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

processor = PoisonDroppingBatchProcessor(model=TaskMessageRecord)


def carried_usage(event: dict[str, Any], record: TaskMessageRecord, receive_count: int) -> Usage:
    """What a task message adds to its task's usage besides the worker's own work: Lambda's
    poller receiving the batch and deleting what succeeded (two SQS requests a batch, billed to
    the queue's owner though no code of ours makes them), and the dispatcher's share, from the
    message's attribute (counted once, with the first delivery; one that cannot be read is left
    out, never a reason to fail the task)."""
    polled = Usage(requests=Requests(sqs=2 / max(1, len(event.get("Records", [])))))
    attribute = record.messageAttributes.get(DISPATCH_USAGE_ATTRIBUTE)
    if receive_count != 1 or attribute is None or not attribute.stringValue:
        return polled
    try:
        return polled.plus(Usage.model_validate_json(attribute.stringValue))
    except ValueError:
        logger.warning("a task message's dispatch usage could not be read", extra={"task_id": record.body.task_id})
        return polled


def handle_batch(
    event: dict[str, Any], context: LambdaContext, function: str, run: Callable[[TaskMessage, int], None]
) -> PartialItemFailureResponse:
    """`run` takes each message with its delivery count (ApproximateReceiveCount); `function`
    names the worker in the tasks' usage."""

    def record_handler(record: TaskMessageRecord) -> None:
        receive_count = int(record.attributes.ApproximateReceiveCount)
        with metering.task_attempt(function, carried_usage(event, record, receive_count)):
            run(record.body, receive_count)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
