"""Geometry and filters on one frame. Every function takes and returns a Pillow image."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PIL import Image, ImageFilter

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.operations import (
    BlurOperation,
    CropOperation,
    FlipOperation,
    Focus,
    FramesOperation,
    GrayscaleOperation,
    Operation,
    OverlayOperation,
    ResizeOperation,
    RotateOperation,
    SharpenOperation,
)

from .modes import color, filterable, has_alpha
from .overlay import overlay
from .smartcrop import window

# Downscaling: an integer box reduce while the image is at least twice the target (or DCT scaling
# in the JPEG decoder before that), then one antialiased bilinear (triangle) step of less than 2x.
# bench/engine.py prints its PSNR against a full-size LANCZOS reference: within 0.3 dB, under
# JPEG q85's own noise, for a third of LANCZOS's time.
DOWNSCALE = Image.Resampling.BILINEAR
REDUCING_GAP = 1.0
# Enlarging has no noise to hide behind: the sharper filter.
UPSCALE = Image.Resampling.LANCZOS


def resize_box(width: int, height: int, op: ResizeOperation) -> tuple[int, int]:
    """The size the image is scaled to before a cover crop or a contain pad."""
    if op.fit == "fill" and op.width is not None and op.height is not None:
        if op.upscale:
            return op.width, op.height
        return min(op.width, width), min(op.height, height)
    scales = []
    if op.width is not None:
        scales.append(op.width / width)
    if op.height is not None:
        scales.append(op.height / height)
    scale = max(scales) if op.fit == "cover" else min(scales)
    if not op.upscale:
        scale = min(scale, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def output_size(width: int, height: int, op: ResizeOperation) -> tuple[int, int]:
    """The size a resize produces (after a cover crop or a contain pad)."""
    box = resize_box(width, height, op)
    if op.fit == "cover" and op.width and op.height:
        return min(op.width, box[0]), min(op.height, box[1])
    if op.fit == "contain" and op.width and op.height:
        return op.width, op.height
    return box


def scale_to(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    if image.mode == "P":
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    if size[0] <= image.width and size[1] <= image.height:
        return image.resize(size, DOWNSCALE, reducing_gap=REDUCING_GAP)
    return image.resize(size, UPSCALE)


class SameWindow:
    """Places the crop windows of one animation's or one video's frames: every frame takes the
    window the first frame got. Picked frame by frame, an `entropy` or `attention` window would
    jump about with the picture (compass points and focus give every frame the same one anyway)."""

    def __init__(self) -> None:
        self.origin: tuple[int, int] | None = None

    def __call__(
        self, image: Image.Image, width: int, height: int, gravity: str, focus: Focus | None
    ) -> tuple[int, int]:
        if self.origin is None:
            self.origin = window(image, width, height, gravity, focus)
        return self.origin


# Where a crop window goes: smartcrop.window, or one SameWindow for the frames of a sequence.
Place = Callable[[Image.Image, int, int, str, Focus | None], tuple[int, int]]


def resize(
    image: Image.Image, op: ResizeOperation, box: tuple[int, int] | None = None, place: Place = window
) -> Image.Image:
    """`box` overrides the computed scale size: variants made from a larger variant pass the size
    computed from the source, so a cascade gives exactly the sizes a fresh resize would. `place`
    puts a cover crop's window (see SameWindow)."""
    image = scale_to(image, box or resize_box(image.width, image.height, op))
    if op.fit == "cover" and op.width and op.height:
        crop_w, crop_h = min(op.width, image.width), min(op.height, image.height)
        left, top = place(image, crop_w, crop_h, op.gravity, op.focus)
        image = image.crop((left, top, left + crop_w, top + crop_h))
    elif op.fit == "contain" and op.width and op.height and image.size != (op.width, op.height):
        canvas = Image.new("RGBA", (op.width, op.height), color(op.background))
        canvas.paste(image.convert("RGBA"), ((op.width - image.width) // 2, (op.height - image.height) // 2))
        image = canvas
    return image


_QUARTER_TURNS = {
    90.0: Image.Transpose.ROTATE_270,  # Pillow's ROTATE_n turns counter-clockwise
    180.0: Image.Transpose.ROTATE_180,
    270.0: Image.Transpose.ROTATE_90,
}


def rotate(image: Image.Image, op: RotateOperation) -> Image.Image:
    degrees = op.clockwise_degrees
    if degrees == 0.0:
        return image
    if degrees in _QUARTER_TURNS:
        return image.transpose(_QUARTER_TURNS[degrees])
    fill = color(op.background)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    if fill[3] < 255 and image.mode in ("RGB", "L"):
        image = image.convert("RGBA" if image.mode == "RGB" else "LA")  # the corners are see-through
    grey = round(0.299 * fill[0] + 0.587 * fill[1] + 0.114 * fill[2])
    by_mode: dict[str, tuple[int, ...] | int] = {"RGBA": fill, "RGB": fill[:3], "LA": (grey, fill[3]), "L": grey}
    fillcolor = by_mode[image.mode]
    return image.rotate(-degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fillcolor)


def crop(image: Image.Image, op: CropOperation, place: Place = window) -> Image.Image:
    if op.left is None or op.top is None:
        width, height = min(op.width, image.width), min(op.height, image.height)
        left, top = place(image, width, height, op.gravity, op.focus)
        return image.crop((left, top, left + width, top + height))
    if op.left >= image.width or op.top >= image.height:
        raise PermanentTaskError(
            ErrorCode.INVALID_OPERATION,
            f"crop starts at ({op.left}, {op.top}), outside the {image.width}x{image.height} image",
        )
    right, bottom = min(op.left + op.width, image.width), min(op.top + op.height, image.height)
    return image.crop((op.left, op.top, right, bottom))


def grayscale(image: Image.Image) -> Image.Image:
    return image.convert("LA" if has_alpha(image) else "L")


class FrameByFrame:
    """Operations applied to a video's frames as they are decoded, one frame at a time, each crop
    with the window the first frame got."""

    def __init__(self, operations: list[Operation]) -> None:
        self.steps = [(op, SameWindow()) for op in operations]

    def __call__(self, image: Image.Image) -> Image.Image:
        for op, place in self.steps:
            image = apply(image, op, place)
        return image


def flip(image: Image.Image, op: FlipOperation) -> Image.Image:
    horizontal = op.orientation == "horizontal"
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT if horizontal else Image.Transpose.FLIP_TOP_BOTTOM)


def blur(image: Image.Image, op: BlurOperation) -> Image.Image:
    return filterable(image).filter(ImageFilter.GaussianBlur(op.radius))


def sharpen(image: Image.Image, op: SharpenOperation) -> Image.Image:
    return filterable(image).filter(ImageFilter.UnsharpMask(op.radius, op.percent, op.threshold))


FrameOperation = Callable[[Image.Image, Any, Place], Image.Image]

# One implementation per operation of the catalogue (imgtasks.domain.operations) that works on a
# frame; `frames` works on the sequence (animation.retime). A test checks that every member of
# the catalogue is in one of the two.
FRAME_OPERATIONS: dict[type[Any], FrameOperation] = {
    ResizeOperation: lambda image, op, place: resize(image, op, place=place),
    RotateOperation: lambda image, op, _: rotate(image, op),
    FlipOperation: lambda image, op, _: flip(image, op),
    CropOperation: lambda image, op, place: crop(image, op, place),
    GrayscaleOperation: lambda image, _, __: grayscale(image),
    BlurOperation: lambda image, op, _: blur(image, op),
    SharpenOperation: lambda image, op, _: sharpen(image, op),
    OverlayOperation: lambda image, op, _: overlay(image, op),
}
SEQUENCE_OPERATIONS = frozenset({FramesOperation})


def apply(image: Image.Image, op: Operation, place: Place = window) -> Image.Image:
    """One operation on one frame (`frames` works on the sequence: animation.retime). `place`
    puts a crop's window (see SameWindow)."""
    if type(op) in SEQUENCE_OPERATIONS:
        raise TypeError(f"{op.op} works on a sequence of frames, not on one")
    return FRAME_OPERATIONS[type(op)](image, op, place)
