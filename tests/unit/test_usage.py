"""Usage and cost: what a task records, how the change stream sums it per day (GET /usage), and
what the API refuses. The counts against a real emulator's are tests/integration/test_usage.py."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from imgtasks.domain.prices import PRICES, price
from imgtasks.domain.usage import Invocation, Requests, Usage
from imgtasks.domain.usage_totals import MEASURES, usage_changes
from tests.helpers import image_bytes

RESIZE = [{"op": "resize", "width": 100}]


def stored(usage: Usage | None, status: str = "running", **more: Any) -> dict[str, Any]:
    image = {"SK": "TASK", "owner_id": "u1", "type": "process", "status": status, "updated_at": "2026-12-04T10:00:00Z"}
    if usage is not None:
        image["usage_json"] = usage.model_dump_json()
    return {**image, **more}


def worked(ms: float, *, memory_mb: int = 2048, s3_put: float = 1) -> Usage:
    return Usage(
        invocations=[Invocation(function="process", memory_mb=memory_mb, ms=ms, share=1)],
        requests=Requests(s3_put=s3_put, dynamodb_write_units=3),
        bytes_stored=1000,
    )


def test_a_cost_is_the_price_table_times_what_was_used() -> None:
    usage = worked(500, memory_mb=2048).plus(Usage(requests=Requests(sqs=3, s3_get=1, api_gateway=1)))
    table = PRICES["us-east-1"]
    cost = price(usage, "us-east-1")
    assert cost.lambda_usd == pytest.approx(1.0 * table.lambda_gb_second + 1 * table.lambda_request)
    assert cost.requests_usd == pytest.approx(
        table.s3_put_request
        + table.s3_get_request
        + 3 * table.sqs_request
        + 3 * table.dynamodb_write_unit
        + table.api_gateway_request
    )
    assert cost.storage_usd_per_month == pytest.approx(1000 / 2**30 * table.s3_gb_month)
    # A region the table does not have is priced at us-east-1's, and says so.
    assert price(usage, "ap-south-2").region == "us-east-1"


def test_the_stream_sums_each_change_of_a_tasks_usage_once() -> None:
    made = Usage(invocations=[Invocation(function="api", memory_mb=1024, ms=10, share=0.5)])
    new = usage_changes(None, stored(made, "queued"), "us-east-1")
    assert new is not None and new[:2] == ("u1", "2026-12-04")
    assert new[2]["process|tasks"] == 1
    assert new[2]["process|lambda_gb_seconds"] == round(made.total_gb_seconds() * MEASURES["lambda_gb_seconds"])

    # A progress write leaves the usage as it was: nothing to add.
    assert usage_changes(stored(made), stored(made, progress=50), "us-east-1") is None

    # The end adds what the attempt used, not the whole task again.
    ended = made.plus(worked(400))
    _, _, deltas = usage_changes(stored(made), stored(ended, "done"), "us-east-1") or ("", "", {})
    assert "process|tasks" not in deltas
    assert deltas["process|lambda_gb_seconds"] == round(0.8 * 1000)
    assert deltas["process|bytes_stored"] == 1000
    attempt_cost = price(ended, "us-east-1").cost_usd - price(made, "us-east-1").cost_usd
    assert deltas["process|cost_usd"] == round(attempt_cost * MEASURES["cost_usd"])

    # A restarted task that ends again adds its new run only.
    again = ended.plus(worked(100))
    _, _, rerun = usage_changes(stored(ended, "running"), stored(again, "done"), "us-east-1") or ("", "", {})
    assert rerun["process|lambda_gb_seconds"] == round(0.2 * 1000)

    # Anything but a task (a file, a counter) is not usage.
    assert usage_changes(None, {"SK": "FILE", "owner_id": "u1"}, "us-east-1") is None


def test_a_finished_task_shows_its_usage_and_get_usage_sums_it(api: Any, process: Any, dispatch: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((400, 300))).body["id"]
    task_id = api.call(
        "POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "operations": RESIZE}
    ).body["tasks"][0]["id"]
    assert api.call("GET", f"/tasks/{task_id}").body["usage"] is None  # not shown before it ends
    process.drain()
    dispatch.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert task["status"] == "done"
    usage = task["usage"]
    functions = [invocation["function"] for invocation in usage["invocations"]]
    assert "process" in functions and "dispatch" in functions
    process_calls = next(i for i in usage["invocations"] if i["function"] == "process")["calls"]
    assert process_calls["s3 GetObject"] == 1 and process_calls["s3 PutObject"] == 1
    assert usage["bytes_stored"] == task["result"]["outputs"][0]["size"]
    assert usage["cost"]["cost_usd"] > 0

    report = api.call("GET", "/usage").body
    (row,) = report["days"]
    assert (row["type"], row["tasks"]) == ("process", 1)
    assert row["cost_usd"] == pytest.approx(usage["cost"]["cost_usd"], abs=1e-9)
    assert report["total"]["bytes_stored"] == usage["bytes_stored"]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"from": "2026-12-05", "to": "2026-12-01"}, "is after to"),
        ({"from": "2024-01-01", "to": "2026-12-01"}, "at most 366 days"),
        ({"from": "2026-02-30"}, "YYYY-MM-DD"),
    ],
)
def test_get_usage_refuses_a_range_that_is_not_one(api: Any, query: dict[str, str], detail: str) -> None:
    api.sign_up()
    answer = api.call("GET", f"/usage?{urlencode(query)}")
    assert answer.status == 400
    assert detail in json.dumps(answer.problem)


def test_everyones_usage_is_for_operators_only(api: Any) -> None:
    api.sign_up()
    assert api.call("GET", "/admin/usage").status == 403
