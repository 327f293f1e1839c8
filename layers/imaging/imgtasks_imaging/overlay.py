"""Watermarks: a logo (another image file of the task's owner, attached to the operation by the
worker) or a line of text, composited over a frame. Text is set in Pillow's built-in FreeType font
(Aileron Regular, CC0, inside Pillow's wheel: nothing to ship or fetch)."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.operations import OverlayOperation

from .modes import color, has_alpha
from .smartcrop import COMPASS

# A logo larger than this is refused before its pixels are decoded.
MAX_LOGO_PIXELS = 16_000_000


@lru_cache(maxsize=8)
def _logo(data: bytes) -> Image.Image:
    """The logo's first frame in RGBA, decoded once for all the frames it goes on."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_LOGO_PIXELS:
                raise PermanentTaskError(
                    ErrorCode.IMAGE_TOO_LARGE,
                    f"the overlay is {opened.width}x{opened.height}; at most {MAX_LOGO_PIXELS} pixels",
                )
            return opened.convert("RGBA")
    except PermanentTaskError:
        raise
    except Exception as error:  # whatever a decoder raises for bytes it cannot read
        raise PermanentTaskError(
            ErrorCode.INVALID_IMAGE, "the overlay file is not an image that can be read"
        ) from error


@lru_cache(maxsize=8)
def _logo_at(data: bytes, width: int) -> Image.Image:
    logo = _logo(data)
    height = max(1, round(logo.height * width / logo.width))
    return logo.resize((width, height), Image.Resampling.LANCZOS)


def _text_stamp(op: OverlayOperation, size: tuple[int, int]) -> Image.Image:
    text = op.text or ""
    pixels = max(6, round(op.font_size * min(size)))
    font = ImageFont.load_default(size=pixels)
    stroke = round(op.stroke_width * pixels)
    padding = round(op.padding * pixels) if op.background else 0
    measure = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    left, top, right, bottom = (
        round(edge) for edge in measure.multiline_textbbox((0, 0), text, font=font, stroke_width=stroke)
    )
    box = (right - left + 2 * padding, bottom - top + 2 * padding)
    stamp = Image.new("RGBA", box, color(op.background) if op.background else (0, 0, 0, 0))
    ImageDraw.Draw(stamp).multiline_text(
        (padding - left, padding - top),
        text,
        font=font,
        fill=color(op.color),
        stroke_width=stroke,
        stroke_fill=color(op.stroke_color),
    )
    return stamp


def _stamp(op: OverlayOperation, size: tuple[int, int]) -> Image.Image:
    if op.text is not None:
        stamp = _text_stamp(op, size)
    elif op.logo is not None:
        stamp = _logo_at(op.logo, max(1, round(op.scale * size[0])))
    else:  # the worker attaches every logo before rendering: a missing one is a bug
        raise RuntimeError(f"the overlay's file {op.file_id} was not attached")
    if op.opacity < 1:
        alpha = stamp.getchannel("A").point(lambda value: round(value * op.opacity))
        stamp = stamp.copy()
        stamp.putalpha(alpha)
    return stamp


def overlay(image: Image.Image, op: OverlayOperation) -> Image.Image:
    """The frame with the logo or text over it, in the frame's own mode family (RGBA if it had
    transparency, else RGB)."""
    base = image.convert("RGBA")
    stamp = _stamp(op, base.size)
    margin = round(op.margin * min(base.size))
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    if op.tile:
        step_x, step_y = stamp.width + max(margin, 1), stamp.height + max(margin, 1)
        for top in range(margin, base.height, step_y):
            for left in range(margin, base.width, step_x):
                layer.paste(stamp, (left, top))
    else:
        share_x, share_y = COMPASS[op.gravity]  # as a compass gravity places a crop's window
        left = margin + round((base.width - stamp.width - 2 * margin) * share_x) + op.offset_x
        top = margin + round((base.height - stamp.height - 2 * margin) * share_y) + op.offset_y
        layer.paste(stamp, (left, top))
    combined = Image.alpha_composite(base, layer)
    return combined if has_alpha(image) else combined.convert("RGB")
