"""Tasks reach their workers from the table's change stream, never from the code that wrote them:
a queue that is away when a task is created, restarted or released delays it, and loses nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imgtasks.domain.records import TaskStatus
from imgtasks.kinds.process import ProcessSpec, ProcessTask
from imgtasks.services.lifecycle import needs_dispatch
from tests.helpers import image_bytes

RESIZE = [{"op": "resize", "width": 64}]


def task(status: TaskStatus = TaskStatus.QUEUED, run: int = 1, waits: bool | None = None) -> ProcessTask:
    return ProcessTask(
        id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
        owner_id="01ARZ3NDEKTSV4RRFFQ69G5FAW",
        status=status,
        file_id="01ARZ3NDEKTSV4RRFFQ69G5FAX",
        spec=ProcessSpec(),
        created_at="2026-11-23T00:00:00.000Z",
        updated_at="2026-11-23T00:00:00.000Z",
        run=run,
        waits_for_file=waits,
    )


@pytest.mark.parametrize(
    ("before", "after", "dispatched"),
    [
        (None, task(), True),  # created on a ready file
        (None, task(waits=True), False),  # created on a pending file
        (task(waits=True), task(), True),  # its upload was inspected
        (task(), task(), False),  # a write that changed nothing that matters
        (task(TaskStatus.FAILED), task(run=2), True),  # restarted
        (task(TaskStatus.CANCELLED), task(run=2, waits=True), False),  # restarted, its file pending
        (task(), task(TaskStatus.RUNNING), False),
        (task(TaskStatus.RUNNING), task(TaskStatus.DONE), False),
        (task(), task(TaskStatus.CANCELLED), False),
    ],
)
def test_a_task_is_dispatched_when_a_write_makes_it_ready(
    before: ProcessTask | None, after: ProcessTask, dispatched: bool
) -> None:
    assert needs_dispatch(before, after) is dispatched


def replace_queue(sqs: Any, url: str) -> dict[str, str]:
    """Deletes the queue; returns what recreates it as it was."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    sqs.delete_queue(QueueUrl=url)
    keep = ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy")
    return {name: value for name, value in attributes.items() if name in keep}


def test_tasks_created_while_their_queue_is_away_run_once_it_is_back(
    api: Any, process: Any, dispatch: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    sqs = mocked_stack.client("sqs")
    file_ids = [api.upload(image_bytes((300, 200))).body["id"] for _ in range(3)]
    attributes = replace_queue(sqs, process.url)
    created = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": file_ids, "operations": RESIZE})
    assert created.status == 202  # the API only writes the records
    task_ids = [t["id"] for t in created.body["tasks"]]
    dispatch.drain()  # the sends fail: the stream keeps its place
    assert {api.call("GET", f"/tasks/{i}").body["status"] for i in task_ids} == {"queued"}
    name = process.url.rsplit("/", 1)[-1]
    assert sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"] == process.url
    process.drain()
    assert [api.call("GET", f"/tasks/{i}").body["status"] for i in task_ids] == ["done", "done", "done"]


def test_a_restart_while_the_queue_is_away_runs_once_it_is_back(
    api: Any, process: Any, dispatch: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    sqs = mocked_stack.client("sqs")
    file_id = api.upload(image_bytes((300, 200))).body["id"]
    task_id = api.call(
        "POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "operations": RESIZE}
    ).body["tasks"][0]["id"]
    api.call("POST", f"/tasks/{task_id}/cancel")
    dispatch.drain()
    attributes = replace_queue(sqs, process.url)
    assert api.call("POST", f"/tasks/{task_id}/restart").body["status"] == "queued"
    dispatch.drain()
    sqs.create_queue(QueueName=process.url.rsplit("/", 1)[-1], Attributes=attributes)
    process.drain()
    shown = api.call("GET", f"/tasks/{task_id}").body
    assert (shown["status"], shown["attempts"]) == ("done", 1)


def test_a_failed_send_is_reported_so_the_stream_delivers_the_record_again(
    api: Any, dispatch: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    sqs = mocked_stack.client("sqs")
    file_id = api.upload(image_bytes()).body["id"]
    url = mocked_stack.outputs["ProcessQueueUrl"]
    replace_queue(sqs, url)
    api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "operations": RESIZE})
    before = dict(dispatch.checkpoints)
    # Read past: the user, the sign-in's counted attempt (written, then cleared by its success)
    # and the file; the task's send failed.
    assert dispatch.drain() == 4
    assert dispatch.checkpoints != before
    stuck_at = dict(dispatch.checkpoints)
    assert dispatch.drain() == 0  # again from the same place
    assert dispatch.checkpoints == stuck_at


def test_a_task_record_no_model_reads_is_passed_over_and_the_tasks_behind_it_still_go(
    api: Any, dispatch: Any, mocked_stack: Any
) -> None:
    """Retrying could never make such a record readable; failing it would hold the shard there, and
    every record behind it would be read (and its task sent) again and again for a day."""
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    unreadable = {"id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "type": "process", "spec_json": '{"operations": 1}'}
    api.services.task_records._table.put_item(Item={"PK": f"TASK#{unreadable['id']}", "SK": "TASK", **unreadable})
    created = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "operations": RESIZE})
    dispatch.drain()
    assert dispatch.drain() == 0  # nothing is read twice
    sqs = mocked_stack.client("sqs")
    sent = sqs.receive_message(QueueUrl=mocked_stack.outputs["ProcessQueueUrl"], MaxNumberOfMessages=10)
    assert [json.loads(m["Body"])["task_id"] for m in sent.get("Messages", [])] == [created.body["tasks"][0]["id"]]
