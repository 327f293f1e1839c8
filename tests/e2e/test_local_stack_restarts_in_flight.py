"""The tasks in flight when the local stack stops (SIGTERM or SIGKILL) finish after it starts again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.client import Client
from tests.e2e.conftest import descendants, needs_embedded_emulator, slow_task, start_stack, stop_stack
from tests.e2e.test_local_stack_lifecycle import resize_tasks, wait_gone
from tests.e2e.test_local_stack_restarts import restart
from tests.ports import free_port


@needs_embedded_emulator
@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_tasks_in_flight_at_a_stop_finish_after_the_restart(tmp_path: Path, web: str, how: str) -> None:
    ports = {"emulator_port": free_port(), "api_port": free_port()}
    # Timeouts short enough to wait for, long enough for a slow task on a busy machine: a message
    # in flight at the stop is released at the restart (and its worker's idempotency lock with it).
    # (The restart releases the messages at once: the visibility timeout adds no wait.)
    short = ("--function-timeout", "30", "--visibility-timeout", "35", "--concurrency", "1")
    process, stack = start_stack(tmp_path, *short, **ports)
    try:
        client = Client(stack.api)
        client.sign_up()
        # A burst of uploads and creates: a snapshot that wrote their blobs while holding the
        # emulator once pushed the next one 20 s out, and a kill lost them all.
        burst = resize_tasks(client, 30, size=(64, 48))
        # Then the slow tasks, queued behind the burst (one worker), so some are still in flight
        # at the stop however fast or slow the machine is (made first, on a busy machine all five
        # were once done by then).
        task_ids = [slow_task(client, size=(2000, 1500)) for _ in range(4)]
        # A video task too (a URL's clip, to an MP4): its worker and queue are others.
        video = {"type": "process", "urls": [f"{web}/clip.mp4"], "output": {"format": "mp4"}}
        task_ids.append(client.request("POST", "/tasks", json=video).json()["tasks"][0]["id"])
        client.wait_for(task_ids[0], statuses=("running", "done"), seconds=60)
        # A kill -9 loses at most the last 2 s: wait past it.
        time.sleep(2.5)
        states = [client.request("GET", f"/tasks/{task_id}").json()["status"] for task_id in task_ids]
        assert "queued" in states or "running" in states, f"nothing left in flight to test: {states}"
        if how == "sigkill":
            workers = descendants(process.pid)
            process.kill()
            process.wait()
            assert not wait_gone(workers, 3)
        process, stack = restart(tmp_path, process, ports, *short)
        kept = [client.request("GET", f"/tasks/{task_id}").status_code for task_id in burst]
        assert kept == [200] * len(burst), f"{kept.count(404)} of the burst's {len(burst)} tasks were lost"
        finished = [client.wait_for(task_id, seconds=120) for task_id in task_ids]
        assert [task["status"] for task in finished] == ["done"] * 5, finished
    finally:
        stop_stack(process)
