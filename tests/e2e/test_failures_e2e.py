"""Workers killed mid-task, on a local stack whose timeouts are short enough to watch: a killed
worker's message comes back and the task completes; a message that kills its worker every time
ends in the dead-letter queue and the task is failed, never left running."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client import Client
from tests.e2e.conftest import RunningStack, descendants, slow_task, start_stack, stop_stack
from tests.helpers import image_bytes

PROCESS_WORKER = "fn-ProcessFunct"  # local_stack.runtime.worker_name, cut to Linux's 15 characters


@pytest.fixture(scope="module")
def short_timeouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, RunningStack]]:
    process, running = start_stack(
        tmp_path_factory.mktemp("failures"),
        # Short enough to watch, long enough for slow_task on a machine running a second suite
        # beside this one (an attempt took 13 s there).
        "--function-timeout",
        "16",
        "--visibility-timeout",
        "18",
        "--concurrency",
        "1",
    )
    try:
        yield process, running
    finally:
        stop_stack(process)


def kill_process_workers(stack_pid: int) -> int:
    killed = 0
    for pid in descendants(stack_pid):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == PROCESS_WORKER:
                os.kill(pid, signal.SIGKILL)
                killed += 1
        except (OSError, ProcessLookupError):
            continue
    return killed


def kill_while_running(client: Client, stack_pid: int, task_id: str, attempt: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task = client.request("GET", f"/tasks/{task_id}").json()
        if task["status"] == "running" and task["attempts"] == attempt:
            assert kill_process_workers(stack_pid) >= 1
            return
        time.sleep(0.05)
    raise AssertionError(f"attempt {attempt} never started: {task}")


def test_a_worker_killed_mid_task_leaves_a_message_that_completes_the_task(short_timeouts: Any) -> None:
    process, stack = short_timeouts
    client = Client(stack.api)
    client.sign_up()
    task_id = slow_task(client)
    kill_while_running(client, process.pid, task_id, attempt=1)
    task = client.wait_for(task_id, seconds=90)
    assert (task["status"], task["attempts"]) == ("done", 2), task
    assert len(task["result"]["outputs"]) == 1


def test_a_message_that_kills_its_worker_every_time_ends_failed_via_the_dead_letter_queue(short_timeouts: Any) -> None:
    process, stack = short_timeouts
    client = Client(stack.api)
    client.sign_up()
    task_id = slow_task(client)
    for attempt in (1, 2, 3):
        kill_while_running(client, process.pid, task_id, attempt)
    task = client.wait_for(task_id, statuses=("failed", "done"), seconds=120)
    assert (task["status"], task["error"]["code"], task["attempts"]) == ("failed", "retries_exhausted", 3), task
    stack.wait_for_log("DeadLetterFunction", "retries exhausted")


def test_tasks_created_while_the_process_queue_is_away_run_once_it_is_back(stack: RunningStack) -> None:
    """The outage of the hardening issue: the process queue deleted around POST /tasks. The API
    only writes the records; the change stream dispatches them once the queue is back."""
    client = Client(stack.api)
    client.sign_up()
    file_ids = [client.upload(image_bytes((320, 240))).json()["id"] for _ in range(3)]
    sqs = stack.client("sqs")
    url = stack.outputs["ProcessQueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    sqs.delete_queue(QueueUrl=url)
    try:
        body = {"type": "process", "file_ids": file_ids, "operations": [{"op": "resize", "width": 100}]}
        created = client.request("POST", "/tasks", json=body)
        assert created.status_code == 202, created.text
        task_ids = [task["id"] for task in created.json()["tasks"]]
        time.sleep(2)  # the dispatcher tries, fails and backs off meanwhile
        assert {client.request("GET", f"/tasks/{i}").json()["status"] for i in task_ids} == {"queued"}
    finally:
        keep = {
            k: v for k, v in attributes.items() if k in ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy")
        }
        sqs.create_queue(QueueName=url.rsplit("/", 1)[-1], Attributes=keep)
    finished = [client.wait_for(task_id, seconds=60) for task_id in task_ids]
    assert [task["status"] for task in finished] == ["done", "done", "done"]
