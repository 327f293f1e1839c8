"""boto3 clients for an emulator, made the same way whichever emulator it is."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .template import REGION


def emulator_session(endpoint_url: str) -> Any:
    """A session for the emulator at endpoint_url, made by localstack-client: every client it makes
    points at that one endpoint, moto's server or LocalStack alike, with the emulator's dummy
    credentials. (localstack-client lets AWS_ENDPOINT_URL, when set, win over endpoint_url.)"""
    from localstack_client.session import Session

    return Session(
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - the emulator takes any key
        region_name=REGION,
        localstack_host=urlsplit(endpoint_url).netloc,
    )
