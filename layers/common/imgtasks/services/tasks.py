"""Task use cases: create (one task per file), read, list, cancel, restart, delete, download."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from imgtasks.adapters import metering
from imgtasks.adapters.outbound import OutboundRefused, check_url
from imgtasks.adapters.repositories.counts import CountRepository
from imgtasks.adapters.repositories.cursors import Page
from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.repositories.items import BATCH_WRITE_LIMIT
from imgtasks.adapters.repositories.tasks import TaskOrder, TaskRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.counts import TASK_COUNTS, counter_name
from imgtasks.domain.errors import Conflict, ErrorCode, InvalidInput, NotFound
from imgtasks.domain.ids import new_id
from imgtasks.domain.inspection import CONTENT_TYPES, EXTENSIONS, announces_video
from imgtasks.domain.records import FileRecord, FileStatus, TaskStatus
from imgtasks.domain.usage import Requests, Usage, with_call
from imgtasks.kinds import CreateTaskRequest, Task
from imgtasks.kinds.archive import ArchiveFile, ArchiveResult
from imgtasks.kinds.infer import INFER, InferSpec, InferTask
from imgtasks.kinds.process import OutputFile, ProcessResult, ProcessSpec, ProcessTask, preset_spec
from imgtasks.kinds.video import process_kind
from imgtasks.services.lifecycle import ACTIVE, TaskLifecycle
from imgtasks.services.webhooks import WebhookService

DOWNLOAD_URL_SECONDS = 900
# Long-poll: the longest wait a request may ask for (well inside API Gateway's 30 s), and the
# delays between status reads (growing to one a second: 22 reads in 20 s).
MAX_WAIT_SECONDS = 20
FIRST_POLL_DELAY_S = 0.25
LONGEST_POLL_DELAY_S = 1.0


def creation_usage(tasks: int, *, api_request: bool) -> Usage | None:
    """Each of `tasks` new tasks' share of the invocation making them (POST /tasks, through API
    Gateway; a drop-in, from an S3 event): its time and requests so far, and the call about to
    store them (BatchWriteItem of 25 for the API, PutItem for a drop-in; its request units are
    known only after it, so they are not counted). None outside a metered invocation."""
    meter = metering.invocation_meter()
    if meter is None:
        return None
    share = 1 / tasks
    used = meter.usage(share, api_request=api_request)
    if api_request:
        return with_call(used, "dynamodb BatchWriteItem", math.ceil(tasks / BATCH_WRITE_LIMIT) * share, Requests())
    return with_call(used, "dynamodb PutItem", 1.0, Requests())


class TaskService:
    def __init__(
        self,
        tasks: TaskRepository,
        files: FileRepository,
        counts: CountRepository,
        store: ObjectStore,
        lifecycle: TaskLifecycle,
        *,
        known_models: Callable[[], dict[str, list[str]]],
        fetch: Callable[..., FileRecord],
        webhooks: WebhookService,
    ) -> None:
        self._tasks = tasks
        self._files = files
        self._counts = counts
        self._store = store
        self._lifecycle = lifecycle
        # The registered model ids by task ("detection", "classification").
        self._known_models = known_models
        # Creates a pending file fetched from a URL (owner, url): FileService.start_fetch.
        self._fetch = fetch
        self._webhooks = webhooks

    # ------------------------------------------------------------ create
    def create(self, owner_id: str, request: CreateTaskRequest, *, retain_until: int | None = None) -> list[Task]:
        """One task per file id: one BatchGetItem for the files, BatchWriteItem for the tasks. A
        guest's tasks (and fetched files) expire at `retain_until`."""
        self._check_urls(request.urls)  # all of them before any file is created
        if request.webhook is not None:
            self._check_webhook(owner_id, request.webhook)
        sources = self._owned_sources(owner_id, request.file_ids)
        spec = request.spec()  # validated once, here: a preset is resolved now, for good
        if isinstance(spec, ProcessSpec):
            self._check_overlays(owner_id, spec)
        if isinstance(spec, InferSpec):
            self._refuse_videos(request.file_ids, sources)
            self._check_models(spec)
        sources += [self._fetch(owner_id, url, retain_until=retain_until) for url in request.urls]
        created = [
            self._task(owner_id, record, spec, webhook=request.webhook, expires_at=retain_until) for record in sources
        ]
        usage = creation_usage(len(created), api_request=True)
        for task in created:
            task.usage = usage
        self._tasks.put_new_many(created)
        return self._start(created, {record.id: record for record in sources})

    def create_for_preset(self, record: FileRecord, preset: str, *, outbox: str | None = None) -> Task:
        """One process task with a preset on a file the service itself registered (an S3 drop-in)."""
        task = self._task(record.owner_id, record, preset_spec(preset), outbox=outbox)
        task.usage = creation_usage(1, api_request=False)
        self._tasks.put_new(task)
        if record.status == FileStatus.REJECTED:
            return self._lifecycle.file_rejected(task, record) or task
        return self._start([task], {record.id: record})[0]

    def _check_webhook(self, owner_id: str, url: str) -> None:
        self._webhooks.check_url(url, ("body", "webhook"))
        if not self._webhooks.has_secret(owner_id):
            raise InvalidInput(
                "a task webhook is signed with your webhook secret, and you have none yet: POST /webhooks/secret "
                "(or register a webhook) first",
                errors=[{"loc": ["body", "webhook"], "msg": "no webhook secret yet; POST /webhooks/secret"}],
            )

    @staticmethod
    def _check_urls(urls: list[str]) -> None:
        errors = []
        for index, url in enumerate(urls):
            try:
                check_url(url)
            except OutboundRefused as error:
                errors.append({"loc": ["body", "urls", index], "msg": str(error), "type": ErrorCode.URL_REFUSED.value})
        if errors:
            raise InvalidInput("; ".join(f"urls[{e['loc'][-1]}]: {e['msg']}" for e in errors), errors=errors)

    @staticmethod
    def _refuse_videos(file_ids: list[str], sources: list[FileRecord]) -> None:
        videos = {record.id for record in sources if announces_video(record.content_type)}
        errors = [
            {"loc": ["body", "file_ids", index], "msg": f"file '{file_id}' is a video; models run on images"}
            for index, file_id in enumerate(file_ids)
            if file_id in videos
        ]
        if errors:
            raise InvalidInput("; ".join(str(e["msg"]) for e in errors), errors=errors)

    @staticmethod
    def _task(
        owner_id: str,
        record: FileRecord,
        spec: ProcessSpec | InferSpec,
        outbox: str | None = None,
        *,
        webhook: str | None = None,
        expires_at: int | None = None,
    ) -> Task:
        """A new queued task (not yet written), on the worker its file and spec need."""
        now = now_rfc3339()
        common: dict[str, Any] = {
            "id": new_id(),
            "owner_id": owner_id,
            "status": TaskStatus.QUEUED,
            "file_id": record.id,
            "created_at": now,
            "updated_at": now,
            "outbox": outbox,
            "waits_for_file": True if record.status != FileStatus.READY else None,
            "webhook": webhook,
            "expires_at": expires_at,
        }
        if isinstance(spec, InferSpec):
            return InferTask.model_validate({**common, "kind": INFER.name, "spec": spec})
        return ProcessTask.model_validate({**common, "kind": process_kind(record, spec).name, "spec": spec})

    def _check_models(self, spec: InferSpec) -> None:
        known = self._known_models()
        errors = []
        for field, kind in (("detection_model", "detection"), ("classification_model", "classification")):
            wanted = getattr(spec, field)
            valid = known.get(kind, [])
            if wanted is not None and wanted not in valid:
                errors.append(
                    {"loc": ["body", field], "msg": f"unknown model; valid ids: {', '.join(valid) or 'none'}"}
                )
        if errors:
            raise InvalidInput("; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in errors), errors=errors)

    def _check_overlays(self, owner_id: str, spec: ProcessSpec) -> None:
        """An overlay's logo is an image file of the caller's, not rejected."""
        wanted = sorted({op.file_id for op in spec.overlays() if op.file_id})
        found = self._files.get_many(wanted) if wanted else {}
        for file_id in wanted:
            record = found.get(file_id)
            if record is None or record.owner_id != owner_id:
                raise InvalidInput(f"overlay: file '{file_id}' does not exist")
            if record.status == FileStatus.REJECTED or record.video is not None:
                raise InvalidInput(f"overlay: file '{file_id}' is not an image this service read")

    def _owned_sources(self, owner_id: str, file_ids: list[str]) -> list[FileRecord]:
        records: list[FileRecord] = []
        errors = []
        found = self._files.get_many(file_ids)
        for index, file_id in enumerate(file_ids):
            record = found.get(file_id)
            if record is None or record.owner_id != owner_id:
                errors.append({"loc": ["body", "file_ids", index], "msg": f"file '{file_id}' does not exist"})
            elif record.status == FileStatus.REJECTED:
                errors.append(
                    {"loc": ["body", "file_ids", index], "msg": f"file '{file_id}' was rejected: {record.error}"}
                )
            else:
                records.append(record)
        if errors:
            raise InvalidInput("; ".join(str(e["msg"]) for e in errors), errors=errors)
        return records

    def _start(self, tasks: list[Task], sources: dict[str, FileRecord]) -> list[Task]:
        """Tasks on ready files were written dispatchable: the change stream sends them. A task on
        a pending file was written waiting and registers on the file record, whose inspection
        releases or fails it (`file_finished`). Returns the tasks as they now stand."""
        standing: list[Task] = []
        for task in tasks:
            record = sources[str(task.file_id)]  # process and infer tasks always have one
            if record.status != FileStatus.PENDING or self._files.add_waiting_task(record.id, task.id):
                standing.append(task)
                continue
            # The upload was inspected between our read and our registration: read what it became.
            latest = self._files.get(record.id)
            if latest is not None and latest.status == FileStatus.REJECTED:
                standing.append(self._lifecycle.file_rejected(task, latest) or task)
            else:
                standing.append(self._lifecycle.file_ready(task, latest or record) or task)
        return standing

    def file_finished(self, record: FileRecord) -> None:
        """When a pending file became ready or rejected: releases or fails the tasks waiting on it.
        Safe to repeat (a redelivered S3 event): a task already released is left as it is."""
        waiting = [task for task_id in record.waiting_task_ids if (task := self._tasks.get(task_id))]
        for task in waiting:
            if task.status != TaskStatus.QUEUED or not task.waits_for_file:
                continue
            if record.status == FileStatus.READY:
                self._lifecycle.file_ready(task, record)
            else:
                self._lifecycle.file_rejected(task, record)

    def file_gone(self, record: FileRecord) -> None:
        """A pending file's record was deleted (by its owner, or expired because its bytes never
        arrived): the tasks waiting on it fail with file_missing."""
        for task_id in record.waiting_task_ids:
            task = self._tasks.get(task_id)
            if task is not None and task.status == TaskStatus.QUEUED and task.waits_for_file:
                self._lifecycle.fail(
                    task, ErrorCode.FILE_MISSING, "the input file was deleted before its upload arrived"
                )

    # ------------------------------------------------------------ read
    def get(self, owner_id: str, task_id: str) -> Task:
        return self._tasks.get_owned(owner_id, task_id)

    def wait(
        self,
        owner_id: str,
        task_id: str,
        seconds: float,
        seen: str | None = None,
        seen_outputs: int | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> Task:
        """The task once its status differs from `seen` (the status the caller last saw; by
        default its status now) or its result holds more outputs than `seen_outputs` (by default
        as many as now), or as it is after `seconds`. A task that has ended is answered at once
        when the caller names no status: nothing more happens to it unless restarted. Each check
        reads only the status and the outputs' count, with growing delays: no tight loop on
        DynamoDB."""
        task = self._tasks.get_owned(owner_id, task_id)
        if seen is None and task.status not in ACTIVE:
            return task
        baseline = (seen or task.status, task.outputs_ready or 0 if seen_outputs is None else seen_outputs)
        deadline = clock() + min(seconds, MAX_WAIT_SECONDS)
        delay = FIRST_POLL_DELAY_S
        state = (task.status, task.outputs_ready or 0)
        while state[0] == baseline[0] and state[1] <= baseline[1]:
            remaining = deadline - clock()
            if remaining <= 0:
                break
            sleep(min(delay, remaining))
            delay = min(delay * 2, LONGEST_POLL_DELAY_S)
            now = self._tasks.state_of(task_id)
            if now is None or now != state:
                task = self._tasks.get_owned(owner_id, task_id)
                state = (task.status, task.outputs_ready or 0)
        return task

    def list(
        self,
        owner_id: str,
        *,
        limit: int,
        cursor: str | None,
        order: TaskOrder = "-created_at",
        status: str | None = None,
        task_type: str | None = None,
        output_format: str | None = None,
    ) -> Page:
        """A page of the owner's tasks, with the total of the filters (the change stream's counter)."""
        page = self._tasks.list_owned(
            owner_id,
            limit=limit,
            cursor=cursor,
            order=order,
            status=status,
            task_type=task_type,
            output_format=output_format,
        )
        total = self._counts.total(owner_id, TASK_COUNTS, counter_name(status, task_type, output_format))
        return replace(page, total=total)

    def output_url(self, output: OutputFile | ArchiveFile) -> str:
        """A presigned URL of one output (or an archive's ZIP), as results show it."""
        if isinstance(output, ArchiveFile):
            return self._store.presigned_get(
                output.bucket, output.key, DOWNLOAD_URL_SECONDS, "archive.zip", content_type=CONTENT_TYPES["zip"]
            )
        return self._store.presigned_get(
            output.bucket, output.key, DOWNLOAD_URL_SECONDS, content_type=CONTENT_TYPES[output.format]
        )

    def download_url(self, owner_id: str, task_id: str, variant: str | None, *, attachment: bool = False) -> str:
        """A presigned URL of an output (or the archive); with `attachment`, browsers save it
        rather than show it."""
        task = self._tasks.get_owned(owner_id, task_id)
        if task.status != TaskStatus.DONE:
            raise Conflict(f"task '{task_id}' is {task.status}; outputs can be downloaded once it is done")
        if isinstance(task.result, ArchiveResult):
            archive = task.result.archive
            return self._store.presigned_get(
                archive.bucket,
                archive.key,
                DOWNLOAD_URL_SECONDS,
                f"archive-{task.id}.zip",
                content_type="application/zip",
                attachment=attachment,
            )
        outputs = task.result.outputs if isinstance(task.result, ProcessResult) else []
        if not outputs:
            raise NotFound(f"task '{task_id}' has no downloadable output")
        if variant is None:
            chosen = outputs[0]
        else:
            matches = [output for output in outputs if output.name == variant]
            if not matches:
                names = ", ".join(output.name for output in outputs)
                raise NotFound(f"task '{task_id}' has no output '{variant}'; its outputs: {names}")
            chosen = matches[0]
        filename = self._download_name(task, chosen)
        return self._store.presigned_get(
            chosen.bucket,
            chosen.key,
            DOWNLOAD_URL_SECONDS,
            filename,
            content_type=CONTENT_TYPES[chosen.format],
            attachment=attachment,
        )

    def _download_name(self, task: Task, output: OutputFile) -> str:
        """Named after the input, with the variant (but `default`) and the size: photo-800x600.jpg,
        photo-thumb-256x192.webp; by the task's id when the input is gone."""
        source = self._files.get(task.file_id) if task.file_id else None
        stem = (
            source.filename.rsplit(".", 1)[0].strip() if source is not None and source.owner_id == task.owner_id else ""
        )
        stem = stem or task.id
        variant = "" if output.name == "default" else f"-{output.name}"
        return f"{stem}{variant}-{output.width}x{output.height}.{EXTENSIONS[output.format]}"

    # ------------------------------------------------------------ change
    def cancel(self, owner_id: str, task_id: str) -> Task:
        return self._lifecycle.cancel(owner_id, task_id)

    def restart(self, owner_id: str, task_id: str) -> Task:
        task = self._tasks.get_owned(owner_id, task_id)
        if task.file_id is None:  # an archive: its inputs are tasks, read when it runs
            return self._lifecycle.restart(owner_id, task_id, waits_for_file=False)
        record = self._files.get(task.file_id)
        ready = record is not None and record.status == FileStatus.READY
        restarted = self._lifecycle.restart(owner_id, task_id, waits_for_file=not ready)
        if record is None:
            return self._lifecycle.file_missing(restarted)
        if record.status == FileStatus.REJECTED:
            return self._lifecycle.file_rejected(restarted, record) or restarted
        return self._start([restarted], {record.id: record})[0]

    def delete(self, owner_id: str, task_id: str) -> None:
        task = self._tasks.get_owned(owner_id, task_id)
        if task.status in ACTIVE:
            try:
                task = self.cancel(owner_id, task_id)
            except Conflict:
                task = self._tasks.get_owned(owner_id, task_id)
        if isinstance(task.result, ProcessResult):
            for output in task.result.outputs:
                self._store.delete(output.bucket, [output.key])
                self._files.delete(output.file_id)
        if isinstance(task.result, ArchiveResult):
            self._store.delete(task.result.archive.bucket, [task.result.archive.key])
            self._files.delete(task.result.archive.file_id)
        self._tasks.delete(task_id)
