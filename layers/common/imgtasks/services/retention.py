"""A claimed guest account keeps everything: its records stop expiring and its objects lose the
guest tag the buckets' lifecycle rule expires."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.repositories.tasks import TaskRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.records import FileStatus


@dataclass(frozen=True)
class Kept:
    files: int
    tasks: int


class GuestData:
    def __init__(self, files: FileRepository, tasks: TaskRepository, store: ObjectStore) -> None:
        self._files = files
        self._tasks = tasks
        self._store = store

    def keep(self, owner_id: str) -> Kept:
        """Idempotent: a claim that failed half-way is finished by the next call."""
        files = self._files.keep_all(owner_id)
        for record in files:
            if record.status != FileStatus.READY:
                continue
            try:
                self._store.set_guest(record.bucket, record.key, False)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                    raise
        return Kept(files=len(files), tasks=self._tasks.keep_all(owner_id))
