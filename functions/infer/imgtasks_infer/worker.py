"""Inference tasks: claim each task of the SQS batch and read its image, then run each model once
over all the batch's images that need it (one batched call when the model's batch axis is
dynamic), then record every result.

Failures as in the process function: a corrupt image or an unknown model fails the task at once
with a code; anything else is raised so SQS retries it, and the last delivery fails the task with
`retries_exhausted`."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import numpy as np
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from PIL import Image, ImageOps

from imgtasks import outcomes
from imgtasks.errors import PermanentTaskError
from imgtasks.inspection import inspect_image
from imgtasks.models import FileStatus, Task, TaskError, TaskStatus
from imgtasks.observability import logger, metrics
from imgtasks.queues import parse_task_message
from imgtasks.repositories import FileRepository, TaskRepository
from imgtasks.specs import InferSpec
from imgtasks.storage import ObjectStore

from .decoders import classify, detect
from .models import LoadedModel, ModelCache
from .preprocess import prepare


@dataclass
class Job:
    message_id: str
    task: Task
    image: Image.Image
    models: dict[str, LoadedModel]  # "detection" / "classification" -> model
    result: dict[str, object] = field(default_factory=lambda: {"image_class": None, "detections": []})


def load_image(data: bytes, max_pixels: int) -> Image.Image:
    inspect_image(data, max_pixels=max_pixels, max_frames=10_000)  # format and pixel limits before decoding
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        upright = ImageOps.exif_transpose(image) or image
        return upright.convert("RGB")
    except Exception as error:
        raise PermanentTaskError("invalid_image", "the image is truncated or corrupt and cannot be decoded") from error


class InferWorker:
    def __init__(
        self,
        tasks: TaskRepository,
        files: FileRepository,
        store: ObjectStore,
        models: ModelCache,
        *,
        max_pixels: int,
        max_receive_count: int,
    ) -> None:
        self._tasks = tasks
        self._files = files
        self._store = store
        self._models = models
        self._max_pixels = max_pixels
        self._max_receive_count = max_receive_count

    # ------------------------------------------------------------ phase 1, per record
    def prepare(self, record: SQSRecord) -> Job | None:
        message = parse_task_message(record.body)
        if message is None:
            logger.error("unexpected message dropped", extra={"message_id": record.message_id})
            return None
        task = self._tasks.get(message.task_id)
        if task is None or task.run != message.run or task.status not in (TaskStatus.QUEUED, TaskStatus.RUNNING):
            logger.info("infer message skipped", extra={"task_id": message.task_id})
            return None
        claimed = self._tasks.claim(task.owner_id, task.id, message.run)
        if claimed is None:
            return None
        receive_count = int(record.attributes.approximate_receive_count)
        try:
            spec = InferSpec.model_validate(claimed.spec)
            source = self._files.get(claimed.file_id)
            if source is None or source.status != FileStatus.READY:
                raise PermanentTaskError("file_missing", "the input file no longer exists or is not ready")
            models = {}
            if spec.detection_model:
                models["detection"] = self._models.get(spec.detection_model)
            if spec.classification_model:
                models["classification"] = self._models.get(spec.classification_model)
            image = load_image(self._store.get(source.bucket, source.key), self._max_pixels)
        except PermanentTaskError as error:
            self._fail(claimed, error.code, error.message)
            return None
        except Exception as error:
            outcomes.fail_if_last_delivery(self._tasks, claimed, error, receive_count, self._max_receive_count)
            return None
        self._tasks.set_progress(claimed.id, claimed.run, 30)
        return Job(record.message_id, claimed, image, models)

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
        for job in jobs:
            try:
                self._finish(job)
            except Exception:
                logger.exception("result not recorded; the message will be retried", extra={"task_id": job.task.id})
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
                job.result = {"error": TaskError(code="inference_failed", message=f"{manifest.id}: {error}")}
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        metrics.add_metric(
            name="InferenceMillisecondsPerImage", unit=MetricUnit.Milliseconds, value=elapsed_ms / len(jobs)
        )
        for job, outputs, (_, placement) in zip(jobs, per_image, prepared, strict=True):
            if "error" in job.result:
                continue
            if kind == "classification":
                job.result["image_class"] = classify(outputs[0], manifest)
            else:
                job.result["detections"] = detect(dict(zip(output_names, outputs, strict=True)), manifest, placement)

    def _finish(self, job: Job) -> None:
        error = job.result.get("error")
        if isinstance(error, TaskError):
            self._fail(job.task, error.code, error.message)
            return
        result = {
            **job.result,
            "models": {kind: {"id": m.manifest.id, "version": m.manifest.version} for kind, m in job.models.items()},
        }
        outcomes.complete(self._tasks, job.task, result)

    def _fail(self, task: Task, code: str, message: str) -> None:
        outcomes.fail(self._tasks, task, code, message)
