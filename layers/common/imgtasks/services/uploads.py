"""Uploads: small files through the API (stored and inspected at once), and large ones by a
presigned POST straight to S3, whose S3 event inspects them and finishes the pending file."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.storage import ObjectStore, PresignedPost
from imgtasks.domain.clock import to_rfc3339, utc_now
from imgtasks.domain.errors import ErrorCode, InvalidInput, PayloadTooLarge, PermanentTaskError
from imgtasks.domain.ids import new_id
from imgtasks.domain.inspection import ACCEPTED_CONTENT_TYPES, Inspected, announces_video, inspect_file
from imgtasks.domain.limits import Limits
from imgtasks.domain.records import FileRecord, FileStatus
from imgtasks.services.files import (
    API_PREFIX,
    SMALL_UPLOAD_LIMIT,
    UPLOAD_PREFIX,
    UPLOAD_URL_SECONDS,
    PendingFiles,
    clean_filename,
    pending_expiry,
    upload_limit,
)

_UPLOAD_KEY = re.compile(r"^uploads/(?P<owner>[0-9A-Z]{26})/(?P<file>[0-9A-Z]{26})$")


@dataclass(frozen=True)
class StartedUpload:
    file: FileRecord
    upload: PresignedPost
    expires_at: str


class Uploads:
    def __init__(self, files: FileRepository, store: ObjectStore, bucket: str, limits: Limits) -> None:
        self._files = files
        self._store = store
        self._bucket = bucket
        self._limits = limits
        self._pending = PendingFiles(files, store)

    def upload_limit(self, content_type: str) -> int:
        return upload_limit(self._limits, content_type)

    def upload(self, owner_id: str, filename: str, data: bytes, *, retain_until: int | None = None) -> FileRecord:
        """A small upload through the API: stored and inspected at once, `ready` or a 400."""
        if len(data) > SMALL_UPLOAD_LIMIT:
            raise PayloadTooLarge(
                f"the file is {len(data)} bytes; uploads through the API take at most {SMALL_UPLOAD_LIMIT} "
                "bytes. Send JSON {filename, content_type, size} to POST /files for a presigned upload."
            )
        try:
            info = inspect_file(io.BytesIO(data), self._limits)
        except PermanentTaskError as error:
            raise InvalidInput(
                error.message, errors=[{"loc": ["body", "file"], "msg": error.message, "type": error.code}]
            ) from error
        file_id = new_id()
        record = FileRecord(
            id=file_id,
            owner_id=owner_id,
            filename=clean_filename(filename),
            content_type=info.content_type,
            size=len(data),
            status=FileStatus.READY,
            bucket=self._bucket,
            key=f"{API_PREFIX}/{owner_id}/{file_id}",
            created_at=to_rfc3339(utc_now()),
            format=info.format,
            width=info.width,
            height=info.height,
            frames=info.frames,
            video=info.video,
            expires_at=retain_until,
            retain_until=retain_until,
        )
        self._store.put(self._bucket, record.key, data, info.content_type, guest=retain_until is not None)
        self._files.put(record)
        return record

    def start_upload(
        self, owner_id: str, filename: str, content_type: str, size: int, *, retain_until: int | None = None
    ) -> StartedUpload:
        """A large upload: a `pending` record and a presigned POST whose policy caps the size and
        pins the key and content type."""
        errors = []
        if content_type not in ACCEPTED_CONTENT_TYPES:
            errors.append(
                {"loc": ["body", "content_type"], "msg": f"must be one of: {', '.join(sorted(ACCEPTED_CONTENT_TYPES))}"}
            )
        limit = self.upload_limit(content_type)
        if not 1 <= size <= limit:
            kind = "a video" if announces_video(content_type) else "an image"
            errors.append({"loc": ["body", "size"], "msg": f"must be between 1 and {limit} bytes for {kind}"})
        if errors:
            raise InvalidInput(
                "the upload cannot be accepted: " + "; ".join(f"{e['loc'][-1]} {e['msg']}" for e in errors),
                errors=errors,
            )
        now = utc_now()
        file_id = new_id()
        record = FileRecord(
            id=file_id,
            owner_id=owner_id,
            filename=clean_filename(filename),
            content_type=content_type,
            size=size,
            status=FileStatus.PENDING,
            bucket=self._bucket,
            key=f"{UPLOAD_PREFIX}/{owner_id}/{file_id}",
            created_at=to_rfc3339(now),
            expires_at=pending_expiry(now.timestamp(), retain_until),
            retain_until=retain_until,
        )
        self._files.put(record)
        post = self._store.presigned_post(self._bucket, record.key, content_type, size, UPLOAD_URL_SECONDS)
        expires_at = to_rfc3339(now + timedelta(seconds=UPLOAD_URL_SECONDS))
        return StartedUpload(file=record, upload=post, expires_at=expires_at)

    def finish_upload(self, key: str, size: int) -> FileRecord | None:
        """The S3 event of a presigned upload: inspects the bytes and marks the file `ready` or
        `rejected`, once. Returns the file as it ends up, so the caller releases the tasks waiting
        on it (again, for a redelivered event: a crash may have come between the two); None for a
        key that is no upload of ours."""
        match = _UPLOAD_KEY.match(key)
        if not match:
            return None
        record = self._files.get(match["file"])
        if record is None:
            # Its record expired, or was deleted, before the bytes came: nobody can use them.
            self._store.delete(self._bucket, [key])
            return None
        if record.owner_id != match["owner"]:
            return None
        if record.status != FileStatus.PENDING:
            return record
        # AWS enforces the POST policy; the check here is defence in depth (and what makes the
        # emulator, which does not enforce it, behave the same).
        # A fetched file announced nothing: its type and limit come from its bytes.
        announced = None if record.source_url else record.content_type
        if announced is not None and size > min(record.size, self.upload_limit(announced)):
            message = f"the upload is {size} bytes, more than the {record.size} bytes announced"
            return self._pending.reject(record, size, ErrorCode.FILE_TOO_LARGE, message)
        try:
            # Read a block at a time: a video's inspection needs its header and one frame.
            with self._store.open(self._bucket, key, size) as source:
                info = inspect_file(source, self._limits, announced=announced)
        except PermanentTaskError as error:
            return self._pending.reject(record, size, error.code, error.message)
        if announced is None and size > self.upload_limit(info.content_type):
            message = f"the file is {size} bytes; the limit is {self.upload_limit(info.content_type)} bytes"
            return self._pending.reject(record, size, ErrorCode.FILE_TOO_LARGE, message)
        if announced is not None and not info.matches(announced):
            message = f"the upload is {info.format}, not the announced {announced}"
            return self._pending.reject(record, size, ErrorCode.UNSUPPORTED_FORMAT, message)
        finished = self._pending.finish(record, self._ready_changes(info, size))
        if finished is not None and finished.status == FileStatus.READY and finished.retain_until is not None:
            self._store.set_guest(self._bucket, key, True)
        return finished

    @staticmethod
    def _ready_changes(info: Inspected, size: int) -> dict[str, Any]:
        changes: dict[str, Any] = {
            "status": FileStatus.READY.value,
            "size": size,
            "content_type": info.content_type,
            "format": info.format,
            "width": info.width,
            "height": info.height,
            "frames": info.frames,
        }
        if info.video is not None:
            changes["video"] = info.video.model_dump_json()
        return changes

    def upload_died(self, key: str, attempts: int) -> FileRecord | None:
        """The dead-letter verdict on an upload event no worker could handle: a file still pending
        is rejected. The file as it ends up, so the caller releases or fails its waiting tasks."""
        match = _UPLOAD_KEY.match(key)
        record = self._files.get(match["file"]) if match else None
        if record is None:
            return None
        changes = {
            "status": FileStatus.REJECTED.value,
            "error": f"the upload could not be inspected in {attempts} attempts",
            "error_code": ErrorCode.RETRIES_EXHAUSTED.value,
        }
        return self._pending.finish(record, changes)
