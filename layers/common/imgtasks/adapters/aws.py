"""boto3 clients, created once per cold start and handed to the adapters, typed with the
mypy-boto3 stubs.

Nothing here knows whether it talks to AWS, LocalStack or the embedded emulator: boto3 reads
AWS_ENDPOINT_URL from the environment when it is set. Every client reports its requests to the
meters of the work running now (imgtasks.adapters.metering): what a task costs."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from imgtasks.adapters.metering import count_requests

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

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
def s3() -> S3Client:
    return count_requests(session().client("s3", config=_CONFIG))


@cache
def sqs() -> SQSClient:
    return count_requests(session().client("sqs", config=_CONFIG))


@cache
def dynamodb() -> DynamoDBClient:
    return count_requests(session().client("dynamodb", config=_CONFIG))


@cache
def secretsmanager() -> SecretsManagerClient:
    return count_requests(session().client("secretsmanager", config=_CONFIG))


@cache
def cloudfront() -> CloudFrontClient:
    return count_requests(session().client("cloudfront", config=_CONFIG))


@cache
def cloudwatch() -> CloudWatchClient:
    return count_requests(session().client("cloudwatch", config=_CONFIG))


@cache
def connections(endpoint_url: str) -> ApiGatewayManagementApiClient:
    """The WebSocket API's management API, at its stage's URL (never AWS_ENDPOINT_URL: on the
    local stack it is the gateway, not the emulator)."""
    return count_requests(session().client("apigatewaymanagementapi", endpoint_url=endpoint_url, config=_CONFIG))


@cache
def table(name: str) -> Table:
    resource = session().resource("dynamodb", config=_CONFIG)
    count_requests(resource.meta.client)
    return resource.Table(name)


def forget_clients() -> None:
    """Every client made again on next use (tests that change what boto3 talks to)."""
    for made in (session, s3, sqs, dynamodb, secretsmanager, cloudfront, cloudwatch, connections, table):
        made.cache_clear()
