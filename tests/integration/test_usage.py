"""A task's usage against what the emulator saw: the local stack in this process (fresh state, the
functions in worker processes under the functions' Python, as `make run` starts them), one task
on a real photograph, and the embedded emulator's count of every call each function's
credentials signed."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from imgtasks.domain.prices import PRICES
from local_stack.lambda_python import lambda_python
from local_stack.stack import LocalStack, StackConfig
from local_stack.template import ACCOUNT_ID, REGION
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / ".corpus" / "pillow-13.0.0" / "xmp_test.jpg"  # a real photograph, 1.2 MB
# The emulator names S3 calls by method and target; boto3 by operation.
S3_NAMES = {"GetObject": "GET object", "HeadObject": "HEAD object", "PutObject": "PUT object"}


class Stack:
    def __init__(self, tmp: Path) -> None:
        self.local = LocalStack(
            StackConfig(
                emulator_port=free_port(),
                api_port=free_port(),
                concurrency=1,
                state_dir=tmp,
                python=lambda_python(),
                models_dir=None,
            )
        )
        self.http = requests.Session()

    def start(self) -> None:
        self.local.bind_ports()
        self.local.start()
        name, password = f"usage-{uuid.uuid4().hex[:8]}", "correct-horse-battery"
        self.post("/auth/register", json={"username": name, "password": password})
        token = self.post("/auth/token", data={"grant_type": "password", "username": name, "password": password})
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"

    @property
    def app(self) -> Any:
        return self.local.emulator.app  # type: ignore[union-attr]

    def post(self, path: str, **kwargs: Any) -> Any:
        answer = self.http.post(f"{self.local.api_url}{path}", timeout=30, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def get(self, path: str, **kwargs: Any) -> Any:
        answer = self.http.get(f"{self.local.api_url}{path}", timeout=30, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def status_in_table(self, task_id: str) -> str:
        """The task's status read from moto's memory: watching makes no call."""
        from moto.backends import get_backend
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = get_backend("dynamodb")[ACCOUNT_ID][REGION].tables[self.local.outputs["TableName"]]
        item = table.get_item(DynamoType({"S": f"TASK#{task_id}"}), DynamoType({"S": "TASK"}))
        return str(item.to_json()["Attributes"]["status"]["S"]) if item else ""

    def quiet(self, seconds: float = 1.5, longest: float = 60) -> None:
        """Until no function has called the emulator for `seconds`: the stream drained."""
        deadline = time.monotonic() + longest
        while time.monotonic() < deadline:
            before = sum(self.app.calls_by_function.values())
            time.sleep(seconds)
            if sum(self.app.calls_by_function.values()) == before:
                return
        raise AssertionError("the stack never went quiet")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not PHOTO.exists():
        pytest.fail(f"{PHOTO} is missing: `make corpus` fetches the pinned corpus")
    running = Stack(tmp_path_factory.mktemp("usage-stack"))
    running.start()
    try:
        yield running
    finally:
        running.local.stop()


def emulator_name(call: str) -> tuple[str, str]:
    service, operation = call.split(" ", 1)
    return service, S3_NAMES.get(operation, operation) if service == "s3" else operation


def calls_of(usage: dict[str, Any], function: str, *, estimated: bool = False) -> Counter[tuple[str, str]]:
    counted: Counter[tuple[str, str]] = Counter()
    for invocation in usage["invocations"]:
        if invocation["function"] == function and invocation["estimated"] == estimated:
            for call, count in invocation["calls"].items():
                counted[emulator_name(call)] += round(count, 6)
    return counted


def seen_by(calls: Counter[tuple[str, str, str]], function: str, services: tuple[str, ...]) -> Counter[tuple[str, str]]:
    return Counter({(s, op): n for (f, s, op), n in calls.items() if f == function and s in services})


def test_a_tasks_usage_counts_the_calls_the_emulator_saw_and_prices_them(stack: Stack) -> None:
    file_id = stack.post("/files", files={"file": (PHOTO.name, PHOTO.read_bytes(), "image/jpeg")})["id"]
    deadline = time.monotonic() + 60
    while stack.get(f"/files/{file_id}")["status"] != "ready":
        assert time.monotonic() < deadline, "the upload was never inspected"
        time.sleep(0.3)
    stack.quiet()
    stack.app.take_calls_by_function()

    task_id = stack.post("/tasks", json={"type": "process", "file_ids": [file_id], "preset": "web"})["tasks"][0]["id"]
    api_calls = stack.app.take_calls_by_function()  # what POST /tasks made, and nothing after it yet
    deadline = time.monotonic() + 120
    while stack.status_in_table(task_id) not in ("done", "failed"):
        assert time.monotonic() < deadline, "the task never finished"
        time.sleep(0.2)
    stack.quiet()
    worker_calls = api_calls + stack.app.take_calls_by_function()
    task = stack.get(f"/tasks/{task_id}")
    assert task["status"] == "done", task
    usage = task["usage"]

    # Each function's calls for the task are the calls the emulator saw it make.
    assert calls_of(usage, "api") == seen_by(api_calls, "ApiFunction", ("dynamodb", "s3", "sqs"))
    assert calls_of(usage, "process") == seen_by(worker_calls, "ProcessFunction", ("dynamodb", "s3", "sqs"))
    dispatched = seen_by(worker_calls, "DispatchFunction", ("sqs",))
    assert calls_of(usage, "dispatch") == dispatched == Counter({("sqs", "SendMessageBatch"): 1})

    # The request classes are those calls (and Lambda's receive and delete of the batch of one).
    requests_ = usage["requests"]
    assert requests_["s3_get"] == 1 and requests_["s3_put"] == 1  # the photo read, the web JPEG written
    assert requests_["sqs"] == 1 + 2
    assert requests_["api_gateway"] == 1
    assert requests_["dynamodb_write_units"] > 0 and requests_["dynamodb_read_units"] > 0

    # Bytes: the photograph read, the output stored.
    output = task["result"]["outputs"][0]
    assert usage["bytes_read"] == PHOTO.stat().st_size
    assert usage["bytes_stored"] == output["size"]

    # Lambda: each invocation at its function's memory size; the process function's is the template's.
    process = next(i for i in usage["invocations"] if i["function"] == "process")
    assert process["memory_mb"] == 2048 and process["ms"] > 0
    gb_seconds = sum(i["memory_mb"] / 1024 * i["ms"] / 1000 for i in usage["invocations"])
    assert usage["lambda_gb_seconds"] == pytest.approx(gb_seconds)

    # Priced from the one table.
    table = PRICES["us-east-1"]
    cost = usage["cost"]
    assert cost["region"] == "us-east-1"
    lambda_usd = gb_seconds * table.lambda_gb_second + usage["lambda_requests"] * table.lambda_request
    assert cost["lambda_usd"] == pytest.approx(lambda_usd)
    requests_usd = (
        requests_["s3_put"] * table.s3_put_request
        + requests_["s3_get"] * table.s3_get_request
        + requests_["sqs"] * table.sqs_request
        + requests_["dynamodb_read_units"] * table.dynamodb_read_unit
        + requests_["dynamodb_write_units"] * table.dynamodb_write_unit
        + requests_["api_gateway"] * table.api_gateway_request
    )
    assert cost["requests_usd"] == pytest.approx(requests_usd)
    assert cost["cost_usd"] == pytest.approx(lambda_usd + requests_usd)

    # GET /usage sums it, on the day it was made, under its type.
    report = stack.get("/usage")
    (row,) = report["days"]
    assert (row["day"], row["type"], row["tasks"]) == (task["created_at"][:10], "process", 1)
    assert row["cost_usd"] == pytest.approx(cost["cost_usd"], abs=1e-9)
    assert row["bytes_stored"] == output["size"]
    assert report["total"]["cost_usd"] == pytest.approx(cost["cost_usd"], abs=1e-9)
