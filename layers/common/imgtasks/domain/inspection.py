"""Reading a file's header, within limits, without decoding it: an image's format, size and frame
count, or a video's (imgtasks.domain.video_inspection)."""

from __future__ import annotations

import importlib
import io
import re
import warnings
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, BinaryIO

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.formats import IMAGE_FORMATS, READ_FORMATS_SENTENCE, ImageFormat, format_of
from imgtasks.domain.image_headers import gif_layout, icon_entry_size, is_jpeg_xl, jpeg_xl_size
from imgtasks.domain.limits import MAX_ANIMATION_PIXELS, Limits
from imgtasks.domain.records import VideoInfo
from imgtasks.domain.video_inspection import (
    SNIFF_BYTES,
    VIDEO_CONTENT_TYPES,
    VIDEO_FAMILIES,
    VIDEO_FORMATS_SENTENCE,
    inspect_video,
    sniff_container,
)

# Every format a file of ours can be, input or output, with its content type and extension.
CONTENT_TYPES = {
    **{name: image_format.content_type for name, image_format in IMAGE_FORMATS.items()},
    **VIDEO_CONTENT_TYPES,
}
EXTENSIONS = {
    **{name: image_format.extension for name, image_format in IMAGE_FORMATS.items()},
    **{name: name for name in VIDEO_CONTENT_TYPES},
}
# Archives (an archive task's output) are files of ours too, though never an input.
CONTENT_TYPES["zip"] = "application/zip"
EXTENSIONS["zip"] = "zip"
ACCEPTED_CONTENT_TYPES = (
    frozenset(f.content_type for f in IMAGE_FORMATS.values())
    | frozenset(announced for f in IMAGE_FORMATS.values() for announced in f.announced_as)
    | frozenset(VIDEO_FAMILIES)
)
# Formats people send that are not read, recognised by their first bytes, so the refusal names them.
_NOT_READ_SIGNATURES = (
    (b"%PDF", "PDF"),
    (b"%!PS", "PostScript (EPS)"),
    (b"\xc5\xd0\xd3\xc6", "PostScript (EPS)"),
    (b"gimp xcf", "GIMP XCF"),
    (b"8BPB", "PSB (large Photoshop document)"),
)


def announces_video(content_type: str) -> bool:
    return content_type in VIDEO_FAMILIES


# TIFF compressions Pillow's libtiff names but cannot decode (it is built without WebP).
TIFF_COMPRESSIONS_NOT_READ = frozenset({"webp"})

_pillow_configured = False


def pillow(max_pixels: int) -> ModuleType:
    """PIL.Image, imported on first use (the API needs it only for uploads, not at cold start),
    with Pillow's own guard against decompression bombs kept on at our pixel limit: Pillow checks
    every size it learns while reading (a GIF frame that grows the canvas, an icon's embedded
    image), and above the limit its warning is an error here, as above twice the limit it is
    everywhere."""
    global _pillow_configured
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels
    if not _pillow_configured:
        warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
        _pillow_configured = True
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


def register_jpeg_xl() -> None:
    """JPEG XL through pillow-jxl-plugin (libjxl), imported for JPEG XL bytes and JPEG XL outputs
    only. Its decoder decodes the whole image when a file is opened: open_image checks the size in
    the file's header before it lets the plugin see the bytes. A deployment built without the
    plugin (it is GPL-licensed) refuses JPEG XL as a format it does not read."""
    try:
        plugin = importlib.import_module("pillow_jxl.JpegXLImagePlugin")
    except ModuleNotFoundError as missing:
        raise PermanentTaskError(
            ErrorCode.UNSUPPORTED_FORMAT,
            "this deployment reads and writes no JPEG XL (pillow-jxl-plugin is not installed)",
        ) from missing
    # One decoding thread: a worker's cores are its tasks'.
    setattr(plugin, "DECODE_THREADS", 0)  # noqa: B010 - a module imported by name


def open_image(data: bytes, max_pixels: int) -> Any:
    """Pillow's image of the bytes, header read, no pixel decoded. HEIF's decoder is loaded only for
    bytes Pillow does not know itself, so a container that never sees a HEIC never pays for it.
    Raises PermanentTaskError, or what Pillow raises for bytes it cannot read."""
    image_module = pillow(max_pixels)
    if is_jpeg_xl(data):
        width, height = jpeg_xl_size(data)
        _check_pixels(width, height, max_pixels)
        register_jpeg_xl()
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
    # Frames of an animation, or pages of a paged format (TIFF); 1 for a still image.
    frames: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def image_format(self) -> ImageFormat:
        return IMAGE_FORMATS[self.format]


def _check_pixels(width: int, height: int, max_pixels: int, what: str = "the image") -> None:
    if width * height > max_pixels:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"{what} is {width}x{height} ({width * height} pixels); the limit is {max_pixels} pixels",
        )


def measure(image: Any, data: bytes, *, max_pixels: int, max_frames: int) -> ImageInfo:
    """The format, canvas and frames of an opened image, every frame's extent and every page's size
    checked against the limits before any pixel is decoded. Leaves the image at its first frame.
    Raises PermanentTaskError (`unsupported_format`, `image_too_large`)."""
    pillow_name = image.format or ""
    width, height = image.size
    frames = 1
    if pillow_name == "GIF":
        layout = gif_layout(data, stop_after=max_frames)
        width, height, frames = layout.width, layout.height, max(1, layout.frames)
    elif pillow_name == "ICO":
        width, height = icon_entry_size(data, image.ico.entry[0].offset)
    elif pillow_name == "TIFF":
        if image.info.get("compression") in TIFF_COMPRESSIONS_NOT_READ:
            raise PermanentTaskError(
                ErrorCode.UNSUPPORTED_FORMAT,
                f"TIFF files compressed with {image.info['compression']} are not read; send it uncompressed or "
                "compressed with LZW, Deflate, JPEG, ZSTD, LZMA, PackBits or CCITT",
            )
        frames = _tiff_pages(image, max_pixels, max_frames)
    elif pillow_name in ("PNG", "WEBP", "AVIF"):
        frames = int(getattr(image, "n_frames", 1))
    # JPEG and MPO (its first image), HEIF (its primary image), BMP, PSD (the composite) and JPEG XL
    # are read as one image.
    image_format = format_of(pillow_name, frames)
    if image_format is None:
        raise _unsupported(pillow_name)
    _check_pixels(width, height, max_pixels)
    noun = "pages" if image_format.paged else "frames"
    if frames > max_frames:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE, f"the image has more than {max_frames} {noun}; the limit is {max_frames}"
        )
    if frames > 1 and not image_format.paged and width * height * frames > MAX_ANIMATION_PIXELS:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"the animation is {frames} frames of {width}x{height}; at most {MAX_ANIMATION_PIXELS} pixels in all",
        )
    return ImageInfo(format=image_format.name, width=width, height=height, frames=frames)


def _tiff_pages(image: Any, max_pixels: int, max_frames: int) -> int:
    """A TIFF's pages, each one's size checked, counted up to one more than the limit (a chain of a
    million directories is not walked)."""
    pages = 0
    try:
        while pages <= max_frames:
            image.seek(pages)
            width, height = image.size
            _check_pixels(width, height, max_pixels, what=f"page {pages + 1}")
            pages += 1
    except EOFError:
        pass
    image.seek(0)
    return max(1, pages)


def _unsupported(name: str) -> PermanentTaskError:
    return PermanentTaskError(
        ErrorCode.UNSUPPORTED_FORMAT,
        f"{f'this is a {name} file,' if name else 'this file is'} not an image or a video that imgtasks reads; "
        f"send an image ({READ_FORMATS_SENTENCE}) or a video ({VIDEO_FORMATS_SENTENCE})",
    )


def _not_read_format(data: bytes) -> str | None:
    """The name of a format people send that is not read, from the bytes' start (SVG by its root)."""
    for signature, name in _NOT_READ_SIGNATURES:
        if data.startswith(signature):
            return name
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "SVG"
    return None


def too_large(error: Exception, max_pixels: int) -> PermanentTaskError:
    """Pillow's decompression bomb guard, said as our limit is."""
    found = re.search(r"\((\d+) pixels\)", str(error))
    size = f" ({found.group(1)} pixels)" if found else ""
    return PermanentTaskError(
        ErrorCode.IMAGE_TOO_LARGE, f"the image is larger{size} than the limit of {max_pixels} pixels"
    )


EXIF_ORIENTATION = 0x0112
TRANSPOSING_ORIENTATIONS = (5, 6, 7, 8)  # EXIF orientations that swap width and height
_READ_BY_PILLOW = frozenset(name for f in IMAGE_FORMATS.values() for name in f.pillow_names)


def _claimed_by(image_module: ModuleType, data: bytes) -> str | None:
    """The format whose signature the bytes start with, by Pillow's own plugins' tests: a file of a
    format that is not read (DDS, say) is refused as such even when its plugin raised on it."""
    for name in image_module.ID:
        accept = image_module.OPEN[name][1]
        try:
            if accept is not None and accept(data[:64]):
                return str(name)
        except Exception:  # noqa: S112 - a plugin's test that fails on these bytes did not claim them
            continue
    return None


def metadata_too_large(error: Exception) -> PermanentTaskError | None:
    """Pillow's refusal of a PNG text chunk (iTXt, zTXt) that decompresses past its limit, a bomb
    in the metadata rather than the pixels."""
    if isinstance(error, ValueError) and "Decompressed data too large" in str(error):
        return PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE, "a text chunk of the image decompresses to more than Pillow's limit of 1 MB"
        )
    return None


def exif_orientation(image: Any) -> int:
    """The EXIF Orientation tag, as browsers and libvips apply it. Pillow would also take one from
    XMP or from ImageMagick's text chunk, which browsers ignore: an output would then be turned
    from what its owner saw. The EXIF read here stays cached, so exif_transpose agrees."""
    ignored = ("XML:com.adobe.xmp", "xmp", "Raw profile type exif")
    set_aside = {key: image.info.pop(key) for key in ignored if key in image.info}
    try:
        return int(image.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:  # a corrupt EXIF block is ignored, as browsers ignore it
        return 1
    finally:
        image.info.update(set_aside)


def _upright(image: Any, info: ImageInfo) -> ImageInfo:
    """The size as the image is shown, after its EXIF orientation (as a task's result and the web
    app give it). A PNG's EXIF that follows its pixels is not read here: that needs them decoded."""
    still = info.frames == 1 or info.image_format.paged
    readable = image.format != "PNG" or "exif" in image.info
    if still and readable and exif_orientation(image) in TRANSPOSING_ORIENTATIONS:
        return replace(info, width=info.height, height=info.width)
    return info


def inspect_image(data: bytes, *, max_pixels: int, max_frames: int) -> ImageInfo:
    """Raises PermanentTaskError with code `invalid_image`, `unsupported_format` or
    `image_too_large`, each with a sentence a person can act on: whatever the bytes make Pillow or
    a plugin raise is the file's fault, never a reason to try again."""
    if not data:
        raise PermanentTaskError(ErrorCode.INVALID_IMAGE, "the file is empty")
    not_read = _not_read_format(data)
    if not_read is not None:
        raise _unsupported(not_read)
    image_module = pillow(max_pixels)
    try:
        with open_image(data, max_pixels) as image:
            return _upright(image, measure(image, data, max_pixels=max_pixels, max_frames=max_frames))
    except PermanentTaskError:
        raise
    except (image_module.DecompressionBombError, image_module.DecompressionBombWarning, MemoryError) as error:
        raise too_large(error, max_pixels) from error
    except Exception as error:  # any exception a decoder raises for bytes it cannot read
        claimed = _claimed_by(image_module, data)
        if claimed is not None and claimed not in _READ_BY_PILLOW:
            raise _unsupported(claimed) from error
        if claimed is not None:
            raise metadata_too_large(error) or PermanentTaskError(
                ErrorCode.INVALID_IMAGE, f"the {claimed} file is corrupt: its header cannot be read"
            ) from error
        raise metadata_too_large(error) or PermanentTaskError(
            ErrorCode.INVALID_IMAGE,
            f"the file is not an image or video this service can read ({READ_FORMATS_SENTENCE}; "
            f"{VIDEO_FORMATS_SENTENCE})",
        ) from error


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
        image_format = IMAGE_FORMATS[self.format]
        return announced == image_format.content_type or announced in image_format.announced_as


def _reading_failed(error: BaseException) -> bool:
    """An error in fetching the bytes (the store, the network), worth a retry, rather than in the
    bytes themselves."""
    return isinstance(error, ConnectionError | TimeoutError) or type(error).__module__.startswith(
        ("botocore", "urllib3")
    )


def inspect_file(source: BinaryIO, limits: Limits, *, announced: str | None = None) -> Inspected:
    """An image or a video, told apart by its first bytes. A file announced as a video that does
    not start like one is refused before anything else is read (it may be 500 MB)."""
    head = source.read(SNIFF_BYTES)
    source.seek(0)
    if sniff_container(head) is not None:
        try:
            video = inspect_video(source, max_pixels=limits.max_pixels, limits=limits.video)
        except PermanentTaskError:
            raise
        except Exception as error:  # what FFmpeg or PyAV raise for a stream they cannot read
            if _reading_failed(error):
                raise
            raise PermanentTaskError(
                ErrorCode.INVALID_VIDEO, "the video cannot be read (truncated or damaged?)"
            ) from error
        return Inspected(video.info.container, video.width, video.height, video.frames, video.info)
    if announced is not None and announces_video(announced):
        raise PermanentTaskError(
            ErrorCode.INVALID_VIDEO, f"the file is not a video this service reads ({VIDEO_FORMATS_SENTENCE})"
        )
    image = inspect_image(source.read(), max_pixels=limits.max_pixels, max_frames=limits.max_frames)
    return Inspected(image.format, image.width, image.height, image.frames)
