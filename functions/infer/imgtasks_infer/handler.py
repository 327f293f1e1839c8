"""Lambda entry point of the infer function: claim and read each record (partial batch failures
from Powertools' BatchProcessor, each body parsed by `TaskMessageRecord`), then run the models once
over the batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.queue_records import PoisonDroppingBatchProcessor, TaskMessageRecord
from imgtasks.observability import logger, metrics
from imgtasks.settings import InferSettings
from imgtasks.wiring import Wiring

from .model_cache import ModelCache
from .worker import InferWorker, Job

processor = PoisonDroppingBatchProcessor(model=TaskMessageRecord)
_worker: InferWorker | None = None


def worker() -> InferWorker:
    """Built on the first batch of a container (cold start); models load on first use."""
    global _worker
    if _worker is None:
        settings = InferSettings()  # type: ignore[call-arg]
        wiring = Wiring(settings)
        _worker = InferWorker(
            wiring.files,
            wiring.store,
            wiring.lifecycle,
            ModelCache(wiring.model_registry, Path(settings.model_cache_dir)),
            max_pixels=settings.max_image_pixels,
        )
    return _worker


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    jobs: list[Job] = []

    def record_handler(record: TaskMessageRecord) -> None:
        job = worker().prepare(record.body, record.messageId, int(record.attributes.ApproximateReceiveCount))
        if job is not None:
            jobs.append(job)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    retry = worker().run(jobs)
    response["batchItemFailures"] = [*response.get("batchItemFailures", []), *({"itemIdentifier": m} for m in retry)]
    return response
