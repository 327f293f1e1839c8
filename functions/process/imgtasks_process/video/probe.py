"""What a video file is, read from its container and its first frame, without decoding the rest:
container, codec, size as shown (after the rotation phones record), duration, frame rate, frame
count (estimated from duration and rate where the container does not say) and whether it has
sound."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO


class NotAVideo(Exception):
    """The file cannot be read as a video; the message says why in a sentence a person can act on."""


@dataclass(frozen=True)
class VideoInfo:
    container: str
    codec: str
    width: int
    height: int
    duration_s: float
    fps: float
    frames: int
    frames_estimated: bool
    has_audio: bool
    rotation: int


def stream_duration_s(container: Any, stream: Any) -> float:
    """The video stream's duration, else the container's (0 when neither says)."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / 1_000_000)
    return 0.0


def probe(source: str | Path | BinaryIO) -> VideoInfo:
    import av

    try:
        container = av.open(source if not isinstance(source, Path) else str(source), mode="r")
    except av.error.FFmpegError as error:
        raise NotAVideo("the file is not a video FFmpeg can read") from error
    with container:
        if not container.streams.video:
            kind = "audio only" if container.streams.audio else "no video stream"
            raise NotAVideo(f"the file has {kind}: there is no picture to turn into frames")
        stream = container.streams.video[0]
        codec = stream.codec_context.codec.canonical_name  # "av1", not the decoder ("libdav1d")
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        duration_s = stream_duration_s(container, stream)
        try:
            first = next(container.decode(stream))
        except (StopIteration, av.error.FFmpegError) as error:
            raise NotAVideo(f"no frame of its {codec} stream could be decoded (truncated or damaged?)") from error
        rotation = round(first.rotation or 0) % 360
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        counted = int(stream.frames or 0)
        frames = counted or max(1, round(duration_s * fps))
        return VideoInfo(
            container=container.format.name.split(",")[0],
            codec=codec,
            width=width,
            height=height,
            duration_s=duration_s,
            fps=fps,
            frames=frames,
            frames_estimated=not counted,
            has_audio=bool(container.streams.audio),
            rotation=rotation,
        )
