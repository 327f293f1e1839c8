"""HEIC (iPhone photos) in: inspected as heic, turned as its file says (once), its colour profile
applied like a JPEG's, written as JPEG unless the task names another format; never written as HEIC."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import Any

import pytest
from PIL import Image, ImageCms
from pydantic import ValidationError

from imgtasks.domain.inspection import inspect_image, register_heif
from imgtasks.domain.outputs import OutputSpec
from tests.helpers import ROOT
from tests.icc import rgb_profile
from tests.unit.test_imaging import BLUE, GREEN, RED, WHITE, close, corner_colours, output_image, quadrants


def heic(image: Image.Image, **save: Any) -> bytes:
    register_heif()  # pillow-heif, here to write the HEIF the test reads
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", quality=92, **save)
    return buffer.getvalue()


def test_a_heic_is_inspected_as_heic() -> None:
    info = inspect_image(heic(quadrants((120, 80))), max_pixels=10**8, max_frames=10)
    assert (info.format, info.width, info.height, info.content_type) == ("heic", 120, 80, "image/heic")


def test_a_heic_is_turned_as_its_file_says_once_and_written_as_jpeg() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # turned: shown rotated 90 degrees clockwise
    image = output_image(heic(quadrants((200, 100)), exif=exif.tobytes()), operations=[{"op": "resize", "width": 50}])
    assert (image.format, image.size) == ("JPEG", (50, 100))
    expected = (BLUE, RED, WHITE, GREEN)
    assert [close(c, e, 40) for c, e in zip(corner_colours(image), expected, strict=True)] == [True] * 4


def test_a_heic_colour_profile_is_applied_like_a_jpegs() -> None:
    # Adobe RGB values: in sRGB (what an output without a profile is read as) the green is purer.
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    plain = output_image(heic(Image.new("RGB", (32, 32), (40, 160, 90)), icc_profile=srgb))
    assert close(plain.getpixel((16, 16)), (40, 160, 90), 8)
    tagged = heic(Image.new("RGB", (32, 32), (40, 160, 90)), icc_profile=rgb_profile())
    assert Image.open(io.BytesIO(tagged)).info.get("icc_profile") == rgb_profile()
    converted = output_image(tagged)
    assert close(converted.getpixel((16, 16)), (0, 161, 85), 8)
    assert "icc_profile" not in converted.info


def test_heic_is_never_an_output_format() -> None:
    with pytest.raises(ValidationError):
        OutputSpec(format="heic")  # type: ignore[arg-type]


def test_a_heic_upload_announced_as_heif_goes_through_the_api(api: Any, process: Any) -> None:
    api.sign_up()
    uploaded = api.upload(heic(quadrants((64, 48))), filename="IMG_0001.HEIC", content_type="image/heif")
    assert uploaded.status == 201, uploaded.body
    assert (uploaded.body["format"], uploaded.body["width"]) == ("heic", 64)
    task = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [uploaded.body["id"]]}).body["tasks"][0]
    process.drain()
    done = api.call("GET", f"/tasks/{task['id']}").body
    assert done["status"] == "done", done["error"]
    assert done["result"]["outputs"][0]["format"] == "jpeg"
    assert done["result"]["source"]["format"] == "heic"


def test_the_heif_decoder_is_loaded_only_for_a_file_pillow_does_not_know() -> None:
    """pillow-heif costs some 20 ms to load: a container that sees only JPEGs never loads it."""
    script = (
        "import sys, io\n"
        "from PIL import Image\n"
        "from imgtasks.domain.inspection import inspect_image\n"
        "jpeg = io.BytesIO(); Image.new('RGB', (8, 8)).save(jpeg, 'JPEG')\n"
        "inspect_image(jpeg.getvalue(), max_pixels=100, max_frames=1)\n"
        "print('pillow_heif' in sys.modules)\n"
        "inspect_image(sys.stdin.buffer.read(), max_pixels=10**6, max_frames=1)\n"
        "print('pillow_heif' in sys.modules)\n"
    )
    loaded = subprocess.run(  # noqa: S603 - a fresh interpreter: this one has loaded it already
        [sys.executable, "-c", script],
        input=heic(quadrants((40, 30))),
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "layers" / "common")},
        check=True,
    )
    assert loaded.stdout.decode().split() == ["False", "True"]
