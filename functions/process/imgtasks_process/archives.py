"""Lambda entry point of the archive function: one archive task at a time from the archive queue,
claimed, built (imgtasks.services.archives: the outputs of the caller's done tasks streamed into
one ZIP in the results bucket) and completed. A failure is retried by SQS; the last delivery fails
the task with retries_exhausted (imgtasks.services.lifecycle), as for every task. A repeated
delivery writes the same key and file id: it overwrites, never adds."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor, TaskMessageRecord
from imgtasks.observability import logger, metrics
from imgtasks.wiring import shared_wiring

processor = PoisonDroppingBatchProcessor(model=TaskMessageRecord)


def record_handler(record: TaskMessageRecord) -> None:
    wiring = shared_wiring()
    lifecycle = wiring.lifecycle
    task = lifecycle.claim(record.body)
    if task is None:
        logger.info("archive message skipped: the task moved on", extra={"task_id": record.body.task_id})
        return
    try:
        result = wiring.archives.build(task)
    except Exception as error:
        lifecycle.retry_or_fail(task, error, int(record.attributes.ApproximateReceiveCount))
        return
    if not lifecycle.complete(task, result):
        # Cancelled, restarted or deleted while it ran: the archive belongs to nobody.
        wiring.store.delete(result.archive.bucket, [result.archive.key])
        wiring.files.delete(result.archive.file_id)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
