"""An image as the pipeline carries it: one or more frames with their durations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from PIL import Image


@dataclass(frozen=True)
class Frames:
    """Still images have one frame and no durations; animations have one duration (ms) per frame."""

    images: list[Image.Image]
    durations: list[int] = field(default_factory=list)
    loop: int = 0

    @property
    def animated(self) -> bool:
        return len(self.images) > 1

    @property
    def first(self) -> Image.Image:
        return self.images[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.images[0].size

    def map(self, transform: Callable[[Image.Image], Image.Image]) -> Frames:
        return replace(self, images=[transform(image) for image in self.images])
