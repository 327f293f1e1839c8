"""A task with variants shows each output as soon as it is stored: its result grows while it runs
(the progress with it), a long-poll wakes on a new output, and each output is a `task.output`
webhook event to the endpoints subscribed to it."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from imgtasks.services.lifecycle import TaskLifecycle
from tests.helpers import image_bytes
from tests.unit.test_webhooks import Receiver, receiver, register

__all__ = ["receiver"]

VARIANTS = [
    {"name": "small", "operations": [{"op": "resize", "width": 40}]},
    {"name": "large", "operations": [{"op": "resize", "width": 160}]},
    {"name": "square", "operations": [{"op": "resize", "width": 64, "height": 64, "fit": "cover"}]},
]


def create(api: Any) -> str:
    file_id = api.upload(image_bytes((320, 240))).body["id"]
    body = {"type": "process", "file_ids": [file_id], "variants": VARIANTS, "output": {"format": "png"}}
    answer = api.call("POST", "/tasks", json_body=body)
    assert answer.status == 202, answer.body
    return str(answer.body["tasks"][0]["id"])


def test_each_output_is_in_the_result_as_soon_as_it_is_stored(
    api: Any, process: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.sign_up()
    task_id = create(api)
    seen: list[tuple[str, int, list[str]]] = []
    original = TaskLifecycle.output_ready

    def watched(self: TaskLifecycle, task: Any, partial: Any, percent: int) -> None:
        original(self, task, partial, percent)
        now = api.call("GET", f"/tasks/{task_id}").body  # what a client sees at that moment
        seen.append((now["status"], now["progress"], [o["name"] for o in now["result"]["outputs"]]))

    monkeypatch.setattr(TaskLifecycle, "output_ready", watched)
    process.drain()
    # Fit-inside variants are made largest first, each from the one before; the cover one after.
    # The last output is shown by the result the task completes with, a moment later.
    assert seen == [("running", 51, ["large"]), ("running", 73, ["large", "small"])]
    done = api.call("GET", f"/tasks/{task_id}").body
    assert done["status"] == "done"
    assert [o["name"] for o in done["result"]["outputs"]] == ["small", "large", "square"]  # the spec's order
    urls = [o["url"] for o in done["result"]["outputs"]]
    assert all(url.startswith("http") for url in urls)


def test_a_long_poll_answers_when_an_output_appears(api: Any, process: Any) -> None:
    api.sign_up()
    task_id = create(api)
    owner = jwt.decode(api.token, options={"verify_signature": False})["sub"]
    process.drain()
    service = api.services.tasks
    # The caller has seen the task running with one output: the wait answers at once, as the
    # task has more (it is done, with three); with all three seen and status done, it waits.
    woke = service.wait(owner, task_id, 5, "running", 1, sleep=lambda _: None)
    assert len(woke.result.outputs) == 3
    now = [0.0]
    unchanged = service.wait(
        owner, task_id, 2, "done", 3, sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0]
    )
    assert unchanged.status == "done" and now[0] == 2
    answer = api.call("GET", f"/tasks/{task_id}?wait=1&seen=running&seen_outputs=2")
    assert answer.status == 200 and answer.body["status"] == "done"
    assert api.call("GET", f"/tasks/{task_id}?seen_outputs=101").status == 400


def test_each_output_is_a_task_output_event_for_subscribers_only(
    api: Any, process: Any, webhooks: Any, receiver: Receiver
) -> None:
    api.sign_up()
    register(api, f"{receiver.url}/outputs", ["task.output"])
    register(api, f"{receiver.url}/status", ["task.completed"])
    task_id = create(api)
    process.drain()
    webhooks.drain()
    outputs = receiver.at("/outputs")
    assert [body["type"] for _, body in outputs] == ["task.output"] * 3
    assert [body["data"]["output"]["name"] for _, body in outputs] == ["large", "small", "square"]
    assert [len(body["data"]["result"]["outputs"]) for _, body in outputs] == [1, 2, 3]
    assert {body["data"]["id"] for _, body in outputs} == {task_id}
    assert len({headers["webhook-id"] for headers, _ in outputs}) == 3
    assert [body["type"] for _, body in receiver.at("/status")] == ["task.completed"]
    # A single-output task has one task.output, when it completes.
    file_id = api.upload(image_bytes((40, 30))).body["id"]
    single = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 20}]}
    api.call("POST", "/tasks", json_body=single)
    process.drain()
    webhooks.drain()
    last = receiver.at("/outputs")[3:]
    assert [(body["data"]["output"]["name"], body["data"]["status"]) for _, body in last] == [("default", "done")]
    assert json.dumps(last[0][1]).count('"url"') >= 1


def test_a_task_that_fails_after_some_outputs_keeps_none(api: Any, process: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((320, 240))).body["id"]
    variants = [
        {"name": "small", "operations": [{"op": "resize", "width": 40}]},
        {
            "name": "huge",
            "operations": [{"op": "resize", "width": 16000, "height": 16000, "fit": "fill", "upscale": True}],
        },
    ]
    body = {"type": "process", "file_ids": [file_id], "variants": variants}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    process.drain()
    failed = api.call("GET", f"/tasks/{task_id}").body
    assert (failed["status"], failed["error"]["code"], failed["result"]) == ("failed", "image_too_large", None)
    # The small output was stored (and shown) before the huge one failed; it is gone with it.
    files = api.call("GET", "/files").body["items"]
    assert [item["id"] for item in files] == [file_id]
