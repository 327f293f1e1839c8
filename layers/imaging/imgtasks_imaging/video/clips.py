"""An animation as a video file: MP4 (H.264) and WebM (VP9 or AV1), through PyAV's encoders.
Frames keep their own durations (timestamps in milliseconds), so merged repeats and GIF-like
timing survive. 4:2:0 chroma needs even sides: an odd width or height loses its last pixel."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

import av
from PIL import Image

MILLISECONDS = Fraction(1, 1000)
# SVT-AV1 prints a banner of twenty lines to stderr for every clip unless told to keep to errors.
os.environ.setdefault("SVT_LOG", "1")


@dataclass(frozen=True)
class ClipFormat:
    container: str
    codec: str
    crf_best: int  # the constant-rate factor for quality 100
    crf_worst: int  # ... and for quality 1
    options: tuple[tuple[str, str], ...] = ()


FORMATS = {
    "mp4": ClipFormat("mp4", "libx264", 16, 40, (("preset", "medium"), ("movflags", "+faststart"))),
    "webm": ClipFormat("webm", "libvpx-vp9", 20, 55, (("b", "0"), ("row-mt", "1"), ("deadline", "good"))),
    "webm-av1": ClipFormat("webm", "libsvtav1", 22, 55, (("preset", "8"),)),
}


def crf(clip_format: ClipFormat, quality: int) -> int:
    """Quality 1-100 as the encoder's constant-rate factor (lower is better)."""
    if not 1 <= quality <= 100:
        raise ValueError("quality is 1-100")
    span = clip_format.crf_worst - clip_format.crf_best
    return round(clip_format.crf_worst - span * (quality - 1) / 99)


def clip_kind(fmt: str, codec: str | None) -> str:
    """The FORMATS key of an output format and codec (webm with codec av1 is "webm-av1")."""
    return "webm-av1" if fmt == "webm" and codec == "av1" else fmt


def encode_clip(
    images: Sequence[Image.Image], durations_ms: Sequence[int], kind: str = "mp4", quality: int = 65
) -> bytes:
    if not images or len(images) != len(durations_ms):
        raise ValueError("one duration per frame, and at least one frame")
    clip_format = FORMATS[kind]
    width, height = images[0].width // 2 * 2, images[0].height // 2 * 2
    if width < 2 or height < 2:
        raise ValueError("a video needs at least 2x2 pixels")
    output = io.BytesIO()
    with av.open(output, "w", format=clip_format.container) as container:
        # The nominal rate (encoders plan with it; SVT-AV1 takes at most 240); the timestamps in
        # milliseconds carry each frame's own duration.
        typical_ms = sorted(durations_ms)[len(durations_ms) // 2]
        rate = max(1, min(240, round(1000 / max(1, typical_ms))))
        stream = cast(av.VideoStream, container.add_stream(clip_format.codec, rate=rate))
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = MILLISECONDS
        stream.codec_context.time_base = MILLISECONDS
        stream.options = {**dict(clip_format.options), "crf": str(crf(clip_format, quality))}
        shown = 0
        for image, duration in zip(images, durations_ms, strict=True):
            picture = image.convert("RGB")
            if picture.size != (width, height):
                picture = picture.crop((0, 0, width, height))
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            frame.pts = shown
            frame.time_base = MILLISECONDS
            shown += duration
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return output.getvalue()
