"""An image as a model's input: letterboxed or stretched to the input size, colour order, scale,
mean and std, NCHW or NHWC. `Placement` remembers how, so boxes can be mapped back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from imgtasks.domain.model_manifest import ModelManifest


@dataclass(frozen=True)
class Placement:
    """Where the original image sits in the model's input."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float
    width: int
    height: int

    def to_image(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input pixels to original-image pixels."""
        return (x - self.pad_x) / self.scale_x, (y - self.pad_y) / self.scale_y


def prepare(image: Image.Image, manifest: ModelManifest) -> tuple[np.ndarray, Placement]:
    """One image as a [C, H, W] (or [H, W, C]) float32 array, without the batch axis."""
    rgb = image.convert("RGB")
    size_w, size_h = manifest.input.size
    spec = manifest.preprocess
    if spec.letterbox:
        scale = min(size_w / rgb.width, size_h / rgb.height)
        new_w, new_h = max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))
        canvas = Image.new("RGB", (size_w, size_h), (spec.pad, spec.pad, spec.pad))
        pad_x, pad_y = (size_w - new_w) // 2, (size_h - new_h) // 2
        canvas.paste(rgb.resize((new_w, new_h), Image.Resampling.BILINEAR), (pad_x, pad_y))
        placement = Placement(new_w / rgb.width, new_h / rgb.height, pad_x, pad_y, rgb.width, rgb.height)
    else:
        canvas = rgb.resize((size_w, size_h), Image.Resampling.BILINEAR)
        placement = Placement(size_w / rgb.width, size_h / rgb.height, 0, 0, rgb.width, rgb.height)
    pixels: np.ndarray[Any, np.dtype[np.float32]] = np.asarray(canvas, dtype=np.float32)
    if spec.color == "BGR":
        pixels = pixels[..., ::-1]
    scaled = pixels * np.float32(spec.scale) - np.asarray(spec.mean, np.float32)
    pixels = (scaled / np.asarray(spec.std, np.float32)).astype(np.float32, copy=False)
    if manifest.input.layout == "NCHW":
        pixels = pixels.transpose(2, 0, 1)
    return np.ascontiguousarray(pixels, dtype=np.float32), placement
