"""Runs one process task: claim it, render, store the outputs, record the result.

Permanent errors (a corrupt image, a limit) fail the task at once. Anything else is raised so SQS
retries the message; on the last delivery the task is failed with `retries_exhausted` instead, so
no task stays `running` when its message goes to the dead-letter queue (and if the worker dies on
that delivery, the dead-letter function does it).

Duplicate deliveries do the work once: Powertools Idempotency keyed on the task and its run (a
concurrent duplicate waits and is retried; a late one gets the stored result), and output keys and
file ids that are the same for the same run, so even a second execution overwrites, never adds."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from ulid import ULID

from imgtasks import outcomes
from imgtasks.clock import now_rfc3339
from imgtasks.errors import PermanentTaskError
from imgtasks.inspection import CONTENT_TYPES
from imgtasks.models import FileRecord, FileStatus, Task, TaskStatus
from imgtasks.observability import logger
from imgtasks.presets import resolve
from imgtasks.queues import TaskMessage
from imgtasks.repositories import FileRepository, TaskRepository
from imgtasks.specs import ProcessSpec
from imgtasks.storage import ObjectStore

from . import imaging

EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif"}


@dataclass(frozen=True)
class RunnerConfig:
    results_bucket: str
    limits: imaging.Limits
    max_receive_count: int


IDEMPOTENCY_KEY = "[task_id, run]"


def output_file_id(task: Task, name: str) -> str:
    """The same id for the same output of the same run, so a repeated delivery overwrites its
    own outputs instead of adding new ones; it sorts with the task's creation time."""
    digest = hashlib.sha256(f"{task.id}:{task.run}:{name}".encode()).digest()
    return str(ULID.from_bytes(ULID.from_str(task.id).bytes[:6] + digest[:10]))


class TaskRunner:
    def __init__(
        self,
        tasks: TaskRepository,
        files: FileRepository,
        store: ObjectStore,
        config: RunnerConfig,
        idempotency: tuple[BasePersistenceLayer, IdempotencyConfig] | None = None,
    ) -> None:
        self._tasks = tasks
        self._files = files
        self._store = store
        self._config = config
        self._run: Callable[..., object] = self._run_once
        if idempotency is not None:
            persistence, idempotency_config = idempotency
            self._run = idempotent_function(
                data_keyword_argument="message", persistence_store=persistence, config=idempotency_config
            )(self._run_once)

    def handle(self, message: TaskMessage, receive_count: int) -> None:
        self._run(message=message.model_dump(), receive_count=receive_count)

    def _run_once(self, message: dict[str, object], receive_count: int) -> None:
        self._handle(TaskMessage.model_validate(message), receive_count)

    def _handle(self, message: TaskMessage, receive_count: int) -> None:
        task = self._tasks.get(message.task_id)
        if task is None or task.run != message.run or task.status not in (TaskStatus.QUEUED, TaskStatus.RUNNING):
            logger.info(
                "task message skipped",
                extra={"task_id": message.task_id, "run": message.run, "status": task.status if task else None},
            )
            return
        claimed = self._tasks.claim(task.owner_id, task.id, message.run)
        if claimed is None:
            logger.info("task message skipped: the task moved on", extra={"task_id": task.id})
            return
        try:
            result = self._execute(claimed)
        except PermanentTaskError as error:
            self._fail(claimed, error.code, error.message)
            return
        except Exception as error:
            outcomes.fail_if_last_delivery(self._tasks, claimed, error, receive_count, self._config.max_receive_count)
            return
        self._finish(claimed, result)

    def _execute(self, task: Task) -> dict[str, object]:
        source = self._files.get(task.file_id)
        if source is None or source.status != FileStatus.READY:
            raise PermanentTaskError("file_missing", "the input file no longer exists or is not ready")
        spec = resolve(ProcessSpec.model_validate(task.spec))
        data = self._store.get(source.bucket, source.key)

        def progress(percent: int) -> None:
            self._tasks.set_progress(task.id, task.run, percent)

        rendering = imaging.render(data, spec, self._config.limits, progress)
        outputs = []
        for rendered in rendering.outputs:
            outputs.append(self._store_output(task, source, rendered))
        return {
            "outputs": outputs,
            "source": {
                "format": rendering.source.format,
                "width": rendering.source.width,
                "height": rendering.source.height,
                "frames": rendering.source.frames,
                "size": rendering.source.size,
            },
        }

    def _store_output(self, task: Task, source: FileRecord, rendered: imaging.Rendered) -> dict[str, object]:
        file_id = output_file_id(task, rendered.name)
        extension = EXTENSIONS[rendered.format]
        key = f"results/{task.owner_id}/{task.id}/{task.run}/{rendered.name}.{extension}"
        self._store.put(self._config.results_bucket, key, rendered.data, CONTENT_TYPES[rendered.format])
        stem = source.filename.rsplit(".", 1)[0] or "image"
        suffix = "" if rendered.name == "default" else f"-{rendered.name}"
        if task.outbox:
            outbox_key = f"{task.outbox}{suffix}.{extension}"
            self._store.put(self._config.results_bucket, outbox_key, rendered.data, CONTENT_TYPES[rendered.format])
        self._files.put(
            FileRecord(
                id=file_id,
                owner_id=task.owner_id,
                filename=f"{stem}{suffix}.{extension}",
                content_type=CONTENT_TYPES[rendered.format],
                size=len(rendered.data),
                status=FileStatus.READY,
                bucket=self._config.results_bucket,
                key=key,
                created_at=now_rfc3339(),
                format=rendered.format,
                width=rendered.width,
                height=rendered.height,
                frames=rendered.frames,
                task_id=task.id,
            )
        )
        return {
            "name": rendered.name,
            "file_id": file_id,
            "format": rendered.format,
            "width": rendered.width,
            "height": rendered.height,
            "frames": rendered.frames,
            "size": len(rendered.data),
            "bucket": self._config.results_bucket,
            "key": key,
        }

    def _finish(self, task: Task, result: dict[str, object]) -> None:
        if not outcomes.complete(self._tasks, task, result):
            # Cancelled, restarted or deleted while it ran: its outputs belong to nobody.
            self._discard_outputs(result)

    def _discard_outputs(self, result: dict[str, object]) -> None:
        for output in result["outputs"]:  # type: ignore[attr-defined]
            self._store.delete(output["bucket"], [output["key"]])
            self._files.delete(output["file_id"])

    def _fail(self, task: Task, code: str, message: str) -> None:
        outcomes.fail(self._tasks, task, code, message)
