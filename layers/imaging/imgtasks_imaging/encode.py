"""Encoding: colour to sRGB, alpha flattened where the format has none, and encoder settings
picked for speed at a size a person accepts (PNG level 3, WebP method 4, GIF via FASTOCTREE)."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from PIL import Image, ImageCms

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.inspection import INPUT_ONLY_FORMATS
from imgtasks.domain.outputs import CLIP_FORMATS, OutputSpec

from .frames import Frames
from .modes import flatten, has_alpha

PNG_COMPRESS_LEVEL = 3
PNG_FAST_LEVEL = 1
WEBP_METHOD = 4
WEBP_FAST_METHOD = 1
# libavif's speed, 0 (slowest, smallest) to 10: measured in bench/engine.py so that the web
# preset as AVIF stays under 4x its WebP time (AVIF encoders are slow everywhere).
AVIF_SPEED = 8
AVIF_FAST_SPEED = 10
# Progressive, Huffman-optimized JPEGs cost about 3 ms at web sizes, and five times the plain
# encode at 12 MP (190 ms against 37 ms); above this size a plain baseline JPEG is written.
PROGRESSIVE_MAX_PIXELS = 4_000_000
_METADATA_KEYS = ("icc_profile", "exif", "xmp", "XML:com.adobe.xmp", "comment")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@lru_cache(maxsize=8)
def _to_srgb_transform(profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    except (OSError, ImageCms.PyCMSError):
        return None  # an unreadable profile: keep the pixels as they are
    description = (ImageCms.getProfileDescription(source) or "").lower()
    if "srgb" in description and mode != "CMYK":
        return None
    output_mode = "RGBA" if mode == "RGBA" else "RGB"
    try:
        return ImageCms.buildTransform(source, _SRGB, mode, output_mode, renderingIntent=ImageCms.Intent.PERCEPTUAL)
    except ImageCms.PyCMSError:
        return None  # a profile of another colour space (LAB, grey) than the pixels': keep them


def to_srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    """Pixels in sRGB, so that an output without a profile shows the colours the input had."""
    if profile and image.mode in ("RGB", "RGBA", "CMYK"):
        transform = _to_srgb_transform(profile, image.mode)
        if transform is not None:
            return ImageCms.applyTransform(image, transform) or image
    if image.mode == "CMYK":
        return image.convert("RGB")
    return image


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
ENCODERS: dict[str, Encoder] = {"jpeg": _jpeg, "png": _png, "webp": _webp, "avif": _avif, "gif": _gif}
# Formats whose encoder writes every frame of an animation; the rest take its first frame.
ANIMATED_FORMATS = frozenset({"gif", "webp", *CLIP_FORMATS})
CLIP_PALETTE_GIF = "gif-clip-palette"


def encoder_name(fmt: str, output: OutputSpec) -> str:
    """GIFs with bayer dither use one palette for the clip, as FFmpeg's palettegen/paletteuse."""
    return CLIP_PALETTE_GIF if fmt == "gif" and output.dither == "bayer" else fmt


def encode(
    frames: Frames,
    output: OutputSpec,
    source_format: str,
    icc_profile: bytes | None = None,
    exif: bytes | None = None,
) -> tuple[bytes, str, int]:
    """Returns the bytes, the format and the number of frames written. JPEG and PNG take the first
    frame of an animation; GIF, WebP, MP4 and WebM keep every frame with its timing."""
    fmt = output.format or INPUT_ONLY_FORMATS.get(source_format, source_format)
    keep = not output.strip_metadata
    metadata: dict[str, Any] = {}
    if keep and icc_profile:
        metadata["icc_profile"] = icc_profile
    if keep and exif and fmt in ("jpeg", "webp", "png", "avif"):
        metadata["exif"] = exif

    def colour(image: Image.Image) -> Image.Image:
        # Some encoders fall back to image.info for the profile and EXIF; they travel separately
        # (`metadata`), so clear them here and add them back only when asked to keep them.
        for key in _METADATA_KEYS:
            image.info.pop(key, None)
        # Stripping metadata drops the profile, so the pixels must already be sRGB.
        return image if keep else to_srgb(image, icc_profile)

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
    return encoder(images, output, metadata, frames), fmt, len(images)
