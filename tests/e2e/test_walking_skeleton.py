"""The README's walk-through, on the local stack, over HTTP only."""

from __future__ import annotations

import io
import time
from typing import Any

import requests
from PIL import Image

from tests.e2e.client import Client
from tests.helpers import image_bytes


def test_upload_resize_and_download_a_jpeg_of_the_size_asked_for(stack: Any) -> None:
    client = Client(stack.api)
    assert client.request("GET", "/health").json()["status"] == "ok"
    client.sign_up()
    uploaded = client.upload(image_bytes((2400, 1600)))
    assert uploaded.status_code == 201, uploaded.text
    file = uploaded.json()
    assert (file["status"], file["width"], file["height"]) == ("ready", 2400, 1600)

    started = time.monotonic()
    created = client.request(
        "POST",
        "/tasks",
        json={
            "type": "process",
            "file_ids": [file["id"]],
            "operations": [{"op": "resize", "width": 800, "height": 600, "fit": "inside"}],
            "output": {"format": "jpeg"},
        },
    )
    assert created.status_code == 202, created.text
    task_id = created.json()["tasks"][0]["id"]
    task = client.wait_for(task_id)
    elapsed = time.monotonic() - started
    print(f"\nPOST /tasks -> done on the local stack: {elapsed * 1000:.0f} ms")
    assert task["status"] == "done", task
    assert task["attempts"] == 1

    redirect = client.request("GET", f"/tasks/{task_id}/download")
    assert redirect.status_code == 302
    data = requests.get(redirect.headers["Location"], timeout=30).content
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("JPEG", (800, 533))


def test_the_api_refuses_what_api_gateway_refuses(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    too_big = client.request(
        "POST", "/files", data=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "application/octet-stream"}
    )
    assert too_big.status_code == 413
    assert too_big.headers["Content-Type"] == "application/problem+json"
    assert "POST /files/presigned" in too_big.json()["detail"]
    # Under API Gateway's 10 MB but over Lambda's 6 MB once base64-encoded into the event.
    over_event_limit = client.request(
        "POST", "/files", data=b"x" * (5 * 1024 * 1024), headers={"Content-Type": "image/jpeg"}
    )
    assert over_event_limit.status_code == 413
    assert over_event_limit.json()["status"] == 413


def test_without_a_token_the_api_answers_401(stack: Any) -> None:
    response = requests.get(f"{stack.api}/tasks", timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.headers["Content-Type"] == "application/problem+json"
