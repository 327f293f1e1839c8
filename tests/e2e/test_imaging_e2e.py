"""Process tasks on the local stack through the API and through S3 drop-ins."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import requests
from PIL import Image

from tests.e2e.client import Client
from tests.helpers import ROOT, image_bytes, multipart


def test_operations_and_variants_through_the_api(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    file_id = client.upload(image_bytes((1200, 800))).json()["id"]
    body = {
        "type": "process",
        "file_ids": [file_id],
        "operations": [{"op": "resize", "width": 600}],
        "output": {"format": "png"},
        "variants": [
            {"name": "cover", "operations": [{"op": "resize", "width": 100, "height": 100, "fit": "cover"}]},
            {
                "name": "tilted",
                "operations": [{"op": "rotate", "angle": 30, "background": "#ffffffff"}],
                "output": {"format": "jpeg"},
            },
            {"name": "mirror", "operations": [{"op": "flip", "orientation": "horizontal"}, {"op": "grayscale"}]},
            {
                "name": "detail",
                "operations": [{"op": "crop", "left": 10, "top": 10, "width": 200, "height": 100}, {"op": "sharpen"}],
            },
            {"name": "soft", "operations": [{"op": "blur", "radius": 3}], "output": {"format": "webp", "quality": 60}},
        ],
    }
    task_id = client.request("POST", "/tasks", json=body).json()["tasks"][0]["id"]
    task = client.wait_for(task_id)
    assert task["status"] == "done", task
    outputs = {o["name"]: o for o in task["result"]["outputs"]}
    assert (outputs["cover"]["width"], outputs["cover"]["height"], outputs["cover"]["format"]) == (100, 100, "png")
    assert outputs["tilted"]["format"] == "jpeg" and outputs["tilted"]["width"] > 600
    assert (outputs["detail"]["width"], outputs["detail"]["height"]) == (200, 100)
    assert outputs["soft"]["format"] == "webp"
    mirror = Image.open(io.BytesIO(requests.get(outputs["mirror"]["url"], timeout=30).content))
    assert (mirror.size, mirror.mode) == ((600, 400), "L")
    download = client.request("GET", f"/tasks/{task_id}/download?variant=soft")
    assert Image.open(io.BytesIO(requests.get(download.headers["Location"], timeout=30).content)).format == "WEBP"
    listed = client.request("GET", "/files?limit=20").json()["items"]
    assert {o["file_id"] for o in outputs.values()} <= {f["id"] for f in listed}  # outputs are the user's files


def test_presets_through_the_api(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    assert {p["name"] for p in client.request("GET", "/presets").json()["presets"]} >= {"web", "thumbnails"}
    file_id = client.upload(image_bytes((3000, 2000))).json()["id"]
    web, thumbs = (
        client.request("POST", "/tasks", json={"type": "process", "file_ids": [file_id], "preset": name}).json()[
            "tasks"
        ][0]["id"]
        for name in ("web", "thumbnails")
    )
    web_task, thumbs_task = client.wait_for(web), client.wait_for(thumbs)
    output = web_task["result"]["outputs"][0]
    assert (output["format"], output["width"], output["height"]) == ("jpeg", 800, 533)
    assert [(o["name"], o["width"], o["format"]) for o in thumbs_task["result"]["outputs"]] == [
        ("1024", 1024, "webp"),
        ("512", 512, "webp"),
        ("128", 128, "webp"),
    ]


def test_an_animated_gif_with_frame_options_in_one_multipart_request(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    frames = [Image.new("RGB", (160, 90), (i * 40, 255 - i * 40, 80)) for i in range(6)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    spec = {
        "type": "process",
        "operations": [{"op": "resize", "width": 80}, {"op": "frames", "speed": 2, "boomerang": True}],
    }
    body, header = multipart({"spec": json.dumps(spec)}, {"file": ("anim.gif", buffer.getvalue(), "image/gif")})
    created = client.request("POST", "/tasks", data=body, headers={"Content-Type": header})
    assert created.status_code == 202, created.text
    task = client.wait_for(created.json()["tasks"][0]["id"])
    output = task["result"]["outputs"][0]
    assert (output["format"], output["width"], output["frames"]) == ("gif", 80, 10)
    gif = Image.open(io.BytesIO(requests.get(output["url"], timeout=30).content))
    assert gif.n_frames == 10
    assert gif.info["duration"] == 50
    assert task["result"]["source"]["frames"] == 6


def test_a_drop_in_through_s3_is_a_task_of_the_user_with_outputs_in_the_outbox(stack: Any) -> None:
    client = Client(stack.api)
    username = client.sign_up()
    s3 = stack.client("s3")
    s3.put_object(
        Bucket=stack.outputs["UploadsBucketName"], Key=f"inbox/{username}/web/beach.jpg", Body=image_bytes((1600, 1200))
    )
    deadline = time.monotonic() + 30
    while not (items := client.request("GET", "/tasks").json()["items"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    task = client.wait_for(items[0]["id"])
    assert (task["status"], task["spec"]) == ("done", {"preset": "web"})
    data = s3.get_object(Bucket=stack.outputs["ResultsBucketName"], Key=f"outbox/{username}/web/beach.jpg")[
        "Body"
    ].read()
    assert Image.open(io.BytesIO(data)).size == (800, 600)
    s3.put_object(Bucket=stack.outputs["UploadsBucketName"], Key="inbox/nobody-here/web/x.jpg", Body=image_bytes())
    stack.wait_for_log("drop-in skipped: unknown user")


def test_a_bomb_is_refused_before_it_is_decoded(stack: Any) -> None:
    client = Client(stack.api)
    username = client.sign_up()
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")  # 144 MP in a few hundred KB
    refused = client.upload(buffer.getvalue(), "bomb.png", "image/png")
    assert refused.status_code == 400
    assert "limit" in refused.json()["detail"]
    stack.client("s3").put_object(
        Bucket=stack.outputs["UploadsBucketName"], Key=f"inbox/{username}/web/bomb.png", Body=buffer.getvalue()
    )
    deadline = time.monotonic() + 30
    while not (items := client.request("GET", "/tasks").json()["items"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    task = client.wait_for(items[0]["id"])
    assert (task["status"], task["error"]["code"]) == ("failed", "image_too_large")


def test_a_corrupt_image_fails_at_once_without_retries(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    truncated = image_bytes((1200, 900))[:6000]  # the header reads, the pixels do not
    started = client.request(
        "POST", "/files", json={"filename": "cut.jpg", "content_type": "image/jpeg", "size": len(truncated)}
    ).json()
    upload = started["upload"]
    requests.post(
        upload["url"], data=upload["fields"], files={"file": ("cut.jpg", truncated, "image/jpeg")}, timeout=30
    )
    task_id = client.request(
        "POST",
        "/tasks",
        json={"type": "process", "file_ids": [started["file"]["id"]], "operations": [{"op": "grayscale"}]},
    ).json()["tasks"][0]["id"]
    task = client.wait_for(task_id)
    assert (task["status"], task["error"]["code"], task["attempts"]) == ("failed", "invalid_image", 1)
    assert "corrupt" in task["error"]["message"]


def test_a_duplicate_message_produces_no_second_set_of_outputs(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    file_id = client.upload(image_bytes((300, 200))).json()["id"]
    task = client.request(
        "POST", "/tasks", json={"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 30}]}
    ).json()["tasks"][0]
    done = client.wait_for(task["id"])
    owner_files = len(client.request("GET", "/files").json()["items"])
    message = {"kind": "task", "task_id": task["id"], "owner_id": _owner(client), "run": 1}
    stack.client("sqs").send_message(QueueUrl=stack.outputs["ProcessQueueUrl"], MessageBody=json.dumps(message))
    time.sleep(3)
    again = client.request("GET", f"/tasks/{task['id']}").json()
    assert without_urls(again) == without_urls(done)  # URLs are signed anew on every read
    assert len(client.request("GET", "/files").json()["items"]) == owner_files


def without_urls(task: dict[str, Any]) -> dict[str, Any]:
    outputs = [{k: v for k, v in o.items() if k != "url"} for o in task["result"]["outputs"]]
    return {**task, "result": {**task["result"], "outputs": outputs}}


def _owner(client: Client) -> str:
    import base64

    payload = client.token.split(".")[1]  # type: ignore[union-attr]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def test_an_avif_upload_smart_crops_and_avif_outputs(stack: Any) -> None:
    """AVIF in (a presigned upload) and out, and each kind of gravity, on the local stack: the
    subject, a saturated red square off to the right of a grey picture, is kept whole."""
    client = Client(stack.api)
    client.sign_up()
    picture = Image.new("RGB", (900, 450), (128, 128, 128))
    subject = Image.effect_mandelbrot((150, 150), (-2, -1.2, 1, 1.2), 64).convert("RGB")
    picture.paste(
        Image.merge(
            "RGB",
            (
                subject.getchannel("R").point(lambda v: 200 + v // 5),
                *[subject.getchannel("G").point(lambda v: v // 8)] * 2,
            ),
        ),
        (660, 150),
    )
    buffer = io.BytesIO()
    picture.save(buffer, "AVIF", quality=90)
    file_id = client.upload(buffer.getvalue(), "picture.avif", "image/avif").json()["id"]
    cover = {"op": "resize", "width": 300, "height": 300, "fit": "cover"}
    body = {
        "type": "process",
        "file_ids": [file_id],
        "output": {"format": "avif", "quality": 70},
        "variants": [
            {"name": "whole"},
            {"name": "centre", "operations": [cover], "output": {"format": "png"}},
            {"name": "entropy", "operations": [{**cover, "gravity": "entropy"}], "output": {"format": "png"}},
            {"name": "attention", "operations": [{**cover, "gravity": "attention"}], "output": {"format": "png"}},
            {"name": "focus", "operations": [{**cover, "focus": {"x": 0.81, "y": 0.5}}], "output": {"format": "png"}},
            {
                "name": "east",
                "operations": [{"op": "crop", "width": 300, "height": 450, "gravity": "east"}],
                "output": {"format": "png"},
            },
        ],
    }
    created = client.request("POST", "/tasks", json=body)
    assert created.status_code == 202, created.text
    task = client.wait_for(created.json()["tasks"][0]["id"])
    assert task["status"] == "done", task["error"]
    outputs = {output["name"]: output for output in task["result"]["outputs"]}
    assert (outputs["whole"]["format"], outputs["whole"]["width"]) == ("avif", 900)

    def red_pixels(name: str) -> int:
        data = requests.get(outputs[name]["url"], timeout=10).content
        red = Image.open(io.BytesIO(data)).convert("RGB").getchannel("R")
        return sum(1 for value in red.get_flattened_data() if value > 190)

    whole = red_pixels("east")
    assert whole > 0.9 * 150 * 150  # the east strip holds the subject whole, at full scale
    assert red_pixels("centre") < 0.2 * whole * (300 / 450) ** 2
    for name in ("entropy", "attention", "focus"):
        assert red_pixels(name) > 0.9 * whole * (300 / 450) ** 2, name


def test_a_heic_photo_becomes_a_web_jpeg_turned_as_the_phone_held_it(stack: Any) -> None:
    from imgtasks.domain.inspection import register_heif

    register_heif()  # pillow-heif, here to write the HEIF the test reads
    client = Client(stack.api)
    client.sign_up()
    photo = Image.new("RGB", (1200, 900), (20, 120, 200))
    photo.paste((250, 250, 250), (0, 0, 600, 450))  # a white top-left quarter
    exif = Image.Exif()
    exif[0x0112] = 6  # held upright: shown turned 90 degrees clockwise
    buffer = io.BytesIO()
    photo.save(buffer, "HEIF", quality=90, exif=exif.tobytes())
    uploaded = client.upload(buffer.getvalue(), "IMG_0042.HEIC", "image/heic")
    assert uploaded.status_code == 201, uploaded.text
    assert (uploaded.json()["format"], uploaded.json()["width"], uploaded.json()["height"]) == ("heic", 900, 1200)
    created = client.request(
        "POST", "/tasks", json={"type": "process", "file_ids": [uploaded.json()["id"]], "preset": "web"}
    )
    task = client.wait_for(created.json()["tasks"][0]["id"])
    assert task["status"] == "done", task["error"]
    output = task["result"]["outputs"][0]
    assert (output["format"], output["width"], output["height"]) == ("jpeg", 450, 600)
    image = Image.open(io.BytesIO(requests.get(output["url"], timeout=10).content)).convert("RGB")
    assert image.getpixel((400, 50))[0] > 230  # the white quarter is now top-right
    assert image.getpixel((50, 50))[0] < 60


def test_a_logo_and_a_text_watermark_through_the_api(stack: Any) -> None:
    """A real photograph (Pillow's test photo) with an uploaded PNG logo in one corner and text in
    another (someone else's logo is a 400: tests/unit/test_api_tasks.py)."""
    client = Client(stack.api)
    client.sign_up()
    photo = client.upload((ROOT / ".corpus" / "pillow-13.0.0" / "xmp_test.jpg").read_bytes()).json()["id"]
    logo = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    logo.paste((255, 0, 0, 255), (0, 0, 100, 100))
    logo_id = client.upload(image_bytes_of(logo), "logo.png", "image/png").json()["id"]
    body = {
        "type": "process",
        "file_ids": [photo],
        "operations": [
            {"op": "resize", "width": 1000},
            {"op": "overlay", "file_id": logo_id, "gravity": "north-west", "scale": 0.2, "margin": 0},
            {"op": "overlay", "text": "imgtasks", "color": "#00ff00", "font_size": 0.1, "gravity": "south-west"},
        ],
        "output": {"format": "png"},
    }
    task = client.wait_for(client.request("POST", "/tasks", json=body).json()["tasks"][0]["id"])
    assert task["status"] == "done", task
    out = Image.open(io.BytesIO(requests.get(task["result"]["outputs"][0]["url"], timeout=30).content)).convert("RGB")
    assert out.size == (1000, 536)
    assert out.getpixel((20, 20)) == (255, 0, 0)  # the logo's opaque half, 200x100 at 0.2 of 1000 px
    assert out.getpixel((150, 20)) != (255, 0, 0)  # its see-through half shows the photograph
    colours = {colour for _, colour in out.crop((0, 400, 500, 536)).getcolors(1 << 20) or []}
    assert (0, 255, 0) in colours  # the text, bottom left


def image_bytes_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
