"""Encoding: colour to sRGB, alpha flattened where the format has none, and encoder settings
picked for speed at a size a person accepts (PNG level 3, WebP method 4, GIF via FASTOCTREE)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, NamedTuple

from PIL import Image

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.formats import IMAGE_FORMATS, written_format
from imgtasks.domain.inspection import register_jpeg_xl
from imgtasks.domain.outputs import AUTO, CLIP_FORMATS, AutoQualityChoice, OutputSpec

from .auto_quality import SSIM_TARGET, choose_quality
from .facts import exif_without_gps
from .frames import Frames
from .modes import flatten, has_alpha, to_srgb

PNG_COMPRESS_LEVEL = 3
PNG_FAST_LEVEL = 1
WEBP_METHOD = 4
WEBP_FAST_METHOD = 1
# libavif's speed, 0 (slowest, smallest) to 10: measured in bench/engine.py so that the web
# preset as AVIF stays under 4x its WebP time (AVIF encoders are slow everywhere).
AVIF_SPEED = 8
AVIF_FAST_SPEED = 10
# libjxl's effort, 1 (fastest) to 9: measured in bench/engine.py like AVIF's speed.
JXL_EFFORT = 4
JXL_FAST_EFFORT = 1
# Progressive, Huffman-optimized JPEGs cost about 3 ms at web sizes, and five times the plain
# encode at 12 MP (190 ms against 37 ms); above this size a plain baseline JPEG is written.
PROGRESSIVE_MAX_PIXELS = 4_000_000
# Writers that embed an ICC profile (GIF and the JPEG XL plugin do not).
_WRITES_PROFILE = frozenset({"jpeg", "png", "apng", "webp", "avif", "tiff"})
_METADATA_KEYS = ("icc_profile", "exif", "xmp", "XML:com.adobe.xmp", "comment")


def _for_jpeg(image: Image.Image, output: OutputSpec) -> Image.Image:
    if has_alpha(image):
        return flatten(image, output.background)
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def lowest_alpha(image: Image.Image) -> int:
    low, _ = image.convert("RGBA").getchannel("A").getextrema()
    return int(low)  # type: ignore[arg-type]  # one band: (low, high) numbers


def _to_palette(image: Image.Image, dither: Image.Dither = Image.Dither.FLOYDSTEINBERG) -> Image.Image:
    """256 colours by fast octree, with fully see-through pixels kept see-through."""
    if image.mode == "P":
        return image
    if not has_alpha(image) or lowest_alpha(image) >= 128:
        return image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=dither)
    rgba = image.convert("RGBA")
    paletted = rgba.convert("RGB").quantize(255, method=Image.Quantize.FASTOCTREE, dither=dither)
    transparent = rgba.getchannel("A").point(lambda a: 255 if a < 128 else 0)
    paletted.paste(255, mask=transparent)
    paletted.info["transparency"] = 255
    return paletted


# What an encoder gets: the frames to write (one, or every frame of an animation), the output
# spec, the metadata to keep (icc_profile, exif), and the timing of the animation they belong to.
Encoder = Callable[[list[Image.Image], OutputSpec, dict[str, Any], Frames], bytes]


def _jpeg(images: list[Image.Image], output: OutputSpec, metadata: dict[str, Any], _: Frames) -> bytes:
    buffer = io.BytesIO()
    image = _for_jpeg(images[0], output)
    web_sized = image.width * image.height <= PROGRESSIVE_MAX_PIXELS
    image.save(buffer, "JPEG", quality=output.quality_number, optimize=web_sized, progressive=web_sized, **metadata)
    return buffer.getvalue()


def _png(images: list[Image.Image], output: OutputSpec, metadata: dict[str, Any], _: Frames) -> bytes:
    buffer = io.BytesIO()
    image = images[0]
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16"):
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    level = PNG_FAST_LEVEL if output.fast else PNG_COMPRESS_LEVEL
    image.save(buffer, "PNG", compress_level=level, **metadata)
    return buffer.getvalue()


def _apng(images: list[Image.Image], output: OutputSpec, metadata: dict[str, Any], frames: Frames) -> bytes:
    """An animated PNG of full frames: each replaces the one before (no disposal, no blending)."""
    if len(images) == 1:
        return _png(images, output, metadata, frames)
    buffer = io.BytesIO()
    converted = [im if im.mode in ("RGB", "RGBA") else im.convert("RGBA") for im in images]
    level = PNG_FAST_LEVEL if output.fast else PNG_COMPRESS_LEVEL
    converted[0].save(
        buffer,
        "PNG",
        save_all=True,
        append_images=converted[1:],
        duration=frames.durations,
        loop=frames.loop,
        disposal=0,
        blend=0,
        compress_level=level,
        **metadata,
    )
    return buffer.getvalue()


def _webp(images: list[Image.Image], output: OutputSpec, metadata: dict[str, Any], frames: Frames) -> bytes:
    buffer = io.BytesIO()
    converted = [im if im.mode in ("RGB", "RGBA") else im.convert("RGBA" if has_alpha(im) else "RGB") for im in images]
    method = WEBP_FAST_METHOD if output.fast else WEBP_METHOD
    options: dict[str, Any] = {"quality": output.quality_number, "lossless": output.lossless, "method": method}
    if len(converted) > 1:
        options.update(save_all=True, append_images=converted[1:], duration=frames.durations, loop=frames.loop)
    converted[0].save(buffer, "WEBP", **options, **metadata)
    return buffer.getvalue()


def _avif(images: list[Image.Image], output: OutputSpec, metadata: dict[str, Any], _: Frames) -> bytes:
    buffer = io.BytesIO()
    image = images[0]
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    speed = AVIF_FAST_SPEED if output.fast else AVIF_SPEED
    image.save(buffer, "AVIF", quality=output.quality_number, speed=speed, **metadata)
    return buffer.getvalue()


def _tiff(images: list[Image.Image], output: OutputSpec, metadata: dict[str, Any], _: Frames) -> bytes:
    """Deflate-compressed (lossless, and read by every TIFF reader)."""
    buffer = io.BytesIO()
    image = images[0]
    if image.mode not in ("RGB", "RGBA", "L", "LA", "1"):
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    image.save(buffer, "TIFF", compression="tiff_adobe_deflate", **metadata)
    return buffer.getvalue()


def _jxl(images: list[Image.Image], output: OutputSpec, metadata: dict[str, Any], _: Frames) -> bytes:
    register_jpeg_xl()
    buffer = io.BytesIO()
    image = images[0]
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if has_alpha(image) else "RGB")
    effort = JXL_FAST_EFFORT if output.fast else JXL_EFFORT
    # The plugin writes a profile only through libjxl's colour encoding: the pixels are sRGB here.
    options = {"exif": metadata["exif"]} if "exif" in metadata else {}
    image.save(buffer, "JXL", quality=output.quality_number, lossless=output.lossless, effort=effort, **options)
    return buffer.getvalue()


def _gif(images: list[Image.Image], output: OutputSpec, _: dict[str, Any], frames: Frames) -> bytes:
    """Each frame quantised on its own (fast octree): the image worker's GIF."""
    buffer = io.BytesIO()
    dither = Image.Dither.NONE if output.dither == "none" else Image.Dither.FLOYDSTEINBERG
    paletted = [_to_palette(image, dither) for image in images]
    options: dict[str, Any] = {"optimize": False}
    if len(paletted) > 1:
        see_through = any("transparency" in image.info for image in paletted)
        options.update(
            save_all=True,
            append_images=paletted[1:],
            duration=frames.durations,
            loop=frames.loop,
            disposal=2 if see_through else 1,
        )
    paletted[0].save(buffer, "GIF", **options)
    return buffer.getvalue()


# By encoder name (encoder_name): Pillow's here; FFmpeg's (MP4, WebM, the GIF with one palette for
# the clip) are added by imgtasks_imaging.video, which only the video worker loads. A test checks
# that every output format has one.
ENCODERS: dict[str, Encoder] = {
    "jpeg": _jpeg,
    "png": _png,
    "apng": _apng,
    "webp": _webp,
    "avif": _avif,
    "gif": _gif,
    "tiff": _tiff,
    "jxl": _jxl,
}
# Formats whose encoder writes every frame of an animation; the rest take its first frame.
ANIMATED_FORMATS = frozenset({name for name, f in IMAGE_FORMATS.items() if f.keeps_frames} | CLIP_FORMATS)
CLIP_PALETTE_GIF = "gif-clip-palette"


def encoder_name(fmt: str, output: OutputSpec) -> str:
    """GIFs with bayer dither use one palette for the clip, as FFmpeg's palettegen/paletteuse."""
    return CLIP_PALETTE_GIF if fmt == "gif" and output.dither == "bayer" else fmt


class Encoded(NamedTuple):
    data: bytes
    format: str
    frames: int
    auto_quality: AutoQualityChoice | None = None  # what quality auto chose, when asked


# The formats `quality: "auto"` searches; the others take its fallback quality.
AUTO_QUALITY_FORMATS = frozenset({"jpeg", "webp", "avif"})


def encode(
    frames: Frames,
    output: OutputSpec,
    source_format: str,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
) -> Encoded:
    """The bytes, the format and the number of frames written (and what quality auto chose). GIF,
    WebP, APNG, MP4 and WebM keep every frame of an animation with its timing; the other formats
    take its first."""
    fmt = output.format or written_format(source_format)
    keep = not output.strip_metadata
    metadata: dict[str, Any] = {}
    # A profile is kept only by a writer that embeds it; otherwise the pixels become sRGB.
    profile_kept = keep and icc_profile is not None and fmt in _WRITES_PROFILE
    if profile_kept:
        metadata["icc_profile"] = icc_profile
    if keep and exif and fmt in ("jpeg", "webp", "png", "apng", "avif", "tiff", "jxl"):
        metadata["exif"] = exif_without_gps(exif)  # where it was taken stays with the owner

    def colour(image: Image.Image) -> Image.Image:
        # Some encoders fall back to image.info for the profile and EXIF; they travel separately
        # (`metadata`), so clear them here and add them back only when asked to keep them.
        for key in _METADATA_KEYS:
            image.info.pop(key, None)
        return image if profile_kept else to_srgb(image, icc_profile)

    if fmt in CLIP_FORMATS and not frames.animated:
        raise PermanentTaskError(
            ErrorCode.INVALID_OUTPUT, f"{fmt} output needs an animation or a video; this image has one frame"
        )
    encoder = ENCODERS.get(encoder_name(fmt, output))
    if encoder is None:
        # The kinds send these tasks to the video worker, which has the encoder: a routing bug.
        raise RuntimeError(f"no {encoder_name(fmt, output)} encoder here; it is the video worker's")
    animated = frames.animated and fmt in ANIMATED_FORMATS
    images = [colour(image) for image in (frames.images if animated else [frames.first])]
    # An APNG of one frame is a PNG, and is called one.
    written = "png" if fmt == "apng" and len(images) == 1 else fmt
    if output.quality == AUTO and fmt in AUTO_QUALITY_FORMATS and not animated and not output.lossless:
        chosen = choose_quality(
            images[0],
            lambda quality: encoder(images, output.model_copy(update={"quality": quality}), metadata, frames),
            output.background,
        )
        choice = AutoQualityChoice(quality=chosen.quality, ssim=chosen.ssim, target=SSIM_TARGET, encodes=chosen.encodes)
        return Encoded(chosen.data, written, 1, choice)
    return Encoded(encoder(images, output, metadata, frames), written, len(images))
