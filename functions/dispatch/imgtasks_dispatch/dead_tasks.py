"""The dead-letter function: task messages no worker could finish in MaxReceiveCount deliveries
(the process, video, infer and archive dead-letter queues) mark their task `failed` with
`retries_exhausted`, unless it finished meanwhile, so nothing is left `running` forever. A dead
letter that cannot even be parsed is logged once and dropped (PoisonDroppingBatchProcessor)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor, TaskMessageRecord
from imgtasks.observability import logger, metrics
from imgtasks.wiring import wiring

dead_tasks = PoisonDroppingBatchProcessor(model=TaskMessageRecord)


def task_died(record: TaskMessageRecord) -> None:
    wiring().lifecycle.message_died(record.body)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=task_died, processor=dead_tasks, context=context)
