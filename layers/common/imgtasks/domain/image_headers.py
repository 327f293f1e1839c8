"""What a file's bytes say about its size before any decoder allocates pixels, for the formats
whose decoder would otherwise learn it too late:

- GIF: every frame's rectangle. A frame may lie outside the header's canvas, and the decoder
  grows the canvas to hold it (a 368-byte GIF whose second frame sits at 65535,65535 asks for
  4 G pixels); the frames are counted here too without decoding any.
- ICO/CUR: the real size of the entry that is read. The directory says at most 256x256, the PNG
  or bitmap inside may say anything.
- JPEG XL: the codestream's size header. The JPEG XL plugin decodes the whole image when the file
  is opened, so its size must be known before.

Each function reads only the bytes it needs and raises ValueError on bytes that are not what they
claim to be."""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class GifLayout:
    width: int  # the canvas as the decoder will grow it to hold every frame
    height: int
    frames: int  # counted up to the limit asked for, then one more


def gif_layout(data: bytes, *, stop_after: int) -> GifLayout:
    """The canvas and frame count of a GIF, walking its blocks (never its pixels). Stops counting
    after `stop_after` frames; a truncated file ends where its bytes do, as a decoder reads it."""
    if len(data) < 13 or data[:3] != b"GIF":
        raise ValueError("not a GIF")
    width, height, packed = struct.unpack_from("<HHB", data, 6)
    position = 13
    if packed & 0x80:
        position += 3 << ((packed & 7) + 1)
    frames = 0
    while position < len(data) and frames <= stop_after:
        introducer = data[position]
        position += 1
        if introducer == 0x3B:  # trailer
            break
        if introducer == 0x21:  # extension: a label, then data sub-blocks
            position = _skip_sub_blocks(data, position + 1)
        elif introducer == 0x2C:  # image descriptor: left, top, width, height, flags
            if position + 9 > len(data):
                break
            left, top, frame_width, frame_height, flags = struct.unpack_from("<HHHHB", data, position)
            position += 9
            if flags & 0x80:
                position += 3 << ((flags & 7) + 1)
            position = _skip_sub_blocks(data, position + 1)  # after the LZW code size
            frames += 1
            width, height = max(width, left + frame_width), max(height, top + frame_height)
        # Any other byte is skipped, as Pillow's decoder skips it (a 0x2C in the junk after a
        # frame is read as one more frame by it, and so here).
    return GifLayout(width, height, frames)


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while position < len(data):
        size = data[position]
        position += 1 + size
        if size == 0:
            break
    return position


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def icon_entry_size(data: bytes, offset: int) -> tuple[int, int]:
    """The size the image at `offset` of an ICO/CUR file says it has: a PNG's IHDR, or a bitmap's
    info header (whose height counts the colour and the mask rows both)."""
    if data[offset : offset + 8] == _PNG_SIGNATURE:
        width, height = struct.unpack_from(">II", data, offset + 16)
        return width, height
    if offset + 12 > len(data):
        raise ValueError("the icon entry is outside the file")
    width, height = struct.unpack_from("<ii", data, offset + 4)
    return abs(width), abs(height) // 2


_JXL_CODESTREAM = b"\xff\x0a"
_JXL_CONTAINER = b"\x00\x00\x00\x0cJXL \x0d\x0a\x87\x0a"
# The aspect ratios a JPEG XL size header can name instead of a width (ratio 1 to 7).
_JXL_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}


def is_jpeg_xl(data: bytes) -> bool:
    return data.startswith(_JXL_CODESTREAM) or data.startswith(_JXL_CONTAINER)


def jpeg_xl_size(data: bytes) -> tuple[int, int]:
    """Width and height from the SizeHeader that opens a JPEG XL codestream (ISO/IEC 18181-1,
    A.3), found inside the container's jxlc or first jxlp box when there is one."""
    codestream = _jxl_codestream(data)
    if not codestream.startswith(_JXL_CODESTREAM):
        raise ValueError("not a JPEG XL codestream")
    bits = _Bits(codestream[2:18])
    if bits.read(1):  # small: multiples of 8 up to 256
        height = (bits.read(5) + 1) * 8
        ratio = bits.read(3)
        width = (bits.read(5) + 1) * 8 if ratio == 0 else 0
    else:
        height = _jxl_dimension(bits)
        ratio = bits.read(3)
        width = _jxl_dimension(bits) if ratio == 0 else 0
    if ratio:
        numerator, denominator = _JXL_RATIOS[ratio]
        width = height * numerator // denominator
    return width, height


def _jxl_dimension(bits: _Bits) -> int:
    widths = (9, 13, 18, 30)
    return 1 + bits.read(widths[bits.read(2)])


def _jxl_codestream(data: bytes) -> bytes:
    if not data.startswith(_JXL_CONTAINER):
        return data
    position = 0
    while position + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            if position + 16 > len(data):
                break
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        end = len(data) if size == 0 else position + size
        if kind == b"jxlc":
            return data[position + header : end]
        if kind == b"jxlp":
            return data[position + header + 4 : end]  # after the part's index
        if size < header or end <= position:
            break
        position = end
    raise ValueError("no JPEG XL codestream in the container")


class _Bits:
    """Bits read least significant first, as JPEG XL packs them."""

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "little")
        self._available = len(data) * 8
        self._position = 0

    def read(self, count: int) -> int:
        if self._position + count > self._available:
            raise ValueError("the JPEG XL size header is truncated")
        value = (self._value >> self._position) & ((1 << count) - 1)
        self._position += count
        return value
