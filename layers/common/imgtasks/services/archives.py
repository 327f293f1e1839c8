"""Archives: the outputs of many tasks as one ZIP, made by an `archive` task.

The ZIP is written as it is read: each output streamed from S3 into the archive, the archive
streamed into S3 by a multipart upload, so memory does not grow with the archive (ZIP64 where an
entry or the whole passes 4 GiB). Entries are stored, not deflated: images and videos are
compressed already. Each entry is named `<task id>-<source name>/<output name>.<ext>`: which task,
from which file, which variant; task ids are unique, so names never collide."""

from __future__ import annotations

import hashlib
import json
import zipfile
from typing import Any

from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.repositories.tasks import TaskRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.ids import new_id, output_file_id
from imgtasks.domain.records import FileRecord, FileStatus, TaskStatus
from imgtasks.kinds import Task
from imgtasks.kinds.archive import ARCHIVE, ArchiveFile, ArchiveResult, ArchiveSpec, ArchiveTask, SkippedTask
from imgtasks.kinds.infer import InferResult
from imgtasks.kinds.process import ProcessResult

ZIP64_ENTRY_BYTES = 0xFFFF_0000  # a little under 4 GiB: past it an entry needs ZIP64 sizes
ZIP_CONTENT_TYPE = "application/zip"


def set_digest(task_ids: list[str]) -> str:
    """The same digest for the same set of ids, in any order."""
    return hashlib.sha256(",".join(sorted(set(task_ids))).encode()).hexdigest()


def entry_stem(source: FileRecord | None) -> str:
    name = (
        source.filename.rsplit(".", 1)[0] if source and "." in source.filename else (source.filename if source else "")
    )
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip("._")
    return cleaned[:80] or "file"


class Archives:
    def __init__(self, tasks: TaskRepository, files: FileRepository, store: ObjectStore, results_bucket: str) -> None:
        self._tasks = tasks
        self._files = files
        self._store = store
        self._bucket = results_bucket

    # ------------------------------------------------------------ create (the API)
    def create(self, owner_id: str, spec: ArchiveSpec, *, retain_until: int | None = None) -> ArchiveTask:
        """A queued archive task; the change stream sends it to the archive worker. A guest's
        expires at `retain_until`, with its ZIP."""
        now = now_rfc3339()
        task = ArchiveTask(
            id=new_id(),
            owner_id=owner_id,
            kind=ARCHIVE.name,
            status=TaskStatus.QUEUED,
            file_id=None,
            spec=spec,
            created_at=now,
            updated_at=now,
            expires_at=retain_until,
        )
        self._tasks.put_new(task)
        return task

    def for_set(self, owner_id: str, spec: ArchiveSpec, *, retain_until: int | None = None) -> Task:
        """The archive task of this set of task ids: the one made before for the same set while
        it exists, else a new one (two concurrent requests get the same task)."""
        digest = set_digest(spec.task_ids)
        for _ in range(3):
            known = self._tasks.archive_for(owner_id, digest)
            existing = self._tasks.get(known) if known else None
            if existing is not None and existing.owner_id == owner_id:
                return existing
            task = self.create(owner_id, spec, retain_until=retain_until)
            if self._tasks.remember_archive(owner_id, digest, task.id, replacing=known, expires_at=retain_until):
                return task
            self._tasks.delete(task.id)  # another request recorded its own first: use that one
        raise RuntimeError("the archive of this set kept changing under concurrent requests")

    # ------------------------------------------------------------ build (the worker)
    def build(self, task: ArchiveTask) -> ArchiveResult:
        spec = task.spec
        key = f"results/{task.owner_id}/{task.id}/{task.run}/archive.zip"
        skipped: list[SkippedTask] = []
        included = 0
        entries = 0
        writer = self._store.writer(self._bucket, key, ZIP_CONTENT_TYPE, guest=task.expires_at is not None)
        try:
            with zipfile.ZipFile(writer, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
                for task_id in spec.task_ids:
                    wanted = self._tasks.get(task_id)
                    if wanted is None or wanted.owner_id != task.owner_id or isinstance(wanted, ArchiveTask):
                        skipped.append(SkippedTask(task_id=task_id, reason="not_found"))
                        continue
                    if wanted.status != TaskStatus.DONE or wanted.result is None:
                        skipped.append(SkippedTask(task_id=task_id, reason="not_done", status=wanted.status))
                        continue
                    entries += self._add(archive, wanted)
                    included += 1
            writer.close()
        except BaseException:
            writer.abort()
            raise
        size = self._store.size(self._bucket, key) or 0
        file_id = output_file_id(task.id, task.run, "archive")
        self._files.put(
            FileRecord(
                id=file_id,
                owner_id=task.owner_id,
                filename=f"archive-{task.id}.zip",
                content_type=ZIP_CONTENT_TYPE,
                size=size,
                status=FileStatus.READY,
                bucket=self._bucket,
                key=key,
                created_at=now_rfc3339(),
                format="zip",
                task_id=task.id,
                expires_at=task.expires_at,
                retain_until=task.expires_at,
            )
        )
        return ArchiveResult(
            tasks_requested=len(spec.task_ids),
            tasks_included=included,
            files=entries,
            skipped=skipped,
            archive=ArchiveFile(file_id=file_id, size=size, bucket=self._bucket, key=key),
        )

    def _add(self, archive: zipfile.ZipFile, task: Task) -> int:
        """The task's outputs (or, for an inference, its result as JSON) as entries; how many."""
        source = self._files.get(task.file_id) if task.file_id else None
        folder = f"{task.id}-{entry_stem(source)}"
        if isinstance(task.result, InferResult):
            document = json.dumps(task.result.model_dump(), indent=2).encode()
            archive.writestr(self._entry(f"{folder}/result.json", task), document)
            return 1
        outputs = task.result.outputs if isinstance(task.result, ProcessResult) else []
        for output in outputs:
            info = self._entry(f"{folder}/{output.name}.{output.key.rsplit('.', 1)[-1]}", task)
            with archive.open(info, "w", force_zip64=output.size >= ZIP64_ENTRY_BYTES) as entry:
                for chunk in self._store.chunks(output.bucket, output.key):
                    entry.write(chunk)
        return len(outputs)

    def discard(self, result: ArchiveResult) -> None:
        """The ZIP of a task that moved on while it was made: it belongs to nobody."""
        self._store.delete(result.archive.bucket, [result.archive.key])
        self._files.delete(result.archive.file_id)

    @staticmethod
    def _entry(name: str, task: Task) -> zipfile.ZipInfo:
        stamp = task.completed_at or task.created_at
        date_time: Any = (int(stamp[0:4]), int(stamp[5:7]), int(stamp[8:10]), int(stamp[11:13]), int(stamp[14:16]), 0)
        info = zipfile.ZipInfo(name, date_time=date_time)
        info.compress_type = zipfile.ZIP_STORED
        return info
