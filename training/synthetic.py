"""Synthetic scenes for the default models: a background of one of five kinds, and up to six
filled shapes (circle, rectangle, triangle) that contrast with it. Seeded, so a training set and
a held-out set are reproducible; numpy and Pillow only, so the benchmark can use it too.

Geometry of a shape, in pixels of the image:
- circle: radius r; box 2r x 2r; angle 0.
- rectangle: long side `width`, short side `height` (aspect 1:1 to 1:3); `angle` turns the long
  side clockwise from the x axis, in [0, pi) (a rectangle looks the same half a turn on).
- triangle: equilateral, circumradius r; box `width` = side, `height` = side * sqrt(3) / 2, centred
  on the box; `angle` turns it clockwise, in [0, 2 pi / 3) (it looks the same a third of a turn on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

BACKGROUNDS = ("plain", "gradient", "noise", "stripes", "checkerboard")
SHAPES = ("circle", "rectangle", "triangle")
PERIOD = {"circle": 2 * math.pi, "rectangle": math.pi, "triangle": 2 * math.pi / 3}


@dataclass(frozen=True)
class Shape:
    label: str
    cx: float
    cy: float
    width: float
    height: float
    angle: float  # radians, clockwise, in [0, PERIOD[label])

    def corners(self) -> list[tuple[float, float]]:
        """The rotated box's corners."""
        cos, sin = math.cos(self.angle), math.sin(self.angle)
        half_w, half_h = self.width / 2, self.height / 2
        return [
            (self.cx + dx * cos - dy * sin, self.cy + dx * sin + dy * cos)
            for dx, dy in ((-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h))
        ]


@dataclass
class Scene:
    image: Image.Image
    background: str
    shapes: list[Shape] = field(default_factory=list)


def _luminance(colour: np.ndarray) -> float:
    return float(0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]) / 255


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=3)


def _background(rng: np.random.Generator, kind: str, width: int, height: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The background's pixels and the colours a shape must stand out from."""
    first = _colour(rng)
    second = _colour(rng)
    while abs(_luminance(first) - _luminance(second)) < 0.25:
        second = _colour(rng)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == "plain":
        return np.broadcast_to(first, (height, width, 3)).astype(np.uint8), [first]
    if kind == "gradient":
        theta = rng.uniform(0, 2 * math.pi)
        t = xs * math.cos(theta) + ys * math.sin(theta)
        t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
        pixels = first[None, None, :] * (1 - t[..., None]) + second[None, None, :] * t[..., None]
        return pixels.astype(np.uint8), [first, second, (first + second) // 2]
    if kind == "noise":
        amplitude = rng.uniform(40, 90)
        noise = rng.normal(0, amplitude, size=(height, width, 3))
        pixels = np.clip(first[None, None, :] + noise, 0, 255)
        return pixels.astype(np.uint8), [first]
    if kind == "stripes":
        theta = rng.uniform(0, math.pi)
        period = rng.uniform(0.04, 0.15) * min(width, height)
        t = xs * math.cos(theta) + ys * math.sin(theta)
        mask = (np.floor(t / (period / 2)) % 2).astype(bool)
        return np.where(mask[..., None], second, first).astype(np.uint8), [first, second]
    cell = rng.uniform(0.05, 0.18) * min(width, height)
    mask = ((np.floor(xs / cell) + np.floor(ys / cell)) % 2).astype(bool)
    return np.where(mask[..., None], second, first).astype(np.uint8), [first, second]


def _contrasting(rng: np.random.Generator, avoid: list[np.ndarray]) -> tuple[int, int, int]:
    for _ in range(200):
        colour = _colour(rng)
        if all(abs(_luminance(colour) - _luminance(other)) >= 0.3 for other in avoid):
            return int(colour[0]), int(colour[1]), int(colour[2])
    # Two-colour backgrounds of middling luminance: black or white always stands out from one.
    darkest = min(_luminance(other) for other in avoid)
    return (255, 255, 255) if darkest < 0.5 else (0, 0, 0)


def _shape(rng: np.random.Generator, label: str, short_side: int, cx: float, cy: float) -> tuple[Shape, float]:
    """A shape and the radius of its circumscribed circle."""
    size = rng.uniform(0.08, 0.25) * short_side
    if label == "circle":
        return Shape(label, cx, cy, 2 * size, 2 * size, 0.0), size
    if label == "rectangle":
        aspect = rng.uniform(1.0, 3.0)
        long_side, short = 2 * size, 2 * size / aspect
        angle = rng.uniform(0, math.pi)
        return Shape(label, cx, cy, long_side, short, angle), math.hypot(long_side, short) / 2
    side = size * math.sqrt(3)
    angle = rng.uniform(0, 2 * math.pi / 3)
    return Shape(label, cx, cy, side, side * math.sqrt(3) / 2, angle), size


def _polygon(shape: Shape) -> list[tuple[float, float]]:
    if shape.label == "rectangle":
        return shape.corners()
    # Equilateral triangle, apex up before turning; its box is centred on (cx, cy).
    half_w, half_h = shape.width / 2, shape.height / 2
    cos, sin = math.cos(shape.angle), math.sin(shape.angle)
    return [
        (shape.cx + dx * cos - dy * sin, shape.cy + dx * sin + dy * cos)
        for dx, dy in ((0.0, -half_h), (half_w, half_h), (-half_w, half_h))
    ]


def make_scene(
    rng: np.random.Generator,
    width: int | None = None,
    height: int | None = None,
    *,
    max_shapes: int = 6,
    background: str | None = None,
) -> Scene:
    """A scene of any size and aspect ratio (160 to 640 px a side unless given)."""
    width = width or int(rng.integers(160, 641))
    height = height or int(rng.integers(160, 641))
    kind = background or BACKGROUNDS[int(rng.integers(0, len(BACKGROUNDS)))]
    pixels, avoid = _background(rng, kind, width, height)
    image = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(image)
    short_side = min(width, height)
    placed: list[tuple[float, float, float]] = []
    shapes: list[Shape] = []
    for _ in range(int(rng.integers(0, max_shapes + 1))):
        label = SHAPES[int(rng.integers(0, len(SHAPES)))]
        for _attempt in range(30):
            shape, radius = _shape(rng, label, short_side, 0.0, 0.0)
            if 2 * radius >= min(width, height):
                continue
            cx = rng.uniform(radius, width - radius)
            cy = rng.uniform(radius, height - radius)
            # Little overlap: circumscribed circles may touch, barely.
            if all(math.hypot(cx - x, cy - y) > 0.95 * (radius + r) for x, y, r in placed):
                shape = Shape(shape.label, cx, cy, shape.width, shape.height, shape.angle)
                colour = _contrasting(rng, avoid)
                if label == "circle":
                    r = shape.width / 2
                    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
                else:
                    draw.polygon(_polygon(shape), fill=colour)
                placed.append((cx, cy, radius))
                shapes.append(shape)
                break
    return Scene(image, kind, shapes)
