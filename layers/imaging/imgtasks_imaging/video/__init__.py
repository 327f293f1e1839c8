"""Video in (PyAV, FFmpeg's libraries): the timeline that picks and times the frames of an
animation, the renderer of a task on a video, and the encoders FFmpeg brings (clip-palette GIF,
MP4, WebM), added to the engine's encoders when this package is imported. Loaded by the video
worker only; the image worker never imports it."""

from __future__ import annotations

from typing import Any

from PIL import Image

from imgtasks.domain.outputs import OutputSpec

from ..encode import CLIP_PALETTE_GIF, ENCODERS
from ..frames import Frames
from ..modes import flatten, has_alpha
from .clips import clip_kind, encode_clip
from .gif import gif_from_images, palette_colors


def _clip(images: list[Image.Image], output: OutputSpec, _: dict[str, Any], frames: Frames) -> bytes:
    flat = [flatten(image, output.background) if has_alpha(image) else image for image in images]
    kind = clip_kind(output.format or "mp4", output.codec)
    return encode_clip(flat, frames.durations, kind=kind, quality=output.quality_number)


def _clip_palette_gif(images: list[Image.Image], output: OutputSpec, _: dict[str, Any], frames: Frames) -> bytes:
    durations = frames.durations if len(images) > 1 else [0]
    colors = palette_colors(output.quality_number)
    return gif_from_images(
        images, durations, dither="bayer", bayer_scale=output.bayer_scale, colors=colors, loop=frames.loop
    )


ENCODERS.update({"mp4": _clip, "webm": _clip, CLIP_PALETTE_GIF: _clip_palette_gif})
