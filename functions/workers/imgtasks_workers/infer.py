"""The infer function: inference tasks from the infer queue. Claim each task of the SQS batch and
read its image, then run each model once over all the batch's images that need it (one batched
call when the model's batch axis is dynamic), then record every result.

Failures as for every task (the lifecycle's Attempt): a corrupt image or an unknown model fails
the task at once with a code; anything else is raised so SQS retries it, and the last delivery
fails the task with `retries_exhausted`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse, PartialItemFailures
from aws_lambda_powertools.utilities.typing import LambdaContext
from PIL import Image

from imgtasks.adapters import metering
from imgtasks.adapters.queue_records import TaskMessageRecord
from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.messages import TaskMessage
from imgtasks.domain.records import FileStatus, TaskError
from imgtasks.domain.usage import Usage
from imgtasks.kinds.infer import INFER, Detection, ImageClass, InferResult, InferTask, ModelUsed
from imgtasks.observability import logger, metrics
from imgtasks.services.lifecycle import Attempt, TaskLifecycle
from imgtasks.settings import InferSettings
from imgtasks.wiring import Wiring
from imgtasks_imaging.decode import decode
from imgtasks_imaging.model_input import prepare

from .batches import carried_usage, processor
from .inference.decoders import classify, detect
from .inference.model_cache import LoadedModel, ModelCache


@dataclass
class Job:
    message_id: str
    attempt: Attempt[InferTask]
    image: Image.Image
    models: dict[str, LoadedModel]  # "detection" / "classification" -> model
    image_class: ImageClass | None = None
    detections: list[Detection] = field(default_factory=list)
    error: TaskError | None = None
    # What its message carries to its usage (imgtasks.adapters.metering.TaskAttempt).
    carried: Usage | None = None


# Inference reads an animation's first frame only; the frame limit was the upload's to apply.
MAX_FRAMES = 10_000


def load_image(data: bytes, max_pixels: int) -> Image.Image:
    """The picture as the process worker sees it (imgtasks_imaging.decode: bounded, upright, 8 bits
    per channel, an animation's first frame), in RGB."""
    decoded = decode(data, max_pixels=max_pixels, max_frames=MAX_FRAMES, every_frame=lambda _: False)
    return decoded.frames.first.convert("RGB")


class InferWorker:
    def __init__(
        self,
        files: FileRepository,
        store: ObjectStore,
        lifecycle: TaskLifecycle,
        models: ModelCache,
        *,
        max_pixels: int,
    ) -> None:
        self._files = files
        self._store = store
        self._lifecycle = lifecycle
        self._models = models
        self._max_pixels = max_pixels

    # ------------------------------------------------------------ phase 1, per record
    def prepare(self, message: TaskMessage, message_id: str, receive_count: int) -> Job | None:
        attempt = self._lifecycle.attempt(message, receive_count, INFER, InferTask)
        if attempt is None:
            return None
        loaded = attempt.guarded(self._load)
        if loaded is None:
            return None
        models, image = loaded
        self._lifecycle.progress(attempt.task, 30)
        return Job(message_id, attempt, image, models)

    def _load(self, task: InferTask) -> tuple[dict[str, LoadedModel], Image.Image]:
        source = self._files.get(task.file_id) if task.file_id else None
        if source is None or source.status != FileStatus.READY:
            raise PermanentTaskError(ErrorCode.FILE_MISSING, "the input file no longer exists or is not ready")
        models = {}
        if task.spec.detection_model:
            models["detection"] = self._models.get(task.spec.detection_model)
        if task.spec.classification_model:
            models["classification"] = self._models.get(task.spec.classification_model)
        return models, load_image(self._store.get(source.bucket, source.key), self._max_pixels)

    # ------------------------------------------------------------ phase 2, per batch
    def run(self, jobs: list[Job]) -> list[str]:
        """Runs every model over its jobs and records the results; returns the message ids to
        retry (a transient error while recording)."""
        for kind in ("classification", "detection"):
            by_model: dict[tuple[str, str], list[Job]] = {}
            for job in jobs:
                if kind in job.models:
                    manifest = job.models[kind].manifest
                    by_model.setdefault((manifest.id, manifest.version), []).append(job)
            for group in by_model.values():
                self._infer(kind, group)
        retry = []
        # The batch's models ran once for all: each task takes an equal share of the invocation so
        # far, taken once (claim and progress were its two writes before its last).
        meter = metering.invocation_meter()
        shared = meter.usage(1 / len(jobs)) if meter is not None and jobs else None
        for job in jobs:
            try:
                if shared is None:
                    self._finish(job)
                    continue
                with metering.shared_attempt(job.carried, shared, task_writes=2):
                    self._finish(job)
            except Exception:
                logger.exception(
                    "result not recorded; the message will be retried", extra={"task_id": job.attempt.task.id}
                )
                retry.append(job.message_id)
        return retry

    def _infer(self, kind: str, jobs: list[Job]) -> None:
        model = jobs[0].models[kind]
        manifest = model.manifest
        prepared = [prepare(job.image, manifest) for job in jobs]
        input_name = model.session.get_inputs()[0].name
        output_names = [output.name for output in model.session.get_outputs()]
        started = time.perf_counter()
        try:
            if model.batchable:
                raw = model.session.run(None, {input_name: np.stack([tensor for tensor, _ in prepared])})
                per_image = [[output[index] for output in raw] for index in range(len(jobs))]
            else:
                per_image = [
                    [output[0] for output in model.session.run(None, {input_name: tensor[None]})]
                    for tensor, _ in prepared
                ]
        except Exception as error:
            for job in jobs:
                job.error = TaskError(code=ErrorCode.INFERENCE_FAILED, message=f"{manifest.id}: {error}")
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        metrics.add_metric(
            name="InferenceMillisecondsPerImage", unit=MetricUnit.Milliseconds, value=elapsed_ms / len(jobs)
        )
        for job, outputs, (_, placement) in zip(jobs, per_image, prepared, strict=True):
            if job.error is not None:
                continue
            if kind == "classification":
                job.image_class = ImageClass.model_validate(classify(outputs[0], manifest))
            else:
                found = detect(dict(zip(output_names, outputs, strict=True)), manifest, placement)
                job.detections = [Detection.model_validate(detection) for detection in found]

    def _finish(self, job: Job) -> None:
        if job.error is not None:
            job.attempt.fail(ErrorCode(job.error.code), job.error.message)
            return
        result = InferResult(
            image_class=job.image_class,
            detections=job.detections,
            models={kind: ModelUsed(id=m.manifest.id, version=m.manifest.version) for kind, m in job.models.items()},
        )
        job.attempt.complete(result)


@cache
def worker() -> InferWorker:
    """Built on the first batch of a container (cold start); models load on first use."""
    settings = InferSettings()  # type: ignore[call-arg]
    wiring = Wiring(settings)
    return InferWorker(
        wiring.file_records,
        wiring.store,
        wiring.lifecycle,
        ModelCache(wiring.model_registry, Path(settings.model_cache_dir)),
        max_pixels=settings.max_image_pixels,
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@metering.invocation("infer")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Every record prepared (claimed, its image read) first, then the models run once over the
    batch; a result that could not be recorded is a batch item failure, retried by SQS."""
    jobs: list[Job] = []

    def record_handler(record: TaskMessageRecord) -> None:
        receive_count = int(record.attributes.ApproximateReceiveCount)
        job = worker().prepare(record.body, record.messageId, receive_count)
        if job is not None:
            job.carried = carried_usage(event, record, receive_count)
            jobs.append(job)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    retry: list[PartialItemFailures] = [{"itemIdentifier": message_id} for message_id in worker().run(jobs)]
    response["batchItemFailures"] = [*response.get("batchItemFailures", []), *retry]
    return response
