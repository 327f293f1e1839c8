"""Video on the local stack, over HTTP: a clip posted straight to S3 by presigned POST, inspected
from its header, and turned into a GIF with the earlier conversion service's options, into an MP4,
a WebM and a poster from one decode; a broken clip rejected with its code."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import requests
from PIL import Image

from tests.e2e.client import Client
from tests.e2e.test_task_api import presigned_post, wait_for_file


def phone_clip(path: Path, seconds: int = 4, fps: int = 30, size: tuple[int, int] = (1280, 720)) -> Path:
    """H.264 with AAC sound, a moving square on a gradient."""
    width, height = size
    gradient = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None].repeat(height, 0).repeat(3, 2)
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = container.add_stream("aac", rate=8000)
        for index in range(seconds * fps):
            picture = gradient.copy()
            left = index * (width - 100) // (seconds * fps)
            picture[300:400, left : left + 100] = (250, 40, 40)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(video.encode(frame))
        for index in range(seconds * 8):
            samples = av.AudioFrame.from_ndarray(np.zeros((1, 1000), np.float32), format="fltp", layout="mono")
            samples.sample_rate, samples.pts = 8000, index * 1000
            container.mux(sound.encode(samples))
        container.mux(video.encode(None))
        container.mux(sound.encode(None))
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return phone_clip(tmp_path_factory.mktemp("e2e-video") / "phone.mp4").read_bytes()


def upload_by_presigned_post(client: Client, data: bytes, filename: str, content_type: str) -> dict[str, Any]:
    started = client.request(
        "POST", "/files", json={"filename": filename, "content_type": content_type, "size": len(data)}
    )
    assert started.status_code == 201, started.text
    assert presigned_post(started.json(), data, filename).status_code in (200, 204)
    return dict(started.json())


def test_a_video_posted_to_s3_becomes_a_gif_with_the_earlier_services_options(stack: Any, clip: bytes) -> None:
    client = Client(stack.api)
    client.sign_up()
    started = upload_by_presigned_post(client, clip, "phone.mp4", "video/mp4")
    # The earlier system's form: format=gif width=480 fps=15 start_time=1 end_time=3 quality=medium
    # speed=1.0 grayscale=false reverse=false boomerang=true dither=bayer (README: the mapping).
    created = client.request(
        "POST",
        "/tasks",
        json={
            "type": "process",
            "file_ids": [started["file"]["id"]],
            "operations": [
                {"op": "resize", "width": 480},
                {"op": "frames", "start": 1, "end": 3, "fps": 15, "speed": 1.0, "boomerang": True},
            ],
            "output": {"format": "gif", "quality": "medium", "dither": "bayer"},
        },
    )
    assert created.status_code == 202, created.text
    file = wait_for_file(client, started["file"]["id"])
    assert (file["status"], file["format"], file["width"], file["height"], file["frames"]) == (
        "ready", "mp4", 1280, 720, 120
    )  # fmt: skip
    assert (file["video"]["codec"], file["video"]["fps"], file["video"]["has_audio"]) == ("h264", 30.0, True)
    assert file["video"]["duration"] == pytest.approx(4.0, abs=0.05)

    task = client.wait_for(created.json()["tasks"][0]["id"], seconds=120)
    assert (task["status"], task["progress"]) == ("done", 100), task
    (output,) = task["result"]["outputs"]
    assert (output["format"], output["width"], output["height"], output["frames"]) == ("gif", 480, 270, 58)
    gif = Image.open(io.BytesIO(requests.get(output["url"], timeout=30).content))
    assert (gif.format, gif.size, gif.n_frames, gif.info["loop"]) == ("GIF", (480, 270), 58, 0)
    assert len(gif.convert("RGB").getcolors(maxcolors=4096) or []) <= 128  # medium: a palette of 128 colours
    assert task["result"]["source"]["duration"] == pytest.approx(4.0, abs=0.05)
    download = client.request("GET", f"/tasks/{task['id']}/download", allow_redirects=False)
    assert download.status_code == 302


def test_one_decode_makes_an_mp4_a_webm_and_a_poster(stack: Any, clip: bytes) -> None:
    client = Client(stack.api)
    client.sign_up()
    started = upload_by_presigned_post(client, clip, "phone.mov", "video/quicktime")
    task = client.request(
        "POST",
        "/tasks",
        json={
            "type": "process",
            "file_ids": [started["file"]["id"]],
            "operations": [{"op": "frames", "end": 2, "fps": 24}],
            "variants": [
                {"name": "small", "operations": [{"op": "resize", "width": 320}], "output": {"format": "mp4"}},
                {"name": "web", "operations": [{"op": "resize", "width": 640}], "output": {"format": "webm"}},
                {"name": "poster", "output": {"format": "jpeg", "quality": "high"}},
            ],
        },
    ).json()["tasks"][0]
    done = client.wait_for(task["id"], seconds=120)
    assert done["status"] == "done", done
    outputs = {output["name"]: output for output in done["result"]["outputs"]}
    shapes = {name: (o["format"], o["width"], o["height"]) for name, o in outputs.items()}
    assert shapes == {"small": ("mp4", 320, 180), "web": ("webm", 640, 360), "poster": ("jpeg", 1280, 720)}
    for name, codec in (("small", "h264"), ("web", "vp9")):
        answer = requests.get(outputs[name]["url"], timeout=30)
        assert answer.headers["Content-Type"] == f"video/{outputs[name]['format']}"
        with av.open(io.BytesIO(answer.content)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name.endswith(codec) or codec in stream.codec_context.name
            assert sum(1 for _ in container.decode(stream)) == 48
    poster = Image.open(io.BytesIO(requests.get(outputs["poster"]["url"], timeout=30).content))
    assert (poster.format, poster.size) == ("JPEG", (1280, 720))


def test_a_truncated_video_is_rejected_and_its_task_fails_with_the_code(stack: Any, clip: bytes) -> None:
    client = Client(stack.api)
    client.sign_up()
    cut = clip[: len(clip) // 2]
    started = upload_by_presigned_post(client, cut, "cut.mp4", "video/mp4")
    task = client.request("POST", "/tasks", json={"type": "process", "file_ids": [started["file"]["id"]]}).json()[
        "tasks"
    ][0]
    file = wait_for_file(client, started["file"]["id"])
    assert (file["status"], file["error"]) == ("rejected", "the MP4 file cannot be read (truncated or damaged?)")
    failed = client.wait_for(task["id"])
    assert (failed["status"], failed["error"]["code"]) == ("failed", "invalid_video")
