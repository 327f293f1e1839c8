"""Failure handling in the process function: transient errors, the last delivery, dead letters,
concurrent duplicates, and what a task shows while it runs."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from tests.helpers import FakeLambdaContext, image_bytes
from tests.unit.queue_driver import returned_to_queue

RESIZE = [{"op": "resize", "width": 64}]


def create_task(api: Any, data: bytes | None = None) -> tuple[str, dict[str, Any]]:
    file = api.upload(data or image_bytes((400, 300))).body
    task = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file["id"]], "operations": RESIZE})
    return task.body["tasks"][0]["id"], file


def remove_source_bytes(mocked_stack: Any, api: Any, file: dict[str, Any]) -> None:
    owner = api.services.signer.verify(api.token).user_id
    mocked_stack.client("s3").delete_object(
        Bucket=mocked_stack.outputs["UploadsBucketName"], Key=f"files/{owner}/{file['id']}"
    )


def test_a_transient_error_is_retried_then_fails_the_task_on_the_last_delivery(
    api: Any, process: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    task_id, file = create_task(api)
    remove_source_bytes(mocked_stack, api, file)  # every read now fails, as an S3 outage would
    mocked_stack.client("sqs").set_queue_attributes(QueueUrl=process.url, Attributes={"VisibilityTimeout": "0"})
    for delivery in (1, 2):
        messages = process.receive()
        assert int(messages[0]["Attributes"]["ApproximateReceiveCount"]) == delivery
        result = process.deliver(messages)
        assert returned_to_queue(result, messages) == [messages[0]["MessageId"]]
        task = api.call("GET", f"/tasks/{task_id}").body
        assert (task["status"], task["attempts"]) == ("running", delivery)
    assert process.deliver(process.receive()) == {"batchItemFailures": []}
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["attempts"], task["error"]["code"]) == ("failed", 3, "retries_exhausted")
    assert "NoSuchKey" in task["error"]["message"] or "Not Found" in task["error"]["message"]
    assert "3 deliveries of its message (attempts started: 3)" in task["error"]["message"]


def test_the_dead_letter_function_fails_a_task_whose_message_died(
    api: Any, process: Any, dead_letters: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    task_id, _ = create_task(api)
    message = process.receive()[0]
    process.deliver([])  # nothing; the message is as good as dead
    dead_letters.send_raw(message["Body"])
    assert dead_letters.deliver(dead_letters.receive()) == {"batchItemFailures": []}
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["error"]["code"]) == ("failed", "retries_exhausted")
    assert task["completed_at"]
    # No worker ever claimed it: the message says so, as `attempts` does (it once said
    # "in 3 attempts" beside `attempts: 1`).
    assert (task["attempts"], "(attempts started: 0)" in task["error"]["message"]) == (0, True)


def test_a_dead_message_of_a_finished_task_changes_nothing(api: Any, process: Any, dead_letters: Any) -> None:
    api.sign_up()
    task_id, _ = create_task(api)
    message = process.receive()[0]
    process.deliver([message])
    dead_letters.send_raw(message["Body"])
    dead_letters.drain()
    assert api.call("GET", f"/tasks/{task_id}").body["status"] == "done"


def test_a_dead_upload_event_rejects_the_file_and_fails_its_tasks(api: Any, dead_uploads: Any) -> None:
    api.sign_up()
    started = api.call("POST", "/files", json_body={"filename": "a.png", "content_type": "image/png", "size": 10}).body
    file_id = started["file"]["id"]
    task = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "operations": RESIZE}).body
    key = started["upload"]["fields"]["key"]
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T10:00:00.000Z",
        "eventName": "ObjectCreated:Post",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "uploads",
            "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
            "object": {"key": key, "size": 10, "eTag": "0123456789abcdef0123456789abcdef"},
        },
    }
    dead_uploads.send_raw(json.dumps({"Records": [record]}))
    dead_uploads.send_raw('{"Records": [{"s3": null}]}')  # a poison dead letter is dropped, never looped
    assert dead_uploads.deliver(dead_uploads.receive()) == {"batchItemFailures": []}
    assert dead_uploads.receive() == []
    file = api.call("GET", f"/files/{file_id}").body
    assert (file["status"], file["error"]) == ("rejected", "the upload could not be inspected in 3 attempts")
    failed = api.call("GET", f"/tasks/{task['tasks'][0]['id']}").body
    assert (failed["status"], failed["error"]["code"]) == ("failed", "retries_exhausted")


def test_a_concurrent_duplicate_delivery_waits_instead_of_working_twice(
    api: Any, process: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgtasks_imaging as imaging
    from imgtasks_workers import process as runner

    api.sign_up()
    task_id, _ = create_task(api)
    message = process.receive()[0]
    slow_started = threading.Event()
    real_render = imaging.render
    renders = []

    def slow_render(*args: Any, **kwargs: Any) -> Any:
        renders.append(1)
        slow_started.set()
        time.sleep(1.0)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(runner.imaging, "render", slow_render)
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(process.deliver([message])))
    first.start()
    assert slow_started.wait(10)
    # The same message in a second container while the first still works on it. (One process
    # runs one invocation at a time in Lambda, so the second goes straight to the runner here.)
    from imgtasks.domain.messages import TaskMessage
    from imgtasks_workers import process as handler

    with pytest.raises(IdempotencyAlreadyInProgressError):
        handler.runner().run(TaskMessage.model_validate_json(message["Body"]), receive_count=2)
    first.join()
    assert results == [{"batchItemFailures": []}]
    assert len(renders) == 1
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["attempts"]) == ("done", 1)


def test_a_running_task_shows_it_started(api: Any, process: Any) -> None:
    api.sign_up()
    task_id, _ = create_task(api)
    owner = api.services.signer.verify(api.token).user_id
    from imgtasks.domain.messages import TaskMessage

    lifecycle = api.services.lifecycle
    claimed = lifecycle.claim(TaskMessage(task_id=task_id, owner_id=owner, run=1))
    assert claimed is not None
    assert (claimed.status, claimed.progress, claimed.attempts) == ("running", 5, 1)
    assert claimed.started_at
    shown = api.call("GET", f"/tasks/{task_id}").body
    assert (shown["status"], shown["progress"], shown["started_at"]) == ("running", 5, claimed.started_at)
    # A worker that died mid-task: SQS redelivers, and the task is claimed again on the same run.
    again = lifecycle.claim(TaskMessage(task_id=task_id, owner_id=owner, run=1))
    assert again is not None
    assert (again.status, again.attempts, again.started_at) == ("running", 2, claimed.started_at)
    # A message of another run, or of another owner, claims nothing.
    assert lifecycle.claim(TaskMessage(task_id=task_id, owner_id=owner, run=2)) is None
    assert lifecycle.claim(TaskMessage(task_id=task_id, owner_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", run=1)) is None


def test_outputs_never_land_where_they_could_trigger_the_process_function() -> None:
    from local_stack.template import load_template
    from tests.helpers import TEMPLATE

    resources = load_template(TEMPLATE)["Resources"]
    assert "NotificationConfiguration" not in resources["ResultsBucket"]["Properties"]
    prefixes = {
        rule["Value"]
        for config in resources["UploadsBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
        for rule in config["Filter"]["S3Key"]["Rules"]
    }
    assert prefixes == {"uploads/", "inbox/"}
    from imgtasks.services.files import API_PREFIX

    assert f"{API_PREFIX}/" not in prefixes  # files stored by the API itself raise no event


def test_duration_measures_the_attempt_that_finished_not_the_wait_after_a_crash(
    api: Any, process: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    task_id, _ = create_task(api)
    owner = api.services.signer.verify(api.token).user_id
    from imgtasks.domain.messages import TaskMessage

    # A first attempt an hour ago whose worker died: the task stayed running.
    api.services.lifecycle.claim(TaskMessage(task_id=task_id, owner_id=owner, run=1))
    table = api.services.task_records._table
    table.update_item(
        Key={"PK": f"TASK#{task_id}", "SK": "TASK"},
        UpdateExpression="SET started_at = :hour_ago, attempt_started_at = :hour_ago",
        ExpressionAttributeValues={":hour_ago": "2026-01-01T00:00:00.000Z"},
    )
    process.drain()  # the redelivery
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["attempts"], task["started_at"]) == ("done", 2, "2026-01-01T00:00:00.000Z")
    assert task["duration_ms"] < 60_000
    assert "attempt_started_at" not in task


def test_work_that_outruns_its_invocation_fails_processing_timeout_on_its_first_attempt(
    api: Any, process: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task that cannot fit in its function's time once ran three full times and ended
    retries_exhausted; its watchdog now fails it before Lambda kills the work."""
    import imgtasks_imaging
    from tests.unit import queue_driver

    api.sign_up()
    task_id, _ = create_task(api)
    original = imgtasks_imaging.render

    def slow_render(*args: Any, **kwargs: Any) -> Any:
        time.sleep(3.5)  # past the invocation's end, less its reserve
        return original(*args, **kwargs)

    monkeypatch.setattr(imgtasks_imaging, "render", slow_render)
    monkeypatch.setattr(queue_driver, "FakeLambdaContext", lambda: FakeLambdaContext(timeout_s=4.0))
    messages = process.receive()
    process.deliver(messages)
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["attempts"], task["error"]["code"]) == ("failed", 1, "processing_timeout")
    assert "4 s its worker may run" in task["error"]["message"]
    assert task["result"] is None  # the work that finished late left no result
