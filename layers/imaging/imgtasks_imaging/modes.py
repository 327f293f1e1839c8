"""Pillow modes as the engine sees them: every decoded frame brought to 8 bits per channel (what
every operation and encoder takes), which modes carry alpha, which filters take, and see-through
pixels flattened onto a colour. One place for the decoder, the operations, the encoder and the
smart crop."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageCms, ImageMath

# Integer greys of more than 8 bits: 16-bit PNG and TIFF, and 10/12-bit HEIF scaled to 16 bits.
_WIDE_GREYS = ("I;16", "I;16B", "I;16L", "I;16N", "I")
# Modes with the alpha premultiplied or beside a palette, and colour models with no alpha.
_TO_RGBA = ("PA", "RGBa")
_TO_RGB = ("YCbCr", "HSV", "RGBX")
_SAMPLE_FORMAT = 339  # TIFF tag: 1 unsigned, 2 signed, 3 floating point


def color(hex_color: str) -> tuple[int, int, int, int]:
    value = hex_color.lstrip("#")
    if len(value) == 6:
        value += "ff"
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), int(value[6:8], 16))


def has_alpha(image: Image.Image) -> bool:
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return True
    # A palette entry, or one grey or colour value (PNG's tRNS colour key), that is see-through.
    return image.mode in ("P", "L", "RGB", "1", "I;16", "I") and "transparency" in image.info


def signed_as_unsigned(image: Image.Image) -> Image.Image:
    """A TIFF of signed 8-bit samples (SampleFormat 2), which Pillow reads as unsigned L, with its
    values moved up by 128: -128 is black, 127 white, as libvips shows them."""
    sample_format = getattr(image, "tag_v2", {}).get(_SAMPLE_FORMAT)
    if image.mode == "L" and sample_format in (2, (2,)):
        return image.point([(value + 128) % 256 for value in range(256)])
    return image


def eight_bit(image: Image.Image) -> Image.Image:
    """The image in a mode of 8 bits per channel (1, L, LA, P, RGB, RGBA; CMYK, which the decoder
    turns into sRGB with its profile), values scaled rather than clipped, and a transparent colour
    key (tRNS) made alpha. A decoded frame passes here once."""
    mode = image.mode
    if "transparency" in image.info and mode in ("L", "RGB", "1", "I;16", "I"):
        # Pillow makes every pixel of the key colour transparent; a wide grey is scaled first.
        if mode in _WIDE_GREYS:
            return _keyed_wide_grey(image, image.info["transparency"])
        return image.convert("LA" if mode in ("L", "1") else "RGBA")
    if mode in _WIDE_GREYS:
        return _scaled_grey(image)
    if mode == "F":
        return _scaled_float(image)
    if mode == "LAB":
        return ImageCms.applyTransform(image, _lab_to_srgb()) or image.convert("RGB")
    if mode == "La":
        return image.convert("LA")
    if mode in _TO_RGBA:
        return image.convert("RGBA")
    if mode in _TO_RGB:
        return image.convert("RGB")
    return image


def _band_extrema(image: Image.Image) -> tuple[float, float]:
    """The lowest and highest value of a one-band image."""
    low, high = image.getextrema()
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        raise TypeError(f"a one-band image was expected, not {image.mode}")
    return float(low), float(high)


def _keyed_wide_grey(image: Image.Image, key: object) -> Image.Image:
    """A wide grey with a colour key as LA: see-through exactly where the 16-bit value is the key
    (after scaling, several values share one 8-bit level, so the key cannot be scaled with them)."""
    grey = _scaled_grey(image)
    if isinstance(key, int):
        wide = image.convert("I")
        grey.putalpha(ImageMath.lambda_eval(lambda values: (values["a"] != key) * 255, a=wide).convert("L"))
    return grey


def _scaled_grey(image: Image.Image) -> Image.Image:
    """An integer grey wider than 8 bits as L: 0-65535 divided by 257 (rounded), as 16-bit values
    are; a 32-bit image whose values go past 65535 stretched from its darkest to its lightest."""
    wide = image.convert("I")
    low, high = _band_extrema(wide)
    if image.mode != "I" or (low >= 0 and high <= 65535):
        scale, offset = 1 / 257, 0.0
    elif high > low:
        scale, offset = 255 / (high - low), -low * 255 / (high - low)
    else:
        scale, offset = 0.0, 0.0
    return wide.point(lambda value: value * scale + offset + 0.5).convert("L")


def _scaled_float(image: Image.Image) -> Image.Image:
    """Floating-point grey as L: 0.0-1.0 (how float images store light) to 0-255; values outside
    that range (a measurement, not light) stretched from the lowest to the highest."""
    low, high = _band_extrema(image)
    if low >= 0 and high <= 1:
        scale, offset = 255.0, 0.0
    elif high > low:
        scale, offset = 255 / (high - low), -low * 255 / (high - low)
    else:
        scale, offset = 0.0, 0.0
    return image.point(lambda value: value * scale + offset + 0.5).convert("L")


@lru_cache(maxsize=1)
def _lab_to_srgb() -> ImageCms.ImageCmsTransform:
    lab = ImageCms.createProfile("LAB")
    srgb = ImageCms.createProfile("sRGB")
    return ImageCms.buildTransform(lab, srgb, "LAB", "RGB")


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


def filterable(image: Image.Image) -> Image.Image:
    """Filters need a true-colour or grey mode."""
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        if image.mode in ("RGB", "L") and "transparency" in image.info:
            return image.convert("RGBA" if image.mode == "RGB" else "LA")
        return image
    return image.convert("RGBA" if has_alpha(image) else "RGB")


def flatten(image: Image.Image, background: str) -> Image.Image:
    """RGB: the image over an opaque `background` (a hex colour)."""
    rgba = image.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, (*color(background)[:3], 255))
    canvas.alpha_composite(rgba)
    return canvas.convert("RGB")
