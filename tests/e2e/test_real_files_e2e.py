"""Real files through the local stack: a sample of the corpus (one file of each kind the issue
named, from image libraries' test suites, fetched by `make corpus`) uploaded, processed and
compared with an independent reference, and a decompression bomb refused at upload."""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from scripts.corpus import CORPUS
from tests import bombs
from tests.corpus.judge import _on_white, reference_still
from tests.e2e.client import Client
from tests.e2e.conftest import same_on_any_emulator

# path in the corpus: the content type a browser or the CLI would announce
SAMPLE = {
    "pillow-heif-1.8.1/non_heif/L_16__128x128.png": "image/png",
    "pillow-heif-1.8.1/heif/RGB_10__128x128.heif": "image/heic",
    "pillow-13.0.0/rgb_trns.png": "image/png",
    "pillow-13.0.0/multipage.tiff": "image/tiff",
    "pillow-13.0.0/frozenpond.mpo": "image/jpeg",
    "pillow-13.0.0/hopper.bmp": "image/bmp",
    "pillow-13.0.0/hopper_256x256.ico": "image/x-icon",
    "pillow-13.0.0/hopper.psd": "image/vnd.adobe.photoshop",
    "pillow-13.0.0/pil_sample_cmyk.jpg": "image/jpeg",
    "pillow-13.0.0/hopper.Lab.tif": "image/tiff",
    "pillow-jxl-plugin-1.3.8/sample.jxl": "image/jxl",
}


@same_on_any_emulator  # the engine's work; S3, SQS and DynamoDB are the same as for any file
def test_a_sample_of_real_files_comes_out_as_the_references_show_it(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    files = {}
    for name, content_type in SAMPLE.items():
        path = CORPUS / name
        assert path.exists(), f"{path} is missing: run `make corpus`"
        answer = client.upload(path.read_bytes(), path.name, content_type)
        assert answer.status_code == 201, (name, answer.text)
        files[answer.json()["id"]] = path
    body = {"type": "process", "file_ids": list(files), "output": {"format": "png"}}
    created = client.request("POST", "/tasks", json=body)
    assert created.status_code == 202, created.text
    for task in created.json()["tasks"]:
        done = client.wait_for(task["id"])
        path = files[done["file_id"]]
        assert done["status"] == "done", (path.name, done["error"])
        output = done["result"]["outputs"][0]
        ours = _on_white(Image.open(io.BytesIO(requests.get(output["url"], timeout=30).content)))
        expected = reference_still(path)
        assert expected is not None and ours.size == expected.size, path.name
        difference = np.abs(np.asarray(ours, dtype=np.int16) - np.asarray(expected, dtype=np.int16)).mean()
        assert difference < 3.0, (path.name, difference)


@pytest.mark.parametrize("path", ["multipart", "presigned"])
def test_a_gif_bomb_is_refused_at_upload_with_its_code_and_its_task_fails_at_once(stack: Any, path: str) -> None:
    """The issue's 368-byte GIF (a second frame placed at 65535, 65535) grew a worker to 22 GB."""
    client = Client(stack.api)
    client.sign_up()
    bomb = bombs.gif_frame_far_outside()
    if path == "multipart":
        answer = client.upload(bomb, "tiny.gif", "image/gif")
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["type"] == "image_too_large"
        return
    started = client.request(
        "POST", "/files", json={"filename": "tiny.gif", "content_type": "image/gif", "size": len(bomb)}
    ).json()
    task_id = client.request("POST", "/tasks", json={"type": "process", "file_ids": [started["file"]["id"]]}).json()[
        "tasks"
    ][0]["id"]
    upload = started["upload"]
    posted = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("tiny.gif", bomb, "image/gif")}, timeout=30
    )
    assert posted.status_code in (200, 201, 204), posted.text
    deadline = time.monotonic() + 30
    while (file := client.request("GET", f"/files/{started['file']['id']}").json())["status"] == "pending":
        assert time.monotonic() < deadline, file
        time.sleep(0.2)
    assert (file["status"], file["error_code"]) == ("rejected", "image_too_large"), file
    task = client.wait_for(task_id, seconds=30)
    assert (task["status"], task["error"]["code"]) == ("failed", "image_too_large"), task
