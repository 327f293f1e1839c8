"""What a user sees from the files the issue named, taken from the corpus (real files from image
libraries' test suites, fetched by `make corpus`): wide and keyed pixels against their 8-bit twins,
the new input formats, an animation written back as one, and the outputs decoded by a reader that
is not ours (pyvips, or the format's own library)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from imgtasks.domain.errors import PermanentTaskError
from imgtasks.domain.inspection import inspect_image, register_jpeg_xl
from imgtasks.kinds.process import ProcessSpec
from imgtasks_imaging import DecodeLimits, render
from scripts.corpus import CORPUS
from tests.corpus.judge import _on_white, reference_still

LIMITS = DecodeLimits(max_pixels=50_000_000, max_frames=500)
PILLOW = CORPUS / "pillow-13.0.0"
HEIF = CORPUS / "pillow-heif-1.8.1"


def corpus_file(path: Path) -> bytes:
    assert path.exists(), f"{path} is missing: run `make corpus`"
    return path.read_bytes()


def output(data: bytes, **fields: Any) -> Any:
    return render(data, ProcessSpec.model_validate(fields), LIMITS).outputs[0]


def picture(data: bytes, **fields: Any) -> Image.Image:
    image = Image.open(io.BytesIO(output(data, **fields).data))
    image.load()
    return image


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    return float(np.abs(np.asarray(first, dtype=np.int16) - np.asarray(second, dtype=np.int16)).mean())


@pytest.mark.parametrize(
    "wide",
    [
        HEIF / "non_heif/L_16__128x128.png",
        HEIF / "non_heif/RGB_16__128x128.png",
        HEIF / "non_heif/RGBA_16__128x128.png",
        HEIF / "heif/L_10__128x128.heif",
        HEIF / "heif/L_12__128x128.heif",
        HEIF / "heif/RGB_10__128x128.heif",
        HEIF / "heif/RGBA_12__128x128.heif",
        PILLOW / "16bit.cropped.tif",
        PILLOW / "16_bit_binary_pgm.tiff",
        PILLOW / "tiff_16bit_RGB.tiff",
    ],
    ids=lambda path: path.name,
)
def test_a_wide_image_is_scaled_to_8_bits_as_a_reference_decoder_shows_it(wide: Path) -> None:
    """The issue's 16-bit PNGs and 10/12-bit HEIFs came out almost white: clipped, not scaled.
    The reference is pyvips (libvips), or pillow-heif's own 8-bit conversion for HEIF."""
    ours = picture(corpus_file(wide), output={"format": "png"}).convert("RGBA")
    expected = reference_still(wide)
    assert expected is not None
    assert np.asarray(ours.convert("L")).mean() < 240  # not washed out
    assert mean_difference(_on_white(ours), expected) < 3.0, wide.name


def test_a_colour_key_becomes_transparent_and_white_on_jpeg() -> None:
    """rgb_trns: an RGB PNG whose tRNS chunk names one colour see-through."""
    data = corpus_file(PILLOW / "rgb_trns.png")
    with Image.open(io.BytesIO(data)) as source:
        key = source.info["transparency"]
        keyed = np.all(np.asarray(source.convert("RGB")) == np.array(key, dtype=np.uint8), axis=2)
    assert keyed.any()
    kept = np.asarray(picture(data, output={"format": "png"}).convert("RGBA"))
    assert (kept[keyed][:, 3] == 0).all() and (kept[~keyed][:, 3] == 255).all()
    flattened = np.asarray(picture(data, output={"format": "jpeg", "quality": 95}).convert("RGB"))
    assert flattened[keyed].mean() > 240  # white, not the key's colour


@pytest.mark.parametrize("name", ["l_trns.png", "i_trns.png"])
def test_a_grey_colour_key_becomes_transparent(name: str) -> None:
    data = corpus_file(PILLOW / name)
    with Image.open(io.BytesIO(data)) as source:
        keyed = np.asarray(source) == source.info["transparency"]
    alpha = np.asarray(picture(data, output={"format": "png"}).convert("RGBA"))[..., 3]
    assert (alpha[keyed] == 0).all() and (alpha[~keyed] == 255).all(), name


def test_a_tiff_is_read_on_its_first_page_and_its_pages_become_frames() -> None:
    data = corpus_file(PILLOW / "multipage.tiff")
    info = inspect_image(data, max_pixels=50_000_000, max_frames=500)
    assert (info.format, info.frames) == ("tiff", 3)
    assert output(data, output={"format": "png"}).frames == 1
    animation = output(data, output={"format": "webp"})
    assert animation.frames == 3
    with Image.open(io.BytesIO(animation.data)) as written:
        assert written.n_frames == 3


def test_an_apng_is_an_animation_with_its_delays_and_written_back_as_one() -> None:
    data = corpus_file(PILLOW / "apng/different_durations.png")
    with Image.open(io.BytesIO(data)) as source:
        durations = []
        for index in range(source.n_frames):
            source.seek(index)
            durations.append(source.info["duration"])
    for fmt, pillow in (("apng", "PNG"), ("webp", "WEBP"), ("gif", "GIF")):
        written = output(data, output={"format": fmt})
        assert written.frames == len(durations), fmt
        with Image.open(io.BytesIO(written.data)) as image:
            assert (image.format, image.n_frames) == (pillow, len(durations))
            seen = []
            for index in range(image.n_frames):
                image.seek(index)
                image.load()
                seen.append(image.info["duration"])
        assert seen == durations, fmt


def _timeline(image: Image.Image) -> dict[int, Image.Image]:
    """Each frame of an animation by the time it starts, in milliseconds."""
    frames, start = {}, 0
    for index in range(image.n_frames):
        image.seek(index)
        image.load()
        frames[start] = image.convert("RGBA")
        start += int(image.info.get("duration", 0))
    return frames


def test_an_apng_with_disposal_shows_what_pillow_composites_at_every_moment() -> None:
    """dispose_op_previous: each frame as composited by the APNG's disposal and blend rules (an
    encoder may merge identical frames, so frames are matched by the time they start)."""
    data = corpus_file(PILLOW / "apng/dispose_op_previous.png")
    written = output(data, output={"format": "webp", "lossless": True})
    with Image.open(io.BytesIO(data)) as source, Image.open(io.BytesIO(written.data)) as ours:
        expected, seen = _timeline(source), _timeline(ours)
    assert set(seen) <= set(expected)
    for start, frame in seen.items():
        assert mean_difference(frame, expected[start]) < 1.0, start


def test_a_damaged_apng_gives_its_still_image_and_refuses_as_an_animation() -> None:
    data = corpus_file(PILLOW / "apng/sequence_gap.png")
    assert picture(data, output={"format": "png"}).size == (128, 64)
    with pytest.raises(PermanentTaskError) as refused:
        output(data, output={"format": "webp"})
    assert refused.value.code == "invalid_image"
    assert "the animation is damaged" in refused.value.message


@pytest.mark.parametrize("name", ["frozenpond.mpo", "fujifilm.mpo"])
def test_an_mpo_is_read_as_its_first_image(name: str) -> None:
    data = corpus_file(PILLOW / name)
    info = inspect_image(data, max_pixels=50_000_000, max_frames=500)
    assert (info.format, info.frames) == ("jpeg", 1)
    with Image.open(io.BytesIO(data)) as source:
        first = source.convert("RGB")
    ours = picture(data, output={"format": "png"}).convert("RGB")
    assert ours.size == first.size and mean_difference(ours, first) < 2.0


def test_an_icon_is_read_at_its_largest_entry() -> None:
    data = corpus_file(PILLOW / "hopper_256x256.ico")
    assert picture(data, output={"format": "png"}).size == (256, 256)


@pytest.mark.parametrize(("name", "fmt"), [("hopper.bmp", "bmp"), ("hopper.psd", "psd"), ("deerstalker.cur", "ico")])
def test_bmp_psd_and_cursors_are_read_and_written_as_png_by_default(name: str, fmt: str) -> None:
    data = corpus_file(PILLOW / name)
    assert inspect_image(data, max_pixels=50_000_000, max_frames=500).format == fmt
    written = output(data)
    assert written.format == "png"
    assert Image.open(io.BytesIO(written.data)).format == "PNG"


def test_jpeg_xl_is_read_and_written_and_libjxl_reads_ours_back() -> None:
    data = corpus_file(CORPUS / "pillow-jxl-plugin-1.3.8/sample.jxl")
    register_jpeg_xl()
    with Image.open(io.BytesIO(data)) as source:
        expected = source.convert("RGB")
    written = output(data, output={"format": "jxl", "quality": 90})
    assert written.format == "jxl"
    assert written.data[:2] == b"\xff\x0a" or written.data[4:8] == b"JXL "
    with Image.open(io.BytesIO(written.data)) as ours:
        assert ours.format == "JXL"
        assert mean_difference(ours.convert("RGB"), expected) < 6.0


@pytest.mark.parametrize("name", ["trailer_loop.pdf", "1.eps", "hopper.xbm"])
def test_formats_not_read_are_refused_saying_which_are(name: str) -> None:
    paths = list(PILLOW.rglob(name))
    assert paths, f"{name} is missing from the corpus"
    with pytest.raises(PermanentTaskError) as refused:
        inspect_image(paths[0].read_bytes(), max_pixels=50_000_000, max_frames=500)
    assert refused.value.code == "unsupported_format"
    assert "JPEG, PNG, APNG, WebP, GIF, AVIF, HEIC, TIFF, JPEG XL, BMP, ICO, PSD" in refused.value.message
