"""The process function: process tasks on images, from the process queue. Claim, render
(imgtasks_imaging), store the outputs, record the result, through the task lifecycle's one
claim -> work -> complete | fail | retry (permanent errors fail at once; anything else is retried
by SQS, and the last delivery fails the task with retries_exhausted).

Duplicate deliveries do the work once: Powertools Idempotency keyed on the task and its run (a
concurrent duplicate waits and is retried; a late one gets the stored result), and output keys
and file ids that are the same for the same run, so even a second execution overwrites, never
adds. The video function (imgtasks_workers.video) runs the same runner with FFmpeg's renderer."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

import imgtasks_imaging as imaging
from imgtasks.adapters import metering
from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.ids import output_file_id
from imgtasks.domain.inspection import CONTENT_TYPES, EXTENSIONS
from imgtasks.domain.messages import TaskMessage
from imgtasks.domain.records import FileRecord, FileStatus
from imgtasks.kinds.base import TaskKind
from imgtasks.kinds.process import PROCESS, OutputFile, ProcessResult, ProcessSpec, ProcessTask, SourceImage
from imgtasks.observability import logger, metrics
from imgtasks.services.lifecycle import TaskLifecycle
from imgtasks.settings import ProcessSettings
from imgtasks.wiring import Wiring

from .batches import handle_batch

IDEMPOTENCY_KEY = "[task_id, run]"
# Progress is written when this long has passed since the last write (a write per step would
# cost a quick image task more than its pixels do), and for a video also whenever it has moved
# this far, so a video task shows at least every tenth of its way.
PROGRESS_INTERVAL_S = 1.0
VIDEO_PROGRESS_STEP = 10

Progress = Callable[[int], None]
OnOutput = Callable[[imaging.Source, imaging.Rendered], None]


class ImageRenderer:
    """The process function's renderer: images, with Pillow."""

    def __init__(self, store: ObjectStore, limits: imaging.DecodeLimits) -> None:
        self._store = store
        self.limits = limits

    def use_context(self, context: LambdaContext) -> None:
        """The invocation it renders for (a video renderer watches its deadline)."""

    def render(
        self, source: FileRecord, spec: ProcessSpec, progress: Progress, on_output: OnOutput | None = None
    ) -> imaging.Rendering:
        """The rendering; `on_output` is told of each output as soon as it is made, where the
        renderer can tell (a renderer that cannot leaves them to the caller)."""
        if source.video is not None:
            raise RuntimeError("a video task reached the image worker; video tasks go to the video queue")
        return imaging.render(self._store.get(source.bucket, source.key), spec, self.limits, progress, on_output)


def source_image(found: imaging.Source) -> SourceImage:
    return SourceImage(
        format=found.format,
        width=found.width,
        height=found.height,
        frames=found.frames,
        size=found.size,
        duration=found.duration,
        metadata=found.metadata,
        **(found.look.model_dump() if found.look is not None else {}),
    )


class TaskRunner:
    def __init__(
        self,
        files: FileRepository,
        store: ObjectStore,
        lifecycle: TaskLifecycle,
        renderer: ImageRenderer,
        *,
        kind: TaskKind,
        results_bucket: str,
        idempotency: IdempotencyConfig,
        persistence: BasePersistenceLayer,
    ) -> None:
        self._files = files
        self._store = store
        self._lifecycle = lifecycle
        self._renderer = renderer
        self._kind = kind
        self._results_bucket = results_bucket
        self._idempotency = idempotency
        self._context: LambdaContext | None = None
        self._run = idempotent_function(
            data_keyword_argument="message", persistence_store=persistence, config=idempotency
        )(self._run_once)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """An in-progress idempotency record expires with this invocation's deadline, so a
        redelivery after a crash is not blocked longer than the function could have run."""
        self._idempotency.register_lambda_context(context)
        self._renderer.use_context(context)
        self._context = context

    def run(self, message: TaskMessage, receive_count: int) -> None:
        # Powertools saves the idempotency record after the task's last write: in its usage too.
        metering.will_call("dynamodb UpdateItem")
        self._run(message=message.model_dump(), receive_count=receive_count)

    def _run_once(self, message: dict[str, object], receive_count: int) -> None:
        parsed = TaskMessage.model_validate(message)
        context = self._context
        seconds_left = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
        self._lifecycle.run(
            parsed,
            receive_count,
            self._kind,
            ProcessTask,
            self._render,
            discard=self._discard,
            seconds_left=seconds_left,
        )

    def _render(self, task: ProcessTask) -> ProcessResult:
        source = self._files.get(task.file_id) if task.file_id else None
        if source is None or source.status != FileStatus.READY:
            raise PermanentTaskError(ErrorCode.FILE_MISSING, "the input file no longer exists or is not ready")
        for op in task.spec.overlays():
            if op.file_id is not None:
                op.attach_logo(self._overlay_logo(task, op.file_id))
        last_written = (time.monotonic(), 0)
        step = VIDEO_PROGRESS_STEP if source.video is not None else 101

        def progress(percent: int) -> None:
            nonlocal last_written
            now = time.monotonic()
            if now - last_written[0] >= PROGRESS_INTERVAL_S or percent - last_written[1] >= step:
                last_written = (now, percent)
                self._lifecycle.progress(task, percent)

        # A task with variants shows each output as soon as it is stored (the task's result grows,
        # its progress with it); a single output is the whole result, written when the task ends.
        stored: dict[str, OutputFile] = {}
        expected = len(task.spec.outputs())

        def output_made(found: imaging.Source, rendered: imaging.Rendered) -> None:
            stored[rendered.name] = self._store_output(task, source, rendered)
            # The last one is shown by the result the task completes with, a moment later.
            if 1 < expected != len(stored):
                partial = ProcessResult(outputs=list(stored.values()), source=source_image(found))
                self._lifecycle.output_ready(task, partial, 30 + 65 * len(stored) // expected)

        try:
            rendering = self._renderer.render(source, task.spec, progress, output_made)
            for rendered in rendering.outputs:
                if rendered.name not in stored:  # a renderer that made them all at once (video)
                    output_made(rendering.source, rendered)
        except Exception:
            # A task that fails keeps no outputs (the lifecycle clears its partial result); one
            # retried writes them again.
            self._discard_outputs(list(stored.values()))
            raise
        return ProcessResult(
            outputs=[stored[rendered.name] for rendered in rendering.outputs], source=source_image(rendering.source)
        )

    def _overlay_logo(self, task: ProcessTask, file_id: str) -> bytes:
        """An overlay's logo: an image file of the task's owner (checked again: it may have been
        deleted since the task was made)."""
        record = self._files.get(file_id)
        if record is None or record.owner_id != task.owner_id or record.status != FileStatus.READY or record.video:
            raise PermanentTaskError(
                ErrorCode.FILE_MISSING, f"the overlay's file '{file_id}' no longer exists or is not an image"
            )
        return self._store.get(record.bucket, record.key)

    def _store_output(self, task: ProcessTask, source: FileRecord, rendered: imaging.Rendered) -> OutputFile:
        file_id = output_file_id(task.id, task.run, rendered.name)
        extension = EXTENSIONS[rendered.format]
        key = f"results/{task.owner_id}/{task.id}/{task.run}/{rendered.name}.{extension}"
        guest = task.expires_at is not None
        self._store.put(self._results_bucket, key, rendered.data, CONTENT_TYPES[rendered.format], guest=guest)
        stem = source.filename.rsplit(".", 1)[0] or "image"
        suffix = "" if rendered.name == "default" else f"-{rendered.name}"
        if task.outbox:
            outbox_key = f"{task.outbox}{suffix}.{extension}"
            content_type = CONTENT_TYPES[rendered.format]
            self._store.put(self._results_bucket, outbox_key, rendered.data, content_type, guest=guest)
        self._files.put(
            FileRecord(
                id=file_id,
                owner_id=task.owner_id,
                filename=f"{stem}{suffix}.{extension}",
                content_type=CONTENT_TYPES[rendered.format],
                size=len(rendered.data),
                status=FileStatus.READY,
                bucket=self._results_bucket,
                key=key,
                created_at=now_rfc3339(),
                format=rendered.format,
                width=rendered.width,
                height=rendered.height,
                frames=rendered.frames,
                task_id=task.id,
                expires_at=task.expires_at,
                retain_until=task.expires_at,
            )
        )
        return OutputFile(
            name=rendered.name,
            file_id=file_id,
            format=rendered.format,
            width=rendered.width,
            height=rendered.height,
            frames=rendered.frames,
            size=len(rendered.data),
            bucket=self._results_bucket,
            key=key,
            auto_quality=rendered.auto_quality,
            **(rendered.look.model_dump() if rendered.look is not None else {}),
        )

    def _discard(self, result: ProcessResult) -> None:
        """Outputs of a task that moved on while it ran (cancelled, restarted, deleted)."""
        self._discard_outputs(result.outputs)

    def _discard_outputs(self, outputs: list[OutputFile]) -> None:
        for output in outputs:
            self._store.delete(output.bucket, [output.key])
            self._files.delete(output.file_id)


def build_runner(kind: TaskKind, make_renderer: Callable[[Wiring, imaging.DecodeLimits], ImageRenderer]) -> TaskRunner:
    settings = ProcessSettings()  # type: ignore[call-arg]
    wiring = Wiring(settings)
    limits = imaging.DecodeLimits(max_pixels=settings.max_image_pixels, max_frames=settings.max_image_frames)
    return TaskRunner(
        wiring.file_records,
        wiring.store,
        wiring.lifecycle,
        make_renderer(wiring, limits),
        kind=kind,
        results_bucket=settings.results_bucket,
        idempotency=IdempotencyConfig(
            event_key_jmespath=IDEMPOTENCY_KEY, expires_after_seconds=24 * 3600, raise_on_no_idempotency_key=True
        ),
        persistence=wiring.idempotency_store(settings.idempotency_table_name),
    )


@cache
def runner() -> TaskRunner:
    """Built on the first batch of a container (cold start) and kept for the next ones."""
    return build_runner(PROCESS, lambda wiring, limits: ImageRenderer(wiring.store, limits))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    runner().register_lambda_context(context)
    return handle_batch(event, context, "process", runner().run)
