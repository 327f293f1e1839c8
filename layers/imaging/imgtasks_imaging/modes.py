"""Pillow modes as the engine sees them: which carry alpha, which filters take, and see-through
pixels flattened onto a colour. One place for the operations, the encoder and the smart crop."""

from __future__ import annotations

from PIL import Image


def color(hex_color: str) -> tuple[int, int, int, int]:
    value = hex_color.lstrip("#")
    if len(value) == 6:
        value += "ff"
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), int(value[6:8], 16))


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info)


def filterable(image: Image.Image) -> Image.Image:
    """Filters need a true-colour or grey mode."""
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    return image.convert("RGBA" if has_alpha(image) else "RGB")


def flatten(image: Image.Image, background: str) -> Image.Image:
    """RGB: the image over an opaque `background` (a hex colour)."""
    rgba = image.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, (*color(background)[:3], 255))
    canvas.alpha_composite(rgba)
    return canvas.convert("RGB")
