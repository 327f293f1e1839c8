"""Decoding within limits. The header is checked before any pixel is decoded, JPEGs are decoded
at the smallest DCT scale that still covers every output, and the EXIF orientation is applied
first, so every later step sees the picture the way it was meant to be seen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageOps

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.inspection import SUPPORTED_FORMATS, open_image

from .frames import Frames

# Pixels summed over all frames that one animation may decode to (about 400 MB as RGBA).
MAX_ANIMATION_PIXELS = 100_000_000
_ORIENTATION = 0x0112
_TRANSPOSED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class Header:
    format: str
    width: int
    height: int
    frames: int
    orientation: int

    @property
    def oriented_size(self) -> tuple[int, int]:
        return (self.height, self.width) if self.orientation in _TRANSPOSED else (self.width, self.height)


@dataclass(frozen=True)
class Decoded:
    header: Header
    frames: Frames
    icc_profile: bytes | None
    exif: bytes | None


def _open(data: bytes) -> Image.Image:
    try:
        opened: Image.Image = open_image(data)  # our pixel limit, not Pillow's
        return opened
    except Exception as error:  # Pillow raises many kinds for input it cannot read
        raise PermanentTaskError(
            ErrorCode.INVALID_IMAGE,
            "the file is not an image this service can read (JPEG, PNG, WebP, GIF, AVIF or HEIC)",
        ) from error


def read_header(image: Image.Image, max_pixels: int, max_frames: int) -> Header:
    if image.format not in SUPPORTED_FORMATS:
        raise PermanentTaskError(ErrorCode.UNSUPPORTED_FORMAT, f"{image.format or 'this'} images are not supported")
    width, height = image.size
    if width * height > max_pixels:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"the image is {width}x{height} ({width * height} pixels); the limit is {max_pixels}",
        )
    try:
        frames = int(getattr(image, "n_frames", 1))
        orientation = int(image.getexif().get(_ORIENTATION, 1)) if frames == 1 else 1
    except Exception as error:
        raise PermanentTaskError(ErrorCode.INVALID_IMAGE, "the image's header is corrupt") from error
    if frames > max_frames:
        raise PermanentTaskError(ErrorCode.IMAGE_TOO_LARGE, f"the image has {frames} frames; the limit is {max_frames}")
    if frames > 1 and width * height * frames > MAX_ANIMATION_PIXELS:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"the animation is {frames} frames of {width}x{height}; at most {MAX_ANIMATION_PIXELS} pixels in all",
        )
    return Header(SUPPORTED_FORMATS[image.format], width, height, frames, orientation)


def decode(
    data: bytes,
    *,
    max_pixels: int,
    max_frames: int,
    needed: Callable[[tuple[int, int]], tuple[int, int] | None] = lambda _: None,
) -> Decoded:
    """`needed` maps the upright size to the smallest upright size that still covers every
    output, or None when the full resolution is needed."""
    image = _open(data)
    header = read_header(image, max_pixels, max_frames)
    smallest_needed = needed(header.oriented_size)
    icc_profile = image.info.get("icc_profile")
    try:
        if header.frames == 1:
            frames = Frames([_decode_still(image, header, smallest_needed)])
        else:
            frames = _decode_animation(image)
    except PermanentTaskError:
        raise
    except Exception as error:
        raise PermanentTaskError(
            ErrorCode.INVALID_IMAGE, "the image is truncated or corrupt and cannot be decoded"
        ) from error
    exif = frames.first.info.get("exif")
    return Decoded(header, frames, icc_profile, exif if isinstance(exif, bytes) else None)


def _decode_still(image: Image.Image, header: Header, smallest_needed: tuple[int, int] | None) -> Image.Image:
    if image.format == "JPEG" and smallest_needed is not None:
        width, height = smallest_needed
        request = (height, width) if header.orientation in _TRANSPOSED else (width, height)
        # DCT scaling: decode at 1/2, 1/4 or 1/8 while staying at least `request` in both sides.
        image.draft("RGB" if image.mode not in ("L", "CMYK") else image.mode, request)
    image.load()
    if header.orientation == 1:
        return image  # exif_transpose would copy the whole image to change nothing
    upright = ImageOps.exif_transpose(image)
    return upright if upright is not None else image


def _decode_animation(image: Image.Image) -> Frames:
    images, durations = [], []
    for index in range(int(getattr(image, "n_frames", 1))):
        image.seek(index)
        durations.append(int(image.info.get("duration", 0) or 0))
        # Each frame as a full RGBA canvas: the codec has already applied disposal and blending.
        images.append(image.convert("RGBA"))
    return Frames(images, durations, loop=int(image.info.get("loop", 0) or 0))
