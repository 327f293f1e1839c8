"""Lambda entry point of the infer function: claim and read each record (partial batch failures
from Powertools' BatchProcessor), then run the models once over the batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks import aws
from imgtasks.model_registry import ModelRegistry
from imgtasks.observability import logger, metrics, tracer
from imgtasks.repositories import FileRepository, TaskRepository
from imgtasks.storage import ObjectStore

from .models import ModelCache
from .settings import InferSettings
from .worker import InferWorker, Job

processor = BatchProcessor(event_type=EventType.SQS)
_worker: InferWorker | None = None


def worker() -> InferWorker:
    """Built on the first batch of a container (cold start); models load on first use."""
    global _worker
    if _worker is None:
        settings = InferSettings()  # type: ignore[call-arg]
        table = aws.table(settings.table_name)
        registry = ModelRegistry(aws.client("s3"), settings.models_bucket)
        _worker = InferWorker(
            TaskRepository(table),
            FileRepository(table),
            ObjectStore(aws.client("s3")),
            ModelCache(registry, Path(settings.model_cache_dir)),
            max_pixels=settings.max_image_pixels,
            max_receive_count=settings.max_receive_count,
        )
    return _worker


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    jobs: list[Job] = []

    def record_handler(record: SQSRecord) -> None:
        job = worker().prepare(record)
        if job is not None:
            jobs.append(job)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    retry = worker().run(jobs)
    response["batchItemFailures"] = [*response.get("batchItemFailures", []), *({"itemIdentifier": m} for m in retry)]
    return response
