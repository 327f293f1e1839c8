"""A video's frames as an animation: decoded as a stream, each picked frame turned upright (the
rotation phones record), run through the task's operations and kept at output size only; a frame
shown several times in a row is kept once, with the longer delay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image

from imgtasks.domain.specs import Operation

from ..imaging.animation import merge_repeats
from ..imaging.operations import apply
from .probe import stream_duration_s
from .timeline import Timing, frame_durations_ms, pick, playing_order, target_times

ProgressCallback = Callable[[int], None]


class TooManyFrames(Exception):
    """The output would pass a limit on frames or on pixels x frames."""


@dataclass(frozen=True)
class Animation:
    images: list[Image.Image]
    durations_ms: list[int]


def upright(frame: av.VideoFrame) -> Image.Image:
    image = frame.to_image()
    rotation = round(frame.rotation or 0) % 360
    # The display matrix turns the picture counter-clockwise; PIL's rotate does too.
    return image.rotate(rotation, expand=True) if rotation else image


def render_animation(
    source: str | Path,
    timing: Timing,
    operations: Sequence[Operation],
    *,
    max_frames: int,
    max_pixel_frames: int,
    progress: ProgressCallback | None = None,
) -> Animation:
    report = progress or (lambda _: None)
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration_s = stream_duration_s(container, stream)
        targets = target_times(timing, duration_s)
        if not targets:
            raise ValueError(f"the clip is {duration_s:.2f} s long: nothing at or after start={timing.start_s} s")
        count = len(targets) * (2 if timing.boomerang else 1)
        if count > max_frames:
            raise TooManyFrames(f"the animation would have {count} frames; the limit is {max_frames}")
        picked: list[Image.Image] = []
        pixels = 0
        decoded = ((float(frame.time or 0), frame) for frame in container.decode(stream))
        for frame, times in pick(decoded, targets):
            image = upright(frame)
            for operation in operations:
                image = apply(image, operation)
            pixels += image.width * image.height * times
            if pixels * (2 if timing.boomerang else 1) > max_pixel_frames:
                raise TooManyFrames(f"the animation would pass the limit of {max_pixel_frames} pixels x frames")
            picked.extend([image] * times)
            report(min(90, 10 + 80 * len(picked) // len(targets)))
    order = playing_order(len(picked), reverse=timing.reverse, boomerang=timing.boomerang)
    images, durations = merge_repeats([picked[i] for i in order], frame_durations_ms(len(order), timing.fps))
    return Animation(images, durations)
