"""Lambda entry point of the process and video functions: one SQS batch of task messages from the
process queue (or the video queue: the video function runs this handler with FFmpeg's layer),
each parsed by `TaskMessageRecord`, answered with partial batch failures so one bad record never
fails the others."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters import aws
from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor, TaskMessageRecord
from imgtasks.observability import logger, metrics
from imgtasks.settings import ProcessSettings
from imgtasks.wiring import Wiring

from .imaging import DecodeLimits
from .runner import IDEMPOTENCY_KEY, TaskRunner

processor = PoisonDroppingBatchProcessor(model=TaskMessageRecord)
_runner: TaskRunner | None = None


def runner() -> TaskRunner:
    """Built on the first batch of a container (cold start) and kept for the next ones."""
    global _runner
    if _runner is None:
        settings = ProcessSettings()  # type: ignore[call-arg]
        wiring = Wiring(settings)
        idempotency_config = IdempotencyConfig(
            event_key_jmespath=IDEMPOTENCY_KEY, expires_after_seconds=24 * 3600, raise_on_no_idempotency_key=True
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table_name, boto3_client=aws.client("dynamodb")
        )
        _runner = TaskRunner(
            wiring.files,
            wiring.store,
            wiring.lifecycle,
            results_bucket=settings.results_bucket,
            limits=DecodeLimits(max_pixels=settings.max_image_pixels, max_frames=settings.max_image_frames),
            video_limits=wiring.limits.video,
            idempotency=(persistence, idempotency_config),
        )
    return _runner


def record_handler(record: TaskMessageRecord) -> None:
    runner().run(record.body, int(record.attributes.ApproximateReceiveCount))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # An in-progress idempotency record expires with this invocation's deadline, so a redelivery
    # after a crash is not blocked longer than the function could have run.
    runner().register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
