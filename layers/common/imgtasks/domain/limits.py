"""The configured limits on what the service accepts (template parameters MaxUploadBytes,
MaxImagePixels, MaxImageFrames, and the Video* ones)."""

from __future__ import annotations

from dataclasses import dataclass

# Pixels summed over all frames that one animation may hold once decoded (about 400 MB as RGBA):
# an animation over it is refused at upload, and a paged file (TIFF) whose pages are asked for as
# frames is refused by the worker.
MAX_ANIMATION_PIXELS = 100_000_000


@dataclass(frozen=True)
class VideoLimits:
    max_upload_bytes: int
    # The source's duration, and the output's (after start/end, speed and boomerang).
    max_seconds: float
    max_output_seconds: float
    max_output_frames: int
    # Output width x height x frames, summed over a task's outputs: what the worker holds in memory.
    max_output_pixel_frames: int


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int
    max_pixels: int
    max_frames: int
    video: VideoLimits
