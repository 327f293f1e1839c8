"""A real RGB display profile other than sRGB, built byte by byte (ICC v2: colorants, white point
and gamma curves), for tests of colour management: Pillow can only make sRGB, LAB and XYZ ones."""

from __future__ import annotations

import struct

D50 = (0.9642, 1.0, 0.8249)
# Adobe RGB (1998), its colorants adapted to D50 as the ICC's connection space wants them.
ADOBE_RGB = ((0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446))


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(values: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in values)


def _curve(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _description(text: str) -> bytes:
    ascii_text = text.encode() + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67


def rgb_profile(name: str = "Adobe RGB (test)", colorants: tuple = ADOBE_RGB, gamma: float = 2.2) -> bytes:
    tags = [
        (b"desc", _description(name)),
        (b"wtpt", _xyz(D50)),
        (b"rXYZ", _xyz(colorants[0])),
        (b"gXYZ", _xyz(colorants[1])),
        (b"bXYZ", _xyz(colorants[2])),
        (b"rTRC", _curve(gamma)),
        (b"gTRC", _curve(gamma)),
        (b"bTRC", _curve(gamma)),
        (b"cprt", b"text\0\0\0\0" + b"no copyright, test data\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        padded = body + b"\0" * (-len(body) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += padded
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + b"".join(_s15(v) for v in D50)
        + b"\0" * 4
        + b"\0" * 16
        + b"\0" * 28
    )
    assert len(header) == 128, len(header)
    return header + struct.pack(">I", len(tags)) + table + data
