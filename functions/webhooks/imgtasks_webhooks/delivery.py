"""The webhook-delivery function: one delivery attempt per message of the
webhook queue (imgtasks.services.webhooks.WebhookService.deliver): signed, posted through the SSRF
guard with a 15 s timeout, recorded, and on failure scheduled again on the queue with the next
delay of WebhookRetryDelays."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ConfigDict, Json

from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor
from imgtasks.domain.webhooks import DeliveryMessage
from imgtasks.observability import logger, metrics
from imgtasks.wiring import wiring


class DeliveryMessageRecord(SqsRecordModel):
    model_config = ConfigDict(defer_build=True)

    body: Json[DeliveryMessage]


processor = PoisonDroppingBatchProcessor(model=DeliveryMessageRecord)


def record_handler(record: DeliveryMessageRecord) -> None:
    parts = wiring()
    parts.webhooks.deliver(record.body, parts.webhook_client)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
