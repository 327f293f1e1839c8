"""The image formats the service reads and writes, one row each: the names Pillow gives it, its
content type and extension, whether a task can write it, and whether its writer keeps every frame
of an animation. Inspection, the encoders, the API's accepted content types and the contract read
this table; tests check the output enum, the encoders, the CLI and the web app against it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFormat:
    name: str  # as the API shows it
    label: str  # as a sentence names it
    content_type: str
    extension: str
    # Pillow's format names for files of this format (an animated PNG is told apart by its frames).
    pillow_names: tuple[str, ...]
    # Other content types an upload of this format may announce.
    announced_as: tuple[str, ...] = ()
    # An output format; an input-only format's tasks write `written_as` unless they name one.
    writes: bool = True
    written_as: str | None = None
    # Its writer keeps every frame of an animation (the others write the first frame).
    keeps_frames: bool = False
    # Pages rather than frames: the first page unless the output is an animation.
    paged: bool = False


IMAGE_FORMATS: dict[str, ImageFormat] = {
    image_format.name: image_format
    for image_format in (
        # MPO (what many cameras write as .jpg) is a JPEG with more images after it: its first is read.
        ImageFormat("jpeg", "JPEG", "image/jpeg", "jpg", ("JPEG", "MPO"), announced_as=("image/pjpeg", "image/mpo")),
        ImageFormat("png", "PNG", "image/png", "png", ("PNG",), announced_as=("image/apng",)),
        ImageFormat(
            "apng",
            "APNG",
            "image/apng",
            "png",
            ("PNG",),
            announced_as=("image/png", "image/vnd.mozilla.apng"),
            keeps_frames=True,
        ),
        ImageFormat("webp", "WebP", "image/webp", "webp", ("WEBP",), keeps_frames=True),
        ImageFormat("gif", "GIF", "image/gif", "gif", ("GIF",), keeps_frames=True),
        ImageFormat("avif", "AVIF", "image/avif", "avif", ("AVIF",)),
        # HEIC is read, never written (no HEVC encoder is shipped: x265 is GPL, and HEVC needs
        # patent licences): a task on a HEIC file writes JPEG unless it names another format.
        ImageFormat(
            "heic",
            "HEIC",
            "image/heic",
            "heic",
            ("HEIF",),
            announced_as=("image/heif", "image/heic-sequence", "image/heif-sequence"),
            writes=False,
            written_as="jpeg",
        ),
        ImageFormat(
            "tiff", "TIFF", "image/tiff", "tiff", ("TIFF",), announced_as=("image/tif", "image/x-tiff"), paged=True
        ),
        ImageFormat("jxl", "JPEG XL", "image/jxl", "jxl", ("JXL",)),
        ImageFormat(
            "bmp",
            "BMP",
            "image/bmp",
            "bmp",
            ("BMP", "DIB"),
            announced_as=("image/x-bmp", "image/x-ms-bmp"),
            writes=False,
            written_as="png",
        ),
        # Icons and cursors: the largest entry.
        ImageFormat(
            "ico",
            "ICO",
            "image/x-icon",
            "ico",
            ("ICO", "CUR"),
            announced_as=("image/vnd.microsoft.icon", "image/ico", "image/x-win-bitmap"),
            writes=False,
            written_as="png",
        ),
        # Photoshop documents: the composite image their writer saved with them, not the layers.
        ImageFormat(
            "psd",
            "PSD",
            "image/vnd.adobe.photoshop",
            "psd",
            ("PSD",),
            announced_as=("image/x-photoshop", "image/psd", "application/x-photoshop", "application/photoshop"),
            writes=False,
            written_as="png",
        ),
    )
}

# What the formats are called in a sentence that lists them ("JPEG, PNG, ... or PSD").
READ_FORMATS_SENTENCE = ", ".join(f.label for f in IMAGE_FORMATS.values())
WRITTEN_IMAGE_FORMATS = tuple(name for name, image_format in IMAGE_FORMATS.items() if image_format.writes)


def format_of(pillow_name: str, frames: int) -> ImageFormat | None:
    """The format of a file Pillow names `pillow_name`, with this many frames; None when it is not
    one the service reads (PDF, SVG, EPS, PCX, ...)."""
    if pillow_name == "PNG":
        return IMAGE_FORMATS["apng" if frames > 1 else "png"]
    for image_format in IMAGE_FORMATS.values():
        if pillow_name in image_format.pillow_names:
            return image_format
    return None


def written_format(source_format: str) -> str:
    """What a task writes when its output names no format: the input's own, or for a format that is
    only read, the one declared for it."""
    image_format = IMAGE_FORMATS.get(source_format)
    if image_format is not None and image_format.written_as is not None:
        return image_format.written_as
    return source_format
