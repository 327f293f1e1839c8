"""Long-poll on the local stack: GET /tasks/{id}?wait=N returns when the task moves, and several
long-polls at once do not hold up other requests (the API's workers grow as Lambda scales out)."""

from __future__ import annotations

import threading
import time
from typing import Any

from tests.e2e.client import Client
from tests.e2e.test_task_api import presigned_post
from tests.helpers import image_bytes


def test_long_polls_return_when_their_tasks_move_and_hold_up_nothing_else(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    data = image_bytes((400, 300), fmt="PNG")
    uploads, tasks = [], []
    for _ in range(3):
        started = client.request(
            "POST", "/files", json={"filename": "later.png", "content_type": "image/png", "size": len(data)}
        ).json()
        body = {"type": "process", "file_ids": [started["file"]["id"]], "operations": [{"op": "resize", "width": 40}]}
        uploads.append(started)
        tasks.append(client.request("POST", "/tasks", json=body).json()["tasks"][0]["id"])
    answers: dict[str, Any] = {}
    waited: dict[str, float] = {}

    def long_poll(task_id: str) -> None:
        sent = time.monotonic()
        answers[task_id] = client.request("GET", f"/tasks/{task_id}?wait=20&seen=queued")
        waited[task_id] = time.monotonic() - sent

    waiting = [threading.Thread(target=long_poll, args=(task_id,)) for task_id in tasks]
    for thread in waiting:
        thread.start()
    time.sleep(1)
    # Three long-polls are waiting; the API still answers at once.
    assert client.request("GET", "/tasks?limit=5").status_code == 200
    assert not answers
    for upload in uploads:
        presigned_post(upload, data)
    for thread in waiting:
        thread.join(timeout=30)
    # Each returned on its task's move, before its 20 s wait ran out.
    assert {answers[task_id].json()["status"] for task_id in tasks} <= {"running", "done"}
    assert max(waited.values()) < 19.5, waited
    # And with nothing to wait for, the wait runs out and answers with the task as it is.
    done = client.wait_for(tasks[0])
    timed_out = client.request("GET", f"/tasks/{tasks[0]}?wait=1&seen=done")
    assert timed_out.json()["status"] == done["status"] == "done"
