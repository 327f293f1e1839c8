"""What the architecture relies on from S3 and SQS, checked against moto's server over HTTP."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

import pytest
import requests

from imgtasks.wiring import wiring
from local_stack.pollers import messages_to_delete, sqs_record
from tests.helpers import FakeLambdaContext, image_bytes


def receive(sqs: Any, url: str, wait: int = 2) -> list[dict[str, Any]]:
    return list(
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, AttributeNames=["All"]).get(
            "Messages", []
        )
    )


def s3_records(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    records = []
    for message in messages:
        body = json.loads(message["Body"])
        records.extend(body.get("Records", []))
    return records


def test_the_uploads_bucket_notifies_the_upload_events_queue_for_its_prefixes_only(emulated: Any) -> None:
    s3, sqs = emulated.client("s3"), emulated.client("sqs")
    bucket, queue = emulated.outputs["UploadsBucketName"], emulated.outputs["UploadEventsQueueUrl"]
    test_event = receive(sqs, queue)
    assert [json.loads(m["Body"]).get("Event") for m in test_event] == ["s3:TestEvent"]
    for message in test_event:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])

    s3.put_object(Bucket=bucket, Key="inbox/alice/web/my photo.jpg", Body=b"x")
    s3.put_object(Bucket=bucket, Key="files/not-notified.jpg", Body=b"x")
    s3.put_object(Bucket=bucket, Key="uploads/u/f", Body=b"xy")
    messages = receive(sqs, queue)
    records = s3_records(messages)
    raw_keys = [record["s3"]["object"]["key"] for record in records]
    assert any("my+photo.jpg" in key for key in raw_keys)  # URL-encoded, as S3 sends them
    assert sorted(unquote_plus(key) for key in raw_keys) == ["inbox/alice/web/my photo.jpg", "uploads/u/f"]
    assert all(record["eventName"].startswith("ObjectCreated:") for record in records)
    # Each event parses with the upload function's record model (Powertools' S3 models).
    from imgtasks_ingest.uploads import UploadEvent, object_key

    parsed = [UploadEvent.model_validate_json(message["Body"]) for message in messages]
    assert sorted(object_key(r) for event in parsed for r in event.Records) == sorted(map(unquote_plus, raw_keys))
    # One message kind per queue: the task queue hears nothing of it.
    assert receive(sqs, emulated.outputs["ProcessQueueUrl"], wait=1) == []


def test_a_presigned_post_upload_produces_an_object_created_post_event(emulated: Any) -> None:
    s3, sqs = emulated.client("s3"), emulated.client("sqs")
    bucket, queue = emulated.outputs["UploadsBucketName"], emulated.outputs["UploadEventsQueueUrl"]
    receive(sqs, queue)  # the test event
    post = s3.generate_presigned_post(
        Bucket=bucket,
        Key="uploads/o/f1",
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[{"Content-Type": "image/jpeg"}, ["content-length-range", 1, 1000]],
        ExpiresIn=60,
    )
    response = requests.post(post["url"], data=post["fields"], files={"file": ("a.jpg", b"12345")}, timeout=10)
    assert response.status_code in (200, 204)
    time.sleep(0.5)
    records = [r for r in s3_records(receive(sqs, queue)) if unquote_plus(r["s3"]["object"]["key"]) == "uploads/o/f1"]
    assert records and records[0]["eventName"] == "ObjectCreated:Post"
    assert records[0]["s3"]["object"]["size"] == 5


def test_a_message_that_keeps_failing_moves_to_the_dead_letter_queue_after_three_receives(emulated: Any) -> None:
    sqs = emulated.client("sqs")
    queue, dlq = emulated.outputs["ProcessQueueUrl"], emulated.outputs["ProcessDeadLetterQueueUrl"]
    for message in receive(sqs, queue):
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=queue, MessageBody='{"kind": "task"}')
    counts = []
    for _ in range(3):
        messages = receive(sqs, queue, wait=3)
        assert len(messages) == 1
        counts.append(int(messages[0]["Attributes"]["ApproximateReceiveCount"]))
        time.sleep(1.2)  # not deleted: the visibility timeout runs out, as after a failed invocation
    assert counts == [1, 2, 3]
    assert receive(sqs, queue, wait=2) == []
    dead = receive(sqs, dlq, wait=2)
    assert [m["Body"] for m in dead] == ['{"kind": "task"}']


@pytest.mark.usefixtures("emulated")
def test_the_process_function_runs_a_task_against_the_emulator(emulated: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """API handler creates the task, the dispatch handler reads it from the table's change stream
    and sends its message, the process handler runs it: all over HTTP to the emulator."""
    from imgtasks.settings import ApiSettings
    from imgtasks_api.wiring import ApiWiring
    from imgtasks_workers import process as process_handler
    from tests.unit.api_client import ApiClient

    emulated.use_environment_of("ApiFunction", monkeypatch)
    api = ApiClient(ApiWiring(ApiSettings()))  # type: ignore[call-arg]
    api.sign_up()
    file_id = api.upload(image_bytes((900, 600))).body["id"]
    body = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 300}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]

    from imgtasks_dispatch import dispatch
    from tests.unit.queue_driver import StreamDriver

    emulated.use_environment_of("DispatchFunction", monkeypatch)
    wiring.cache_clear()
    dispatch.dispatch_wiring.cache_clear()
    stream = StreamDriver(
        emulated.client("dynamodb"),
        emulated.client("dynamodbstreams"),
        emulated.outputs["TableName"],
        dispatch.lambda_handler,
    )
    assert stream.drain() >= 1  # the user, the file, the task: only the task is sent
    wiring.cache_clear()

    emulated.use_environment_of("ProcessFunction", monkeypatch)
    process_handler.runner.cache_clear()
    sqs = emulated.client("sqs")
    queue = emulated.outputs["ProcessQueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    messages = receive(sqs, queue)
    result = process_handler.lambda_handler({"Records": [sqs_record(m, arn) for m in messages]}, FakeLambdaContext())
    assert result == {"batchItemFailures": []}
    assert len(messages_to_delete(messages, result, True)) == len(messages)
    process_handler.runner.cache_clear()

    emulated.use_environment_of("ApiFunction", monkeypatch)
    task = api.call("GET", f"/tasks/{task_id}").body
    assert task["status"] == "done"
    assert (task["result"]["outputs"][0]["width"], task["result"]["outputs"][0]["height"]) == (300, 200)
    url = api.call("GET", f"/tasks/{task_id}/download").headers["Location"]
    assert url.startswith(emulated.endpoint)
    assert requests.get(url, timeout=10).content[:3] == b"\xff\xd8\xff"
