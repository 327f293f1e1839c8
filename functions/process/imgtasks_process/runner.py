"""Runs one process task: claim it, render, store the outputs, record the result.

Permanent errors (a corrupt image, a limit) fail the task at once. Anything else is raised so SQS
retries the message; on the last delivery the task is failed with `retries_exhausted` instead, so
no task stays `running` when its message goes to the dead-letter queue (and if the worker dies on
that delivery, the dead-letter function does it).

Duplicate deliveries do the work once: Powertools Idempotency keyed on the task and its run (a
concurrent duplicate waits and is retried; a late one gets the stored result), and output keys and
file ids that are the same for the same run, so even a second execution overwrites, never adds."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.repositories import FileRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.ids import output_file_id
from imgtasks.domain.inspection import CONTENT_TYPES, EXTENSIONS
from imgtasks.domain.limits import VideoLimits
from imgtasks.domain.messages import TaskMessage
from imgtasks.domain.presets import resolve
from imgtasks.domain.records import FileRecord, FileStatus, Task
from imgtasks.domain.results import OutputFile, ProcessResult, SourceImage
from imgtasks.domain.specs import ProcessSpec
from imgtasks.observability import logger
from imgtasks.services.lifecycle import TaskLifecycle

from . import imaging

IDEMPOTENCY_KEY = "[task_id, run]"
# Progress is written when this long has passed since the last write (a write per step would
# cost a quick image task more than its pixels do), and for a video also whenever it has moved
# this far, so a video task shows at least every tenth of its way.
PROGRESS_INTERVAL_S = 1.0
VIDEO_PROGRESS_STEP = 10


class TaskRunner:
    def __init__(
        self,
        files: FileRepository,
        store: ObjectStore,
        lifecycle: TaskLifecycle,
        *,
        results_bucket: str,
        limits: imaging.DecodeLimits,
        video_limits: VideoLimits | None = None,
        idempotency: tuple[BasePersistenceLayer, IdempotencyConfig] | None = None,
    ) -> None:
        self._files = files
        self._store = store
        self._lifecycle = lifecycle
        self._results_bucket = results_bucket
        self._limits = limits
        self._video_limits = video_limits
        self._context: LambdaContext | None = None
        self._idempotency_config = idempotency[1] if idempotency else None
        self._run: Callable[..., object] = self._run_once
        if idempotency is not None:
            persistence, idempotency_config = idempotency
            self._run = idempotent_function(
                data_keyword_argument="message", persistence_store=persistence, config=idempotency_config
            )(self._run_once)

    def register_lambda_context(self, context: LambdaContext) -> None:
        self._context = context
        if self._idempotency_config is not None:
            self._idempotency_config.register_lambda_context(context)

    def run(self, message: TaskMessage, receive_count: int) -> None:
        self._run(message=message.model_dump(), receive_count=receive_count)

    def _run_once(self, message: dict[str, object], receive_count: int) -> None:
        self._claim_and_render(TaskMessage.model_validate(message), receive_count)

    def _claim_and_render(self, message: TaskMessage, receive_count: int) -> None:
        task = self._lifecycle.claim(message)
        if task is None:
            logger.info("task message skipped: the task moved on", extra={"task_id": message.task_id})
            return
        try:
            result = self._render(task)
        except PermanentTaskError as error:
            self._lifecycle.fail(task, error.code, error.message)
            return
        except Exception as error:
            self._lifecycle.retry_or_fail(task, error, receive_count)
            return
        if not self._lifecycle.complete(task, result):
            # Cancelled, restarted or deleted while it ran: its outputs belong to nobody.
            self._discard_outputs(result)

    def _render(self, task: Task) -> ProcessResult:
        source = self._files.get(task.file_id) if task.file_id else None
        if source is None or source.status != FileStatus.READY:
            raise PermanentTaskError(ErrorCode.FILE_MISSING, "the input file no longer exists or is not ready")
        spec = resolve(ProcessSpec.model_validate(task.spec))
        last_written = (time.monotonic(), 0)
        step = VIDEO_PROGRESS_STEP if source.video is not None else 101

        def progress(percent: int) -> None:
            nonlocal last_written
            now = time.monotonic()
            if now - last_written[0] >= PROGRESS_INTERVAL_S or percent - last_written[1] >= step:
                last_written = (now, percent)
                self._lifecycle.progress(task, percent)

        if source.video is not None:
            rendering = self._render_video(source, spec, progress)
        else:
            rendering = imaging.render(self._store.get(source.bucket, source.key), spec, self._limits, progress)
        outputs = [self._store_output(task, source, rendered) for rendered in rendering.outputs]
        found = rendering.source
        return ProcessResult(
            outputs=outputs,
            source=SourceImage(
                format=found.format,
                width=found.width,
                height=found.height,
                frames=found.frames,
                size=found.size,
                duration=found.duration,
            ),
        )

    def _render_video(
        self, source: FileRecord, spec: ProcessSpec, progress: Callable[[int], None]
    ) -> imaging.Rendering:
        """A video is read from local storage (Lambda's /tmp), never held in memory whole."""
        from .video.render import render_video  # FFmpeg: the video worker's layer only

        if self._video_limits is None:
            raise RuntimeError("a video task reached a worker without the video limits (not the video function?)")
        context = self._context
        remaining_s = (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None
        with tempfile.TemporaryDirectory(prefix="imgtasks-video-") as folder:
            path = Path(folder) / "source"
            self._store.download(source.bucket, source.key, path)
            return render_video(
                path,
                spec,
                max_pixels=self._limits.max_pixels,
                limits=self._video_limits,
                progress=progress,
                remaining_s=remaining_s,
            )

    def _store_output(self, task: Task, source: FileRecord, rendered: imaging.Rendered) -> OutputFile:
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
        )

    def _discard_outputs(self, result: ProcessResult) -> None:
        for output in result.outputs:
            self._store.delete(output.bucket, [output.key])
            self._files.delete(output.file_id)
