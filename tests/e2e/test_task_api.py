"""Each row of api-v1.md's Authentication, Files and Tasks tables on the local stack, over HTTP."""

from __future__ import annotations

import io
import time
from typing import Any

import requests
from PIL import Image

from tests.e2e.client import Client
from tests.helpers import image_bytes

# S3 answers a missing key with 404 to callers that may list the bucket, 403 to the others.
GONE = (403, 404)


def presigned_post(started: dict[str, Any], data: bytes, filename: str = "big.png") -> requests.Response:
    upload = started["upload"]
    return requests.post(
        upload["url"],
        data=upload["fields"],
        files={"file": (filename, data, upload["fields"]["Content-Type"])},
        timeout=30,
    )


def wait_for_file(client: Client, file_id: str, seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        file: dict[str, Any] = client.request("GET", f"/files/{file_id}").json()
        if file["status"] != "pending" or time.monotonic() > deadline:
            return file
        time.sleep(0.1)


def test_auth_rows_including_failures(stack: Any) -> None:
    client = Client(stack.api)
    name = client.sign_up()
    again = client.request("POST", "/auth/register", json={"username": name, "password": "correct-horse"})
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"
    short = client.request("POST", "/auth/register", json={"username": "ok-name", "password": "short"})
    assert short.status_code == 400
    wrong = client.request(
        "POST", "/auth/token", data={"grant_type": "password", "username": name, "password": "nope-nope"}
    )
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    grant = client.request("POST", "/auth/token", data={"grant_type": "authorization_code", "code": "x"})
    assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
    forged = requests.get(f"{stack.api}/files", headers={"Authorization": f"Bearer {client.token}x"}, timeout=10)
    assert forged.status_code == 401


def test_a_large_upload_through_a_presigned_post_becomes_ready(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    data = image_bytes((1200, 900), fmt="PNG")
    created = client.request(
        "POST", "/files", json={"filename": "big.png", "content_type": "image/png", "size": len(data)}
    )
    assert created.status_code == 201, created.text
    started = created.json()
    assert started["file"]["status"] == "pending"
    assert presigned_post(started, data).status_code in (200, 204)
    file = wait_for_file(client, started["file"]["id"])
    assert (file["status"], file["format"], file["width"], file["height"], file["size"]) == (
        "ready",
        "png",
        1200,
        900,
        len(data),
    )
    content = client.request("GET", f"/files/{file['id']}/content")
    assert content.status_code == 302
    assert requests.get(content.headers["Location"], timeout=30).content == data


def test_a_task_created_before_its_presigned_upload_lands_runs_when_it_lands(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    data = image_bytes((1000, 1000), fmt="PNG")
    started = client.request(
        "POST", "/files", json={"filename": "later.png", "content_type": "image/png", "size": len(data)}
    ).json()
    task = client.request(
        "POST",
        "/tasks",
        json={
            "type": "process",
            "file_ids": [started["file"]["id"]],
            "operations": [{"op": "resize", "width": 250}],
            "output": {"format": "webp"},
        },
    ).json()["tasks"][0]
    time.sleep(1.5)
    assert client.request("GET", f"/tasks/{task['id']}").json()["status"] == "queued"
    presigned_post(started, data)
    done = client.wait_for(task["id"])
    assert done["status"] == "done", done
    output = done["result"]["outputs"][0]
    assert (output["format"], output["width"], output["height"]) == ("webp", 250, 250)
    image = Image.open(io.BytesIO(requests.get(output["url"], timeout=30).content))
    assert (image.format, image.size) == ("WEBP", (250, 250))


def test_a_task_on_an_upload_that_turns_out_not_to_be_an_image_fails(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    junk = b"this is not an image at all" * 10
    started = client.request(
        "POST", "/files", json={"filename": "x.png", "content_type": "image/png", "size": len(junk)}
    ).json()
    task_id = client.request(
        "POST",
        "/tasks",
        json={"type": "process", "file_ids": [started["file"]["id"]], "operations": [{"op": "grayscale"}]},
    ).json()["tasks"][0]["id"]
    presigned_post(started, junk)
    failed = client.wait_for(task_id)
    assert (failed["status"], failed["error"]["code"]) == ("failed", "invalid_image")
    assert wait_for_file(client, started["file"]["id"])["status"] == "rejected"


def test_list_cancel_restart_delete(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    file_id = client.upload(image_bytes((400, 300))).json()["id"]
    body = {"type": "process", "file_ids": [file_id, file_id, file_id], "operations": [{"op": "resize", "width": 100}]}
    ids = [t["id"] for t in client.request("POST", "/tasks", json=body).json()["tasks"]]
    for task_id in ids:
        client.wait_for(task_id)
    page = client.request("GET", "/tasks?limit=2").json()
    assert [t["id"] for t in page["items"]] == ids[::-1][:2]
    assert [t["id"] for t in client.request("GET", f"/tasks?limit=2&cursor={page['next_cursor']}").json()["items"]] == [
        ids[0]
    ]
    assert len(client.request("GET", "/tasks?status=done&type=process").json()["items"]) == 3

    cancel_done = client.request("POST", f"/tasks/{ids[0]}/cancel")
    assert cancel_done.status_code == 409
    assert "is done" in cancel_done.json()["detail"]
    assert client.request("POST", f"/tasks/{ids[0]}/restart").status_code == 409

    # A task to cancel while queued: its file is still pending, so it cannot start yet.
    pending = client.request(
        "POST", "/files", json={"filename": "p.png", "content_type": "image/png", "size": 10}
    ).json()
    waiting = client.request(
        "POST",
        "/tasks",
        json={"type": "process", "file_ids": [pending["file"]["id"]], "operations": [{"op": "grayscale"}]},
    ).json()["tasks"][0]["id"]
    cancelled = client.request("POST", f"/tasks/{waiting}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (202, "cancelled")
    restarted = client.request("POST", f"/tasks/{waiting}/restart")
    assert (restarted.status_code, restarted.json()["status"]) == (202, "queued")

    outputs = client.request("GET", f"/tasks/{ids[1]}").json()["result"]["outputs"]
    assert client.request("DELETE", f"/tasks/{ids[1]}").status_code == 204
    assert client.request("GET", f"/tasks/{ids[1]}").status_code == 404
    assert client.request("GET", f"/files/{outputs[0]['file_id']}").status_code == 404
    assert requests.get(outputs[0]["url"], timeout=10).status_code in GONE  # the bytes went too


def test_two_users_see_only_their_own(stack: Any) -> None:
    alice, bob = Client(stack.api), Client(stack.api)
    alice.sign_up()
    bob.sign_up()
    file_id = alice.upload(image_bytes((100, 100))).json()["id"]
    task_id = alice.request(
        "POST",
        "/tasks",
        json={"type": "process", "file_ids": [file_id], "operations": [{"op": "flip", "orientation": "vertical"}]},
    ).json()["tasks"][0]["id"]
    alice.wait_for(task_id)
    assert bob.request("GET", f"/files/{file_id}").status_code == 404
    assert bob.request("GET", f"/tasks/{task_id}").status_code == 404
    assert bob.request("GET", f"/tasks/{task_id}/download").status_code == 404
    assert bob.request("DELETE", f"/files/{file_id}").status_code == 404
    assert bob.request("GET", "/tasks").json()["items"] == []
    assert alice.request("GET", f"/files/{file_id}").status_code == 200


def test_delete_file_and_openapi_and_docs(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    file_id = client.upload(image_bytes((50, 50))).json()["id"]
    url = client.request("GET", f"/files/{file_id}/content").headers["Location"]
    assert client.request("DELETE", f"/files/{file_id}").status_code == 204
    assert requests.get(url, timeout=10).status_code in GONE
    document = requests.get(f"{stack.api}/openapi.json", timeout=10).json()
    assert "/tasks/{task_id}/restart" in document["paths"]
    docs = requests.get(f"{stack.api}/docs", timeout=10)
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_bytes_over_the_announced_size_never_make_a_ready_file(stack: Any) -> None:
    """S3 (and LocalStack) enforce the presigned policy's content-length-range and refuse the POST;
    moto does not, and the upload function's inspection rejects the file. Either way, no task runs
    on it."""
    client = Client(stack.api)
    client.sign_up()
    data = image_bytes((320, 200), fmt="PNG")
    started = client.request(
        "POST", "/files", json={"filename": "small.png", "content_type": "image/png", "size": 100}
    ).json()
    posted = presigned_post(started, data, filename="small.png")
    if posted.status_code == 400:  # the policy enforced at the door
        assert "EntityTooLarge" in posted.text, posted.text
        time.sleep(2)
        assert client.request("GET", f"/files/{started['file']['id']}").json()["status"] == "pending"
    else:
        assert posted.status_code in (200, 204), posted.text
        file = wait_for_file(client, started["file"]["id"])
        assert file["status"] == "rejected", file
        assert "more than the 100 bytes announced" in file["error"]
