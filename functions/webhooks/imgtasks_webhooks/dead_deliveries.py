"""The dead-delivery function: webhook delivery messages the delivery function crashed or timed out
on in MaxReceiveCount deliveries (the webhook dead-letter queue) are recorded as failed attempts
in their endpoint's delivery log (GET /webhooks/{id}/deliveries), where the endpoint's owner looks,
instead of waiting unseen in the queue for 14 days. A dead letter that cannot even be parsed is
logged once and dropped (PoisonDroppingBatchProcessor)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor
from imgtasks.observability import logger, metrics
from imgtasks.wiring import wiring

from .delivery import DeliveryMessageRecord

dead_deliveries = PoisonDroppingBatchProcessor(model=DeliveryMessageRecord)


def delivery_died(record: DeliveryMessageRecord) -> None:
    wiring().webhooks.delivery_died(record.body)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=delivery_died, processor=dead_deliveries, context=context
    )
