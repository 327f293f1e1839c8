"""The `frames` operation: a time window, a new frame rate, speed, reverse and boomerang, on the
frame sequence of an animated GIF or WebP. Frames are shared, never copied."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace
from itertools import accumulate
from typing import TypeVar

from PIL import Image

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.operations import FramesOperation

from .frames import Frames

Duration = TypeVar("Duration", int, float)

# Browsers show a GIF frame of 0 ms (or under 20 ms) for about 100 ms; count it that way.
DEFAULT_DURATION_MS = 100
MIN_DURATION_MS = 20


def effective_durations(frames: Frames) -> list[int]:
    return [d if d >= MIN_DURATION_MS else DEFAULT_DURATION_MS for d in frames.durations]


def retime(frames: Frames, op: FramesOperation, max_frames: int) -> Frames:
    if not frames.animated:
        return frames  # a still image has no timeline; the other options do not apply
    durations = effective_durations(frames)
    starts = [0, *accumulate(durations)][:-1]
    total = sum(durations)
    window_start = op.start * 1000
    window_end = min(op.end * 1000, total) if op.end is not None else total
    if window_start >= total:
        raise PermanentTaskError(
            ErrorCode.INVALID_OPERATION, f"frames start at {op.start}s, after the animation ends ({total / 1000:.2f}s)"
        )
    picked: list[Image.Image] = []
    picked_durations: list[float] = []
    if op.fps is not None:
        step = 1000 / op.fps
        count = int((window_end - window_start) / step + 0.999)
        if count > max_frames:
            raise PermanentTaskError(
                ErrorCode.IMAGE_TOO_LARGE, f"{count} frames at {op.fps} fps; the limit is {max_frames}"
            )
        for index in range(max(1, count)):
            moment = window_start + index * step
            picked.append(frames.images[bisect_right(starts, moment) - 1])
            picked_durations.append(step)
    else:
        for image, start, duration in zip(frames.images, starts, durations, strict=True):
            end = start + duration
            if end > window_start and start < window_end:
                picked.append(image)
                picked_durations.append(min(end, window_end) - max(start, window_start))
    picked_durations = [d / op.speed for d in picked_durations]
    if op.reverse:
        picked.reverse()
        picked_durations.reverse()
    if op.boomerang and len(picked) > 2:
        picked = picked + picked[-2:0:-1]
        picked_durations = picked_durations + picked_durations[-2:0:-1]
    images, merged = merge_repeats(picked, picked_durations)
    if len(images) > max_frames:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE, f"the result would have {len(images)} frames; the limit is {max_frames}"
        )
    return replace(frames, images=images, durations=[max(MIN_DURATION_MS, round(d)) for d in merged])


def merge_repeats(images: list[Image.Image], durations: Sequence[Duration]) -> tuple[list[Image.Image], list[Duration]]:
    """One frame shown twice in a row is one frame shown for longer (same look, fewer frames)."""
    kept: list[Image.Image] = []
    kept_durations: list[Duration] = []
    for image, duration in zip(images, durations, strict=True):
        if kept and kept[-1] is image:
            kept_durations[-1] += duration
        else:
            kept.append(image)
            kept_durations.append(duration)
    return kept, kept_durations
