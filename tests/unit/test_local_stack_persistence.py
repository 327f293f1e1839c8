"""The local stack's saved state: whatever the emulator holds after any call can be saved and comes
back (issue 24: after the first ZIP, every save failed and a restart lost everything since)."""

from __future__ import annotations

from pathlib import Path

import boto3
from moto import mock_aws

from local_stack.persistence import BlobStore, dump_backends, load_backends

BUCKET = "saved-state-bucket"
PART = 5 * 2**20


def test_a_completed_and_an_aborted_multipart_upload_are_saved_and_restored(tmp_path: Path) -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        upload = s3.create_multipart_upload(Bucket=BUCKET, Key="archive.zip")["UploadId"]
        parts = [
            {
                "PartNumber": number,
                "ETag": s3.upload_part(Bucket=BUCKET, Key="archive.zip", UploadId=upload, PartNumber=number, Body=body)[
                    "ETag"
                ],
            }
            for number, body in ((1, b"a" * PART), (2, b"b" * 100))
        ]
        s3.complete_multipart_upload(
            Bucket=BUCKET, Key="archive.zip", UploadId=upload, MultipartUpload={"Parts": parts}
        )
        aborted = s3.create_multipart_upload(Bucket=BUCKET, Key="gone.zip")["UploadId"]
        s3.upload_part(Bucket=BUCKET, Key="gone.zip", UploadId=aborted, PartNumber=1, Body=b"c" * 100)
        s3.abort_multipart_upload(Bucket=BUCKET, Key="gone.zip", UploadId=aborted)
        s3.put_object(Bucket=BUCKET, Key="after.txt", Body=b"written after the ZIP")
        blobs = BlobStore(tmp_path)
        saved = dump_backends(blobs)

    with mock_aws():
        load_backends(saved, BlobStore(tmp_path))
        s3 = boto3.client("s3", region_name="us-east-1")
        archive = s3.get_object(Bucket=BUCKET, Key="archive.zip")["Body"].read()
        assert archive == b"a" * PART + b"b" * 100
        assert s3.get_object(Bucket=BUCKET, Key="after.txt")["Body"].read() == b"written after the ZIP"
        assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
