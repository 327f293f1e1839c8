"""What a picture looks like in brief, and what its camera said: BlurHash and ThumbHash
placeholders (the `blurhash` package and imgtasks_imaging.thumb_hash, pure Python, on a 16 px copy: both are made
for tiny inputs and decoded to a blur anyway; 100 px gives nearly the same hash at 15 times the
time), the dominant colours (median cut on a 48 px copy), and the EXIF and colour profile's facts
(imgtasks.domain.picture_facts)."""

from __future__ import annotations

import base64
import io
from datetime import datetime
from typing import Any

import blurhash
from PIL import ExifTags, Image

from imgtasks.domain.picture_facts import ColorShare, GpsPosition, PictureLook, PictureMetadata

from .thumb_hash import rgba_to_thumb_hash

HASH_SIDE = 16
COLOR_SIDE = 48
MAX_COLORS = 5
# A colour that covers less of the picture than this is no dominant colour.
MIN_COLOR_SHARE = 0.01


def small_rgba(image: Image.Image, side: int) -> Image.Image:
    """An RGBA copy at most `side` pixels on its long side; reduced by a whole factor first (cheap)
    so the resampling works on a few thousand pixels."""
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    factor = max(1, max(image.width, image.height) // (side * 2))
    small = image.reduce(factor) if factor > 1 else image
    small = small.convert("RGBA")
    small.thumbnail((side, side), Image.Resampling.BOX)
    return small


def _blurhash(rgba: Image.Image) -> str:
    # BlurHash has no transparency: see-through parts count as white, as a page behind them would be.
    rgb = Image.new("RGB", rgba.size, (255, 255, 255))
    rgb.paste(rgba, mask=rgba.getchannel("A"))
    raw = rgb.tobytes()
    pixels = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]
    rows = [pixels[y * rgb.width : (y + 1) * rgb.width] for y in range(rgb.height)]
    return str(blurhash.encode(rows, 4, 3))


def _thumbhash(rgba: Image.Image) -> str:
    return base64.b64encode(rgba_to_thumb_hash(rgba.width, rgba.height, rgba.tobytes())).decode("ascii")


def _colors(small: Image.Image) -> list[ColorShare]:
    """Dominant colours of an RGBA copy about COLOR_SIDE on its long side."""
    raw = small.tobytes()
    opaque = [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 4) if raw[i + 3] >= 128]
    if not opaque:
        return []
    strip = Image.new("RGB", (len(opaque), 1))
    strip.putdata(opaque)
    quantized = strip.quantize(colors=MAX_COLORS, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    counts: dict[str, int] = {}
    for count, index in quantized.getcolors() or []:
        start = int(index) * 3 if isinstance(index, int) else 0  # a palette image's colours are indexes
        red, green, blue = palette[start : start + 3]
        key = f"#{red:02x}{green:02x}{blue:02x}"
        counts[key] = counts.get(key, 0) + count
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return [
        ColorShare(hex=key, share=round(count / len(opaque), 3))
        for key, count in ranked
        if count / len(opaque) >= MIN_COLOR_SHARE
    ]


def look_of(image: Image.Image) -> PictureLook:
    """The placeholders and dominant colours of one picture (an animation's first frame), from one
    small copy of it."""
    medium = small_rgba(image, COLOR_SIDE)
    small = hash_copy(medium)
    return PictureLook(blurhash=_blurhash(small), thumbhash=_thumbhash(small), colors=_colors(medium))


def hash_copy(medium: Image.Image) -> Image.Image:
    """The copy the hashes are made from, from the colours' copy (small_rgba at COLOR_SIDE)."""
    return small_rgba(medium, HASH_SIDE)


# ------------------------------------------------------------------ metadata
def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\x00", "").strip()
    return cleaned[:200] or None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    # Unset rationals read as 0/0 or 2^32 - 1: no value.
    return number if 0 < number < 4_294_967_295 else None


def _taken_at(value: Any, offset: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        taken = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = _text(offset)
    if zone is not None and len(zone) == 6 and zone[0] in "+-" and zone[3] == ":":
        return f"{taken.isoformat()}{zone}"
    return taken.isoformat()


def _degrees(value: Any, reference: Any, negative: str) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not (0 <= minutes < 60 and 0 <= seconds < 60):
        return None
    decimal = degrees + minutes / 60 + seconds / 3600
    return round(-decimal if _text(reference) == negative else decimal, 6)


def _gps(gps: dict[int, Any]) -> GpsPosition | None:
    latitude = _degrees(gps.get(2), gps.get(1), "S")
    longitude = _degrees(gps.get(4), gps.get(3), "W")
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        return None
    altitude = None
    try:
        altitude = round(float(gps[6]), 1) * (-1 if gps.get(5) in (b"\x01", 1) else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        altitude = None
    return GpsPosition(latitude=latitude, longitude=longitude, altitude=altitude)


def _profile_name(icc_profile: bytes | None) -> str | None:
    if not icc_profile:
        return None
    try:
        from PIL import ImageCms

        return _text(ImageCms.ImageCmsProfile(io.BytesIO(icc_profile)).profile.profile_description)
    except (OSError, ValueError, TypeError, ImportError):
        return None


def metadata_of(exif: bytes | None, icc_profile: bytes | None, orientation: int) -> PictureMetadata | None:
    """The camera's facts; None when the file says none. A damaged EXIF block gives what can be read."""
    found: dict[str, Any] = {"color_profile": _profile_name(icc_profile)}
    if 2 <= orientation <= 8:
        found["orientation"] = orientation
    if exif:
        tags = Image.Exif()
        try:
            tags.load(exif)
            details = tags.get_ifd(ExifTags.IFD.Exif)
            gps = tags.get_ifd(ExifTags.IFD.GPSInfo)
        except Exception:
            tags, details, gps = Image.Exif(), {}, {}
        make, model = _text(tags.get(ExifTags.Base.Make)), _text(tags.get(ExifTags.Base.Model))
        # "Canon Canon EOS 5D" reads badly: the model often names the make already.
        found["camera"] = model if make and model and model.startswith(make) else " ".join(filter(None, [make, model]))
        found["lens"] = _text(details.get(ExifTags.Base.LensModel))
        found["taken_at"] = _taken_at(
            details.get(ExifTags.Base.DateTimeOriginal) or tags.get(ExifTags.Base.DateTime),
            details.get(ExifTags.Base.OffsetTimeOriginal),
        )
        if "orientation" not in found and 2 <= int(tags.get(ExifTags.Base.Orientation, 1) or 1) <= 8:
            found["orientation"] = int(tags[ExifTags.Base.Orientation])
        found["f_number"] = _number(details.get(ExifTags.Base.FNumber))
        found["exposure_time"] = _number(details.get(ExifTags.Base.ExposureTime))
        iso = _number(details.get(ExifTags.Base.ISOSpeedRatings))
        found["iso"] = int(iso) if iso is not None else None
        found["focal_length"] = _number(details.get(ExifTags.Base.FocalLength))
        found["gps"] = _gps(dict(gps))
    facts = {key: value for key, value in found.items() if value not in (None, "")}
    return PictureMetadata.model_validate(facts) if facts else None


def exif_without_gps(exif: bytes) -> bytes:
    """The EXIF block with its GPS directory removed (an output that keeps its metadata never
    carries where the picture was taken)."""
    tags = Image.Exif()
    try:
        tags.load(exif)
    except Exception:
        return b""
    if ExifTags.IFD.GPSInfo not in tags:
        return exif
    tags.get_ifd(ExifTags.IFD.Exif)  # loaded, so it is written back where it belongs
    del tags[ExifTags.IFD.GPSInfo]
    return bytes(tags.tobytes())
