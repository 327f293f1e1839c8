"""Placeholders, colours and metadata of real photographs from the corpus (tests/corpus/sources.json),
each checked against what is computed here independently of the packages that make them: the
picture's own mean colour and aspect ratio, a blurred copy, and the EXIF values Pillow reads."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from pathlib import Path

import blurhash
import numpy as np
import pytest
import thumbhash
from PIL import ExifTags, Image

from imgtasks.kinds.process import ProcessSpec
from imgtasks_imaging import DecodeLimits, render
from imgtasks_imaging.facts import COLOR_SIDE, hash_copy, look_of, metadata_of, small_rgba
from tests.helpers import ROOT

CORPUS = ROOT / ".corpus"
PHOTOS = [
    "face-recognition-1.3.0/obama.jpg",
    "pillow-13.0.0/xmp_test.jpg",
    "insightface-0.7.3/t1.jpg",
    "face-recognition-1.3.0/32bit.png",
    "pillow-13.0.0/transparent.png",  # see-through
]
LIMITS = DecodeLimits(max_pixels=100_000_000, max_frames=1000)


def photo(name: str) -> Image.Image:
    image = Image.open(CORPUS / name)
    image.load()
    return image


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    values = values / 255
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


@pytest.mark.parametrize("name", PHOTOS)
def test_the_blurhash_holds_the_picture_s_mean_colour_and_decodes_to_its_blur(name: str) -> None:
    picture = photo(name).convert("RGBA")
    look = look_of(picture)
    image = Image.new("RGB", picture.size, "white")  # BlurHash has no transparency: on white
    image.paste(picture, mask=picture.getchannel("A"))
    assert look.blurhash is not None and len(look.blurhash) == 28  # 4x3 components
    assert blurhash.components(look.blurhash) == (4, 3)
    # The first component (characters 2-5) is the picture's mean colour, averaged in linear light.
    mean = srgb_to_linear(np.asarray(image, dtype=np.float64)).reshape(-1, 3).mean(axis=0)
    value = blurhash.blurhash.base83_decode(look.blurhash[2:6])
    first = np.array([value >> 16, (value >> 8) & 255, value & 255], dtype=np.float64)
    # Within 0.05: the hash is made from a 16 px copy averaged in sRGB, a little darker than the
    # mean of every pixel in linear light (a wrong channel or component is off by far more).
    assert np.abs(srgb_to_linear(first) - mean).max() < 0.05, (first, mean)
    # Decoded, it is a blur of the picture: light and dark where the picture's are (a 6x4
    # box-filtered copy; 12 components cannot match it pixel for pixel).
    decoded = np.asarray(blurhash.decode(look.blurhash, 6, 4), dtype=np.float64).reshape(-1)
    blurred = np.asarray(image.resize((6, 4), Image.Resampling.BOX), dtype=np.float64).reshape(-1)
    assert np.corrcoef(decoded, blurred)[0, 1] > 0.6  # measured 0.70-0.95 on these; unrelated pictures ~0


REFERENCE_THUMBHASH = ROOT / "web" / "node_modules" / "thumbhash" / "thumbhash.js"


def reference_thumbhash(small: Image.Image, scratch: Path) -> str:
    """The picture's ThumbHash by Evan Wallace's own JavaScript (the npm package the web app
    decodes placeholders with), run under Node."""
    node = shutil.which("node")
    if node is None or not REFERENCE_THUMBHASH.exists():
        pytest.fail("the reference ThumbHash needs node and web/node_modules (make web installs them)")
    pixels = scratch / "rgba.bin"
    pixels.write_bytes(small.tobytes())
    script = (
        f"import {{ rgbaToThumbHash }} from {json.dumps(REFERENCE_THUMBHASH.as_uri())};"
        "import { readFileSync } from 'node:fs';"
        "const [w, h, file] = process.argv.slice(1);"
        "console.log(Buffer.from(rgbaToThumbHash(+w, +h, new Uint8Array(readFileSync(file)))).toString('base64'));"
    )
    done = subprocess.run(  # noqa: S603 - node, with arguments made here
        [node, "--input-type=module", "-e", script, str(small.width), str(small.height), str(pixels)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("name", PHOTOS)
def test_the_thumbhash_is_byte_for_byte_the_reference_javascript_s(name: str, tmp_path: Path) -> None:
    image = photo(name)
    assert look_of(image).thumbhash == reference_thumbhash(hash_copy(small_rgba(image, COLOR_SIDE)), tmp_path)


@pytest.mark.parametrize("name", PHOTOS)
def test_the_thumbhash_is_the_reference_port_s_and_holds_the_picture_s_mean_colour_and_shape(name: str) -> None:
    image = photo(name)
    look = look_of(image)
    assert look.thumbhash is not None
    hashed = list(base64.b64decode(look.thumbhash))
    small = hash_copy(small_rgba(image, COLOR_SIDE))
    if small.getextrema()[3][0] == 255:  # the PyPI port fails on see-through pictures
        # (it matches on 345 of 346 opaque corpus files; the other is a rounding tie it rounds to even)
        assert hashed == thumbhash.rgba_to_thumb_hash(small.width, small.height, list(small.tobytes()))
    rgba = image.convert("RGBA")
    pixels = np.asarray(rgba, dtype=np.float64)
    alpha = pixels[..., 3:] / 255
    mean = (pixels[..., :3] * alpha).sum(axis=(0, 1)) / max(alpha.sum(), 1)
    red, green, blue, _ = thumbhash.thumb_hash_to_average_rgba(hashed)
    assert np.abs(np.array([red, green, blue]) * 255 - mean).max() < 12, ((red, green, blue), mean)
    ratio = thumbhash.thumb_hash_to_approximate_aspect_ratio(hashed)
    assert ratio == pytest.approx(image.width / image.height, rel=0.2)


def test_dominant_colours_are_the_picture_s_colours_with_their_shares() -> None:
    # A real photograph: shares add up to (nearly) all of it, the most common first.
    colors = look_of(photo("face-recognition-1.3.0/obama.jpg")).colors or []
    assert 3 <= len(colors) <= 5
    assert [c.share for c in colors] == sorted((c.share for c in colors), reverse=True)
    assert 0.95 <= sum(c.share for c in colors) <= 1.0
    # A flag of known colours: three quarters red, one quarter blue, and a see-through band that is
    # no colour at all.
    flag = Image.new("RGBA", (400, 200), (200, 30, 30, 255))
    flag.paste((20, 40, 180, 255), (300, 0, 400, 200))
    flag.paste((0, 0, 0, 0), (0, 0, 400, 40))
    shares = {c.hex: c.share for c in look_of(flag).colors or []}
    assert shares == {"#c81e1e": pytest.approx(0.75, abs=0.02), "#1428b4": pytest.approx(0.25, abs=0.02)}


def test_metadata_says_camera_lens_time_profile_and_where() -> None:
    obama = photo("face-recognition-1.3.0/obama.jpg")
    facts = metadata_of(obama.info.get("exif"), obama.info.get("icc_profile"), 1)
    assert facts is not None
    assert (facts.camera, facts.lens, facts.taken_at) == (
        "Canon EOS 5D Mark III",
        "EF85mm f/1.2L USM",
        "2012-12-06T15:46:01",
    )
    assert (facts.f_number, facts.exposure_time, facts.iso, facts.focal_length) == (7.1, 0.008, 200, 85.0)
    assert facts.color_profile == "sRGB IEC61966-2.1" and facts.gps is None
    # A phone's picture with its position and time zone (Pillow's test file of an Ultra HDR JPEG).
    pixel = Image.open(CORPUS / "pillow-13.0.0" / "ultrahdr.jpg")
    phone = metadata_of(pixel.info.get("exif"), pixel.info.get("icc_profile"), 1)
    assert phone is not None and phone.camera == "Google Pixel 6" and phone.taken_at == "2024-05-07T09:33:04+08:00"
    assert phone.gps is not None
    assert (phone.gps.latitude, phone.gps.longitude, phone.gps.altitude) == (30.62765, 119.738767, 98.9)
    xmp = photo("pillow-13.0.0/xmp_test.jpg")
    assert (metadata_of(xmp.info.get("exif"), xmp.info.get("icc_profile"), 1) or facts).color_profile == (
        "Adobe RGB (1998)"
    )
    # Made-up values a test file carries (an unset exposure, an impossible position) are left out.
    broken = Image.open(CORPUS / "pillow-13.0.0" / "exif_gps.jpg")
    odd = metadata_of(broken.info.get("exif"), None, 1)
    assert odd is not None and odd.gps is None and odd.exposure_time is None


def with_position(name: str) -> bytes:
    """The photograph with a GPS position written into its EXIF (it has none of its own)."""
    image = photo(name)
    exif = image.getexif()
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 30.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif.tobytes(), icc_profile=image.info.get("icc_profile"))
    return buffer.getvalue()


def test_a_process_result_tells_the_owner_where_but_no_output_carries_it() -> None:
    spec = ProcessSpec.model_validate(
        {
            "operations": [{"op": "resize", "width": 400}],
            "output": {"format": "jpeg", "strip_metadata": False},
            "variants": [
                {"name": "kept", "operations": [{"op": "resize", "width": 400}]},
                {"name": "plain", "output": {"format": "webp"}, "operations": [{"op": "resize", "width": 200}]},
            ],
        }
    )
    rendering = render(with_position("face-recognition-1.3.0/obama.jpg"), spec, LIMITS)
    source = rendering.source
    assert source.metadata is not None and source.metadata.gps is not None
    assert (source.metadata.gps.latitude, source.metadata.camera) == (52.370000, "Canon EOS 5D Mark III")
    assert source.look is not None and source.look.blurhash
    for output in rendering.outputs:
        assert output.look is not None and output.look.thumbhash and output.look.colors
        written = Image.open(io.BytesIO(output.data)).getexif()
        assert ExifTags.IFD.GPSInfo not in written, output.name
    kept = Image.open(io.BytesIO(rendering.outputs[0].data)).getexif()
    assert kept.get(ExifTags.Base.Model) == "Canon EOS 5D Mark III"  # asked to keep metadata: kept, but where
