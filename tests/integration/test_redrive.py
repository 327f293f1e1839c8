"""The operators' redrive against the embedded emulator over HTTP: POST /admin/dead-letters/{queue}
/redrive calls SQS's StartMessageMoveTask (which the stack's emulator answers where moto alone
does not), and the dead letters are back on their queue, each once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from imgtasks.adapters import aws
from local_stack.emulator import EmbeddedEmulator
from local_stack.functions import function_specs
from local_stack.provision import Provisioner
from local_stack.session import emulator_session
from local_stack.template import Stack, load_template
from tests.helpers import TEMPLATE
from tests.ports import free_port

OPERATOR = "ops-person"


@pytest.fixture
def operator_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    from imgtasks.settings import ApiSettings
    from imgtasks_api.wiring import ApiWiring
    from tests.unit.api_client import ApiClient

    port = free_port()
    emulator = EmbeddedEmulator("127.0.0.1", port)
    emulator.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        stack = Stack(load_template(TEMPLATE), "imgtasks-redrive", {"AdminUsernames": OPERATOR})
        Provisioner(stack, emulator_session(endpoint), endpoint).run()
        api_spec = next(spec for spec in function_specs(stack, TEMPLATE.parent) if spec.logical_id == "ApiFunction")
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        for name, value in api_spec.environment.items():
            monkeypatch.setenv(name, value)
        aws.forget_clients()
        yield ApiClient(ApiWiring(ApiSettings())), emulator_session(endpoint).client("sqs")  # type: ignore[call-arg]
    finally:
        aws.forget_clients()
        emulator.stop()


def test_a_dead_letter_queue_goes_back_to_its_queue(operator_api: tuple[Any, Any]) -> None:
    api, sqs = operator_api
    queue = sqs.get_queue_url(QueueName="imgtasks-redrive-ProcessQueue")["QueueUrl"]
    dead = sqs.get_queue_url(QueueName="imgtasks-redrive-ProcessDeadLetterQueue")["QueueUrl"]
    bodies = [f'{{"kind": "task", "n": {n}}}' for n in range(3)]
    for body in bodies:
        sqs.send_message(QueueUrl=dead, MessageBody=body)
    api.sign_up("someone-else")
    assert api.call("POST", "/admin/dead-letters/process/redrive").status == 403
    api.sign_up(OPERATOR)
    stats = api.call("GET", "/admin/stats").body
    process = next(q for q in stats["queues"] if q["name"] == "process")
    assert (process["visible"], process["dead_letter"]["visible"]) == (0, 3)
    moved = api.call("POST", "/admin/dead-letters/process/redrive")
    assert moved.status == 202 and moved.body["messages"] == 3 and moved.body["task_handle"]
    back = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert sorted(m["Body"] for m in back) == bodies
    assert "Messages" not in sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    again = api.call("POST", "/admin/dead-letters/process/redrive")
    assert again.status == 409
    tasks = sqs.list_message_move_tasks(
        SourceArn=sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    )
    assert tasks["Results"][0]["Status"] == "COMPLETED" and tasks["Results"][0]["ApproximateNumberOfMessagesMoved"] == 3
