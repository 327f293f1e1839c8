"""AVIF in and out: an AVIF upload is a file like any other, its EXIF orientation applied before
anything else; AVIF output keeps the colours and takes quality and the fast setting."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from imgtasks.domain.inspection import inspect_image
from tests.helpers import image_bytes
from tests.unit.test_imaging import (
    BLUE,
    GREEN,
    RED,
    WHITE,
    close,
    corner_colours,
    encoded,
    output_image,
    quadrants,
    run,
)


def test_an_avif_is_inspected_as_avif() -> None:
    info = inspect_image(encoded(quadrants((120, 80)), "AVIF"), max_pixels=10**8, max_frames=10)
    assert (info.format, info.width, info.height, info.content_type) == ("avif", 120, 80, "image/avif")


def test_avif_round_trip_keeps_the_picture_and_its_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # turned: shown rotated 90 degrees clockwise
    data = encoded(quadrants((200, 100)), "AVIF", exif=exif.tobytes(), quality=90)
    image = output_image(data, operations=[{"op": "resize", "width": 50}], output={"format": "avif", "quality": 90})
    assert image.format == "AVIF" and image.size == (50, 100)
    expected = (BLUE, RED, WHITE, GREEN)
    assert [close(c, e, 40) for c, e in zip(corner_colours(image), expected, strict=True)] == [True] * 4


def test_avif_quality_and_fast_trade_bytes_and_time() -> None:
    photo = image_bytes((640, 480))
    sizes = {quality: len(run_bytes(photo, {"format": "avif", "quality": quality})) for quality in (30, 85)}
    assert sizes[30] < sizes[85]
    fast = run_bytes(photo, {"format": "avif", "quality": 60, "fast": True})
    assert Image.open(io.BytesIO(fast)).format == "AVIF"


def run_bytes(data: bytes, output: dict[str, Any]) -> bytes:
    return bytes(run(data, output=output).outputs[0].data)


def test_an_avif_upload_goes_through_the_api_and_a_task_writes_avif(api: Any, process: Any) -> None:
    api.sign_up()
    uploaded = api.upload(encoded(quadrants((64, 48)), "AVIF"), filename="q.avif", content_type="image/avif")
    assert uploaded.status == 201, uploaded.body
    assert (uploaded.body["format"], uploaded.body["content_type"]) == ("avif", "image/avif")
    body = {"type": "process", "file_ids": [uploaded.body["id"]], "output": {"format": "avif"}}
    task = api.call("POST", "/tasks", json_body=body).body["tasks"][0]
    process.drain()
    done = api.call("GET", f"/tasks/{task['id']}").body
    assert done["status"] == "done", done["error"]
    assert done["result"]["outputs"][0]["format"] == "avif"
