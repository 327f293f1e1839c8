"""S3 drop-ins: inbox/<username>/<preset>/<name> becomes a file and a task of that user."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import image_bytes


def drop(mocked_stack: Any, key: str, data: bytes) -> None:
    mocked_stack.client("s3").put_object(Bucket=mocked_stack.outputs["UploadsBucketName"], Key=key, Body=data)


def test_a_drop_in_becomes_a_task_of_the_user_with_outputs_in_the_outbox(
    api: Any, process: Any, mocked_stack: Any
) -> None:
    api.sign_up("alice")
    drop(mocked_stack, "inbox/alice/thumbnails/holiday photo.jpg", image_bytes((2000, 1500)))
    process.drain()
    tasks = api.call("GET", "/tasks").body["items"]
    assert len(tasks) == 1
    task = tasks[0]
    assert (task["status"], task["spec"]) == ("done", {"preset": "thumbnails"})
    assert [o["name"] for o in task["result"]["outputs"]] == ["1024", "512", "128"]
    source = api.call("GET", f"/files/{task['file_id']}").body
    assert (source["filename"], source["status"], source["width"]) == ("holiday photo.jpg", "ready", 2000)
    keys = [
        o["Key"]
        for o in mocked_stack.client("s3").list_objects_v2(
            Bucket=mocked_stack.outputs["ResultsBucketName"], Prefix="outbox/"
        )["Contents"]
    ]
    assert sorted(keys) == [f"outbox/alice/thumbnails/holiday photo-{side}.webp" for side in ("1024", "128", "512")]


def test_a_duplicate_s3_event_creates_nothing_more(api: Any, uploads: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up("alice")
    drop(mocked_stack, "inbox/alice/web/a.jpg", image_bytes((900, 600)))
    messages = uploads.receive()
    uploads.deliver(messages)
    uploads.send_raw(messages[0]["Body"])  # S3 delivers at least once
    process.drain()
    tasks = api.call("GET", "/tasks").body["items"]
    assert len(tasks) == 1
    files = api.call("GET", "/files").body["items"]
    assert len(files) == 2  # the dropped file and the one output of its one task
    assert tasks[0]["file_id"] in {f["id"] for f in files}


def test_unknown_users_and_presets_leave_the_object_and_create_nothing(
    api: Any, process: Any, mocked_stack: Any
) -> None:
    api.sign_up("alice")
    drop(mocked_stack, "inbox/mallory/web/a.jpg", image_bytes())
    drop(mocked_stack, "inbox/alice/sepia/a.jpg", image_bytes())
    drop(mocked_stack, "inbox/alice/a.jpg", image_bytes())
    assert process.drain() == 3
    assert api.call("GET", "/tasks").body["items"] == []
    assert api.call("GET", "/files").body["items"] == []
    listed = mocked_stack.client("s3").list_objects_v2(
        Bucket=mocked_stack.outputs["UploadsBucketName"], Prefix="inbox/"
    )
    assert listed["KeyCount"] == 3


def test_a_drop_in_that_is_not_an_image_fails_its_task_with_the_reason(
    api: Any, process: Any, mocked_stack: Any
) -> None:
    api.sign_up("alice")
    drop(mocked_stack, "inbox/alice/web/notes.txt", b"shopping list")
    process.drain()
    task = api.call("GET", "/tasks").body["items"][0]
    assert (task["status"], task["error"]["code"]) == ("failed", "invalid_image")
    assert api.call("GET", f"/files/{task['file_id']}").body["status"] == "rejected"


def test_the_s3_test_event_is_skipped(uploads: Any) -> None:
    uploads.send_raw(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}))
    assert uploads.deliver(uploads.receive()) == {"batchItemFailures": []}
    assert uploads.receive() == []
