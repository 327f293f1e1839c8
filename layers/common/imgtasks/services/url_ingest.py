"""URL ingest: a pending file whose bytes a worker fetches from a URL, guarded against SSRF
(imgtasks.adapters.outbound), streamed into its upload key; its S3 event then inspects them as it
does a presigned upload's."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from imgtasks.adapters.outbound import OutboundClient, OutboundFailed, OutboundRefused, TooLarge, check_url, redacted
from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.domain.clock import to_rfc3339, utc_now
from imgtasks.domain.errors import ErrorCode, InvalidInput
from imgtasks.domain.ids import new_id
from imgtasks.domain.limits import Limits
from imgtasks.domain.records import FileRecord, FileStatus
from imgtasks.services.files import UPLOAD_PREFIX, PendingFiles, clean_filename, pending_expiry

# The whole fetch (redirects, connection, body) must end within this (the fetch function's timeout
# is 120 s), and a file's announced type before its bytes are sniffed.
FETCH_SECONDS = 100
UNKNOWN_CONTENT_TYPE = "application/octet-stream"


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


class UrlIngest:
    def __init__(self, files: FileRepository, store: ObjectStore, bucket: str, limits: Limits) -> None:
        self._files = files
        self._store = store
        self._bucket = bucket
        self._limits = limits
        self._pending = PendingFiles(files, store)

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

    def fetch(
        self, file_id: str, client: OutboundClient, *, attempt: int, attempts: int, retry_in_s: int
    ) -> FileRecord | None:
        """The fetch worker: the file's URL streamed into its upload key (whose S3 event inspects
        it), or the file rejected with why. A network failure is noted on the file (what failed,
        when the next attempt is) and raised for SQS to retry, except on the last attempt. Returns
        the file when it ended here (rejected), else None."""
        last_attempt = attempt >= attempts
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
            return self._pending.reject(
                record, 0, ErrorCode.URL_REFUSED, f"{redacted(record.source_url)} was refused: {error}"
            )
        except TooLarge as error:
            return self._pending.reject(record, 0, ErrorCode.FILE_TOO_LARGE, f"{error}; the limit is {cap} bytes")
        except OutboundFailed as error:
            if error.transient and not last_attempt:
                self._files.note_fetch_failure(
                    record.id,
                    attempt,
                    f"{ErrorCode.URL_UNREACHABLE.value}: {error}; retrying in {retry_in_s} s, "
                    f"attempt {attempt + 1} of {attempts}",
                )
                raise
            return self._pending.reject(record, 0, ErrorCode.URL_UNREACHABLE, f"{redacted(record.source_url)}: {error}")
        return None

    def fetch_died(self, file_id: str, attempts: int) -> FileRecord | None:
        """The dead-letter verdict on a fetch no worker could finish (each attempt crashed or ran
        out of time): a file still pending is rejected, and returned so that the caller fails the
        tasks waiting on it."""
        record = self._files.get(file_id)
        if record is None or record.status != FileStatus.PENDING:
            return None
        url = redacted(record.source_url or "")
        return self._pending.reject(
            record, 0, ErrorCode.RETRIES_EXHAUSTED, f"{url} could not be fetched in {attempts} attempts"
        )
