"""Which source frames an animation shows, in what order and for how long.

The output runs at `fps`; output frame k shows the source at `start + k * speed / fps` seconds,
for every such time before `end`. Each of those times is served by the source frame nearest to it
(as FFmpeg's fps filter does), so a decoder can hand frames over one by one, in order, holding
only the one before. `reverse` plays the picked frames backwards; `boomerang` plays them forwards
then backwards, without showing the turning frames twice."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# GIF stores frame delays in hundredths of a second.
GIF_TICK_MS = 10


@dataclass(frozen=True)
class Timing:
    start_s: float = 0.0
    end_s: float | None = None
    fps: float = 15.0
    speed: float = 1.0
    reverse: bool = False
    boomerang: bool = False

    def __post_init__(self) -> None:
        if self.start_s < 0 or self.fps <= 0 or self.speed <= 0:
            raise ValueError("start must be >= 0, fps and speed > 0")
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError("end must be after start")


def target_times(timing: Timing, duration_s: float) -> list[float]:
    """The source times the output frames show, in playing order before reverse/boomerang.
    Empty when the clip ends before `start`."""
    end = duration_s if timing.end_s is None else min(timing.end_s, duration_s)
    if end <= timing.start_s:
        return []
    step = timing.speed / timing.fps
    count = max(1, math.ceil((end - timing.start_s) / step - 1e-9))
    return [timing.start_s + index * step for index in range(count)]


class NearestFrames:
    """Fed the decoded frames' times in order, says how many output frames each one serves: a
    target time goes to the frame nearest to it (the later one on a tie)."""

    def __init__(self, targets: list[float]) -> None:
        self._targets = targets
        self._next = 0
        self._previous: float | None = None

    @property
    def done(self) -> bool:
        return self._next >= len(self._targets)

    def serves(self, previous_time: float, next_time: float | None) -> int:
        """How many targets the frame at previous_time serves, now that the frame after it is at
        next_time (None: it was the last frame)."""
        served = 0
        while self._next < len(self._targets):
            target = self._targets[self._next]
            if next_time is not None and target >= (previous_time + next_time) / 2:
                break
            served += 1
            self._next += 1
        return served


def pick(frames: Iterable[tuple[float, T]], targets: list[float]) -> Iterator[tuple[T, int]]:
    """The decoded frames, given in order as (time, frame), that the targets need, each with how
    many targets it serves. One frame is held back until the next one's time is known; the
    frames are no longer read once every target is served."""
    nearest = NearestFrames(targets)
    held: tuple[float, T] | None = None
    for time, frame in frames:
        if held is not None and (count := nearest.serves(held[0], time)):
            yield held[1], count
        held = (time, frame)
        if nearest.done:
            return
    if held is not None and (count := nearest.serves(held[0], None)):
        yield held[1], count


def playing_order(count: int, *, reverse: bool, boomerang: bool) -> list[int]:
    """Indices of the picked frames in the order they play."""
    forward = list(range(count))
    if reverse:
        forward.reverse()
    if boomerang:
        return forward + forward[-2:0:-1]  # back again, the turning frames shown once
    return forward


def frame_durations_ms(count: int, fps: float, tick_ms: int = GIF_TICK_MS) -> list[int]:
    """Display times in whole ticks whose running sum stays within a tick of count / fps seconds
    (12.5 fps: 80 ms each; 15 fps: 70, 60, 70, 70, 60, 70, ..., not 70 ms each, which runs slow)."""
    durations = []
    shown_ms = 0
    for index in range(1, count + 1):
        due_ms = round(index * 1000 / fps / tick_ms) * tick_ms
        durations.append(max(tick_ms, due_ms - shown_ms))
        shown_ms += durations[-1]
    return durations
