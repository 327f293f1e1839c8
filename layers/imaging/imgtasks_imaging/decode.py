"""Decoding within limits. The file is measured before any pixel is decoded (every frame's extent,
every page's size: imgtasks.domain.inspection.measure), with Pillow's own guard on at the same
limit for what it learns while decoding; JPEGs are decoded at the smallest DCT scale that still
covers every output; only the first frame is decoded unless an output keeps them all; the EXIF
orientation is applied first, and every frame is brought to 8 bits per channel (modes.eight_bit),
so every later step sees the picture the way it was meant to be seen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageOps

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.formats import IMAGE_FORMATS
from imgtasks.domain.inspection import (
    TRANSPOSING_ORIENTATIONS,
    exif_orientation,
    measure,
    metadata_too_large,
    open_image,
    too_large,
)
from imgtasks.domain.limits import MAX_ANIMATION_PIXELS

from .frames import Frames
from .modes import eight_bit, signed_as_unsigned, to_srgb

# How long each page of a paged file (TIFF) shows when its pages become an animation's frames.
PAGE_DURATION_MS = 1000


@dataclass(frozen=True)
class Header:
    format: str
    width: int
    height: int
    frames: int
    orientation: int

    @property
    def oriented_size(self) -> tuple[int, int]:
        return (self.height, self.width) if self.orientation in TRANSPOSING_ORIENTATIONS else (self.width, self.height)


@dataclass(frozen=True)
class Decoded:
    header: Header
    frames: Frames
    icc_profile: bytes | None
    exif: bytes | None


def _invalid(message: str) -> PermanentTaskError:
    return PermanentTaskError(ErrorCode.INVALID_IMAGE, message)


def decode(
    data: bytes,
    *,
    max_pixels: int,
    max_frames: int,
    needed: Callable[[tuple[int, int]], tuple[int, int] | None] = lambda _: None,
    every_frame: Callable[[str], bool] = lambda _: True,
) -> Decoded:
    """`needed` maps the upright size to the smallest upright size that still covers every
    output, or None when the full resolution is needed; `every_frame` says, from the source's
    format, whether an output keeps an animation's frames (or a TIFF's pages), so that they are
    decoded at all. Every failure is a PermanentTaskError: whatever the bytes make a decoder raise
    is the file's fault, and no retry can change it."""
    try:
        return _decode(data, max_pixels, max_frames, needed, every_frame)
    except PermanentTaskError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError) as error:
        raise too_large(error, max_pixels) from error
    except Exception as error:  # what a decoder raises for bytes it cannot read
        raise metadata_too_large(error) or _invalid(
            "the image is truncated or corrupt and cannot be decoded"
        ) from error


def _decode(
    data: bytes,
    max_pixels: int,
    max_frames: int,
    needed: Callable[[tuple[int, int]], tuple[int, int] | None],
    every_frame: Callable[[str], bool],
) -> Decoded:
    image = open_image(data, max_pixels)
    header = _read_header(image, data, max_pixels, max_frames)
    icc_profile = image.info.get("icc_profile")
    if header.frames > 1 and every_frame(header.format):
        frames = _decode_every_frame(image, header)
    else:
        frames = Frames([_decode_still(image, header, needed(header.oriented_size))])
    exif = frames.first.info.get("exif")
    if frames.first.mode == "CMYK":
        # Print colours become sRGB once, with their profile, and the profile is spent: every
        # operation and writer after this sees RGB.
        frames = frames.map(lambda cmyk: to_srgb(cmyk, icc_profile))
        icc_profile = None
    return Decoded(header, frames, icc_profile, exif if isinstance(exif, bytes) else None)


def _read_header(image: Image.Image, data: bytes, max_pixels: int, max_frames: int) -> Header:
    info = measure(image, data, max_pixels=max_pixels, max_frames=max_frames)
    still = info.frames == 1 or info.image_format.paged
    if still and image.format == "PNG":
        _load(image)  # a PNG's EXIF may follow its pixels: Pillow decodes them to find it
    orientation = exif_orientation(image) if still else 1
    return Header(info.format, info.width, info.height, info.frames, orientation if orientation in range(1, 9) else 1)


def _decode_still(image: Image.Image, header: Header, smallest_needed: tuple[int, int] | None) -> Image.Image:
    if image.format in ("JPEG", "MPO") and smallest_needed is not None:
        width, height = smallest_needed
        request = (height, width) if header.orientation in TRANSPOSING_ORIENTATIONS else (width, height)
        # DCT scaling: decode at 1/2, 1/4 or 1/8 while staying at least `request` in both sides.
        image.draft("RGB" if image.mode not in ("L", "CMYK") else image.mode, request)
    _load(image)
    image = signed_as_unsigned(image)
    if header.orientation != 1:  # exif_transpose would copy the whole image to change nothing
        image = ImageOps.exif_transpose(image) or image
    return eight_bit(image)


def _load(image: Image.Image) -> None:
    """The pixels, decoded. Pillow reads a PNG's chunks that follow its pixels after decoding them
    all: a PNG damaged or cut there has every pixel, and is read as pyvips and browsers read it.
    A file whose pixels do not all decode is refused (no grey band made up)."""
    try:
        image.load()
    except (OSError, SyntaxError, EOFError) as error:
        # Pillow clears `tile` before reading the later chunks, and says "... when reading image
        # file" when the decoder itself failed, which it reports after clearing `tile` too.
        pixels_decoded = not getattr(image, "tile", None) and image.im is not None
        if image.format != "PNG" or not pixels_decoded or str(error).endswith("when reading image file"):
            raise


def _decode_every_frame(image: Image.Image, header: Header) -> Frames:
    """Each frame as a full RGBA canvas of the header's size (the codec has applied disposal and
    blending); a paged file's pages, each fitted into the first page's size."""
    paged = IMAGE_FORMATS[header.format].paged
    if paged and header.width * header.height * header.frames > MAX_ANIMATION_PIXELS:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"{header.frames} pages of {header.width}x{header.height} as frames are more than "
            f"{MAX_ANIMATION_PIXELS} pixels in all; ask for a still format (the first page)",
        )
    canvas_size = (header.width, header.height)
    images, durations = [], []
    for index in range(header.frames):
        try:
            image.seek(index)
            frame = eight_bit(signed_as_unsigned(image)).convert("RGBA")
        except (OSError, SyntaxError, EOFError, ValueError) as error:
            raise _invalid(
                f"frame {index + 1} of {header.frames} cannot be decoded (the animation is damaged); "
                "a still output reads the first frame"
            ) from error
        if frame.size != canvas_size:
            frame = _on_canvas(frame, canvas_size, fit=paged)
        images.append(frame)
        durations.append(PAGE_DURATION_MS if paged else int(image.info.get("duration", 0) or 0))
    return Frames(images, durations, loop=int(image.info.get("loop", 0) or 0))


def _on_canvas(frame: Image.Image, size: tuple[int, int], *, fit: bool) -> Image.Image:
    """A frame on a transparent canvas of the animation's size: where it was drawn (a GIF frame
    drawn before a later one grew the canvas), or a page fitted and centred."""
    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    if fit:
        fitted = ImageOps.contain(frame, size)
        canvas.paste(fitted, ((size[0] - fitted.width) // 2, (size[1] - fitted.height) // 2))
    else:
        canvas.paste(frame.crop((0, 0, *size)), (0, 0))
    return canvas
