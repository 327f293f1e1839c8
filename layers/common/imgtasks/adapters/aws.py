"""boto3 clients, created once per cold start and handed to the repositories.

Nothing here knows whether it talks to AWS, LocalStack or the embedded emulator: boto3 reads
AWS_ENDPOINT_URL from the environment when it is set."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Short timeouts and standard retries: a throttled or slow call becomes an exception that SQS
# retries rather than a Lambda that hangs until its deadline.
_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 4},
    s3={"addressing_style": "path"},
    signature_version="s3v4",
)


@cache
def session() -> boto3.session.Session:
    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    return session().client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def table(name: str) -> Any:
    return session().resource("dynamodb", config=_CONFIG).Table(name)
