"""Video through the API and the workers: uploads inspected from their header, tasks routed to the
video worker by the file's kind (and by outputs only FFmpeg writes), the earlier conversion
service's options, and bad videos failing with their own codes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import av
import pytest
from PIL import Image

from tests.helpers import image_bytes
from tests.unit.test_api_files import post_to_s3, start_upload
from tests.unit.test_render_urls import render
from tests.unit.test_video import make_clip, read_index

__all__ = ["render"]


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("clips") / "indexed.mp4", frames=60).read_bytes()


def upload_video(api: Any, data: bytes, filename: str = "clip.mp4") -> dict[str, Any]:
    answer = api.upload(data, filename=filename, content_type="video/mp4")
    assert answer.status == 201, answer.body
    return dict(answer.body)


def test_a_small_video_through_the_api_is_ready_with_what_its_container_says(api: Any, clip_bytes: bytes) -> None:
    api.sign_up()
    file = upload_video(api, clip_bytes)
    assert (file["status"], file["format"], file["content_type"]) == ("ready", "mp4", "video/mp4")
    assert (file["width"], file["height"], file["frames"]) == (320, 240, 60)
    assert file["video"] == {
        "container": "mp4", "codec": "h264", "duration": 2.0, "fps": 30.0,
        "frames_estimated": False, "has_audio": False, "rotation": 0,
    }  # fmt: skip
    content = api.call("GET", f"/files/{file['id']}/content")
    assert "clip.mp4" in content.headers["Location"]


def test_a_presigned_video_upload_is_inspected_with_ranged_reads_and_its_task_runs_on_the_video_worker(
    api: Any, video: Any, process: Any, mocked_stack: Any, clip_bytes: bytes
) -> None:
    api.sign_up()
    started = start_upload(api, len(clip_bytes), content_type="video/quicktime", filename="phone.mov").body
    body = {
        "type": "process",
        "file_ids": [started["file"]["id"]],
        "operations": [{"op": "resize", "width": 160}, {"op": "frames", "start": 0.5, "end": 1.5, "fps": 10}],
    }
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    post_to_s3(mocked_stack, started["upload"], clip_bytes)
    process.drain()  # the upload event is handled; the task is not the image worker's
    assert api.call("GET", f"/tasks/{task_id}").body["status"] == "queued"
    video.drain()
    file = api.call("GET", f"/files/{started['file']['id']}").body
    # Announced as QuickTime, it is an MP4 (the same family): served as what it is.
    assert (file["status"], file["format"], file["content_type"]) == ("ready", "mp4", "video/mp4")
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["progress"]) == ("done", 100), task["error"]
    (output,) = task["result"]["outputs"]
    assert (output["format"], output["width"], output["height"], output["frames"]) == ("gif", 160, 120, 10)
    assert task["result"]["source"] == {
        "format": "mp4", "width": 320, "height": 240, "frames": 60, "size": len(clip_bytes), "duration": 2.0
    }  # fmt: skip
    download = api.call("GET", f"/tasks/{task_id}/download")
    assert download.status == 302 and ".gif" in download.headers["Location"]


def test_the_earlier_conversion_services_options_map_onto_one_task(
    api: Any, video: Any, mocked_stack: Any, clip_bytes: bytes
) -> None:
    """format=gif width=160 fps=10 start_time=0 end_time=1 quality=low speed=2 grayscale reverse
    dither=floyd_steinberg, as the README's mapping writes them."""
    api.sign_up()
    file = upload_video(api, clip_bytes)
    body = {
        "type": "process",
        "file_ids": [file["id"]],
        "operations": [
            {"op": "resize", "width": 160},
            {"op": "grayscale"},
            {"op": "frames", "start": 0, "end": 1, "fps": 10, "speed": 2, "reverse": True},
        ],
        "output": {"format": "gif", "quality": "low", "dither": "floyd_steinberg"},
    }
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    video.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert task["status"] == "done", task["error"]
    gif = Image.open(io.BytesIO(video_output(mocked_stack, task)))
    assert (gif.format, gif.size, gif.n_frames) == ("GIF", (160, 120), 5)
    shown = []
    for index in range(gif.n_frames):
        gif.seek(index)
        shown.append(read_index(av.VideoFrame.from_image(gif.convert("RGB").resize((320, 240)))))
    assert shown == [24, 18, 12, 6, 0]  # every 6th frame (2x speed at 10 fps of a 30 fps clip), backwards


def video_output(mocked_stack: Any, task: dict[str, Any], name: str = "default") -> bytes:
    """The bytes behind an output's presigned URL (under mock_aws, read with the S3 client)."""
    output = next(o for o in task["result"]["outputs"] if o["name"] == name)
    bucket = mocked_stack.outputs["ResultsBucketName"]
    path = unquote(urlsplit(output["url"]).path).lstrip("/")
    key = path.removeprefix(f"{bucket}/")
    return bytes(mocked_stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_an_animated_gif_becomes_an_mp4_on_the_video_worker(api: Any, video: Any, process: Any, render: Any) -> None:
    from tests.unit.test_imaging import animated_gif

    api.sign_up()
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    file = api.upload(animated_gif(colours, size=(64, 48)), filename="anim.gif", content_type="image/gif").body
    body = {"type": "process", "file_ids": [file["id"]], "output": {"format": "mp4"}}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    process.drain()
    assert api.call("GET", f"/tasks/{task_id}").body["status"] == "queued"
    video.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert task["status"] == "done", task["error"]
    assert task["result"]["outputs"][0]["format"] == "mp4"
    # Its preview (a render URL) is its poster frame, as an uploaded video's is.
    poster = render(api.call("GET", f"/files/{task['result']['outputs'][0]['file_id']}/preview").headers["Location"])
    assert (poster.status, poster.headers["Content-Type"]) == (200, "image/jpeg")
    with Image.open(io.BytesIO(poster.body)) as shown:
        assert shown.size == (64, 48) and shown.getpixel((32, 24))[0] > 200  # the first frame: red


def test_a_still_image_cannot_become_a_clip(api: Any, video: Any) -> None:
    api.sign_up()
    file = api.upload(image_bytes((64, 64)), filename="still.jpg").body
    body = {"type": "process", "file_ids": [file["id"]], "output": {"format": "webm"}}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    video.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["error"]["code"]) == ("failed", "invalid_output")
    assert "needs an animation or a video" in task["error"]["message"]


def test_bad_videos_are_refused_at_upload_with_their_codes(api: Any, tmp_path: Path, clip_bytes: bytes) -> None:
    from tests.unit.test_video import audio_only

    api.sign_up()
    cases = {
        "cut.mp4": (clip_bytes[: len(clip_bytes) // 2], "invalid_video"),
        "sound.m4a": (audio_only(tmp_path / "sound.m4a").read_bytes(), "no_video_stream"),
    }
    for name, (data, code) in cases.items():
        answer = api.upload(data, filename=name, content_type="video/mp4")
        assert answer.status == 400, name
        assert answer.body["errors"][0]["type"] == code


def test_a_presigned_video_that_is_not_one_is_rejected_and_its_task_fails_with_the_files_code(
    api: Any, video: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    started = start_upload(api, 5000, content_type="video/mp4", filename="fake.mp4").body
    body = {"type": "process", "file_ids": [started["file"]["id"]]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    post_to_s3(mocked_stack, started["upload"], image_bytes((50, 50)))  # a JPEG, announced as video
    video.drain()
    file = api.call("GET", f"/files/{started['file']['id']}").body
    assert (file["status"], file["error"]) == (
        "rejected",
        "the file is not a video this service reads (MP4, MOV, WebM, MKV or AVI)",
    )
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["error"]["code"]) == ("failed", "invalid_video")


def test_video_uploads_have_their_own_size_limit(api: Any) -> None:
    api.sign_up()
    assert start_upload(api, 400 * 2**20, content_type="video/webm", filename="long.webm").status == 201
    assert start_upload(api, 400 * 2**20).status == 400  # an image of that size is over MaxUploadBytes
    refused = start_upload(api, 501 * 2**20, content_type="video/mp4", filename="huge.mp4")
    assert refused.status == 400
    assert "524288000 bytes for a video" in refused.body["detail"]


def test_models_do_not_run_on_videos(api: Any, clip_bytes: bytes) -> None:
    api.sign_up()
    file = upload_video(api, clip_bytes)
    answer = api.call(
        "POST", "/tasks", json_body={"type": "infer", "file_ids": [file["id"]], "classification_model": "scenes"}
    )
    assert answer.status == 400
    assert "is a video; models run on images" in answer.body["detail"]


def test_a_video_in_s3_is_read_for_inspection_a_block_at_a_time(mocked_stack: Any, clip_bytes: bytes) -> None:
    """The upload function reads a video's header and first frame with ranged GETs: a video with
    50 MB of other data after its index costs a few blocks, not the whole object."""
    from imgtasks.adapters.storage import READ_BLOCK_BYTES, ObjectStore, RangedObject
    from imgtasks.domain.video_inspection import inspect_video
    from tests.unit.test_video import LIMITS

    s3 = mocked_stack.client("s3")
    bucket = mocked_stack.outputs["UploadsBucketName"]
    padded = clip_bytes + b"\0\0\0\x08free" + bytes(50_000_000)  # a trailing free box players skip
    s3.put_object(Bucket=bucket, Key="uploads/padded", Body=padded)
    raw = RangedObject(s3, bucket, "uploads/padded", len(padded))

    with io.BufferedReader(raw, buffer_size=READ_BLOCK_BYTES) as source:
        found = inspect_video(source, max_pixels=50_000_000, limits=LIMITS)
    assert (found.info.codec, found.frames) == ("h264", 60)
    assert raw.fetched_bytes <= 4 * READ_BLOCK_BYTES
    with ObjectStore(s3).open(bucket, "uploads/padded", len(padded)) as whole:
        whole.seek(-4, io.SEEK_END)
        assert whole.read() == bytes(4)
    # An image is read whole after its first bytes are sniffed: in two GETs, not one per 8 KiB.
    raw = RangedObject(s3, bucket, "uploads/padded", len(padded))
    gets = []
    original = s3.get_object
    s3.get_object = lambda **request: gets.append(request["Range"]) or original(**request)
    with io.BufferedReader(raw, buffer_size=READ_BLOCK_BYTES) as source:
        source.read(64)
        source.seek(0)
        assert source.read() == padded
    assert len(gets) == 2


def test_still_images_in_an_iso_container_are_not_taken_for_videos() -> None:
    from imgtasks.domain.video_inspection import sniff_container

    assert sniff_container(b"\0\0\0\x1cftypheic\0\0\0\0mif1heic") is None
    assert sniff_container(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1") is None
    assert sniff_container(b"\0\0\0\x1cftypisom\0\0\x02\0isomiso2") == "mp4"
    assert sniff_container(b"\0\0\0\x14ftypqt  \0\0\0\0qt  ") == "mov"
