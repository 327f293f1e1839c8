"""Encoding: colour to sRGB, alpha flattened where the format has none, and encoder settings
picked for speed at a size a person accepts (PNG level 3, WebP method 4, GIF via FASTOCTREE)."""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from PIL import Image, ImageCms

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.inspection import INPUT_ONLY_FORMATS
from imgtasks.domain.specs import CLIP_FORMATS, OutputSpec

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


def _to_palette(image: Image.Image, dither: Image.Dither = Image.Dither.FLOYDSTEINBERG) -> Image.Image:
    """256 colours by fast octree, with fully see-through pixels kept see-through."""
    if image.mode == "P":
        return image
    if not has_alpha(image) or image.convert("RGBA").getchannel("A").getextrema()[0] >= 128:  # type: ignore[index]
        return image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=dither)
    rgba = image.convert("RGBA")
    paletted = rgba.convert("RGB").quantize(255, method=Image.Quantize.FASTOCTREE, dither=dither)
    transparent = rgba.getchannel("A").point(lambda a: 255 if a < 128 else 0)
    paletted.paste(255, mask=transparent)
    paletted.info["transparency"] = 255
    return paletted


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

    buffer = io.BytesIO()
    if fmt in CLIP_FORMATS and not frames.animated:
        raise PermanentTaskError(
            ErrorCode.INVALID_OUTPUT, f"{fmt} output needs an animation or a video; this image has one frame"
        )
    animated = frames.animated and fmt in ("gif", "webp", *CLIP_FORMATS)
    images = [colour(image) for image in (frames.images if animated else [frames.first])]
    if fmt == "jpeg":
        image = _for_jpeg(images[0], output)
        web_sized = image.width * image.height <= PROGRESSIVE_MAX_PIXELS
        image.save(buffer, "JPEG", quality=output.quality_number, optimize=web_sized, progressive=web_sized, **metadata)
    elif fmt == "png":
        image = images[0]
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16"):
            image = image.convert("RGBA" if has_alpha(image) else "RGB")
        level = PNG_FAST_LEVEL if output.fast else PNG_COMPRESS_LEVEL
        image.save(buffer, "PNG", compress_level=level, **metadata)
    elif fmt == "webp":
        converted = [
            im if im.mode in ("RGB", "RGBA") else im.convert("RGBA" if has_alpha(im) else "RGB") for im in images
        ]
        method = WEBP_FAST_METHOD if output.fast else WEBP_METHOD
        options: dict[str, Any] = {"quality": output.quality_number, "lossless": output.lossless, "method": method}
        if animated:
            options.update(save_all=True, append_images=converted[1:], duration=frames.durations, loop=frames.loop)
        converted[0].save(buffer, "WEBP", **options, **metadata)
    elif fmt == "avif":
        image = images[0]
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if has_alpha(image) else "RGB")
        speed = AVIF_FAST_SPEED if output.fast else AVIF_SPEED
        image.save(buffer, "AVIF", quality=output.quality_number, speed=speed, **metadata)
    elif fmt in CLIP_FORMATS:
        from ..video.clips import clip_kind, encode_clip  # FFmpeg: only the video worker loads it

        flat = [flatten(image, output.background) if has_alpha(image) else image for image in images]
        kind = clip_kind(fmt, output.codec)
        buffer.write(encode_clip(flat, frames.durations, kind=kind, quality=output.quality_number))
    elif fmt == "gif" and output.dither == "bayer":
        from ..video.gif import gif_from_images, palette_colors

        colors = palette_colors(output.quality_number)
        durations = frames.durations if animated else [0]
        data = gif_from_images(
            images, durations, dither="bayer", bayer_scale=output.bayer_scale, colors=colors, loop=frames.loop
        )
        buffer.write(data)
    elif fmt == "gif":
        dither = Image.Dither.NONE if output.dither == "none" else Image.Dither.FLOYDSTEINBERG
        paletted = [_to_palette(image, dither) for image in images]
        options = {"optimize": False}
        if animated:
            see_through = any("transparency" in image.info for image in paletted)
            options.update(
                save_all=True,
                append_images=paletted[1:],
                duration=frames.durations,
                loop=frames.loop,
                disposal=2 if see_through else 1,
            )
        paletted[0].save(buffer, "GIF", **options)
    else:
        raise PermanentTaskError(ErrorCode.INVALID_OUTPUT, f"output format {fmt} is not supported")
    return buffer.getvalue(), fmt, len(images)
