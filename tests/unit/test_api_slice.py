"""The walking skeleton's slice of api-v1.md, through the API handler with real v2 events."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.helpers import image_bytes


def test_health_answers_without_a_token(api: Any) -> None:
    answer = api.call("GET", "/health", anonymous=True)
    assert answer.status == 200
    assert answer.body["status"] == "ok"
    assert answer.body["version"]


def test_register_then_token_then_use_the_token(api: Any) -> None:
    answer = api.call("POST", "/auth/register", json_body={"username": "alice", "password": "correct-horse"})
    assert answer.status == 201
    assert set(answer.body) == {"id", "username", "created_at"}
    assert answer.body["created_at"].endswith("Z")
    token = api.call(
        "POST", "/auth/token", form={"grant_type": "password", "username": "alice", "password": "correct-horse"}
    )
    assert token.status == 200
    assert token.body["token_type"] == "Bearer"
    assert token.body["expires_in"] == 3600
    assert token.headers["Cache-Control"] == "no-store"
    assert api.call("GET", "/files", token=token.body["access_token"]).status == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(api: Any) -> None:
    api.sign_up("alice")
    wrong = api.call(
        "POST", "/auth/token", form={"grant_type": "password", "username": "alice", "password": "nope-nope"}
    )
    unknown = api.call(
        "POST", "/auth/token", form={"grant_type": "password", "username": "bob", "password": "nope-nope"}
    )
    assert wrong.status == unknown.status == 400
    assert (
        wrong.body
        == unknown.body
        == {"error": "invalid_grant", "error_description": "the username or password is wrong"}
    )


def test_token_endpoint_errors_follow_rfc_6749(api: Any) -> None:
    unsupported = api.call("POST", "/auth/token", form={"grant_type": "client_credentials"})
    assert (unsupported.status, unsupported.body["error"]) == (400, "unsupported_grant_type")
    missing = api.call("POST", "/auth/token", form={"grant_type": "password", "username": "alice"})
    assert (missing.status, missing.body["error"]) == (400, "invalid_request")
    as_json = api.call("POST", "/auth/token", json_body={"grant_type": "password", "username": "a", "password": "b"})
    assert (as_json.status, as_json.body["error"]) == (400, "invalid_request")


def test_requests_without_a_valid_token_get_401_with_www_authenticate(api: Any) -> None:
    for token in (None, "garbage", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
        answer = api.call("GET", "/files", token=token, anonymous=token is None)
        assert answer.status == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert answer.problem["status"] == 401
        assert answer.problem["detail"]


def test_multipart_upload_stores_a_ready_file_with_its_dimensions(api: Any) -> None:
    api.sign_up()
    answer = api.upload(image_bytes((640, 480)))
    assert answer.status == 201
    file = answer.body
    assert (file["status"], file["format"], file["width"], file["height"], file["frames"]) == (
        "ready",
        "jpeg",
        640,
        480,
        1,
    )
    assert api.call("GET", f"/files/{file['id']}").body == file


def test_uploading_something_that_is_not_an_image_is_a_400_that_says_so(api: Any) -> None:
    api.sign_up()
    answer = api.upload(b"%PDF-1.7 not an image", filename="doc.pdf", content_type="application/pdf")
    assert answer.status == 400
    assert "not an image" in answer.problem["detail"]
    assert answer.problem["errors"][0]["loc"] == ["body", "file"]


def test_a_resize_task_is_queued_then_processed_to_the_size_asked_for(api: Any, process: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((1600, 1200))).body["id"]
    created = api.call(
        "POST",
        "/tasks",
        json_body={
            "type": "process",
            "file_ids": [file_id],
            "operations": [{"op": "resize", "width": 400, "height": 400, "fit": "inside"}],
            "output": {"format": "jpeg"},
        },
    )
    assert created.status == 202
    task = created.body["tasks"][0]
    assert (task["status"], task["progress"], task["attempts"], task["result"]) == ("queued", 0, 0, None)
    assert api.call("GET", f"/tasks/{task['id']}/download").status == 409

    assert process.drain() == 1

    done = api.call("GET", f"/tasks/{task['id']}").body
    assert done["status"] == "done"
    assert done["progress"] == 100
    assert done["attempts"] == 1
    assert done["started_at"] and done["completed_at"] and done["duration_ms"] >= 0
    output = done["result"]["outputs"][0]
    assert (output["format"], output["width"], output["height"]) == ("jpeg", 400, 300)
    source = done["result"]["source"]
    assert (source["format"], source["width"], source["height"], source["frames"]) == ("jpeg", 1600, 1200, 1)
    assert source["size"] == api.call("GET", f"/files/{file_id}").body["size"]

    download = api.call("GET", f"/tasks/{task['id']}/download")
    assert download.status == 302
    location = download.headers["Location"]
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=900" in location


def test_the_stored_output_is_a_jpeg_of_the_reported_size(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((1000, 500))).body["id"]
    body = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 300}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    process.drain()
    output = api.call("GET", f"/tasks/{task_id}").body["result"]["outputs"][0]
    s3 = mocked_stack.client("s3")
    objects = s3.list_objects_v2(Bucket=mocked_stack.outputs["ResultsBucketName"])["Contents"]
    assert len(objects) == 1
    data = s3.get_object(Bucket=mocked_stack.outputs["ResultsBucketName"], Key=objects[0]["Key"])["Body"].read()
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size, len(data)) == ("JPEG", (300, 150), output["size"])


def test_a_corrupt_image_fails_its_task_at_once_with_a_code(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    good = image_bytes((800, 600))
    file = api.upload(good).body
    # Corrupt the stored bytes after upload: the header still parses, the data does not.
    s3 = mocked_stack.client("s3")
    s3.put_object(
        Bucket=mocked_stack.outputs["UploadsBucketName"], Key=f"files/{_owner(api)}/{file['id']}", Body=good[:2000]
    )
    body = {"type": "process", "file_ids": [file["id"]], "operations": [{"op": "resize", "width": 100}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    result = process.deliver(process.receive())
    assert result == {"batchItemFailures": []}
    task = api.call("GET", f"/tasks/{task_id}").body
    assert task["status"] == "failed"
    assert task["error"]["code"] == "invalid_image"
    assert task["error"]["message"]
    assert process.receive() == []  # not retried


def test_a_cancelled_task_is_not_processed_when_its_message_arrives(api: Any, process: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    body = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 100}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    assert api.call("POST", f"/tasks/{task_id}/cancel").status == 202
    process.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["attempts"], task["result"]) == ("cancelled", 0, None)


def test_a_duplicate_message_after_done_changes_nothing(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    body = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 100}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    messages = process.receive()
    process.deliver(messages)
    first = api.call("GET", f"/tasks/{task_id}").body
    process.send_raw(messages[0]["Body"])
    process.drain()
    again = api.call("GET", f"/tasks/{task_id}").body
    # A presigned URL is signed on each read (its X-Amz-Date moves when a second passes between
    # the two reads): the task is compared with its URLs cut at the signature.
    assert unsigned(again) == unsigned(first)
    assert again["attempts"] == 1


def unsigned(task: dict[str, Any]) -> dict[str, Any]:
    outputs = [{**output, "url": output["url"].split("?", 1)[0]} for output in task["result"]["outputs"]]
    return {**task, "result": {**task["result"], "outputs": outputs}}


def test_an_unreadable_message_is_dropped_without_failing_the_batch(api: Any, process: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    body = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 100}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    process.send_raw("this is not json")
    process.send_raw('{"kind": "task", "task_id": 12}')
    messages = process.receive()
    assert len(messages) == 3
    assert process.deliver(messages) == {"batchItemFailures": []}
    assert process.receive() == []  # deleted, never retried
    assert api.call("GET", f"/tasks/{task_id}").body["status"] == "done"


def _owner(api: Any) -> str:
    return api.services.signer.verify(api.token).user_id
