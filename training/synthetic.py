"""Synthetic scenes for the default models: a background of one of five kinds and up to eight
filled shapes (circle, rectangle, triangle), randomised widely so the models learn the shapes and
the kinds rather than this generator's habits: backgrounds over wide ranges of colours, scales,
angles and noise kinds; shape colours that need only differ a little from the background (often
not in brightness); sizes from small to large; shapes that touch and overlap; then uneven light,
sensor noise, blur and JPEG. Seeded, so a training set and a held-out set are reproducible; numpy
and Pillow only, so the benchmark and the tests can use it too.

What the background labels mean (bench/independent_scenes.py draws the same kinds its own way):
plain is one colour; gradient two colours at least 70 apart (RGB distance) blending along a line;
noise colour noise of standard deviation 20 or more; stripes two colours in parallel bands;
checkerboard two colours in alternating square cells, at any angle. The light may change a
picture's brightness by at most 12% across it, which keeps a plain background plain.

Geometry of a shape, in pixels of the image:
- circle: radius r; box 2r x 2r; angle 0.
- rectangle: long side `width`, short side `height` (aspect 1:1 to 1:4); `angle` turns the long
  side clockwise from the x axis, in [0, pi) (a rectangle looks the same half a turn on).
- triangle: equilateral, circumradius r; box `width` = side, `height` = side * sqrt(3) / 2, centred
  on the box; `angle` turns it clockwise, in [0, 2 pi / 3) (it looks the same a third of a turn on).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

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


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, size=3).astype(np.float32)


def _distant_colour(rng: np.random.Generator, other: np.ndarray, distance: float) -> np.ndarray:
    for _ in range(200):
        colour = _colour(rng)
        if float(np.linalg.norm(colour - other)) >= distance:
            return colour
    return 255 - other


def _axis(rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray, angle: float | None = None) -> np.ndarray:
    theta = rng.uniform(0, 2 * math.pi) if angle is None else angle
    return xs * math.cos(theta) + ys * math.sin(theta)


def _noise(rng: np.random.Generator, width: int, height: int, strength: float) -> np.ndarray:
    """Colour noise of one of four kinds, standard deviation about `strength`."""
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return rng.normal(0, strength, (height, width, 3)).astype(np.float32)
    if kind == 1:
        bound = strength * math.sqrt(3)
        return rng.uniform(-bound, bound, (height, width, 3)).astype(np.float32)
    if kind == 2:  # grain larger than a pixel
        cell = int(rng.integers(2, 6))
        small = rng.normal(0, strength, (height // cell + 1, width // cell + 1, 3)).astype(np.float32)
        return np.repeat(np.repeat(small, cell, 0), cell, 1)[:height, :width]
    luminance = rng.normal(0, strength, (height, width, 1))
    return (luminance + rng.normal(0, strength * rng.uniform(0.2, 0.8), (height, width, 3))).astype(np.float32)


def _background(rng: np.random.Generator, kind: str, width: int, height: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The background's float pixels and the colours a shape must differ from."""
    first = _colour(rng)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    short = min(width, height)
    if kind == "plain":
        return np.broadcast_to(first, (height, width, 3)).astype(np.float32), [first]
    if kind == "noise":
        first = rng.uniform(30, 226, 3).astype(np.float32)
        return first + _noise(rng, width, height, rng.uniform(20, 100)), [first]
    if kind == "gradient":
        second = _distant_colour(rng, first, 70)
        t = _axis(rng, xs, ys)
        t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
        start = rng.uniform(0, 0.4)  # the colour change may fill only a band of the image
        end = rng.uniform(start + 0.4, 1.0)
        t = np.clip((t - start) / (end - start), 0, 1) ** rng.uniform(0.5, 2.0)
        pixels = first * (1 - t[..., None]) + second * t[..., None]
        return pixels.astype(np.float32), [first, second, (first + second) / 2]
    second = _distant_colour(rng, first, 50)
    if kind == "stripes":
        period = rng.uniform(0.03, 0.3) * short
        duty = rng.uniform(0.25, 0.75)
        t = _axis(rng, xs, ys) + rng.uniform(0, period)
        mask = (t / period) % 1 < duty
    else:
        cell = rng.uniform(0.03, 0.3) * short
        angle = rng.uniform(0, math.pi / 2)
        u = _axis(rng, xs, ys, angle) + rng.uniform(0, cell)
        v = _axis(rng, xs, ys, angle + math.pi / 2) + rng.uniform(0, cell)
        mask = ((np.floor(u / cell) + np.floor(v / cell)) % 2).astype(bool)
    return np.where(mask[..., None], second, first).astype(np.float32), [first, second]


def _shape_colour(rng: np.random.Generator, avoid: list[np.ndarray]) -> tuple[int, int, int]:
    """Any colour a little way from the background's: often close to it in brightness."""
    for _ in range(500):
        colour = _colour(rng)
        if all(float(np.linalg.norm(colour - other)) >= 45 for other in avoid):
            return int(colour[0]), int(colour[1]), int(colour[2])
    return (255, 255, 255) if float(np.mean(avoid[0])) < 128 else (0, 0, 0)


def _shape(rng: np.random.Generator, label: str, short_side: int, cx: float, cy: float) -> tuple[Shape, float]:
    """A shape and the radius of its circumscribed circle."""
    size = rng.uniform(0.04, 0.35) * short_side
    if label == "circle":
        return Shape(label, cx, cy, 2 * size, 2 * size, 0.0), size
    if label == "rectangle":
        aspect = rng.uniform(1.0, 4.0)
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
    max_shapes: int = 8,
    background: str | None = None,
    degrade: bool = True,
) -> Scene:
    """A scene of any size and aspect ratio (128 to 800 px a side, at most 3:1, unless given).

    `degrade` adds what cameras and uploads do (uneven light, sensor noise, blur, JPEG)."""
    if width is None or height is None:
        width, height = int(rng.integers(128, 801)), int(rng.integers(128, 801))
        height, width = min(height, 3 * width), min(width, 3 * height)
    kind = background or BACKGROUNDS[int(rng.integers(0, len(BACKGROUNDS)))]
    pixels, avoid = _background(rng, kind, width, height)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    short_side = min(width, height)
    placed: list[tuple[float, float, float]] = []
    shapes: list[Shape] = []
    for _ in range(int(rng.integers(0, max_shapes + 1))):
        label = SHAPES[int(rng.integers(0, len(SHAPES)))]
        for _attempt in range(30):
            shape, radius = _shape(rng, label, short_side, 0.0, 0.0)
            if 2 * radius >= short_side:
                continue
            cx = rng.uniform(radius, width - radius)
            cy = rng.uniform(radius, height - radius)
            # Shapes may touch and overlap: circumscribed circles reach up to 40% into each other.
            if all(math.hypot(cx - x, cy - y) > 0.6 * (radius + r) for x, y, r in placed):
                shape = Shape(shape.label, cx, cy, shape.width, shape.height, shape.angle)
                colour = _shape_colour(rng, avoid)
                if label == "circle":
                    r = shape.width / 2
                    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
                else:
                    draw.polygon(_polygon(shape), fill=colour)
                placed.append((cx, cy, radius))
                shapes.append(shape)
                break
    if degrade:
        image = _degrade(rng, image, noisy=kind == "noise")
    return Scene(image, kind, shapes)


def _degrade(rng: np.random.Generator, image: Image.Image, *, noisy: bool) -> Image.Image:
    """Uneven light (brightness changing by at most 12% across the image, so a plain background
    stays plain), weak sensor noise, blur and JPEG, each at random."""
    pixels = np.asarray(image, dtype=np.float32)
    height, width = pixels.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = _axis(rng, xs, ys)
    t = (t - t.min()) / max(1e-6, float(t.max() - t.min()))
    pixels = pixels * (1 + rng.uniform(-0.12, 0.12) * (t - 0.5))[..., None]
    if not noisy and rng.random() < 0.7:
        pixels = pixels + rng.normal(0, rng.uniform(0, 6), pixels.shape).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8), "RGB")
    if rng.random() < 0.4:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.6)))
    if rng.random() < 0.6:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=int(rng.integers(30, 96)), subsampling=int(rng.integers(0, 3)))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return image
