"""ThumbHash (Evan Wallace's placeholder format, https://evanw.github.io/thumbhash/): an encoder
written from the reference implementation, because the PyPI port (`thumbhash` 0.1.2) fails on any
picture with transparency (a precedence slip in its alpha branch). Its output is checked byte for
byte against that package on opaque pictures (tests/integration/test_picture_facts.py).

Rounding is JavaScript's Math.round (halves up), as the reference's; Python's round() would round
halves to even and differ from every other implementation now and then."""

from __future__ import annotations

import math


def _round(value: float) -> int:
    return math.floor(value + 0.5)


def _encode_channel(
    channel: list[float], width: int, height: int, nx: int, ny: int
) -> tuple[float, list[float], float]:
    """The channel's DCT: its mean, the AC terms scaled to 0-1, and their scale."""
    dc, ac, scale = 0.0, [], 0.0
    fx = [0.0] * width
    for cy in range(ny):
        cx = 0
        while cx * ny < nx * (ny - cy):
            for x in range(width):
                fx[x] = math.cos(math.pi / width * cx * (x + 0.5))
            # Summed in the reference's order: a channel that is all but zero (the colour of a grey
            # picture) is scaled up by its tiny maximum, so rounding differences would show.
            value = 0.0
            for y in range(height):
                fy = math.cos(math.pi / height * cy * (y + 0.5))
                for x in range(width):
                    value += channel[x + y * width] * fx[x] * fy
            value /= width * height
            if cx > 0 or cy > 0:
                ac.append(value)
                scale = max(scale, abs(value))
            else:
                dc = value
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * value for value in ac]
    return dc, ac, scale


def rgba_to_thumb_hash(width: int, height: int, rgba: bytes) -> bytes:
    """The ThumbHash of an RGBA picture at most 100x100."""
    if not (0 < width <= 100 and 0 < height <= 100) or len(rgba) != width * height * 4:
        raise ValueError(f"a {width}x{height} RGBA picture of at most 100x100 is needed")
    pixels = width * height
    avg_r = avg_g = avg_b = avg_a = 0.0
    for i in range(pixels):
        alpha = rgba[i * 4 + 3] / 255
        avg_r += alpha / 255 * rgba[i * 4]
        avg_g += alpha / 255 * rgba[i * 4 + 1]
        avg_b += alpha / 255 * rgba[i * 4 + 2]
        avg_a += alpha
    if avg_a:
        avg_r, avg_g, avg_b = avg_r / avg_a, avg_g / avg_a, avg_b / avg_a
    has_alpha = avg_a < pixels
    l_limit = 5 if has_alpha else 7  # fewer luminance terms leave room for the alpha ones
    lx = max(1, _round(l_limit * width / max(width, height)))
    ly = max(1, _round(l_limit * height / max(width, height)))
    lum, p_chan, q_chan, a_chan = [], [], [], []
    for i in range(pixels):
        alpha = rgba[i * 4 + 3] / 255
        # See-through pixels take the average colour, so they do not pull the colours toward black.
        r = avg_r * (1 - alpha) + alpha / 255 * rgba[i * 4]
        g = avg_g * (1 - alpha) + alpha / 255 * rgba[i * 4 + 1]
        b = avg_b * (1 - alpha) + alpha / 255 * rgba[i * 4 + 2]
        lum.append((r + g + b) / 3)
        p_chan.append((r + g) / 2 - b)
        q_chan.append(r - g)
        a_chan.append(alpha)
    l_dc, l_ac, l_scale = _encode_channel(lum, width, height, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(p_chan, width, height, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(q_chan, width, height, 3, 3)
    a_dc, a_ac, a_scale = _encode_channel(a_chan, width, height, 5, 5) if has_alpha else (1.0, [], 1.0)

    landscape = width > height
    header24 = (
        _round(63 * l_dc)
        | (_round(31.5 + 31.5 * p_dc) << 6)
        | (_round(31.5 + 31.5 * q_dc) << 12)
        | (_round(31 * l_scale) << 18)
        | (int(has_alpha) << 23)
    )
    header16 = (
        (ly if landscape else lx) | (_round(63 * p_scale) << 3) | (_round(63 * q_scale) << 9) | (int(landscape) << 15)
    )
    hashed = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    if has_alpha:
        hashed.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
    start = len(hashed)
    terms = [*l_ac, *p_ac, *q_ac, *a_ac]
    hashed.extend([0] * ((len(terms) + 1) // 2))
    for index, value in enumerate(terms):
        hashed[start + (index >> 1)] |= _round(15 * value) << ((index & 1) * 4)
    return bytes(hashed)
