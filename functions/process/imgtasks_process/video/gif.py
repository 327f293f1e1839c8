"""Animated GIF the way FFmpeg's best recipe makes it: one palette made for the whole clip
(palettegen over every frame), then each frame mapped onto it (paletteuse) with the chosen dither,
only the rectangle that changed stored per frame. A per-frame quantiser would give each frame its
own palette and the colours would flicker.

Frames arrive at output size (rgb24), so holding them for the two passes costs output pixels only."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import Any, Literal

import av
from av.filter import Graph

Dither = Literal["bayer", "floyd_steinberg", "none"]
GIF_TIME_BASE = Fraction(1, 100)


def _drain(sink: Any) -> Iterator[av.VideoFrame]:
    while True:
        try:
            yield sink.pull()
        except (av.error.BlockingIOError, av.error.EOFError):
            return


def clip_palette(frames: Sequence[av.VideoFrame], colors: int = 256) -> av.VideoFrame:
    graph = Graph()
    source = graph.add_buffer(template=frames[0], time_base=GIF_TIME_BASE)
    generate = graph.add("palettegen", f"max_colors={colors}:stats_mode=full")
    sink = graph.add("buffersink")
    source.link_to(generate)
    generate.link_to(sink)
    graph.configure()
    for frame in frames:
        source.push(frame)
    source.push(None)
    return next(_drain(sink))


def encode_gif(
    frames: Sequence[av.VideoFrame],
    durations_ms: Sequence[int],
    *,
    dither: Dither = "bayer",
    bayer_scale: int = 2,
    colors: int = 256,
    loop: int = 0,
) -> bytes:
    """The frames (rgb24, one size) as a GIF showing each for its duration; loop 0 plays for ever."""
    if not frames or len(frames) != len(durations_ms):
        raise ValueError("one duration per frame, and at least one frame")
    palette = clip_palette(frames, colors)
    options = f"dither={dither}:diff_mode=rectangle"
    if dither == "bayer":
        options += f":bayer_scale={bayer_scale}"
    graph = Graph()
    pictures = graph.add_buffer(template=frames[0], time_base=GIF_TIME_BASE)
    palette_in = graph.add_buffer(template=palette, time_base=GIF_TIME_BASE)
    use = graph.add("paletteuse", options)
    sink = graph.add("buffersink")
    pictures.link_to(use, 0, 0)
    palette_in.link_to(use, 0, 1)
    use.link_to(sink)
    graph.configure()
    palette_in.push(palette)
    palette_in.push(None)
    output = io.BytesIO()
    with av.open(output, "w", format="gif", options={"loop": str(loop)}) as container:
        stream = container.add_stream("gif", rate=100)
        stream.width, stream.height = frames[0].width, frames[0].height
        stream.pix_fmt = "pal8"
        stream.time_base = GIF_TIME_BASE
        shown = 0
        mapped: list[av.VideoFrame] = []
        for frame in frames:
            pictures.push(frame)
            mapped.extend(_drain(sink))
        pictures.push(None)
        mapped.extend(_drain(sink))
        for frame, duration in zip(mapped, durations_ms, strict=True):
            frame.pts = shown // 10
            frame.time_base = GIF_TIME_BASE
            shown += duration
            for packet in stream.encode(frame):
                packet.duration = duration // 10  # the last frame's delay has no next frame to come from
                container.mux(packet)
        container.mux(stream.encode(None))
    return output.getvalue()
