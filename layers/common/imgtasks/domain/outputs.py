"""What an output is written as: format, quality and the encoder's options. A process task names
one per output; the engine's encoders (imgtasks_imaging.encode) write them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PlainValidator, WithJsonSchema, model_validator

from imgtasks.domain.base import StrictModel
from imgtasks.domain.operations import Color

# The image formats a task writes (imgtasks.domain.formats, WRITTEN_IMAGE_FORMATS: a test keeps them
# in step), then the video formats.
OutputFormat = Literal["jpeg", "png", "apng", "webp", "gif", "avif", "tiff", "jxl", "mp4", "webm"]
# Formats that are video files: written by FFmpeg's encoders, on the video worker.
CLIP_FORMATS = frozenset({"mp4", "webm"})
QualityWord = Literal["low", "medium", "high"]
# The earlier conversion service's words, as numbers on our 1-100 scale.
QUALITY_WORDS: dict[str, int] = {"low": 40, "medium": 65, "high": 85}


# `auto`: the smallest quality whose output keeps the picture's look (imgtasks_imaging.auto_quality),
# for JPEG, WebP and AVIF stills; other outputs take AUTO_FALLBACK.
AUTO = "auto"
AUTO_FALLBACK = 85


def _quality(value: object) -> int | str:
    """One error for a bad quality, not one per member of the union."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100:
        return value
    if isinstance(value, str) and (value in QUALITY_WORDS or value == AUTO):
        return value
    raise ValueError("must be a number from 1 to 100, or low, medium, high or auto")


Quality = Annotated[
    int | QualityWord | Literal["auto"],
    PlainValidator(_quality),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 100},
                {"type": "string", "enum": [*QUALITY_WORDS, AUTO]},
            ]
        }
    ),
]


class AutoQualityChoice(StrictModel):
    """What `quality: "auto"` chose for an output."""

    quality: int = Field(description="The encoder quality written")
    ssim: float = Field(description="SSIM of the output's luminance against the picture before encoding")
    target: float = Field(description="The SSIM the choice had to keep")
    encodes: int = Field(description="Encodes the search took (at most 4)")


class OutputSpec(StrictModel):
    format: OutputFormat | None = Field(
        default=None,
        description="Default: the input's own format (`jpeg` for HEIC, `png` for BMP, ICO and PSD, `gif` for a "
        "video). `gif`, `webp` and `apng` keep an animation's frames (and a TIFF's pages); the others write its "
        "first frame (`apng` of a still image is a `png`). `mp4` (H.264) and `webm` (VP9, or AV1 with `codec`) "
        "from videos and animations; `jpeg` or `png` from a video is its frame at `frames.start`",
    )
    quality: Quality = Field(
        default=85,
        description="1-100, or low (40), medium (65), high (85), or auto: per picture, the smallest quality whose "
        "output keeps SSIM 0.96 against the picture before encoding (JPEG, WebP and AVIF stills; 85 for the rest)",
    )
    strip_metadata: bool = True
    lossless: bool = Field(default=False, description="WebP and JPEG XL only")
    fast: bool = Field(
        default=False,
        description="Trade size for speed: WebP method 1 instead of 4, PNG level 1 instead of 3, JPEG XL effort 1 "
        "instead of 4",
    )
    background: Color = Field(default="#ffffff", description="Flattens alpha for formats without it")
    dither: Literal["bayer", "floyd_steinberg", "none"] | None = Field(
        default=None,
        description="GIF only. Default: `bayer` for GIFs made from video (one palette for the clip, as FFmpeg's "
        "palettegen/paletteuse), `floyd_steinberg` from images; `bayer` from an image input uses the clip palette too",
    )
    bayer_scale: int = Field(default=2, ge=0, le=5, description="Bayer dither only: 0 is the most visible pattern")
    codec: Literal["vp9", "av1"] | None = Field(default=None, description="WebM video only; default vp9")

    @model_validator(mode="after")
    def _codec_for_webm(self) -> OutputSpec:
        if self.codec is not None and self.format != "webm":
            raise ValueError("codec applies to format webm only")
        return self

    @property
    def quality_number(self) -> int:
        """The encoder quality; for `auto`, the one used where no search is made."""
        if self.quality == AUTO:
            return AUTO_FALLBACK
        return QUALITY_WORDS[self.quality] if isinstance(self.quality, str) else self.quality

    @property
    def needs_ffmpeg(self) -> bool:
        """Written by FFmpeg (the video worker) whatever the input: clips, and clip-palette GIFs."""
        return self.format in CLIP_FORMATS or (self.format == "gif" and self.dither == "bayer")
