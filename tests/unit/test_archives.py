"""Archives: the outputs of the caller's done tasks as one ZIP, checked entry by entry; tasks not
done, not found or another user's skipped with the reason; the batch-download form reusing the
archive of the same set."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.helpers import image_bytes
from tests.unit.test_api_files import start_upload


def stored(mocked_stack: Any, url: str) -> bytes:
    """The bytes behind a presigned URL of the results bucket (read with the S3 client under moto)."""
    bucket = mocked_stack.outputs["ResultsBucketName"]
    key = unquote(urlsplit(url).path).lstrip("/").removeprefix(f"{bucket}/")
    return bytes(mocked_stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def done_tasks(api: Any, process: Any) -> list[dict[str, Any]]:
    first = api.upload(image_bytes((90, 60)), filename="beach.jpg").body["id"]
    second = api.upload(image_bytes((40, 40)), filename="cat.jpg").body["id"]
    body = {
        "type": "process",
        "file_ids": [first, second],
        "output": {"format": "png"},
        "variants": [
            {"name": "small", "operations": [{"op": "resize", "width": 20}]},
            {"name": "webp", "output": {"format": "webp"}},
        ],
    }
    tasks = api.call("POST", "/tasks", json_body=body).body["tasks"]
    process.drain()
    return [api.call("GET", f"/tasks/{task['id']}").body for task in tasks]


def test_an_archive_holds_every_output_of_the_done_tasks_and_says_what_it_skipped(
    api: Any, process: Any, archive: Any, mocked_stack: Any
) -> None:
    api.sign_up("bob")
    others = api.upload(image_bytes((10, 10))).body["id"]
    bobs = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [others]}).body["tasks"][0]["id"]
    api.sign_up()
    beach, cat = done_tasks(api, process)
    pending = start_upload(api, 100).body["file"]["id"]
    waiting = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [pending]}).body["tasks"][0]["id"]
    requested = [beach["id"], cat["id"], waiting, "01NOTATASK0000000000000000", bobs]
    created = api.call("POST", "/archives", json_body={"task_ids": requested})
    assert created.status == 202
    (task,) = created.body["tasks"]
    assert (task["type"], task["status"], task["file_id"], task["spec"]) == (
        "archive", "queued", None, {"task_ids": requested}
    )  # fmt: skip
    archive.drain()
    done = api.call("GET", f"/tasks/{task['id']}").body
    assert done["status"] == "done", done["error"]
    result = done["result"]
    assert (result["tasks_requested"], result["tasks_included"], result["files"]) == (5, 2, 4)
    assert result["skipped"] == [
        {"task_id": waiting, "reason": "not_done", "status": "queued"},
        {"task_id": "01NOTATASK0000000000000000", "reason": "not_found", "status": None},
        {"task_id": bobs, "reason": "not_found", "status": None},
    ]
    data = stored(mocked_stack, result["archive"]["url"])
    assert result["archive"]["size"] == len(data)
    with zipfile.ZipFile(io.BytesIO(data)) as opened:
        assert opened.testzip() is None
        names = sorted(opened.namelist())
        expected = {}
        for shown, stem in ((beach, "beach"), (cat, "cat")):
            for output in shown["result"]["outputs"]:
                extension = {"png": "png", "webp": "webp"}[output["format"]]
                expected[f"{shown['id']}-{stem}/{output['name']}.{extension}"] = stored(mocked_stack, output["url"])
        assert names == sorted(expected)
        for name, content in expected.items():
            assert opened.read(name) == content, name
    download = api.call("GET", f"/tasks/{task['id']}/download")
    assert download.status == 302 and "archive" in download.headers["Location"]


def test_batch_download_answers_202_until_the_archive_is_done_then_302_and_reuses_it_for_the_same_set(
    api: Any, process: Any, archive: Any
) -> None:
    api.sign_up()
    beach, cat = done_tasks(api, process)
    first = api.call("GET", f"/tasks/batch-download?task_ids={beach['id']},{cat['id']}")
    assert (first.status, first.body["type"], first.body["status"]) == (202, "archive", "queued")
    again = api.call("GET", f"/tasks/batch-download?task_ids={cat['id']},{beach['id']}")
    assert (again.status, again.body["id"]) == (202, first.body["id"])  # the same set, in any order
    archive.drain()
    ready = api.call("GET", f"/tasks/batch-download?task_ids={beach['id']},{cat['id']}")
    assert ready.status == 302 and ".zip" in ready.headers["Location"]
    other_set = api.call("GET", f"/tasks/batch-download?task_ids={beach['id']}")
    assert other_set.status == 202 and other_set.body["id"] != first.body["id"]
    listed = api.call("GET", "/tasks?type=archive").body["items"]
    assert {t["id"] for t in listed} == {first.body["id"], other_set.body["id"]}


def test_archive_requests_out_of_bounds_are_400s(api: Any) -> None:
    api.sign_up()
    assert api.call("POST", "/archives", json_body={"task_ids": []}).status == 400
    assert api.call("POST", "/archives", json_body={"task_ids": [f"id{n}" for n in range(51)]}).status == 400
    assert api.call("GET", "/tasks/batch-download?task_ids=,").status == 400


def test_deleting_an_archive_task_removes_its_zip(api: Any, process: Any, archive: Any, mocked_stack: Any) -> None:
    api.sign_up()
    beach, _ = done_tasks(api, process)
    task = api.call("POST", "/archives", json_body={"task_ids": [beach["id"]]}).body["tasks"][0]
    archive.drain()
    zip_file = api.call("GET", f"/tasks/{task['id']}").body["result"]["archive"]["file_id"]
    assert api.call("GET", f"/files/{zip_file}").body["format"] == "zip"
    assert api.call("DELETE", f"/tasks/{task['id']}").status == 204
    assert api.call("GET", f"/files/{zip_file}").status == 404
