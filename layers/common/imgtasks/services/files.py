"""Files: small uploads through the API, large ones through a presigned POST that the S3 event
finishes, listing, content URLs and deletion."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from imgtasks.adapters.outbound import OutboundClient, OutboundFailed, OutboundRefused, TooLarge, check_url, redacted
from imgtasks.adapters.repositories.cursors import Page
from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.storage import ObjectStore, PresignedPost
from imgtasks.domain.clock import to_rfc3339, utc_now
from imgtasks.domain.errors import Conflict, ErrorCode, InvalidInput, PayloadTooLarge, PermanentTaskError
from imgtasks.domain.ids import new_id
from imgtasks.domain.inspection import (
    ACCEPTED_CONTENT_TYPES,
    CONTENT_TYPES,
    EXTENSIONS,
    Inspected,
    announces_video,
    inspect_file,
)
from imgtasks.domain.limits import Limits
from imgtasks.domain.records import FileRecord, FileStatus

SMALL_UPLOAD_LIMIT = 4 * 1024 * 1024
CONTENT_URL_SECONDS = 900
UPLOAD_URL_SECONDS = 900
# A pending upload whose bytes have not arrived this long after its URL expired is abandoned: its
# record expires, and the tasks waiting on it fail (imgtasks_dispatch.dispatch).
ABANDONED_UPLOAD_SECONDS = UPLOAD_URL_SECONDS + 3600

# URL ingest: the whole fetch (redirects, connection, body) must end within this (the fetch
# function's timeout is 120 s), and a file's announced type before its bytes are sniffed.
FETCH_SECONDS = 100
UNKNOWN_CONTENT_TYPE = "application/octet-stream"

# Keys written by the API itself do not match the bucket's event prefixes; only client uploads to
# `uploads/` (and drop-ins to `inbox/`) produce S3 events.
API_PREFIX = "files"
UPLOAD_PREFIX = "uploads"
_UPLOAD_KEY = re.compile(r"^uploads/(?P<owner>[0-9A-Z]{26})/(?P<file>[0-9A-Z]{26})$")


def pending_expiry(now: float, retain_until: int | None) -> int:
    """When a pending file's record expires: when its upload is abandoned, or sooner, with the
    guest's data."""
    abandoned = int(now) + ABANDONED_UPLOAD_SECONDS
    return abandoned if retain_until is None else min(abandoned, retain_until)


@dataclass(frozen=True)
class StartedUpload:
    file: FileRecord
    upload: PresignedPost
    expires_at: str


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


class ChunkReader(io.RawIOBase):
    """An iterator of byte chunks as a file, for boto3's streamed (multipart) upload."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def url_filename(url: str) -> str:
    """The last segment of the URL's path, or `download`."""
    return clean_filename(unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "download")


class FileService:
    def __init__(self, files: FileRepository, store: ObjectStore, bucket: str, limits: Limits) -> None:
        self._files = files
        self._store = store
        self._bucket = bucket
        self._limits = limits

    def upload_limit(self, content_type: str) -> int:
        """Videos have a limit of their own (MaxVideoUploadBytes), images theirs (MaxUploadBytes)."""
        return self._limits.video.max_upload_bytes if announces_video(content_type) else self._limits.max_upload_bytes

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

    def start_fetch(
        self, owner_id: str, url: str, filename: str | None = None, *, retain_until: int | None = None
    ) -> FileRecord:
        """URL ingest: a `pending` file whose bytes the fetch worker brings (the table's change
        stream sends it the file); they land as an upload's would, and are inspected the same way."""
        try:
            check_url(url)
        except OutboundRefused as error:
            message = f"the URL cannot be fetched: {error}"
            raise InvalidInput(
                message, errors=[{"loc": ["body", "url"], "msg": str(error), "type": ErrorCode.URL_REFUSED.value}]
            ) from error
        now = utc_now()
        file_id = new_id()
        record = FileRecord(
            id=file_id,
            owner_id=owner_id,
            filename=clean_filename(filename) if filename else url_filename(url),
            content_type=UNKNOWN_CONTENT_TYPE,
            size=0,
            status=FileStatus.PENDING,
            bucket=self._bucket,
            key=f"{UPLOAD_PREFIX}/{owner_id}/{file_id}",
            created_at=to_rfc3339(now),
            source_url=url,
            expires_at=pending_expiry(now.timestamp(), retain_until),
            retain_until=retain_until,
        )
        self._files.put(record)
        return record

    def fetch(self, file_id: str, client: OutboundClient, *, last_attempt: bool) -> FileRecord | None:
        """The fetch worker: the file's URL streamed into its upload key (whose S3 event inspects
        it), or the file rejected with why. A network failure is raised for SQS to retry, except
        on the last attempt. Returns the file when it ended here (rejected), else None."""
        record = self._files.get(file_id)
        if record is None or record.status != FileStatus.PENDING or not record.source_url:
            return None
        cap = max(self._limits.max_upload_bytes, self._limits.video.max_upload_bytes)
        deadline = time.monotonic() + FETCH_SECONDS
        try:
            fetched = client.request("GET", record.source_url)
            if not 200 <= fetched.status < 300:
                fetched.response.release_conn()
                transient = fetched.status >= 500 or fetched.status == 429
                raise OutboundFailed(f"the server answered {fetched.status}", transient=transient)
            length = int(fetched.headers.get("Content-Length", "0") or 0)
            if length > cap:
                fetched.response.release_conn()
                raise TooLarge(f"the server announces {length} bytes")
            self._store.upload_stream(self._bucket, record.key, ChunkReader(fetched.chunks(cap, deadline)))
        except OutboundRefused as error:
            return self._reject(record, 0, ErrorCode.URL_REFUSED, f"{redacted(record.source_url)} was refused: {error}")
        except TooLarge as error:
            return self._reject(record, 0, ErrorCode.FILE_TOO_LARGE, f"{error}; the limit is {cap} bytes")
        except OutboundFailed as error:
            if error.transient and not last_attempt:
                raise
            return self._reject(record, 0, ErrorCode.URL_UNREACHABLE, f"{redacted(record.source_url)}: {error}")
        return None

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
            return self._reject(record, size, ErrorCode.FILE_TOO_LARGE, message)
        try:
            # Read a block at a time: a video's inspection needs its header and one frame.
            with self._store.open(self._bucket, key, size) as source:
                info = inspect_file(source, self._limits, announced=announced)
        except PermanentTaskError as error:
            return self._reject(record, size, error.code, error.message)
        if announced is None and size > self.upload_limit(info.content_type):
            message = f"the file is {size} bytes; the limit is {self.upload_limit(info.content_type)} bytes"
            return self._reject(record, size, ErrorCode.FILE_TOO_LARGE, message)
        if announced is not None and not info.matches(announced):
            message = f"the upload is {info.format}, not the announced {announced}"
            return self._reject(record, size, ErrorCode.UNSUPPORTED_FORMAT, message)
        finished = self._finish(record, self._ready_changes(info, size))
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
        return self._finish(record, changes)

    def _reject(self, record: FileRecord, size: int, code: ErrorCode, message: str) -> FileRecord | None:
        changes = {"status": FileStatus.REJECTED.value, "size": size, "error": message, "error_code": code.value}
        finished = self._finish(record, changes)
        self._store.delete(record.bucket, [record.key])  # bytes nobody may use: not kept
        return finished

    def _finish(self, record: FileRecord, changes: dict[str, Any]) -> FileRecord | None:
        """pending -> ready | rejected; the file as it ends up (a concurrent event may have
        finished it first). A guest's file then expires with the guest's data."""
        if record.retain_until is not None:
            changes = {**changes, "expires_at": record.retain_until}
        return self._files.finish_inspection(record.id, changes) or self._files.get(record.id)

    def get(self, owner_id: str, file_id: str) -> FileRecord:
        return self._files.get_owned(owner_id, file_id)

    def list(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        return self._files.list_owned(owner_id, limit, cursor)

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
