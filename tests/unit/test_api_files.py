"""Files: uploads, the presigned path finished by the S3 event, listing, content, deletion."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from tests import bombs
from tests.helpers import image_bytes


def start_upload(api: Any, size: int, content_type: str = "image/png", filename: str = "big.png") -> Any:
    return api.call("POST", "/files", json_body={"filename": filename, "content_type": content_type, "size": size})


def post_to_s3(mocked_stack: Any, upload: dict[str, Any], data: bytes) -> None:
    """What a client does with the presigned POST; under mock_aws the S3 client stands in for HTTP."""
    fields = upload["fields"]
    mocked_stack.client("s3").put_object(
        Bucket=mocked_stack.outputs["UploadsBucketName"],
        Key=fields["key"],
        Body=data,
        ContentType=fields["Content-Type"],
    )


def test_a_large_upload_starts_pending_with_a_presigned_post_that_pins_key_type_and_size(api: Any) -> None:
    api.sign_up()
    answer = start_upload(api, 5_000_000)
    assert answer.status == 201
    file, upload = answer.body["file"], answer.body["upload"]
    assert (file["status"], file["size"], file["content_type"], file["width"]) == (
        "pending",
        5_000_000,
        "image/png",
        None,
    )
    assert upload["method"] == "POST"
    assert upload["fields"]["key"].endswith(file["id"])
    assert upload["fields"]["Content-Type"] == "image/png"
    assert upload["expires_at"].endswith("Z")
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, 5_000_000] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]


def test_the_s3_event_marks_a_presigned_upload_ready_with_its_dimensions(
    api: Any, process: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    data = image_bytes((320, 200), fmt="PNG")
    started = start_upload(api, len(data)).body
    post_to_s3(mocked_stack, started["upload"], data)
    process.drain()
    file = api.call("GET", f"/files/{started['file']['id']}").body
    assert (file["status"], file["format"], file["width"], file["height"], file["frames"]) == (
        "ready",
        "png",
        320,
        200,
        1,
    )


def test_an_upload_that_is_not_an_image_is_rejected_with_a_reason(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    started = start_upload(api, 100).body
    post_to_s3(mocked_stack, started["upload"], b"plain text, not a picture")
    process.drain()
    file = api.call("GET", f"/files/{started['file']['id']}").body
    assert file["status"] == "rejected"
    assert "not an image" in file["error"]


def test_an_upload_larger_than_announced_is_rejected(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    data = image_bytes((320, 200), fmt="PNG")
    started = start_upload(api, 100).body
    post_to_s3(mocked_stack, started["upload"], data)
    process.drain()
    file = api.call("GET", f"/files/{started['file']['id']}").body
    assert file["status"] == "rejected"
    assert "more than the 100 bytes announced" in file["error"]


def test_an_upload_of_another_type_than_announced_is_rejected(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    data = image_bytes((64, 64), fmt="JPEG")
    started = start_upload(api, len(data), content_type="image/png").body
    post_to_s3(mocked_stack, started["upload"], data)
    process.drain()
    file = api.call("GET", f"/files/{started['file']['id']}").body
    assert (file["status"], file["error"]) == ("rejected", "the upload is jpeg, not the announced image/png")


def test_a_task_on_a_pending_file_waits_then_runs_when_the_upload_lands(
    api: Any, process: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    data = image_bytes((600, 400), fmt="PNG")
    started = start_upload(api, len(data)).body
    body = {"type": "process", "file_ids": [started["file"]["id"]], "operations": [{"op": "resize", "width": 60}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    assert process.drain() == 0  # nothing queued while the file is pending
    assert api.call("GET", f"/tasks/{task_id}").body["status"] == "queued"
    post_to_s3(mocked_stack, started["upload"], data)
    process.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert task["status"] == "done"
    assert task["result"]["outputs"][0]["width"] == 60


def test_a_task_on_a_file_that_is_then_rejected_fails_with_a_clear_error(
    api: Any, process: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    started = start_upload(api, 50).body
    body = {"type": "process", "file_ids": [started["file"]["id"]], "operations": [{"op": "resize", "width": 60}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    post_to_s3(mocked_stack, started["upload"], b"not an image")
    process.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert task["status"] == "failed"
    assert task["error"]["code"] == "invalid_image"  # the file's own reason, not a generic one
    assert "rejected" in task["error"]["message"] and "not an image" in task["error"]["message"]


def test_a_task_on_an_already_rejected_file_is_a_400(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    started = start_upload(api, 50).body
    post_to_s3(mocked_stack, started["upload"], b"not an image")
    process.drain()
    body = {"type": "process", "file_ids": [started["file"]["id"]], "operations": [{"op": "resize", "width": 60}]}
    answer = api.call("POST", "/tasks", json_body=body)
    assert answer.status == 400
    assert answer.problem["errors"][0]["loc"] == ["body", "file_ids", 0]


def test_start_upload_refuses_other_types_and_sizes_over_the_limit(api: Any) -> None:
    api.sign_up()
    answer = start_upload(api, 200 * 1024 * 1024, content_type="application/pdf")
    assert answer.status == 400
    assert {tuple(e["loc"]) for e in answer.problem["errors"]} == {("body", "content_type"), ("body", "size")}


def test_files_are_listed_newest_first_with_a_cursor(api: Any) -> None:
    api.sign_up()
    ids = [api.upload(image_bytes((40, 30))).body["id"] for _ in range(5)]
    first = api.call("GET", "/files?limit=2").body
    assert [f["id"] for f in first["items"]] == ids[::-1][:2]
    second = api.call("GET", f"/files?limit=2&cursor={first['next_cursor']}").body
    third = api.call("GET", f"/files?limit=2&cursor={second['next_cursor']}").body
    assert [f["id"] for f in second["items"] + third["items"]] == ids[::-1][2:]
    assert third["next_cursor"] is None


def test_content_redirects_to_a_presigned_url_that_expires_within_15_minutes(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    answer = api.call("GET", f"/files/{file_id}/content")
    assert answer.status == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert int(query["X-Amz-Expires"][0]) <= 900
    assert query["X-Amz-Signature"]


def test_deleting_a_file_removes_its_record_and_its_bytes(api: Any, mocked_stack: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    s3 = mocked_stack.client("s3")
    bucket = mocked_stack.outputs["UploadsBucketName"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="files/")["KeyCount"] == 1
    assert api.call("DELETE", f"/files/{file_id}").status == 204
    assert api.call("GET", f"/files/{file_id}").status == 404
    assert s3.list_objects_v2(Bucket=bucket, Prefix="files/")["KeyCount"] == 0
    assert api.call("DELETE", f"/files/{file_id}").status == 404


def test_an_upload_over_4_mib_through_the_api_is_a_413_that_points_to_presigned_uploads(api: Any) -> None:
    api.sign_up()
    answer = api.upload(b"\xff\xd8\xff" + b"0" * (4 * 1024 * 1024))
    assert answer.status == 413
    assert "presigned" in answer.problem["detail"]


def test_a_multipart_body_without_a_file_part_is_a_400(api: Any) -> None:
    from tests.helpers import multipart

    api.sign_up()
    body, header = multipart({"note": "no file here"}, {})
    answer = api.call("POST", "/files", body=body, headers={"content-type": header})
    assert answer.status == 400
    assert answer.problem["errors"][0]["loc"] == ["body", "file"]


def test_content_is_served_under_the_name_and_type_the_bytes_really_have(api: Any) -> None:
    from urllib.parse import parse_qs, urlsplit

    api.sign_up()
    trick = image_bytes((64, 48)) + b"<html><script>alert(1)</script></html>"
    file = api.upload(trick, filename="page.html", content_type="text/html").body
    assert (file["status"], file["format"], file["filename"]) == ("ready", "jpeg", "page.html")
    location = api.call("GET", f"/files/{file['id']}/content").headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["response-content-type"] == ["image/jpeg"]
    assert query["response-content-disposition"] == ['inline; filename="page.jpg"']


def item(mocked_stack: Any, file_id: str) -> dict[str, Any] | None:
    table = mocked_stack.client("dynamodb")
    found = table.get_item(
        TableName=mocked_stack.outputs["TableName"], Key={"PK": {"S": f"FILE#{file_id}"}, "SK": {"S": "FILE"}}
    )
    return found.get("Item")


def test_a_pending_upload_expires_and_finishing_it_stops_that(api: Any, process: Any, mocked_stack: Any) -> None:
    import time

    api.sign_up()
    data = image_bytes((64, 64), fmt="PNG")
    started = start_upload(api, len(data)).body
    pending = item(mocked_stack, started["file"]["id"])
    assert pending is not None
    assert 900 < int(pending["expires_at"]["N"]) - time.time() <= 900 + 3600
    post_to_s3(mocked_stack, started["upload"], data)
    process.drain()
    finished = item(mocked_stack, started["file"]["id"])
    assert finished is not None
    assert (finished["status"]["S"], "expires_at" in finished) == ("ready", False)


def test_the_tasks_of_an_abandoned_upload_fail_when_its_record_expires(
    api: Any, process: Any, dispatch: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    started = start_upload(api, 1000).body
    body = {"type": "process", "file_ids": [started["file"]["id"]], "operations": [{"op": "resize", "width": 10}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    dispatch.drain()
    assert api.call("GET", f"/tasks/{task_id}").body["status"] == "queued"  # waiting, not sent
    # DynamoDB's TTL deletes the record (the bytes never came); the change stream carries that.
    mocked_stack.client("dynamodb").delete_item(
        TableName=mocked_stack.outputs["TableName"],
        Key={"PK": {"S": f"FILE#{started['file']['id']}"}, "SK": {"S": "FILE"}},
    )
    dispatch.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["error"]["code"]) == ("failed", "file_missing")
    assert process.receive() == []  # never dispatched


def uploaded_objects(mocked_stack: Any, key: str) -> int:
    listed = mocked_stack.client("s3").list_objects_v2(Bucket=mocked_stack.outputs["UploadsBucketName"], Prefix=key)
    return int(listed["KeyCount"])


def test_a_rejected_upload_does_not_keep_its_bytes(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    started = start_upload(api, 12).body
    post_to_s3(mocked_stack, started["upload"], b"not an image")
    process.drain()
    assert api.call("GET", f"/files/{started['file']['id']}").body["status"] == "rejected"
    assert uploaded_objects(mocked_stack, started["upload"]["fields"]["key"]) == 0


def test_bytes_that_arrive_after_their_pending_record_is_gone_are_removed(
    api: Any, process: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    data = image_bytes((64, 64), fmt="PNG")
    started = start_upload(api, len(data)).body
    assert api.call("DELETE", f"/files/{started['file']['id']}").status == 204
    post_to_s3(mocked_stack, started["upload"], data)
    process.drain()
    assert uploaded_objects(mocked_stack, started["upload"]["fields"]["key"]) == 0


def dds_of_an_unknown_pixel_format() -> bytes:
    """A DDS header whose FourCC Pillow has no decoder for: its plugin raises NotImplementedError."""
    header = struct.pack("<7I", 124, 0x1007, 8, 8, 0, 0, 0) + bytes(44)
    pixel_format = struct.pack("<2I4s5I", 32, 0x4, b"XXXX", 0, 0, 0, 0, 0)
    return b"DDS " + header + pixel_format + struct.pack("<5I", 0x1000, 0, 0, 0, 0) + bytes(256)


def test_a_file_whose_reader_raises_anything_is_a_400_naming_its_format(api: Any) -> None:
    api.sign_up()
    answer = api.upload(dds_of_an_unknown_pixel_format(), filename="texture.dds", content_type="image/png")
    assert answer.status == 400
    assert answer.problem["errors"][0]["type"] == "unsupported_format"
    assert answer.problem["detail"].startswith("this is a DDS file, not an image")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (bombs.gif_frame_far_outside(), "image_too_large"),
        (dds_of_an_unknown_pixel_format(), "unsupported_format"),
        (b"\x89PNG\r\n\x1a\n" + bytes(40), "invalid_image"),
    ],
    ids=["gif-bomb", "dds", "broken-png"],
)
def test_a_presigned_upload_is_rejected_on_its_first_attempt_with_a_code(
    api: Any, uploads: Any, mocked_stack: Any, data: bytes, code: str
) -> None:
    api.sign_up()
    started = start_upload(api, len(data), content_type="image/gif", filename="upload.gif").body
    post_to_s3(mocked_stack, started["upload"], data)
    assert uploads.drain() >= 1
    file = api.call("GET", f"/files/{started['file']['id']}").body
    assert (file["status"], file["error_code"]) == ("rejected", code), file
    assert file["error"]
    queue = mocked_stack.outputs["UploadEventsQueueUrl"]
    attributes = mocked_stack.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_a_rotated_photo_is_listed_at_its_upright_size_as_its_results_give_it(api: Any, process: Any) -> None:
    """A camera's portrait photo: stored 400x300 with EXIF Orientation 6 (turn 90 degrees clockwise)."""
    api.sign_up()
    exif = Image.Exif()
    exif[0x0112] = 6
    data = image_bytes((400, 300), exif=exif.tobytes())
    file = api.upload(data, filename="portrait.jpg", content_type="image/jpeg").body
    assert (file["width"], file["height"]) == (300, 400)
    task = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file["id"]]}).body["tasks"][0]
    process.drain()
    source = api.call("GET", f"/tasks/{task['id']}").body["result"]["source"]
    assert (source["width"], source["height"]) == (file["width"], file["height"])
