"""Overlays (watermarks) checked pixel by pixel: a logo where its placement says, at its scale and
opacity, tiled, on every frame; text in its colour, with its outline and box; and the limits."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pydantic import ValidationError

from imgtasks.domain.operations import OverlayOperation
from imgtasks.kinds.process import ProcessSpec
from imgtasks_imaging import DecodeLimits, render
from imgtasks_imaging.overlay import overlay

LIMITS = DecodeLimits(max_pixels=50_000_000, max_frames=100)


def logo_bytes() -> bytes:
    """A 100x50 logo: red on its left half, see-through on its right."""
    logo = Image.new("RGBA", (100, 50), (0, 0, 0, 0))
    logo.paste((255, 0, 0, 255), (0, 0, 50, 50))
    buffer = io.BytesIO()
    logo.save(buffer, "PNG")
    return buffer.getvalue()


def with_logo(**fields: object) -> OverlayOperation:
    op = OverlayOperation.model_validate({"op": "overlay", "file_id": "01LOGO", **fields})
    op.attach_logo(logo_bytes())
    return op


def colours_of(image: Image.Image) -> set[object]:
    return {colour for _, colour in image.getcolors(1 << 20) or []}


def grey(size: tuple[int, int] = (400, 300)) -> Image.Image:
    return Image.new("RGB", size, (40, 40, 40))


def test_a_logo_goes_where_its_placement_says_at_its_scale_with_its_transparency() -> None:
    out = overlay(grey(), with_logo(gravity="north-west", scale=0.25, margin=0))
    # 0.25 of 400 px: the logo is 100x50; its left half red, its right half shows the picture.
    assert out.getpixel((10, 10)) == (255, 0, 0)
    assert out.getpixel((49, 49)) == (255, 0, 0)
    assert out.getpixel((75, 25)) == (40, 40, 40)
    assert out.getpixel((10, 60)) == (40, 40, 40)
    corner = overlay(grey(), with_logo(gravity="south-east", scale=0.25, margin=0.05))
    # 5% of 300 px = 15 px from the bottom and right edges: the logo spans x 285-385, y 235-285.
    assert corner.getpixel((290, 240)) == (255, 0, 0) and corner.getpixel((290, 230)) == (40, 40, 40)
    assert corner.getpixel((280, 240)) == (40, 40, 40)
    moved = overlay(grey(), with_logo(gravity="north-west", scale=0.25, margin=0, offset_x=20, offset_y=30))
    assert moved.getpixel((15, 25)) == (40, 40, 40) and moved.getpixel((25, 35)) == (255, 0, 0)


def test_opacity_blends_and_tiling_covers_the_picture() -> None:
    half = overlay(grey(), with_logo(gravity="north-west", scale=0.25, margin=0, opacity=0.5))
    red, green, blue = half.getpixel((10, 10))  # type: ignore[misc]
    assert abs(red - (255 + 40) / 2) <= 1 and abs(green - 20) <= 1 and abs(blue - 20) <= 1
    tiled = overlay(grey(), with_logo(scale=0.1, margin=0.02, tile=True))
    # 40x20 logos every 46 x 26 px from 6 px in: red at the start of every tile, grey between.
    reds = sum(tiled.getpixel((6 + 46 * i + 5, 6 + 26 * j + 5)) == (255, 0, 0) for i in range(8) for j in range(11))
    assert reds == 8 * 11


def test_text_is_drawn_in_its_colour_with_its_outline_and_box() -> None:
    op = OverlayOperation(op="overlay", text="© imgtasks", color="#00ff00", font_size=0.1, gravity="center")
    out = overlay(grey(), op)
    colours = colours_of(out.crop((100, 120, 300, 180)))
    assert (0, 255, 0) in colours and (40, 40, 40) in colours
    assert out.crop((0, 0, 100, 100)).getcolors() == [(10_000, (40, 40, 40))]  # nothing outside the text
    boxed = overlay(grey(), op.model_copy(update={"background": "#ffffff", "stroke_width": 0.1}))
    colours = colours_of(boxed)
    assert {(255, 255, 255), (0, 0, 0), (0, 255, 0)} <= colours  # box, outline, letters


def test_an_overlay_goes_on_every_frame_of_an_animation_and_keeps_transparency() -> None:
    frames = [Image.new("RGBA", (200, 100), (0, 0, 255 - 20 * index, 255)) for index in range(3)]
    frames[0].putpixel((199, 99), (0, 0, 0, 0))
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:], duration=100)
    spec = ProcessSpec.model_validate(
        {"operations": [{"op": "overlay", "file_id": "01LOGO", "gravity": "north-west", "margin": 0}]}
        | {"output": {"format": "apng"}}
    )
    spec.overlays()[0].attach_logo(logo_bytes())
    (output,) = render(buffer.getvalue(), spec, LIMITS).outputs
    written = Image.open(io.BytesIO(output.data))
    assert output.frames == 3
    for index in range(3):
        written.seek(index)
        frame = written.convert("RGBA")
        assert frame.getpixel((5, 5)) == (255, 0, 0, 255) and frame.getpixel((150, 50)) == (0, 0, 255 - 20 * index, 255)


def test_an_overlay_needs_a_logo_or_text_and_text_has_a_limit() -> None:
    for fields in ({}, {"file_id": "01A", "text": "both"}, {"text": "x" * 201}, {"text": "x", "opacity": 0}):
        with pytest.raises(ValidationError):
            OverlayOperation.model_validate({"op": "overlay", **fields})
