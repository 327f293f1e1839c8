"""Long-poll: GET /tasks/{id}?wait=N answers when the status changes, or after N seconds, reading
only the status with growing delays."""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt

from tests.helpers import image_bytes


def create_task(api: Any) -> str:
    file_id = api.upload(image_bytes((40, 30))).body["id"]
    body = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 20}]}
    return str(api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"])


def test_a_long_poll_answers_as_soon_as_the_status_changes(api: Any) -> None:
    api.sign_up()
    task_id = create_task(api)
    answers: list[Any] = []
    started = time.monotonic()
    waiting = threading.Thread(target=lambda: answers.append(api.call("GET", f"/tasks/{task_id}?wait=15")))
    waiting.start()
    time.sleep(0.6)
    assert api.call("POST", f"/tasks/{task_id}/cancel").status == 202
    waiting.join(timeout=20)
    assert answers[0].status == 200
    assert answers[0].body["status"] == "cancelled"
    assert time.monotonic() - started < 10  # on the change, not at the end of the wait


def test_a_long_poll_on_a_task_that_does_not_change_answers_when_the_wait_ends(api: Any) -> None:
    api.sign_up()
    task_id = create_task(api)
    started = time.monotonic()
    answer = api.call("GET", f"/tasks/{task_id}?wait=1")
    assert (answer.status, answer.body["status"]) == (200, "queued")
    assert time.monotonic() - started >= 1


def test_seen_names_the_status_the_caller_last_saw(api: Any) -> None:
    api.sign_up()
    task_id = create_task(api)
    api.call("POST", f"/tasks/{task_id}/cancel")
    # The caller last saw it queued: it has changed since, so the answer is at once.
    started = time.monotonic()
    answer = api.call("GET", f"/tasks/{task_id}?wait=20&seen=queued")
    assert answer.body["status"] == "cancelled"
    assert time.monotonic() - started < 5
    # An ended task with no `seen` does not make the caller wait for nothing.
    assert api.call("GET", f"/tasks/{task_id}?wait=20").body["status"] == "cancelled"


def test_wait_is_at_most_20_seconds_and_another_users_task_is_not_found(api: Any) -> None:
    api.sign_up()
    task_id = create_task(api)
    too_long = api.call("GET", f"/tasks/{task_id}?wait=21")
    assert too_long.status == 400
    assert too_long.problem["errors"][0]["loc"] == ["query", "wait"]
    assert api.call("GET", f"/tasks/{task_id}?seen=later").status == 400
    api.sign_up("mallory")
    assert api.call("GET", f"/tasks/{task_id}?wait=1").status == 404


def test_the_wait_reads_only_the_status_with_growing_delays(api: Any) -> None:
    """Twenty seconds of waiting on fake time: 22 reads of the status and the outputs' count, each
    a projection of two attributes, and one full read at the start."""
    from imgtasks.adapters.repositories.tasks import TaskRepository

    api.sign_up()
    task_id = create_task(api)
    service = api.services.tasks
    now = [0.0]
    delays: list[float] = []
    reads: list[str] = []
    original = TaskRepository.state_of

    def counted(self: TaskRepository, task: str) -> tuple[str, int] | None:
        reads.append(task)
        return original(self, task)

    owner = jwt.decode(api.token, options={"verify_signature": False})["sub"]
    TaskRepository.state_of = counted  # type: ignore[method-assign]
    try:
        task = service.wait(
            owner, task_id, 20, sleep=lambda s: (delays.append(s), now.__setitem__(0, now[0] + s)),
            clock=lambda: now[0],
        )  # fmt: skip
    finally:
        TaskRepository.state_of = original  # type: ignore[method-assign]
    assert task.status == "queued"
    assert delays[:3] == [0.25, 0.5, 1.0] and max(delays) == 1.0
    assert sum(delays) == 20
    assert len(reads) == len(delays) == 22
