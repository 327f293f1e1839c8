"""The fetch function (URL ingest): one SQS batch of fetch messages, each a
file whose bytes are fetched from its URL, guarded against SSRF (imgtasks.adapters.outbound), and
streamed into its upload key. The upload's S3 event then inspects them as it does a presigned
upload's. A refused URL, a body past the limit or an error answer rejects the file at once (and
fails the tasks waiting on it); a network failure is noted on the file and retried by SQS (in 30 s,
then 2 minutes), and rejects the file on the last attempt."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.outbound import OutboundFailed
from imgtasks.adapters.queue_records import FetchMessageRecord, PoisonDroppingBatchProcessor
from imgtasks.observability import logger, metrics
from imgtasks.wiring import wiring

processor = PoisonDroppingBatchProcessor(model=FetchMessageRecord)
# After a failed attempt, the next one waits this long (by the attempt that failed).
FETCH_RETRY_DELAYS_S = (30, 120)


def record_handler(record: FetchMessageRecord) -> None:
    parts = wiring()
    attempt = int(record.attributes.ApproximateReceiveCount)
    retry_in_s = FETCH_RETRY_DELAYS_S[min(attempt, len(FETCH_RETRY_DELAYS_S)) - 1]
    try:
        rejected = parts.url_ingest.fetch(
            record.body.file_id,
            parts.outbound,
            attempt=attempt,
            attempts=parts.settings.max_receive_count,
            retry_in_s=retry_in_s,
        )
    except OutboundFailed:
        # Retried sooner than the queue's visibility timeout (sized for the longest fetch): an
        # unreachable server is asked again in 30 s, then 2 minutes.
        parts.sqs.change_message_visibility(
            QueueUrl=parts.settings.fetch_queue_url, ReceiptHandle=record.receiptHandle, VisibilityTimeout=retry_in_s
        )
        raise
    if rejected is not None:
        logger.info("fetch refused or failed", extra={"file_id": rejected.id, "error_code": rejected.error_code})
        parts.tasks.file_finished(rejected)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
