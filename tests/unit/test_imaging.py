"""The imaging engine, pixel by pixel: every operation, fit, format, animation option and limit."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from PIL import Image, ImageSequence

from imgtasks.domain.errors import PermanentTaskError
from imgtasks.kinds.process import ProcessSpec, presets
from imgtasks_imaging import DecodeLimits, render
from tests.helpers import image_bytes

LIMITS = DecodeLimits(max_pixels=50_000_000, max_frames=500)
RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


def spec(**fields: Any) -> ProcessSpec:
    return ProcessSpec.model_validate(fields)


def encoded(image: Image.Image, fmt: str = "PNG", **save: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def quadrants(size: tuple[int, int] = (200, 100)) -> Image.Image:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    width, height = size
    image = Image.new("RGB", size)
    for box, fill in (
        ((0, 0, width // 2, height // 2), RED),
        ((width // 2, 0, width, height // 2), GREEN),
        ((0, height // 2, width // 2, height), BLUE),
        ((width // 2, height // 2, width, height), WHITE),
    ):
        image.paste(fill, box)
    return image


def run(data: bytes, **fields: Any) -> Any:
    return render(data, spec(**fields), LIMITS)


def output_image(data: bytes, **fields: Any) -> Image.Image:
    result = run(data, **fields)
    image = Image.open(io.BytesIO(result.outputs[0].data))
    image.load()
    return image


def close(pixel: Any, expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=False))


def corner_colours(image: Image.Image) -> list[tuple[int, ...]]:
    rgb = image.convert("RGB")
    w, h = rgb.size
    return [
        rgb.getpixel((w // 4, h // 4)),
        rgb.getpixel((3 * w // 4, h // 4)),
        rgb.getpixel((w // 4, 3 * h // 4)),
        rgb.getpixel((3 * w // 4, 3 * h // 4)),
    ]  # type: ignore[list-item]


# ------------------------------------------------------------------ resize
@pytest.mark.parametrize(
    ("op", "size"),
    [
        ({"op": "resize", "width": 100, "height": 100, "fit": "inside"}, (100, 50)),
        ({"op": "resize", "width": 50}, (50, 25)),
        ({"op": "resize", "height": 20}, (40, 20)),
        ({"op": "resize", "width": 100, "height": 100, "fit": "cover"}, (100, 100)),
        ({"op": "resize", "width": 100, "height": 100, "fit": "contain"}, (100, 100)),
        ({"op": "resize", "width": 60, "height": 90, "fit": "fill"}, (60, 90)),
        ({"op": "resize", "width": 400, "height": 400}, (200, 100)),
        ({"op": "resize", "width": 400, "height": 400, "upscale": True}, (400, 200)),
    ],
)
def test_resize_fits_give_the_documented_sizes(op: dict[str, Any], size: tuple[int, int]) -> None:
    assert output_image(encoded(quadrants()), operations=[op]).size == size


def test_cover_crops_the_centre_and_contain_pads_with_the_background() -> None:
    cover = output_image(
        encoded(quadrants((400, 100))), operations=[{"op": "resize", "width": 100, "height": 100, "fit": "cover"}]
    )
    # The centre square of a 4:1 image holds the inner halves of the four quadrants.
    assert [close(c, e) for c, e in zip(corner_colours(cover), (RED, GREEN, BLUE, WHITE), strict=True)] == [True] * 4
    contain = output_image(
        encoded(quadrants((200, 100))),
        operations=[{"op": "resize", "width": 100, "height": 100, "fit": "contain", "background": "#00ff00ff"}],
    ).convert("RGB")
    assert close(contain.getpixel((50, 5)), GREEN)  # padding above
    assert close(contain.getpixel((10, 30)), RED)  # the image itself


# ------------------------------------------------------------------ rotate, flip, crop
@pytest.mark.parametrize(
    ("rotation", "corners"),
    [
        ({"angle": 90}, (BLUE, RED, WHITE, GREEN)),
        ({"direction": "clockwise"}, (BLUE, RED, WHITE, GREEN)),
        ({"angle": 270}, (GREEN, WHITE, RED, BLUE)),
        ({"direction": "counterclockwise"}, (GREEN, WHITE, RED, BLUE)),
        ({"angle": 180}, (WHITE, BLUE, GREEN, RED)),
        ({"angle": -90}, (GREEN, WHITE, RED, BLUE)),
    ],
)
def test_quarter_turns_are_clockwise_and_lossless(rotation: dict[str, Any], corners: tuple[Any, ...]) -> None:
    image = output_image(
        encoded(quadrants((200, 100))), operations=[{"op": "rotate", **rotation}], output={"format": "png"}
    )
    expected_size = (100, 200) if rotation.get("angle", 90) % 180 else (200, 100)
    assert image.size == expected_size
    assert corner_colours(image) == list(corners)


def test_any_other_angle_expands_the_canvas_and_fills_the_corners() -> None:
    image = output_image(
        encoded(Image.new("RGB", (100, 100), RED)),
        operations=[{"op": "rotate", "angle": 45, "background": "#0000ffff"}],
        output={"format": "png"},
    )
    assert image.width > 140 and image.height > 140
    rgb = image.convert("RGB")
    assert close(rgb.getpixel((2, 2)), BLUE)
    assert close(rgb.getpixel((image.width // 2, image.height // 2)), RED)


def test_flip_mirrors_horizontally_and_vertically() -> None:
    data = encoded(quadrants())
    horizontal = output_image(data, operations=[{"op": "flip", "orientation": "horizontal"}])
    vertical = output_image(data, operations=[{"op": "flip", "orientation": "vertical"}])
    assert corner_colours(horizontal) == [GREEN, RED, WHITE, BLUE]
    assert corner_colours(vertical) == [BLUE, WHITE, RED, GREEN]


def test_crop_takes_the_asked_region_and_refuses_one_outside_the_image() -> None:
    image = output_image(
        encoded(quadrants()), operations=[{"op": "crop", "left": 100, "top": 50, "width": 60, "height": 40}]
    )
    assert image.size == (60, 40)
    assert image.convert("RGB").getpixel((30, 20)) == WHITE
    clipped = output_image(
        encoded(quadrants()), operations=[{"op": "crop", "left": 150, "top": 0, "width": 500, "height": 10}]
    )
    assert clipped.size == (50, 10)
    with pytest.raises(PermanentTaskError) as error:
        run(encoded(quadrants()), operations=[{"op": "crop", "left": 500, "top": 0, "width": 10, "height": 10}])
    assert error.value.code == "invalid_operation"


# ------------------------------------------------------------------ colour and filters
def test_grayscale_outputs_one_channel() -> None:
    image = output_image(image_bytes((120, 80)), operations=[{"op": "grayscale"}], output={"format": "jpeg"})
    assert image.mode == "L"


def test_blur_softens_and_sharpen_strengthens_an_edge() -> None:
    edge = Image.new("L", (100, 100), 0)
    edge.paste(255, (50, 0, 100, 100))
    data = encoded(edge)
    blurred = output_image(data, operations=[{"op": "blur", "radius": 4}], output={"format": "png"})
    assert 20 < blurred.getpixel((48, 50)) < 235  # type: ignore[operator]
    soft = encoded(output_image(data, operations=[{"op": "blur", "radius": 2}], output={"format": "png"}))
    before = Image.open(io.BytesIO(soft)).getpixel((47, 50))
    sharpened = output_image(
        soft, operations=[{"op": "sharpen", "radius": 2, "percent": 300}], output={"format": "png"}
    )
    assert sharpened.getpixel((47, 50)) < before  # type: ignore[operator]


def test_alpha_is_flattened_on_the_background_for_jpeg_and_kept_for_png_and_webp() -> None:
    transparent = Image.new("RGBA", (40, 40), (255, 0, 0, 0))
    transparent.paste((0, 0, 255, 255), (20, 0, 40, 40))
    data = encoded(transparent)
    jpeg = output_image(data, output={"format": "jpeg", "background": "#00ff00"})
    assert close(jpeg.getpixel((5, 20)), GREEN) and close(jpeg.getpixel((35, 20)), BLUE)
    png = output_image(data, output={"format": "png"})
    assert png.mode == "RGBA" and png.getpixel((5, 20))[3] == 0  # type: ignore[index]
    webp = output_image(data, output={"format": "webp", "lossless": True})
    assert webp.getpixel((5, 20))[3] == 0  # type: ignore[index]


def test_exif_orientation_is_applied_before_anything_else() -> None:
    stored = quadrants((200, 100))
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: show it rotated 90 degrees clockwise
    data = encoded(stored, "JPEG", exif=exif.tobytes(), quality=95)
    image = output_image(data, operations=[{"op": "resize", "width": 50}])
    assert image.size == (50, 100)
    assert [close(c, e, 40) for c, e in zip(corner_colours(image), (BLUE, RED, WHITE, GREEN), strict=True)] == [
        True
    ] * 4


def test_metadata_is_stripped_by_default_and_kept_on_request() -> None:
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    data = encoded(quadrants(), "JPEG", exif=exif.tobytes(), icc_profile=_srgb_profile())
    stripped = output_image(data, output={"format": "jpeg"})
    assert "exif" not in stripped.info and "icc_profile" not in stripped.info
    kept = output_image(data, output={"format": "jpeg", "strip_metadata": False})
    assert kept.getexif()[0x010F] == "CameraMaker"
    assert kept.info.get("icc_profile")


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()  # type: ignore[no-any-return]


def test_an_srgb_tagged_image_keeps_its_colours_when_the_profile_is_stripped() -> None:
    data = encoded(Image.new("RGB", (20, 20), (200, 30, 30)), "PNG", icc_profile=_srgb_profile())
    image = output_image(data, output={"format": "png"})
    assert "icc_profile" not in image.info
    assert close(image.getpixel((5, 5)), (200, 30, 30), 2)


def test_a_cmyk_jpeg_becomes_rgb_with_the_right_colours() -> None:
    data = encoded(Image.new("CMYK", (40, 40), (0, 255, 255, 0)), "JPEG", quality=95)
    for fmt in ("jpeg", "png", "webp"):
        image = output_image(data, output={"format": fmt})
        assert image.mode in ("RGB", "RGBA")
        assert close(image.convert("RGB").getpixel((20, 20)), RED, 24), fmt


# ------------------------------------------------------------------ formats
@pytest.mark.parametrize(("fmt", "pillow"), [("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WEBP"), ("gif", "GIF")])
def test_every_output_format(fmt: str, pillow: str) -> None:
    image = output_image(image_bytes((160, 120)), output={"format": fmt})
    assert image.format == pillow
    assert image.size == (160, 120)


def test_the_default_output_format_is_the_inputs_own() -> None:
    assert run(image_bytes((40, 30), fmt="PNG")).outputs[0].format == "png"
    assert run(image_bytes((40, 30), fmt="WEBP")).outputs[0].format == "webp"


def test_jpeg_is_progressive_and_quality_changes_size() -> None:
    data = image_bytes((400, 300))
    low, high = run(data, output={"format": "jpeg", "quality": 20}), run(data, output={"format": "jpeg", "quality": 95})
    assert len(low.outputs[0].data) < len(high.outputs[0].data)
    assert Image.open(io.BytesIO(high.outputs[0].data)).info.get("progressive") == 1


def test_lossless_webp_keeps_every_pixel() -> None:
    original = quadrants((64, 64))
    image = output_image(encoded(original), output={"format": "webp", "lossless": True})
    assert list(image.convert("RGB").get_flattened_data()) == list(original.get_flattened_data())


def test_gif_output_of_a_photo_keeps_its_colours_recognisable() -> None:
    image = output_image(encoded(quadrants((100, 100))), output={"format": "gif"}).convert("RGB")
    assert close(image.getpixel((10, 10)), RED) and close(image.getpixel((90, 90)), WHITE)


# ------------------------------------------------------------------ animation
def animated_gif(colours: list[tuple[int, int, int]], duration: int = 100, size: tuple[int, int] = (48, 32)) -> bytes:
    frames = [Image.new("RGB", size, colour) for colour in colours]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0)


def frames_of(data: bytes) -> list[tuple[tuple[int, ...], int]]:
    image = Image.open(io.BytesIO(data))
    return [
        (frame.convert("RGB").getpixel((1, 1)), frame.info.get("duration", 0))  # type: ignore[misc]
        for frame in ImageSequence.Iterator(image)
    ]


COLOURS = [RED, GREEN, BLUE, WHITE, BLACK]


def test_every_operation_works_on_every_frame_and_timing_is_kept() -> None:
    result = run(
        animated_gif(COLOURS), operations=[{"op": "resize", "width": 24}, {"op": "flip", "orientation": "vertical"}]
    )
    output = result.outputs[0]
    assert (output.format, output.width, output.height, output.frames) == ("gif", 24, 16, 5)
    shown = frames_of(output.data)
    assert [close(c, e) for (c, _), e in zip(shown, COLOURS, strict=True)] == [True] * 5
    assert [d for _, d in shown] == [100] * 5
    assert result.source.frames == 5


def test_animated_gif_to_animated_webp() -> None:
    output = run(animated_gif(COLOURS), output={"format": "webp"}).outputs[0]
    image = Image.open(io.BytesIO(output.data))
    assert (image.format, getattr(image, "n_frames", 1), output.frames) == ("WEBP", 5, 5)


def test_an_animation_to_jpeg_takes_the_first_frame() -> None:
    output = run(animated_gif(COLOURS), output={"format": "jpeg"}).outputs[0]
    assert output.frames == 1
    assert close(Image.open(io.BytesIO(output.data)).getpixel((5, 5)), RED)


@pytest.mark.parametrize(
    ("frames_op", "colours", "durations"),
    [
        ({"start": 0.1, "end": 0.3}, [GREEN, BLUE], [100, 100]),
        ({"speed": 2}, COLOURS, [50] * 5),
        ({"speed": 0.5, "end": 0.2}, [RED, GREEN], [200, 200]),
        ({"reverse": True}, COLOURS[::-1], [100] * 5),
        ({"boomerang": True}, [RED, GREEN, BLUE, WHITE, BLACK, WHITE, BLUE, GREEN], [100] * 8),
        ({"fps": 20, "end": 0.2}, [RED, GREEN], [100, 100]),  # repeated samples merge into one frame
        ({"fps": 20, "start": 0.05, "end": 0.2}, [RED, GREEN], [50, 100]),
        ({"fps": 5}, [RED, BLUE, BLACK], [200] * 3),
    ],
)
def test_frames_window_fps_speed_reverse_and_boomerang(
    frames_op: dict[str, Any], colours: list[tuple[int, int, int]], durations: list[int]
) -> None:
    output = run(animated_gif(COLOURS), operations=[{"op": "frames", **frames_op}]).outputs[0]
    shown = frames_of(output.data)
    assert [close(c, e) for (c, _), e in zip(shown, colours, strict=True)] == [True] * len(colours)
    assert len(shown) == len(colours)
    assert [d for _, d in shown] == durations


def test_frames_starting_after_the_end_is_a_clear_error() -> None:
    with pytest.raises(PermanentTaskError) as error:
        run(animated_gif(COLOURS), operations=[{"op": "frames", "start": 9}])
    assert error.value.code == "invalid_operation"
    assert "after the animation ends" in error.value.message


# ------------------------------------------------------------------ variants and presets
def test_variants_come_from_one_decode_in_the_order_asked() -> None:
    result = run(
        image_bytes((1600, 1200)),
        variants=[
            {"name": "small", "operations": [{"op": "resize", "width": 100}]},
            {"name": "large", "operations": [{"op": "resize", "width": 800}]},
            {
                "name": "square",
                "operations": [{"op": "resize", "width": 64, "height": 64, "fit": "cover"}],
                "output": {"format": "png"},
            },
            {"name": "medium", "operations": [{"op": "resize", "width": 400}, {"op": "grayscale"}]},
        ],
        output={"format": "webp"},
    )
    assert [(o.name, o.width, o.height, o.format) for o in result.outputs] == [
        ("small", 100, 75, "webp"),
        ("large", 800, 600, "webp"),
        ("square", 64, 64, "png"),
        ("medium", 400, 300, "webp"),
    ]
    medium = Image.open(io.BytesIO(result.outputs[3].data)).convert("RGB")  # WebP has no grey mode
    assert max(max(p) - min(p) for p in medium.get_flattened_data()) <= 4  # grey, up to lossy WebP's chroma noise


def test_shared_operations_run_before_each_variants_own() -> None:
    result = run(
        encoded(quadrants((200, 100))),
        operations=[{"op": "rotate", "angle": 90}],
        variants=[{"name": "a", "operations": [{"op": "resize", "height": 100}]}, {"name": "b"}],
        output={"format": "png"},
    )
    assert [(o.width, o.height) for o in result.outputs] == [(50, 100), (100, 200)]


def test_the_web_preset_fits_800x600_as_rgb_jpeg_85() -> None:
    result = render(image_bytes((4000, 3000)), presets()["web"], LIMITS)
    output = result.outputs[0]
    assert (output.format, output.width, output.height) == ("jpeg", 800, 600)
    assert Image.open(io.BytesIO(output.data)).mode == "RGB"
    assert (result.source.width, result.source.height) == (4000, 3000)


def test_the_thumbnails_preset_makes_1024_512_128_webp_on_the_long_side() -> None:
    result = render(image_bytes((3000, 2000)), presets()["thumbnails"], LIMITS)
    assert [(o.width, o.height, o.format) for o in result.outputs] == [
        (1024, 683, "webp"),
        (512, 341, "webp"),
        (128, 85, "webp"),
    ]


def test_a_portrait_draft_decode_gives_the_same_sizes_as_a_full_decode() -> None:
    exif = Image.Exif()
    exif[0x0112] = 8
    data = encoded(Image.open(io.BytesIO(image_bytes((3200, 2400)))), "JPEG", exif=exif.tobytes())
    result = render(data, presets()["web"], LIMITS)
    assert (result.outputs[0].width, result.outputs[0].height) == (450, 600)
    assert (result.source.width, result.source.height) == (2400, 3200)


def test_progress_is_reported_after_decode_and_after_each_variant() -> None:
    seen: list[int] = []
    render(image_bytes((800, 600)), presets()["thumbnails"], LIMITS, seen.append)
    assert seen == sorted(seen) and seen[0] == 30 and len(seen) == 4


# ------------------------------------------------------------------ limits and bad input
def test_a_decompression_bomb_fails_fast_before_decoding() -> None:
    bomb = encoded(Image.new("1", (20000, 20000)), "PNG")  # 400 MP in a few hundred KB
    assert len(bomb) < 200_000
    started = time.monotonic()
    with pytest.raises(PermanentTaskError) as error:
        run(bomb, operations=[{"op": "resize", "width": 10}])
    assert error.value.code == "image_too_large"
    assert time.monotonic() - started < 1.0


def test_too_many_frames_is_image_too_large() -> None:
    with pytest.raises(PermanentTaskError) as error:
        render(animated_gif(COLOURS), spec(), DecodeLimits(max_pixels=50_000_000, max_frames=3))
    assert error.value.code == "image_too_large"
    assert error.value.message == "the image has more than 3 frames; the limit is 3"


def test_a_truncated_image_is_invalid_image() -> None:
    data = image_bytes((400, 300))
    with pytest.raises(PermanentTaskError) as error:
        run(data[: len(data) // 3])
    assert error.value.code == "invalid_image"


@pytest.mark.parametrize("data", [b"", b"GIF89a garbage", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"hello world"])
def test_garbage_is_invalid_image(data: bytes) -> None:
    with pytest.raises(PermanentTaskError) as error:
        run(data)
    assert error.value.code == "invalid_image"


def test_an_unsupported_format_says_so() -> None:
    with pytest.raises(PermanentTaskError) as error:
        run(encoded(Image.new("RGB", (10, 10)), "PCX"))
    assert error.value.code == "unsupported_format"
    assert "JPEG, PNG" in error.value.message
