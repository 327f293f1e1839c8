"""Files: reading, listing, content URLs and deletion, and what every way in shares: names safe
to show, the pending record's expiry, and the one door by which a pending file becomes ready or
rejected. The ways in are modules of their own: uploads (through the API, and presigned POSTs
that the S3 event finishes) and url_ingest (files fetched from a URL)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from imgtasks.adapters.repositories.counts import CountRepository
from imgtasks.adapters.repositories.cursors import Page
from imgtasks.adapters.repositories.files import FileOrder, FileRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.counts import FILE_COUNTS, counter_name
from imgtasks.domain.errors import Conflict, ErrorCode
from imgtasks.domain.inspection import CONTENT_TYPES, EXTENSIONS, announces_video
from imgtasks.domain.limits import Limits
from imgtasks.domain.records import FileRecord, FileStatus

SMALL_UPLOAD_LIMIT = 4 * 1024 * 1024
CONTENT_URL_SECONDS = 900
UPLOAD_URL_SECONDS = 900
# A pending upload whose bytes have not arrived this long after its URL expired is abandoned: its
# record expires, and the tasks waiting on it fail (imgtasks_dispatch.dispatch).
ABANDONED_UPLOAD_SECONDS = UPLOAD_URL_SECONDS + 3600

# Keys written by the API itself do not match the bucket's event prefixes; only client uploads to
# `uploads/` (and drop-ins to `inbox/`) produce S3 events.
API_PREFIX = "files"
UPLOAD_PREFIX = "uploads"


def pending_expiry(now: float, retain_until: int | None) -> int:
    """When a pending file's record expires: when its upload is abandoned, or sooner, with the
    guest's data."""
    abandoned = int(now) + ABANDONED_UPLOAD_SECONDS
    return abandoned if retain_until is None else min(abandoned, retain_until)


def clean_filename(filename: str) -> str:
    """A name safe to show and to put in a Content-Disposition header."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>')
    return name.strip()[:255] or "image"


def served_type(record: FileRecord) -> str | None:
    """The content type the service verified by reading the bytes, or None."""
    return CONTENT_TYPES.get(record.format or "")


def served_name(record: FileRecord) -> str:
    """The name a download is saved under: the client's name with the extension of the format the
    bytes really are (a JPEG named page.html is served as page.jpg)."""
    stem = record.filename.rsplit(".", 1)[0] if "." in record.filename else record.filename
    extension = EXTENSIONS.get(record.format or "", "bin")
    return f"{stem or 'image'}.{extension}"


def upload_limit(limits: Limits, content_type: str) -> int:
    """Videos have a limit of their own (MaxVideoUploadBytes), images theirs (MaxUploadBytes)."""
    return limits.video.max_upload_bytes if announces_video(content_type) else limits.max_upload_bytes


class PendingFiles:
    """The one door out of `pending`: ready or rejected, once (a concurrent event may have
    finished the file first). A rejected file's bytes are deleted: nobody may use them."""

    def __init__(self, files: FileRepository, store: ObjectStore) -> None:
        self._files = files
        self._store = store

    def reject(self, record: FileRecord, size: int, code: ErrorCode, message: str) -> FileRecord | None:
        changes = {"status": FileStatus.REJECTED.value, "size": size, "error": message, "error_code": code.value}
        finished = self.finish(record, changes)
        self._store.delete(record.bucket, [record.key])
        return finished

    def finish(self, record: FileRecord, changes: dict[str, Any]) -> FileRecord | None:
        """pending -> ready | rejected; the file as it ends up. A guest's file then expires with
        the guest's data."""
        if record.retain_until is not None:
            changes = {**changes, "expires_at": record.retain_until}
        return self._files.finish_inspection(record.id, changes) or self._files.get(record.id)


class FileService:
    """A caller's files: read, list, their content's URL, delete."""

    def __init__(self, files: FileRepository, counts: CountRepository, store: ObjectStore) -> None:
        self._files = files
        self._counts = counts
        self._store = store

    def get(self, owner_id: str, file_id: str) -> FileRecord:
        return self._files.get_owned(owner_id, file_id)

    def get_many(self, owner_id: str, file_ids: list[str]) -> dict[str, FileRecord]:
        """The caller's records among these ids, by id, in one batch read."""
        records = self._files.get_many(file_ids)
        return {file_id: record for file_id, record in records.items() if record.owner_id == owner_id}

    def list(
        self,
        owner_id: str,
        *,
        limit: int,
        cursor: str | None,
        order: FileOrder = "-created_at",
        status: str | None = None,
        file_format: str | None = None,
    ) -> Page:
        """A page of the owner's files, with the total of the filters (the change stream's counter)."""
        page = self._files.list_owned(
            owner_id, limit=limit, cursor=cursor, order=order, status=status, file_format=file_format
        )
        total = self._counts.total(owner_id, FILE_COUNTS, counter_name(status, file_format))
        return replace(page, total=total)

    def content_url(self, owner_id: str, file_id: str) -> str:
        record = self._files.get_owned(owner_id, file_id)
        if record.status != FileStatus.READY:
            raise Conflict(f"file '{file_id}' is {record.status}; its content is not available")
        return self._store.presigned_get(
            record.bucket, record.key, CONTENT_URL_SECONDS, served_name(record), content_type=served_type(record)
        )

    def delete(self, owner_id: str, file_id: str) -> None:
        record = self._files.get_owned(owner_id, file_id)
        self._store.delete(record.bucket, [record.key])
        self._files.delete(record.id)
