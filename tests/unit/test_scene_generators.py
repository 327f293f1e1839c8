"""The two scene generators (training/synthetic.py for training, bench/independent_scenes.py for
measuring) draw the same shape in the same place for the same geometry, so a box one of them
labels is the box the other means; and each labels what it draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench import independent_scenes
from training import synthetic


def training_mask(shape: synthetic.Shape, size: tuple[int, int]) -> np.ndarray:
    canvas = Image.new("L", size)
    draw = ImageDraw.Draw(canvas)
    if shape.label == "circle":
        r = shape.width / 2
        draw.ellipse((shape.cx - r, shape.cy - r, shape.cx + r, shape.cy + r), fill=255)
    else:
        draw.polygon(synthetic._polygon(shape), fill=255)
    return np.asarray(canvas) > 127


def independent_mask(shape: synthetic.Shape, size: tuple[int, int]) -> np.ndarray:
    true_shape = independent_scenes.TrueShape(shape.label, shape.cx, shape.cy, shape.width, shape.height, shape.angle)
    mask = np.zeros((size[1], size[0]), dtype=bool)
    rows, columns, fraction = independent_scenes.coverage(true_shape, *size)
    mask[rows, columns] = fraction > 0.5
    return mask


@pytest.mark.parametrize(
    "shape",
    [
        synthetic.Shape("circle", 100, 90, 80, 80, 0.0),
        synthetic.Shape("rectangle", 100, 90, 120, 40, 0.0),
        synthetic.Shape("rectangle", 100, 90, 120, 40, math.radians(30)),
        synthetic.Shape("rectangle", 100, 90, 120, 40, math.radians(120)),
        synthetic.Shape("triangle", 100, 90, 110, 110 * math.sqrt(3) / 2, 0.0),
        synthetic.Shape("triangle", 100, 90, 110, 110 * math.sqrt(3) / 2, math.radians(50)),
        synthetic.Shape("triangle", 100, 90, 110, 110 * math.sqrt(3) / 2, math.radians(100)),
    ],
    ids=["circle", "rectangle-0", "rectangle-30", "rectangle-120", "triangle-0", "triangle-50", "triangle-100"],
)
def test_both_generators_draw_a_geometry_in_the_same_pixels(shape: synthetic.Shape) -> None:
    size = (200, 180)
    ours, theirs = training_mask(shape, size), independent_mask(shape, size)
    overlap = (ours & theirs).sum() / (ours | theirs).sum()
    assert overlap > 0.95, overlap
    # And the labelled box (what the benchmark scores detections against) holds the drawing.
    box = Image.new("L", size)
    ImageDraw.Draw(box).polygon(shape.corners(), fill=255)
    inside = np.asarray(box) > 127
    assert (ours & inside).sum() / ours.sum() > 0.98


@pytest.mark.parametrize("seed", range(6))
def test_the_independent_generator_labels_the_shapes_it_draws(seed: int) -> None:
    scene = independent_scenes.make_independent_scene(np.random.default_rng(seed))
    assert scene.background in synthetic.BACKGROUNDS
    for shape in scene.shapes:
        assert 0 <= shape.cx <= scene.image.width and 0 <= shape.cy <= scene.image.height
        assert shape.label in synthetic.SHAPES
        assert 0 <= shape.angle < synthetic.PERIOD[shape.label]
    assert max(scene.image.size) <= 2 * min(scene.image.size)


def test_the_training_generator_keeps_a_plain_background_plain() -> None:
    # Uneven light changes brightness by at most 12% across the picture: a plain scene stays
    # near its one colour, which is what tells it from a gradient.
    for seed in range(20):
        scene = synthetic.make_scene(np.random.default_rng(seed), 200, 150, background="plain", max_shapes=0)
        pixels = np.asarray(scene.image, dtype=np.float64)
        spread = pixels.reshape(-1, 3).std(axis=0).max()
        assert spread < 20, (seed, spread)
