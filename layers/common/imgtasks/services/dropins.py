"""S3 drop-ins: an object at inbox/<username>/<preset>/<name> in the uploads bucket becomes a file
and a process task of that user with that preset. The object stays where it is."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from ulid import ULID

from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.repositories.users import UserRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.inspection import inspect_image
from imgtasks.domain.limits import Limits
from imgtasks.domain.records import FileRecord, FileStatus
from imgtasks.kinds import Task
from imgtasks.kinds.process import PRESET_NAMES
from imgtasks.observability import logger
from imgtasks.services.files import clean_filename
from imgtasks.services.tasks import TaskService

INBOX_PREFIX = "inbox/"
_INBOX_KEY = re.compile(r"^inbox/(?P<username>[^/]+)/(?P<preset>[^/]+)/(?P<name>.+)$")


@dataclass(frozen=True)
class DropIn:
    key: str
    size: int
    event_time: str
    sequencer: str


def drop_in_file_id(drop: DropIn) -> str:
    """The same id for the same S3 event, so a duplicate delivery finds the file it made."""
    try:
        moment = datetime.fromisoformat(drop.event_time.replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.fromisoformat(now_rfc3339().replace("Z", "+00:00"))
    digest = hashlib.sha256(f"{drop.key}\n{drop.sequencer}".encode()).digest()
    return str(ULID.from_bytes(ULID.from_datetime(moment).bytes[:6] + digest[:10]))


class DropIns:
    def __init__(
        self,
        users: UserRepository,
        files: FileRepository,
        store: ObjectStore,
        tasks: TaskService,
        *,
        bucket: str,
        limits: Limits,
    ) -> None:
        self._users = users
        self._files = files
        self._store = store
        self._tasks = tasks
        self._bucket = bucket
        self._limits = limits

    def accept(self, drop: DropIn) -> Task | None:
        """The task made for the object, or None (logged) when the key names no known user or
        preset, or this event was handled before."""
        match = _INBOX_KEY.match(drop.key)
        if match is None:
            logger.warning("drop-in skipped: the key is not inbox/<username>/<preset>/<name>", extra={"key": drop.key})
            return None
        user = self._users.get_by_username(match["username"])
        if user is None:
            logger.warning("drop-in skipped: unknown user", extra={"key": drop.key, "username": match["username"]})
            return None
        if match["preset"] not in PRESET_NAMES:
            logger.warning(
                "drop-in skipped: unknown preset",
                extra={"key": drop.key, "preset": match["preset"], "presets": sorted(PRESET_NAMES)},
            )
            return None
        record = self._register(drop, user.id, match["name"])
        if record is None:
            logger.info("drop-in already registered: duplicate event", extra={"key": drop.key})
            return None
        stem = match["name"].rsplit(".", 1)[0] if "." in match["name"] else match["name"]
        outbox = f"outbox/{match['username']}/{match['preset']}/{stem}"
        task = self._tasks.create_for_preset(record, match["preset"], outbox=outbox)
        logger.info("drop-in accepted", extra={"key": drop.key, "file_id": record.id, "task_id": task.id})
        return task

    def _register(self, drop: DropIn, owner_id: str, name: str) -> FileRecord | None:
        record = FileRecord(
            id=drop_in_file_id(drop),
            owner_id=owner_id,
            filename=clean_filename(name),
            content_type="application/octet-stream",
            size=drop.size,
            status=FileStatus.READY,
            bucket=self._bucket,
            key=drop.key,
            created_at=now_rfc3339(),
        )
        if drop.size > self._limits.max_upload_bytes:
            record = record.model_copy(
                update={
                    "status": FileStatus.REJECTED,
                    "error": f"the object is {drop.size} bytes; the limit is {self._limits.max_upload_bytes}",
                    "error_code": ErrorCode.FILE_TOO_LARGE,
                }
            )
        else:
            try:
                data = self._store.get(self._bucket, drop.key)
                info = inspect_image(data, max_pixels=self._limits.max_pixels, max_frames=self._limits.max_frames)
                record = record.model_copy(
                    update={
                        "content_type": info.content_type,
                        "format": info.format,
                        "width": info.width,
                        "height": info.height,
                        "frames": info.frames,
                    }
                )
            except PermanentTaskError as error:
                record = record.model_copy(
                    update={"status": FileStatus.REJECTED, "error": error.message, "error_code": error.code}
                )
        return record if self._files.put(record, only_if_new=True) else None
