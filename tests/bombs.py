"""Decompression bombs, one of each kind, written byte by byte: small files whose headers ask a
decoder for gigabytes, or for a million frames or pages. (Hostile files are the one thing the
tests make themselves: the corpus has some of them too, e.g. Pillow's decompression_bomb*.gif.)"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

# The image data of a 1x1 GIF frame: LZW minimum code size 2, one sub-block, the terminator.
_ONE_PIXEL_GIF_DATA = b"\x02\x02\x44\x01\x00"


def _gif_frame(left: int, top: int, width: int = 1, height: int = 1) -> bytes:
    return b"\x2c" + struct.pack("<HHHHB", left, top, width, height, 0) + _ONE_PIXEL_GIF_DATA


def _gif(width: int, height: int, frames: bytes) -> bytes:
    # A global colour table of 2 entries (black, white), then the frames and the trailer.
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    return b"GIF89a" + screen + frames + b"\x3b"


def gif_frame_far_outside() -> bytes:
    """The file of the issue: 100x100, whose second frame sits at 65535,65535 (the decoder grows
    the canvas to 65536x65536: 4 G pixels)."""
    picture = io.BytesIO()
    Image.new("P", (100, 100), 1).save(picture, "GIF")
    first = picture.getvalue()[:-1]  # without its trailer
    return first + _gif_frame(65535, 65535) + b"\x3b"


def gif_many_frames(count: int = 100_000) -> bytes:
    """A 1x1 GIF of `count` frames (15 bytes each)."""
    return _gif(1, 1, _gif_frame(0, 0) * count)


def png_huge_canvas(side: int = 100_000) -> bytes:
    """A PNG whose header says side x side RGB, with a few bytes of pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x80" * 3 * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def apng_lying_frame_count(frames: int = 1_000_000) -> bytes:
    """A 2-frame APNG whose acTL chunk says it has `frames` frames."""
    picture = io.BytesIO()
    first, second = Image.new("RGB", (16, 16), "red"), Image.new("RGB", (16, 16), "blue")
    first.save(picture, "PNG", save_all=True, append_images=[second])
    data = picture.getvalue()
    at = data.index(b"acTL")
    body = struct.pack(">II", frames, 0)
    return (
        data[: at - 4]
        + struct.pack(">I", 8)
        + b"acTL"
        + body
        + struct.pack(">I", zlib.crc32(b"acTL" + body))
        + data[at + 16 :]
    )


def tiff_deep_pages(pages: int = 20_000) -> bytes:
    """A little-endian TIFF of `pages` 1x1 grey pages, every directory pointing at the next."""
    entries = 9
    ifd_size = 2 + entries * 12 + 4
    pixel_at = 8
    first_ifd = 10  # after the header and the one shared pixel (and a pad byte)
    out = bytearray(b"II*\x00" + struct.pack("<I", first_ifd) + b"\x80\x00")
    for page in range(pages):
        offset = first_ifd + page * ifd_size
        following = offset + ifd_size if page + 1 < pages else 0
        tags = [
            (256, 3, 1, 1),  # width
            (257, 3, 1, 1),  # height
            (258, 3, 1, 8),  # bits per sample
            (259, 3, 1, 1),  # no compression
            (262, 3, 1, 1),  # black is zero
            (273, 4, 1, pixel_at),  # strip offsets
            (277, 3, 1, 1),  # samples per pixel
            (278, 3, 1, 1),  # rows per strip
            (279, 4, 1, 1),  # strip byte counts
        ]
        out += struct.pack("<H", entries)
        for tag, kind, count, value in tags:
            out += struct.pack("<HHII", tag, kind, count, value)
        out += struct.pack("<I", following)
    return bytes(out)


def ico_huge_entry(side: int = 60_000) -> bytes:
    """An icon whose directory says 16x16 and whose embedded PNG says side x side."""
    png = png_huge_canvas(side)
    directory = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(png), 22)
    return directory + png


def jpeg_xl_huge_canvas(side: int = 100_000) -> bytes:
    """A JPEG XL codestream whose size header says side x side (the plugin would decode it all)."""
    bits, count = 0, 0

    def put(value: int, width: int) -> None:
        nonlocal bits, count
        bits |= value << count
        count += width

    put(0, 1)  # not a small size
    put(3, 2)  # the height in 30 bits
    put(side - 1, 30)
    put(0, 3)  # no aspect ratio: the width follows
    put(3, 2)
    put(side - 1, 30)
    return b"\xff\x0a" + bits.to_bytes((count + 7) // 8 + 8, "little")
