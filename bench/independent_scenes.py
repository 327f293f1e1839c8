"""A second scene generator, written apart from training/synthetic.py on purpose: the default models
are measured on it to see whether they learned shapes and backgrounds or one generator's habits.

Nothing here is shared with the training code: shapes are rasterised with numpy (4x supersampled
coverage, so their edges are anti-aliased, where training draws with Pillow's ImageDraw), the
backgrounds are built differently (eased gradients, sine-thresholded stripes with an uneven duty
cycle, rotated and shifted checkerboards, three kinds of noise), the parameter ranges differ
(shape colours at an RGB distance of 60 or more from the background's, radii 7-30% of the short
side, rectangles up to 1:3.5, up to eight shapes overlapping up to 30%), and the camera's habits
are other ones (a vignette rather than a light ramp, softening by a round trip through a smaller
size rather than a Gaussian blur, WebP as well as JPEG).

The labels mean what the models' cards say:
- plain: one colour (under a vignette that darkens the corners by at most 12%);
- gradient: a two-colour linear gradient, the colours at least 90 apart in RGB;
- noise: colour noise of standard deviation 28 or more;
- stripes: two colours in parallel bands; checkerboard: two colours in alternating square cells.

Shapes keep the training's geometry (training/synthetic.py's docstring): a circle's box is 2r x 2r;
a rectangle's width is its long side and its angle turns it clockwise in [0, pi); a triangle is
equilateral, its box the side by the height, centred on the box, its angle in [0, 2 pi / 3).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

KINDS = ("plain", "gradient", "noise", "stripes", "checkerboard")
LABELS = ("circle", "rectangle", "triangle")
SUPERSAMPLE = 4


@dataclass(frozen=True)
class TrueShape:
    label: str
    cx: float
    cy: float
    width: float
    height: float
    angle: float


@dataclass
class IndependentScene:
    image: Image.Image
    background: str
    shapes: list[TrueShape]


def _two_colours(rng: np.random.Generator, distance: float) -> tuple[np.ndarray, np.ndarray]:
    first = rng.uniform(0, 255, 3)
    while True:
        second = rng.uniform(0, 255, 3)
        if np.linalg.norm(first - second) >= distance:
            return first, second


def _rotated_coordinates(width: int, height: int, angle: float) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.indices((height, width), dtype=np.float64)
    cos, sin = math.cos(angle), math.sin(angle)
    return x * cos + y * sin, -x * sin + y * cos


def background(rng: np.random.Generator, kind: str, width: int, height: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """float64 pixels [h, w, 3] and the colours a shape must differ from."""
    short = min(width, height)
    if kind == "plain":
        colour = rng.uniform(0, 255, 3)
        return np.broadcast_to(colour, (height, width, 3)).astype(np.float64), [colour]
    if kind == "gradient":
        first, second = _two_colours(rng, 90)
        u, _ = _rotated_coordinates(width, height, rng.uniform(0, 2 * math.pi))
        t = (u - u.min()) / max(1e-9, np.ptp(u))
        start = rng.uniform(0, 0.3)  # the gradient may cover only a band of the image
        end = rng.uniform(max(start + 0.5, 0.7), 1)
        t = np.clip((t - start) / (end - start), 0, 1)
        if rng.random() < 0.5:
            t = t * t * (3 - 2 * t)  # eased
        return first + (second - first) * t[..., None], [first, second, (first + second) / 2]
    if kind == "noise":
        base = rng.uniform(50, 205, 3)
        strength = rng.uniform(28, 70)
        flavour = rng.integers(0, 3)
        if flavour == 0:  # uniform, independent per channel
            noise = rng.uniform(-strength * math.sqrt(3), strength * math.sqrt(3), (height, width, 3))
        elif flavour == 1:  # blocky: noise at a lower resolution, enlarged
            block = int(rng.integers(2, 4))
            small = rng.normal(0, strength, (height // block + 1, width // block + 1, 3))
            noise = np.repeat(np.repeat(small, block, 0), block, 1)[:height, :width]
        else:  # luminance noise plus a weaker chroma noise
            noise = rng.normal(0, strength, (height, width, 1)) + rng.normal(0, strength / 2, (height, width, 3))
        return base + noise, [base]
    first, second = _two_colours(rng, 70)
    if kind == "stripes":
        period = rng.uniform(0.06, 0.2) * short
        duty = rng.uniform(0.3, 0.7)
        u, _ = _rotated_coordinates(width, height, rng.uniform(0, math.pi))
        phase = rng.uniform(0, 2 * math.pi)
        mask = np.sin(2 * math.pi * u / period + phase) > math.cos(math.pi * duty)
        return np.where(mask[..., None], second, first).astype(np.float64), [first, second]
    cell = rng.uniform(0.06, 0.2) * short
    u, v = _rotated_coordinates(width, height, rng.uniform(-math.pi / 4, math.pi / 4))
    u, v = u + rng.uniform(0, cell), v + rng.uniform(0, cell)
    mask = ((np.floor(u / cell) + np.floor(v / cell)) % 2).astype(bool)
    return np.where(mask[..., None], second, first).astype(np.float64), [first, second]


def _vertices(shape: TrueShape) -> np.ndarray:
    cos, sin = math.cos(shape.angle), math.sin(shape.angle)
    half_w, half_h = shape.width / 2, shape.height / 2
    if shape.label == "rectangle":
        local = [(-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)]
    else:
        local = [(0.0, -half_h), (half_w, half_h), (-half_w, half_h)]
    return np.array([(shape.cx + x * cos - y * sin, shape.cy + x * sin + y * cos) for x, y in local])


def coverage(shape: TrueShape, width: int, height: int) -> tuple[slice, slice, np.ndarray]:
    """The fraction of each pixel the shape covers, in its bounding window."""
    reach = math.hypot(shape.width, shape.height) / 2 + 1
    x0, x1 = max(0, int(shape.cx - reach)), min(width, int(shape.cx + reach) + 1)
    y0, y1 = max(0, int(shape.cy - reach)), min(height, int(shape.cy + reach) + 1)
    offsets = (np.arange(SUPERSAMPLE) + 0.5) / SUPERSAMPLE
    xs = (np.arange(x0, x1)[:, None] + offsets[None, :]).reshape(-1)
    ys = (np.arange(y0, y1)[:, None] + offsets[None, :]).reshape(-1)
    px, py = np.meshgrid(xs, ys)
    if shape.label == "circle":
        inside = (px - shape.cx) ** 2 + (py - shape.cy) ** 2 <= (shape.width / 2) ** 2
    else:
        corners = _vertices(shape)
        inside = np.ones_like(px, dtype=bool)
        for index in range(len(corners)):
            (ax, ay), (bx, by) = corners[index], corners[(index + 1) % len(corners)]
            inside &= (bx - ax) * (py - ay) - (by - ay) * (px - ax) >= 0  # clockwise in image axes
    fraction = inside.reshape(y1 - y0, SUPERSAMPLE, x1 - x0, SUPERSAMPLE).mean(axis=(1, 3))
    return slice(y0, y1), slice(x0, x1), fraction


def _shape(rng: np.random.Generator, short: int) -> tuple[TrueShape, float]:
    label = LABELS[int(rng.integers(0, 3))]
    radius = rng.uniform(0.07, 0.3) * short
    if label == "circle":
        return TrueShape(label, 0, 0, 2 * radius, 2 * radius, 0.0), radius
    if label == "rectangle":
        aspect = rng.uniform(1.0, 3.5)
        long_side = 2 * radius * math.cos(math.atan(1 / aspect))  # the diagonal is 2r
        shape = TrueShape(label, 0, 0, long_side, long_side / aspect, rng.uniform(0, math.pi))
        return shape, radius
    side = radius * math.sqrt(3)
    return TrueShape(label, 0, 0, side, side * math.sqrt(3) / 2, rng.uniform(0, 2 * math.pi / 3)), radius


def _shape_colour(rng: np.random.Generator, avoid: list[np.ndarray]) -> np.ndarray:
    for _ in range(500):
        colour = rng.uniform(0, 255, 3)
        if all(np.linalg.norm(colour - other) >= 60 for other in avoid):
            return colour
    return np.array([255.0, 255.0, 255.0]) - avoid[0]


def make_independent_scene(rng: np.random.Generator) -> IndependentScene:
    width, height = int(rng.integers(200, 801)), int(rng.integers(200, 801))
    if max(width, height) > 2 * min(width, height):  # at most 2:1, so no shape is a few pixels at 256
        height = min(height, 2 * width)
        width = min(width, 2 * height)
    kind = KINDS[int(rng.integers(0, len(KINDS)))]
    pixels, avoid = background(rng, kind, width, height)
    short = min(width, height)
    placed: list[tuple[float, float, float]] = []
    shapes: list[TrueShape] = []
    for _ in range(int(rng.integers(0, 9))):
        for _attempt in range(40):
            shape, radius = _shape(rng, short)
            if 2 * radius >= short:
                continue
            cx, cy = rng.uniform(radius, width - radius), rng.uniform(radius, height - radius)
            # Overlap allowed: circumscribed circles may reach 30% into each other.
            if all(math.hypot(cx - x, cy - y) > 0.7 * (radius + r) for x, y, r in placed):
                shape = TrueShape(shape.label, cx, cy, shape.width, shape.height, shape.angle)
                rows, columns, fraction = coverage(shape, width, height)
                colour = _shape_colour(rng, avoid)
                window = pixels[rows, columns]
                pixels[rows, columns] = window + (colour - window) * fraction[..., None]
                placed.append((cx, cy, radius))
                shapes.append(shape)
                break
    # A camera's habits, its own way: a vignette (up to 12% darker in the corners), sensor noise,
    # softening by a round trip through a smaller size, then JPEG or WebP.
    ys, xs = np.indices((height, width), dtype=np.float64)
    reach = ((xs / width - 0.5) ** 2 + (ys / height - 0.5) ** 2) / 0.5
    pixels = pixels * (1 - rng.uniform(0, 0.12) * reach)[..., None]
    if kind != "noise":
        pixels = pixels + rng.normal(0, rng.uniform(0, 4), pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8), "RGB")
    if rng.random() < 0.4:
        factor = rng.uniform(1.3, 2.0)
        smaller = (max(1, round(width / factor)), max(1, round(height / factor)))
        image = image.resize(smaller, Image.Resampling.BICUBIC).resize((width, height), Image.Resampling.BICUBIC)
    compression = rng.random()
    if compression < 0.7:
        buffer = io.BytesIO()
        if compression < 0.5:
            image.save(buffer, "JPEG", quality=int(rng.integers(45, 96)), subsampling=int(rng.integers(0, 3)))
        else:
            image.save(buffer, "WEBP", quality=int(rng.integers(50, 91)))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return IndependentScene(image, kind, shapes)
