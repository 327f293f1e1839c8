"""Unit fixtures: AWS through moto's mock_aws, with every resource made from the SAM template by
the local stack's own provisioner, so tests and infrastructure cannot drift."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from argon2 import Parameters, Type
from moto import mock_aws

from imgtasks.adapters import aws
from imgtasks.services import credentials
from imgtasks.wiring import wiring
from local_stack.functions import FunctionSpec, function_specs
from local_stack.persistence import MemoryBlobStore, dump_backends, load_backends
from local_stack.provision import Provisioned, Provisioner
from local_stack.stack import LOCAL_PARAMETERS
from local_stack.template import Stack, load_template
from tests.helpers import TEMPLATE


@dataclass
class MockedStack:
    provisioned: Provisioned
    functions: dict[str, FunctionSpec]

    @property
    def outputs(self) -> dict[str, str]:
        return self.provisioned.outputs

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name="us-east-1")

    def use_environment_of(self, logical_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in self.functions[logical_id].environment.items():
            monkeypatch.setenv(name, value)


@dataclass
class ProvisionedOnce:
    stack: MockedStack
    state: bytes
    blobs: MemoryBlobStore


@pytest.fixture(scope="session")
def provisioned_once() -> Iterator[ProvisionedOnce]:
    """The template provisioned into moto once per test process; each test starts from a copy of
    that state (mocked_stack), which costs milliseconds where provisioning costs most of a second."""
    mock = mock_aws()
    mock.start()
    aws.forget_clients()
    try:
        stack = Stack(load_template(TEMPLATE), "imgtasks-test", LOCAL_PARAMETERS)
        provisioned = Provisioner(stack, boto3.session.Session(), None).run()
        functions = {spec.logical_id: spec for spec in function_specs(stack, TEMPLATE.parent)}
        blobs = MemoryBlobStore()
        yield ProvisionedOnce(MockedStack(provisioned, functions), dump_backends(blobs), blobs)
    finally:
        aws.forget_clients()
        mock.stop()


@pytest.fixture
def mocked_stack(provisioned_once: ProvisionedOnce) -> MockedStack:
    """Every resource of the template, as provisioned and with nothing in it. The boto3 clients of
    earlier tests stay valid (the backends are restored in place) and are kept: making them again
    would cost a third of a second a test."""
    load_backends(provisioned_once.state, provisioned_once.blobs)
    return provisioned_once.stack


# The least memory and time argon2id allows.
CHEAPEST_ARGON2ID = Parameters(
    type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=8, parallelism=1
)


@pytest.fixture(autouse=True)
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its smallest cost: the unit tests hash hundreds of passwords, and what they test
    (hash, verify, lockout) does not depend on the cost (test_tokens_and_passwords checks the
    real parameters)."""
    monkeypatch.setattr(credentials, "PASSWORD_PARAMETERS", CHEAPEST_ARGON2ID)


@pytest.fixture
def api(mocked_stack: MockedStack, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The API function's handler with the environment the template gives it."""
    from imgtasks.settings import ApiSettings
    from imgtasks_api.wiring import ApiWiring
    from tests.unit.api_client import ApiClient

    mocked_stack.use_environment_of("ApiFunction", monkeypatch)
    return ApiClient(ApiWiring(ApiSettings()))  # type: ignore[call-arg]


@pytest.fixture
def uploads(mocked_stack: MockedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs the upload function on what is waiting in the upload-events queue, as Lambda's poller would."""
    from imgtasks_ingest import uploads as upload_events
    from tests.unit.queue_driver import QueueDriver

    mocked_stack.use_environment_of("UploadFunction", monkeypatch)
    upload_events.upload_events.cache_clear()
    wiring.cache_clear()
    driver = QueueDriver(
        mocked_stack.client("sqs"), mocked_stack.outputs["UploadEventsQueueUrl"], upload_events.lambda_handler
    )
    driver.drain()  # S3's s3:TestEvent, sent when the bucket's notifications were configured
    yield driver
    upload_events.upload_events.cache_clear()
    wiring.cache_clear()


@pytest.fixture
def dispatch(mocked_stack: MockedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The dispatch function on the table's change stream: sends the messages of ready tasks."""
    from imgtasks_dispatch import dispatch as module
    from tests.unit.queue_driver import StreamDriver

    for name, value in mocked_stack.functions["DispatchFunction"].environment.items():
        monkeypatch.setenv(name, value)  # read once, when the function first sends

    wiring.cache_clear()
    module.dispatch_wiring.cache_clear()
    yield StreamDriver(
        mocked_stack.client("dynamodb"),
        mocked_stack.client("dynamodbstreams"),
        mocked_stack.outputs["TableName"],
        module.lambda_handler,
    )
    wiring.cache_clear()
    module.dispatch_wiring.cache_clear()


@pytest.fixture
def process(mocked_stack: MockedStack, uploads: Any, dispatch: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs the process function on what is waiting in the process queue; the change stream is
    dispatched before each receive, and `drain` handles the upload events first, as the upload
    function would (they release waiting tasks)."""
    from imgtasks_workers import process as handler
    from tests.unit.queue_driver import QueueDriver

    mocked_stack.use_environment_of("ProcessFunction", monkeypatch)
    handler.runner.cache_clear()
    yield QueueDriver(
        mocked_stack.client("sqs"),
        mocked_stack.outputs["ProcessQueueUrl"],
        handler.lambda_handler,
        upstream=uploads,
        dispatcher=dispatch,
    )
    handler.runner.cache_clear()


@pytest.fixture
def video(mocked_stack: MockedStack, uploads: Any, dispatch: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs the video function (the process handler, with FFmpeg) on what waits in the video queue."""
    from imgtasks_workers import video as handler
    from tests.unit.queue_driver import QueueDriver

    mocked_stack.use_environment_of("VideoFunction", monkeypatch)
    handler.runner.cache_clear()
    yield QueueDriver(
        mocked_stack.client("sqs"),
        mocked_stack.outputs["VideoQueueUrl"],
        handler.lambda_handler,
        upstream=uploads,
        dispatcher=dispatch,
    )
    handler.runner.cache_clear()


@pytest.fixture
def fetch(mocked_stack: MockedStack, uploads: Any, dispatch: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The fetch function (URL ingest) on the fetch queue; the stack allows private addresses as
    the local stack does (the tests serve files from 127.0.0.1). `drain` runs the change stream
    first, which sends the fetch messages."""
    from imgtasks_ingest import fetch as fetch_urls
    from tests.unit.queue_driver import QueueDriver

    mocked_stack.use_environment_of("FetchFunction", monkeypatch)
    wiring.cache_clear()
    driver = QueueDriver(
        mocked_stack.client("sqs"),
        mocked_stack.outputs["FetchQueueUrl"],
        fetch_urls.lambda_handler,
        dispatcher=dispatch,
    )
    yield driver
    wiring.cache_clear()


@pytest.fixture
def archive(mocked_stack: MockedStack, dispatch: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The archive function on the archive queue (the change stream dispatched first)."""
    from imgtasks_workers import archive as archives
    from tests.unit.queue_driver import QueueDriver

    mocked_stack.use_environment_of("ArchiveFunction", monkeypatch)
    wiring.cache_clear()
    yield QueueDriver(
        mocked_stack.client("sqs"),
        mocked_stack.outputs["ArchiveQueueUrl"],
        archives.lambda_handler,
        dispatcher=dispatch,
    )
    wiring.cache_clear()


@pytest.fixture
def webhooks(mocked_stack: MockedStack, dispatch: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The webhook functions: `drain` runs the events function on the change stream (after the
    dispatch function, as on the stack), then the delivery function on the webhook queue until it
    is empty. Retries wait 0 s here (WEBHOOK_RETRY_DELAYS), so a test sees every attempt."""
    from imgtasks_webhooks import delivery as webhook_delivery
    from imgtasks_webhooks import events as webhook_events
    from tests.unit.queue_driver import QueueDriver, StreamDriver

    mocked_stack.use_environment_of("WebhookEventsFunction", monkeypatch)
    mocked_stack.use_environment_of("WebhookDeliveryFunction", monkeypatch)
    monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "0,0,0")
    wiring.cache_clear()
    webhook_events.events_wiring.cache_clear()
    events = StreamDriver(
        mocked_stack.client("dynamodb"),
        mocked_stack.client("dynamodbstreams"),
        mocked_stack.outputs["TableName"],
        webhook_events.lambda_handler,
    )
    yield QueueDriver(
        mocked_stack.client("sqs"),
        mocked_stack.outputs["WebhookQueueUrl"],
        webhook_delivery.lambda_handler,
        dispatcher=events,
    )
    wiring.cache_clear()
    webhook_events.events_wiring.cache_clear()


def dead_letter_driver(
    mocked_stack: MockedStack, monkeypatch: pytest.MonkeyPatch, function: str, queue_output: str, module: str
) -> Iterator[Any]:
    """A dead-letter function (`module`'s handler, with `function`'s environment) on a queue."""
    import importlib

    from tests.unit.queue_driver import QueueDriver

    mocked_stack.use_environment_of(function, monkeypatch)
    wiring.cache_clear()
    handler = importlib.import_module(module).lambda_handler
    yield QueueDriver(mocked_stack.client("sqs"), mocked_stack.outputs[queue_output], handler)
    wiring.cache_clear()


@pytest.fixture
def dead_letters(mocked_stack: MockedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The dead-letter function on the process dead-letter queue."""
    yield from dead_letter_driver(
        mocked_stack, monkeypatch, "DeadLetterFunction", "ProcessDeadLetterQueueUrl", "imgtasks_dispatch.dead_tasks"
    )


@pytest.fixture
def dead_infer_letters(mocked_stack: MockedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The dead-letter function on the infer dead-letter queue."""
    yield from dead_letter_driver(
        mocked_stack, monkeypatch, "DeadLetterFunction", "InferDeadLetterQueueUrl", "imgtasks_dispatch.dead_tasks"
    )


@pytest.fixture
def dead_uploads(mocked_stack: MockedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The dead-upload function on the upload-events dead-letter queue."""
    yield from dead_letter_driver(
        mocked_stack,
        monkeypatch,
        "DeadUploadFunction",
        "UploadEventsDeadLetterQueueUrl",
        "imgtasks_ingest.dead_uploads",
    )


@pytest.fixture
def dead_deliveries(mocked_stack: MockedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The dead-delivery function on the webhook dead-letter queue."""
    yield from dead_letter_driver(
        mocked_stack,
        monkeypatch,
        "DeadDeliveryFunction",
        "WebhookDeadLetterQueueUrl",
        "imgtasks_webhooks.dead_deliveries",
    )


@pytest.fixture
def infer(mocked_stack: MockedStack, dispatch: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The infer function on the infer queue (the change stream dispatched before each receive)."""
    from imgtasks_workers import infer as handler
    from tests.unit.queue_driver import QueueDriver

    mocked_stack.use_environment_of("InferFunction", monkeypatch)
    handler.worker.cache_clear()
    yield QueueDriver(
        mocked_stack.client("sqs"), mocked_stack.outputs["InferQueueUrl"], handler.lambda_handler, dispatcher=dispatch
    )
    handler.worker.cache_clear()
