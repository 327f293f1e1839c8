"""S3 access for file bytes and presigned URLs. The buckets are private: clients only ever get
presigned URLs that expire."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


READ_BLOCK_BYTES = 1024 * 1024


class RangedObject(io.RawIOBase):
    """An S3 object read with ranged GETs as a seekable file, so a reader that needs its header
    and one frame (a video's container index, often at the end) fetches those, not 500 MB."""

    def __init__(self, s3_client: Any, bucket: str, key: str, size: int) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._key = key
        self._size = size
        self._position = 0
        self.fetched_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def _fetch(self, count: int) -> bytes:
        last = self._position + count - 1
        response = self._s3.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={self._position}-{last}")
        data: bytes = response["Body"].read()
        self.fetched_bytes += len(data)
        self._position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        data = self._fetch(wanted)
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        """The rest in one GET (the default reads 8 KiB a call: a GET each)."""
        return self._fetch(self._size - self._position) if self._position < self._size else b""


PART_BYTES = 8 * 1024 * 1024


# A guest's objects carry this tag: the buckets' `guest-data` lifecycle rule expires them after
# GuestDays, and claiming the account removes it.
GUEST_TAG = ("retention", "guest")
GUEST_TAGGING = f"{GUEST_TAG[0]}={GUEST_TAG[1]}"


def _tagging(guest: bool) -> dict[str, str]:
    return {"Tagging": GUEST_TAGGING} if guest else {}


class MultipartWriter(io.RawIOBase):
    """A file written into an S3 object by a multipart upload, one part (8 MiB) buffered at a time:
    memory stays the same whatever the size. `close` completes the upload; `abort` drops it."""

    def __init__(self, s3_client: Any, bucket: str, key: str, content_type: str, *, guest: bool = False) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._key = key
        upload = s3_client.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type, **_tagging(guest))
        self._upload_id = upload["UploadId"]
        self._parts: list[dict[str, Any]] = []
        self._buffer = bytearray()
        self._written = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._written

    def write(self, data: Any) -> int:
        self._buffer += data
        self._written += len(data)
        while len(self._buffer) >= PART_BYTES:
            self._send(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]
        return len(data)

    def _send(self, part: bytes) -> None:
        number = len(self._parts) + 1
        answer = self._s3.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=part
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def close(self) -> None:
        if self.closed:
            return
        if self._buffer or not self._parts:  # the last part may be short; an empty object has one
            self._send(bytes(self._buffer))
            self._buffer.clear()
        self._s3.complete_multipart_upload(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )
        super().close()

    def abort(self) -> None:
        if not self.closed:
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
            super().close()


class ObjectStore:
    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client

    def put(self, bucket: str, key: str, body: bytes, content_type: str, *, guest: bool = False) -> None:
        self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, **_tagging(guest))

    def put_cached(self, bucket: str, key: str, body: bytes, content_type: str, cache_control: str) -> None:
        """An object a CDN serves as it is: its Cache-Control goes out with it."""
        self._s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl=cache_control)

    def copy_cached(
        self, source: tuple[str, str], bucket: str, key: str, content_type: str, cache_control: str
    ) -> None:
        """A copy made by S3 itself (no byte passes through here), with new metadata."""
        self._s3.copy_object(
            CopySource={"Bucket": source[0], "Key": source[1]},
            Bucket=bucket,
            Key=key,
            ContentType=content_type,
            CacheControl=cache_control,
            MetadataDirective="REPLACE",
        )

    def keys_under(self, bucket: str, prefix: str) -> Iterator[str]:
        """Every key under a prefix, a listing page (1,000 keys) at a time."""
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield str(entry["Key"])

    def set_guest(self, bucket: str, key: str, guest: bool) -> None:
        """Tags a guest's object for the lifecycle rule that expires guest data, or (a claimed
        account) removes the tag."""
        if guest:
            self._s3.put_object_tagging(
                Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": GUEST_TAG[0], "Value": GUEST_TAG[1]}]}
            )
        else:
            self._s3.delete_object_tagging(Bucket=bucket, Key=key)

    def get(self, bucket: str, key: str) -> bytes:
        response = self._s3.get_object(Bucket=bucket, Key=key)
        data: bytes = response["Body"].read()
        return data

    def open(self, bucket: str, key: str, size: int) -> BinaryIO:
        """The object as a seekable file read a block at a time (ranged GETs)."""
        return io.BufferedReader(RangedObject(self._s3, bucket, key, size), buffer_size=READ_BLOCK_BYTES)

    def chunks(self, bucket: str, key: str, chunk_bytes: int = 1024 * 1024) -> Iterator[bytes]:
        """The object's bytes as they arrive."""
        body = self._s3.get_object(Bucket=bucket, Key=key)["Body"]
        yield from body.iter_chunks(chunk_bytes)

    def writer(self, bucket: str, key: str, content_type: str, *, guest: bool = False) -> MultipartWriter:
        return MultipartWriter(self._s3, bucket, key, content_type, guest=guest)

    def upload_stream(self, bucket: str, key: str, source: BinaryIO | io.RawIOBase) -> None:
        """A stream of unknown length into an object: a multipart upload of 8 MiB parts, two at a
        time, so memory stays the same whatever the size."""
        from boto3.s3.transfer import TransferConfig

        self._s3.upload_fileobj(source, bucket, key, Config=TransferConfig(max_concurrency=2))

    def download(self, bucket: str, key: str, path: Path) -> None:
        """The object into a local file (parallel ranged GETs), for work that reads all of it."""
        self._s3.download_file(bucket, key, str(path))

    def size(self, bucket: str, key: str) -> int | None:
        """The object's size, or None when it does not exist."""
        try:
            response = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(response["ContentLength"])

    def delete(self, bucket: str, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            self._s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": True})

    def presigned_get(
        self,
        bucket: str,
        key: str,
        expires_in: int,
        download_name: str | None = None,
        *,
        content_type: str | None = None,
        attachment: bool = False,
    ) -> str:
        """A GET URL that expires. With a content type (one the service verified), the answer
        carries it and shows inline unless `attachment` is asked for; without one, it is always
        an attachment, so a browser never renders bytes it was not promised."""
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        disposition = "inline" if content_type and not attachment else "attachment"
        if content_type:
            params["ResponseContentType"] = content_type
        if download_name:
            safe = download_name.replace('"', "").replace("\\", "")
            params["ResponseContentDisposition"] = f'{disposition}; filename="{safe}"'
        url: str = self._s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
        return url

    def presigned_post(
        self, bucket: str, key: str, content_type: str, max_bytes: int, expires_in: int
    ) -> PresignedPost:
        """A POST policy that pins the key and content type and caps the size (AWS enforces it)."""
        response = self._s3.generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=expires_in,
        )
        return PresignedPost(url=response["url"], fields=response["fields"])
