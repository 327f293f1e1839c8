"""Reading a file's header, within limits, without decoding it: an image's format, size and frame
count, or a video's (imgtasks.domain.video_inspection)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from types import ModuleType
from typing import Any, BinaryIO

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.limits import Limits
from imgtasks.domain.records import VideoInfo
from imgtasks.domain.video_inspection import (
    SNIFF_BYTES,
    VIDEO_CONTENT_TYPES,
    VIDEO_FAMILIES,
    inspect_video,
    sniff_container,
)

# Format names as the API shows them, by Pillow's name.
SUPPORTED_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "AVIF": "avif", "HEIF": "heic"}
IMAGE_CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
    "heic": "image/heic",
}
# HEIC is read, never written (no HEVC encoder is shipped: x265 is GPL, and HEVC needs patent
# licences): a task on a HEIC file writes JPEG unless it names another format.
INPUT_ONLY_FORMATS = {"heic": "jpeg"}
# Every format a file of ours can be, input or output, with its content type and extension.
CONTENT_TYPES = {**IMAGE_CONTENT_TYPES, **VIDEO_CONTENT_TYPES}
EXTENSIONS = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "gif": "gif",
    "avif": "avif",
    "heic": "heic",
    **{name: name for name in VIDEO_CONTENT_TYPES},
}
# Archives (an archive task's output) are files of ours too, though never an input.
CONTENT_TYPES["zip"] = "application/zip"
EXTENSIONS["zip"] = "zip"
# What an upload may announce (a HEIC file is often announced as image/heif).
ANNOUNCED_ALIASES = {"image/heif": "image/heic"}
ACCEPTED_CONTENT_TYPES = (
    frozenset(IMAGE_CONTENT_TYPES.values()) | frozenset(VIDEO_FAMILIES) | frozenset(ANNOUNCED_ALIASES)
)


def announces_video(content_type: str) -> bool:
    return content_type in VIDEO_FAMILIES


def pillow() -> ModuleType:
    """PIL.Image, imported on first use (the API needs it only for uploads, not at cold start),
    with Pillow's global pixel limit off: ours replaces it, and Pillow's only warns below twice
    its value."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    return Image


_heif_registered = False


def register_heif() -> bool:
    """HEIC/HEIF (iPhone photos) through pillow-heif's libheif and libde265 decoder. libheif applies
    the file's rotation and mirroring and resets the EXIF orientation, so it is not applied twice.
    True when this call registered it (it loads about 15 MB of libraries: some 20 ms)."""
    global _heif_registered
    if _heif_registered:
        return False
    from pillow_heif import register_heif_opener

    register_heif_opener(thumbnails=False)
    _heif_registered = True
    return True


def open_image(data: bytes) -> Any:
    """Pillow's image of the bytes. HEIF's decoder is loaded only for bytes Pillow does not know
    itself, so a container that never sees a HEIC never pays for it."""
    image_module = pillow()
    try:
        return image_module.open(io.BytesIO(data))
    except image_module.UnidentifiedImageError:
        if not register_heif():
            raise
        return image_module.open(io.BytesIO(data))


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
    try:
        with open_image(data) as image:
            pillow_format = image.format or ""
            if pillow_format not in SUPPORTED_FORMATS:
                raise PermanentTaskError(
                    ErrorCode.UNSUPPORTED_FORMAT,
                    f"{pillow_format or 'this'} images are not supported; send JPEG, PNG, WebP, GIF, AVIF or HEIC",
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
            ErrorCode.INVALID_IMAGE,
            "the file is not an image or video this service can read "
            "(JPEG, PNG, WebP, GIF, AVIF, HEIC; MP4, MOV, WebM, MKV, AVI)",
        ) from error
    if frames > max_frames:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE, f"the image has {frames} frames; the limit is {max_frames} frames"
        )
    return ImageInfo(format=SUPPORTED_FORMATS[pillow_format], width=width, height=height, frames=frames)


@dataclass(frozen=True)
class Inspected:
    """What inspection found: an image, or a video (with `video` set)."""

    format: str
    width: int
    height: int
    frames: int
    video: VideoInfo | None = None

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    def matches(self, announced: str) -> bool:
        """Whether the bytes are what the upload announced (a video: the same container family)."""
        if self.video is not None:
            return self.format in VIDEO_FAMILIES.get(announced, set())
        return self.content_type == ANNOUNCED_ALIASES.get(announced, announced)


def inspect_file(source: BinaryIO, limits: Limits, *, announced: str | None = None) -> Inspected:
    """An image or a video, told apart by its first bytes. A file announced as a video that does
    not start like one is refused before anything else is read (it may be 500 MB)."""
    head = source.read(SNIFF_BYTES)
    source.seek(0)
    if sniff_container(head) is not None:
        video = inspect_video(source, max_pixels=limits.max_pixels, limits=limits.video)
        return Inspected(video.info.container, video.width, video.height, video.frames, video.info)
    if announced is not None and announces_video(announced):
        raise PermanentTaskError(
            ErrorCode.INVALID_VIDEO, "the file is not a video this service reads (MP4, MOV, WebM, MKV or AVI)"
        )
    image = inspect_image(source.read(), max_pixels=limits.max_pixels, max_frames=limits.max_frames)
    return Inspected(image.format, image.width, image.height, image.frames)
