"""Reading an image's header: format, size and frame count, within limits, without decoding it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from types import ModuleType

from imgtasks.domain.errors import ErrorCode, PermanentTaskError

# Format names as the API shows them, by Pillow's name.
SUPPORTED_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif"}


def pillow() -> ModuleType:
    """PIL.Image, imported on first use (the API needs it only for uploads, not at cold start),
    with Pillow's global pixel limit off: ours replaces it, and Pillow's only warns below twice
    its value."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    return Image


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    frames: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def inspect_image(data: bytes, *, max_pixels: int, max_frames: int) -> ImageInfo:
    """Raises PermanentTaskError with code `invalid_image`, `unsupported_format` or
    `image_too_large`, each with a sentence a person can act on."""
    if not data:
        raise PermanentTaskError(ErrorCode.INVALID_IMAGE, "the file is empty")
    image_module = pillow()
    try:
        with image_module.open(io.BytesIO(data)) as image:
            pillow_format = image.format or ""
            if pillow_format not in SUPPORTED_FORMATS:
                raise PermanentTaskError(
                    ErrorCode.UNSUPPORTED_FORMAT,
                    f"{pillow_format or 'this'} images are not supported; send JPEG, PNG, WebP or GIF",
                )
            width, height = image.size
            if width * height > max_pixels:
                raise PermanentTaskError(
                    ErrorCode.IMAGE_TOO_LARGE,
                    f"the image is {width}x{height} ({width * height} pixels); the limit is {max_pixels} pixels",
                )
            frames = int(getattr(image, "n_frames", 1))
    except PermanentTaskError:
        raise
    # UnidentifiedImageError is an OSError.
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise PermanentTaskError(
            ErrorCode.INVALID_IMAGE, "the file is not an image this service can read (JPEG, PNG, WebP or GIF)"
        ) from error
    if frames > max_frames:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE, f"the image has {frames} frames; the limit is {max_frames} frames"
        )
    return ImageInfo(format=SUPPORTED_FORMATS[pillow_format], width=width, height=height, frames=frames)
