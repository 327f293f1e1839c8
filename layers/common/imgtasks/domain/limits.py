"""The configured limits on what the service accepts (template parameters MaxUploadBytes,
MaxImagePixels, MaxImageFrames)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int
    max_pixels: int
    max_frames: int
