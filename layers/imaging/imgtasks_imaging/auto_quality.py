"""`quality: "auto"`: the smallest encoder quality whose output still looks like the picture, found
per picture by a short search (at most AUTO_QUALITY_ENCODES encodes) for JPEG, WebP and AVIF.

"Looks like" is SSIM on luminance (the structural similarity of Wang et al. 2004, as scikit-image
computes it by default: 7x7 uniform windows, sample covariances, K1 0.01, K2 0.03) between the
picture as it goes to the encoder and the encoded bytes decoded again, at full resolution (a picture
over SAMPLED_PIXELS on a sample of its tiles), at least SSIM_TARGET. The
search starts at START_QUALITY, then goes to the bottom of QUALITY_RANGE if that passed (flat
graphics pass there) or the top if it did not, then along the secant between the probes either
side of the target; it writes the lowest quality that passed.
Measured in bench/auto_quality.py."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from .modes import flatten, has_alpha

if TYPE_CHECKING:
    import numpy as np

SSIM_TARGET = 0.96
QUALITY_RANGE = (40, 95)
# The first probe: where photographs at web sizes usually cross the target.
START_QUALITY = 75
AUTO_QUALITY_ENCODES = 4
WINDOW = 7
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


@dataclass(frozen=True)
class AutoQuality:
    data: bytes
    quality: int
    ssim: float
    encodes: int


def _box_means(planes: np.ndarray) -> np.ndarray:
    """The mean of each plane over every WINDOW x WINDOW window lying wholly inside (integral
    images: two running sums per plane, whatever the window)."""
    import numpy as np

    summed = np.pad(planes, ((0, 0), (1, 0), (1, 0))).cumsum(axis=1).cumsum(axis=2)
    w = WINDOW
    total: np.ndarray = summed[:, w:, w:] - summed[:, :-w, w:] - summed[:, w:, :-w] + summed[:, :-w, :-w]
    return total / (w * w)


def ssim(reference: np.ndarray, candidate: np.ndarray) -> float:
    """Mean SSIM of two 8-bit greyscale pictures of one size, over the windows that fit inside
    (scikit-image's `structural_similarity` with its defaults and data_range 255)."""
    import numpy as np

    if reference.shape != candidate.shape:
        raise ValueError(f"pictures of {reference.shape} and {candidate.shape} cannot be compared")
    if min(reference.shape) < WINDOW:
        return 1.0 if np.array_equal(reference, candidate) else 0.0
    x = reference.astype(np.float64)
    y = candidate.astype(np.float64)
    mx, my, xx, yy, xy = _box_means(np.stack([x, y, x * x, y * y, x * y]))
    n = WINDOW * WINDOW
    correction = n / (n - 1)  # sample covariances, as scikit-image's default
    vx = (xx - mx * mx) * correction
    vy = (yy - my * my) * correction
    cxy = (xy - mx * my) * correction
    numerator = (2 * mx * my + _C1) * (2 * cxy + _C2)
    denominator = (mx * mx + my * my + _C1) * (vx + vy + _C2)
    # Over the windows wholly inside, as scikit-image averages (it drops a border of half a window).
    return float((numerator / denominator).mean())


# A larger picture is judged on a sample of its tiles: SSIM is a mean over windows, and a quarter of
# a 1 MP picture's windows, spread over all of it, estimates that mean at a quarter of the cost.
SAMPLED_PIXELS = 262_144
TILE = 64


def sampled_ssim(reference: np.ndarray, candidate: np.ndarray) -> float:
    """SSIM over the whole of a picture up to SAMPLED_PIXELS, else the mean SSIM of TILE x TILE
    tiles picked evenly across it (every k-th tile of each row, shifted from row to row), at full
    resolution."""
    import numpy as np

    height, width = reference.shape
    if height * width <= SAMPLED_PIXELS or min(height, width) < TILE:
        return ssim(reference, candidate)
    rows, columns = height // TILE, width // TILE
    every = math.ceil(height * width / SAMPLED_PIXELS)
    picked = [(r, c) for r in range(rows) for c in range(columns) if (c + r) % every == 0]
    scores = [
        ssim(
            reference[r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE],
            candidate[r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE],
        )
        for r, c in picked
    ]
    return float(np.mean(scores))


def luma(image: Image.Image, background: str) -> np.ndarray:
    """The picture's luminance as a viewer sees it: see-through parts over the background."""
    import numpy as np

    shown = flatten(image, background) if has_alpha(image) else image
    return np.asarray(shown.convert("L"))


def _verdicts(tried: dict[int, tuple[bytes, float]]) -> tuple[list[int], list[int]]:
    """The qualities tried that kept SSIM_TARGET, and those that did not."""
    passing = [q for q, (_, score) in tried.items() if score >= SSIM_TARGET]
    failing = [q for q, (_, score) in tried.items() if score < SSIM_TARGET]
    return passing, failing


def _next_probe(tried: dict[int, tuple[bytes, float]], last: bool) -> int:
    """Where to look next: the secant through the probes either side of the target, rounded up
    and kept strictly inside them. SSIM rises faster toward the top of the range, so the secant
    tends to land short; the last probe goes at least halfway up, where a pass is likelier."""
    low, high = QUALITY_RANGE
    passing, failing = _verdicts(tried)
    floor = max(failing) if failing else low - 1  # the answer is above this
    ceiling = min(passing) if passing else high + 1  # and at most this
    if not passing:
        return high  # nothing passes yet: the top, which nearly always does
    if not failing:
        return low  # everything passes so far: the bottom (flat graphics pass there)
    (q1, s1), (q2, s2) = (floor, tried[floor][1]), (ceiling, tried[ceiling][1])
    guess = q1 + (SSIM_TARGET - s1) * (q2 - q1) / (s2 - s1) if s2 > s1 else (q1 + q2) / 2
    if last:
        guess = max(guess, (q1 + q2) / 2)
    return min(max(math.ceil(guess), floor + 1), ceiling - 1)


def choose_quality(picture: Image.Image, encode_at: Callable[[int], bytes], background: str = "#ffffff") -> AutoQuality:
    """The smallest quality in QUALITY_RANGE whose encoding of `picture` keeps SSIM_TARGET, to
    within what AUTO_QUALITY_ENCODES encodes can tell."""
    reference = luma(picture, background)
    tried: dict[int, tuple[bytes, float]] = {}

    def attempt(quality: int) -> None:
        data = encode_at(quality)
        with Image.open(io.BytesIO(data)) as decoded:
            tried[quality] = (data, sampled_ssim(reference, luma(decoded, background)))

    low, high = QUALITY_RANGE
    attempt(START_QUALITY)
    while len(tried) < AUTO_QUALITY_ENCODES:
        passing, failing = _verdicts(tried)
        if passing and (min(passing) == low or (failing and min(passing) - max(failing) <= 1)):
            break  # the answer is known exactly
        if not passing and high in tried:
            break  # not even the top passes
        # The last encode goes where an answer is sure to be when none passes yet.
        last = len(tried) == AUTO_QUALITY_ENCODES - 1
        attempt(high if not passing and last else _next_probe(tried, last))
    passing, _ = _verdicts(tried)
    chosen = min(passing) if passing else max(tried, key=lambda q: tried[q][1])
    data, score = tried[chosen]
    return AutoQuality(data=data, quality=chosen, ssim=round(score, 5), encodes=len(tried))
