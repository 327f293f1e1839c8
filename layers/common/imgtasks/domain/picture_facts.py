"""What a process task tells about a picture besides its size: placeholders to show while it loads
(BlurHash, ThumbHash), its dominant colours, and the camera's metadata. Worked out by the imaging
engine (imgtasks_imaging.facts) from the pixels and the EXIF it decoded anyway."""

from __future__ import annotations

from pydantic import Field

from imgtasks.domain.base import StrictModel


def _left_out_when_none(value: object) -> bool:
    return value is None


class ColorShare(StrictModel):
    hex: str = Field(pattern=r"^#[0-9a-f]{6}$", examples=["#3a5f8c"])
    share: float = Field(ge=0, le=1, description="The part of the picture's opaque pixels nearest this colour")


class GpsPosition(StrictModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    altitude: float | None = Field(default=None, description="Metres above sea level")


class PictureMetadata(StrictModel):
    """Read from the source's EXIF and colour profile; a field the file does not say is left out.
    Never written into an output: outputs lose their metadata unless `strip_metadata` is false,
    and even then the GPS position is removed."""

    camera: str | None = Field(default=None, exclude_if=_left_out_when_none, examples=["Canon EOS 5D Mark III"])
    lens: str | None = Field(default=None, exclude_if=_left_out_when_none)
    taken_at: str | None = Field(
        default=None,
        exclude_if=_left_out_when_none,
        description="When the picture was taken, ISO 8601; with the offset from UTC when the file says it",
    )
    orientation: int | None = Field(default=None, ge=1, le=8, exclude_if=_left_out_when_none)
    color_profile: str | None = Field(default=None, exclude_if=_left_out_when_none, examples=["sRGB IEC61966-2.1"])
    f_number: float | None = Field(default=None, exclude_if=_left_out_when_none)
    exposure_time: float | None = Field(default=None, exclude_if=_left_out_when_none, description="Seconds")
    iso: int | None = Field(default=None, exclude_if=_left_out_when_none)
    focal_length: float | None = Field(default=None, exclude_if=_left_out_when_none, description="Millimetres")
    gps: GpsPosition | None = Field(
        default=None,
        exclude_if=_left_out_when_none,
        description="Where it was taken; shown to the file's owner only, never written into an output",
    )


class PictureLook(StrictModel):
    """Placeholders and colours of a picture (a still image's, an animation's first frame's)."""

    blurhash: str | None = Field(default=None, exclude_if=_left_out_when_none, description="BlurHash, 4x3 components")
    thumbhash: str | None = Field(
        default=None, exclude_if=_left_out_when_none, description="ThumbHash, base64 (standard alphabet, padded)"
    )
    colors: list[ColorShare] | None = Field(
        default=None,
        exclude_if=_left_out_when_none,
        description="Up to five dominant colours, the most common first",
    )
