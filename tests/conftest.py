"""Fixtures shared by every test level."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# No test may reach a real AWS account, whatever the developer's shell has configured.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "imgtasks-test",
        "POWERTOOLS_SERVICE_NAME": "imgtasks",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    """A web server on 127.0.0.1 serving a picture, redirects and errors (tests/web_server.py)."""
    from tests.web_server import serving

    with serving() as url:
        yield url
