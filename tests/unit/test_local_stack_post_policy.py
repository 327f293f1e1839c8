"""The local stack's check of a presigned POST, on a policy signed by boto3 as the API signs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config

from local_stack.post_policy import LOCAL_SECRET_KEY, PolicyRefused, check


def signed(expires_in: int = 600) -> dict[str, str]:
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key=LOCAL_SECRET_KEY,
        endpoint_url="http://127.0.0.1:4566",
        config=Config(signature_version="s3v4"),  # as the service's clients sign
    )
    post = s3.generate_presigned_post(
        "uploads",
        "uploads/u1/f1",
        Fields={"Content-Type": "image/png"},
        Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 1, 100]],
        ExpiresIn=expires_in,
    )
    return {name.lower(): value for name, value in post["fields"].items()}


def test_a_post_as_signed_passes() -> None:
    check("uploads", signed(), b"x" * 100)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"key": "inbox/someone-else/web/planted.png"}, "Policy Condition failed"),
        ({"content-type": "text/html"}, "Policy Condition failed"),
        ({"x-amz-meta-extra": "1"}, "Extra input fields: x-amz-meta-extra"),
        ({"x-amz-signature": "0" * 64}, "signature"),
    ],
)
def test_a_changed_field_is_refused(change: dict[str, str], said: str) -> None:
    with pytest.raises(PolicyRefused, match=said):
        check("uploads", {**signed(), **change}, b"x" * 10)


def test_the_length_range_and_the_expiration_and_the_bucket_hold() -> None:
    with pytest.raises(PolicyRefused, match="exceeds the maximum"):
        check("uploads", signed(), b"x" * 101)
    with pytest.raises(PolicyRefused, match="expired"):
        check("uploads", signed(expires_in=60), b"x", now=datetime.now(UTC) + timedelta(minutes=2))
    with pytest.raises(PolicyRefused, match="Policy Condition failed"):
        check("results", signed(), b"x")
