"""How one real file is judged: the engine (inspection, then a render) against an independent
reference decoder, pyvips (libvips), or for what the pyvips wheel does not read, Pillow alone
(BMP, ICO, PSD, JPEG XL) and pillow-heif's own 8-bit conversion (HEIC: the wheel's libvips has no
HEVC decoder).

An outcome is `correct` (the engine's output shows what the reference shows), `refused` (a clear
refusal with a catalog code, for a reason the references agree with: a format not read, a file
over the limits, bytes that a strict reference cannot read either) or `defect` (a crash, a picture
that differs, a frame count that differs, or a refusal of a file the references read)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageCms, ImageOps

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.formats import IMAGE_FORMATS
from imgtasks.domain.inspection import TIFF_COMPRESSIONS_NOT_READ, inspect_image, register_heif, register_jpeg_xl
from imgtasks.kinds.process import ProcessSpec
from imgtasks_imaging.pipeline import DecodeLimits, render

MAX_PIXELS = 50_000_000  # MaxImagePixels' default
MAX_FRAMES = 500  # MaxImageFrames' default
LIMITS = DecodeLimits(MAX_PIXELS, MAX_FRAMES)
# Lossless outputs, so that the comparison sees the decoder and not an encoder.
STILL = ProcessSpec.model_validate({"output": {"format": "png"}})
ANIMATED = ProcessSpec.model_validate({"output": {"format": "webp", "lossless": True, "fast": True}})
# Per channel on 0-255, over the whole picture: two decoders of one JPEG differ by about 0.5
# (libjpeg-turbo's IDCT and upsampling), colour management by about 1.
MEAN_TOLERANCE = 3.0
# The share of pixels allowed to differ by more than 48 levels (edges resampled differently).
OUTLIER_SHARE = 0.01
# Pillow's format names of the formats the service reads.
READ_BY_PILLOW_NAME = {name for f in IMAGE_FORMATS.values() for name in f.pillow_names}


@dataclass(frozen=True)
class Outcome:
    kind: str  # correct | refused | defect
    detail: str


def family(path: Path) -> str:
    """The row of the table a file counts in: its extension's format."""
    extension = path.suffix.lower().lstrip(".")
    aliases = {"jpeg": "jpg", "mpo": "jpg", "tiff": "tif", "dib": "bmp", "cur": "ico", "apng": "png"}
    aliases |= {"heif": "heic", "hif": "heic", "avifs": "avif"}
    return aliases.get(extension, extension) or "(none)"


def judge(path: Path) -> Outcome:
    if path.name in KNOWN_DISAGREEMENTS:
        return _known_disagreement(path)
    data = path.read_bytes()
    try:
        info = inspect_image(data, max_pixels=MAX_PIXELS, max_frames=MAX_FRAMES)
        still = render(data, STILL, LIMITS)
    except PermanentTaskError as refusal:
        return _judge_refusal(path, refusal)
    except Exception as crash:
        return Outcome("defect", f"crashed: {crash!r}"[:200])
    reference = reference_still(path)
    if reference is None:
        return Outcome("defect", "read by the engine, by no reference")
    ours = _on_white(Image.open(io.BytesIO(still.outputs[0].data)))
    difference = _difference(ours, reference)
    if difference is not None:
        return Outcome("defect", difference)
    described = f"{info.format} {info.width}x{info.height}" + (f" x{info.frames}" if info.frames > 1 else "")
    if info.frames > 1 and not info.image_format.paged:
        return _judge_animation(path, data, described)
    return Outcome("correct", described)


def _judge_animation(path: Path, data: bytes, described: str) -> Outcome:
    """An animation written back as one: every frame, or a clear refusal of an animation whose
    frames a strict reference cannot read either (its first frame, read above, stays usable)."""
    try:
        animated = render(data, ANIMATED, LIMITS)
    except PermanentTaskError as refusal:
        if refusal.code == ErrorCode.INVALID_IMAGE and not _pillow_reads_every_frame(path):
            return Outcome("refused", f"the animation: {refusal.message}")
        return Outcome("defect", f"the animation refused: {refusal.code.value}: {refusal.message}")
    except Exception as crash:
        return Outcome("defect", f"the animation crashed: {crash!r}"[:200])
    expected = reference_frames(path)
    if expected is not None and animated.outputs[0].frames != expected:
        return Outcome("defect", f"{animated.outputs[0].frames} frames written, the reference has {expected}")
    return Outcome("correct", described)


def _pillow_reads_every_frame(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            for index in range(int(getattr(image, "n_frames", 1))):
                image.seek(index)
                image.load()
        return True
    except Exception:
        return False


# Files where the engine and the references part on purpose, each counted `refused` in the table
# with its reason (the closing note lists them).
KNOWN_DISAGREEMENTS = {
    "unknown_compression_method.png": "IHDR names a compression method PNG does not define; libpng "
    "ignores it, Pillow (and the PNG specification) refuse it",
    "hopper_unknown_pixel_mode.tif": "32-bit unsigned RGB TIFF, a pixel layout Pillow has no mode for",
    "tiff_tiled_jpeg_oob_read.tif": "a fuzzed tile that libtiff in Pillow reports corrupt (the file "
    "tests an out-of-bounds read); libvips' libtiff decodes it",
    "test_extents_transparency.gif": "the second frame lies partly outside the canvas: libnsgif "
    "(pyvips) drops it, Pillow and browsers show it (two frames written)",
}


def _known_disagreement(path: Path) -> Outcome:
    reason = KNOWN_DISAGREEMENTS[path.name]
    data = path.read_bytes()
    try:
        info = inspect_image(data, max_pixels=MAX_PIXELS, max_frames=MAX_FRAMES)
        render(data, ANIMATED if info.frames > 1 else STILL, LIMITS)
    except PermanentTaskError as refusal:
        return Outcome("refused", f"{refusal.code.value}: {refusal.message} ({reason})")
    except Exception as crash:
        return Outcome("defect", f"crashed: {crash!r}"[:200])
    return Outcome("correct", f"{info.format} {info.width}x{info.height} ({reason})")


def _judge_refusal(path: Path, refusal: PermanentTaskError) -> Outcome:
    said = f"{refusal.code.value}: {refusal.message}"
    pillow_name = _pillow_name(path)
    if refusal.code == ErrorCode.UNSUPPORTED_FORMAT:
        if pillow_name not in READ_BY_PILLOW_NAME or _tiff_compression(path) in TIFF_COMPRESSIONS_NOT_READ:
            return Outcome("refused", said)
        return Outcome("defect", f"a format that is read, refused: {said}")
    if refusal.code == ErrorCode.IMAGE_TOO_LARGE:
        return Outcome("refused", said)  # the limits are the service's policy; the bombs tests pin them
    if refusal.code == ErrorCode.INVALID_IMAGE:
        if pillow_name is not None and pillow_name not in READ_BY_PILLOW_NAME:
            return Outcome("refused", said)  # neither read nor worth naming
        if not strict_reference_reads(path):
            return Outcome("refused", said)
        return Outcome("defect", f"refused, but a strict reference reads it: {said}")
    return Outcome("defect", f"refused with an unexpected code: {said}")


def _pillow_name(path: Path) -> str | None:
    register_heif()
    register_jpeg_xl()
    try:
        with Image.open(path) as image:
            return str(image.format)
    except Exception:
        return None


def _tiff_compression(path: Path) -> str | None:
    try:
        with Image.open(path) as image:
            compression = image.info.get("compression") if image.format == "TIFF" else None
            return str(compression) if compression else None
    except Exception:
        return None


def _vips() -> Any:
    import pyvips

    return pyvips


def reference_still(path: Path) -> Image.Image | None:
    """The first frame or page, upright, in sRGB, 8 bits, on white: pyvips where its wheel reads
    the file without an error, else the format's own library (Pillow, pillow-heif)."""
    pillow_name = _pillow_name(path)
    if pillow_name == "HEIF":
        return _heif_reference(path)
    if pillow_name not in ("BMP", "DIB", "ICO", "CUR", "PSD", "JXL"):
        reference = _vips_reference(path)
        if reference is not None:
            return reference
    return _pillow_reference(path)


def _vips_reference(path: Path) -> Image.Image | None:
    pyvips = _vips()
    try:
        image = pyvips.Image.new_from_file(str(path), fail=True).autorot()
        if image.interpretation == "cmyk" and not image.get_typeof("icc-profile-data"):
            return _cmyk_without_profile(_vips_array(image))
        if image.interpretation == "lab":
            return _lab_to_srgb(_vips_array(image.cast("float")))
        if image.get_typeof("icc-profile-data"):
            image = image.icc_transform("srgb", embedded=True, intent="perceptual", depth=8)
        elif image.interpretation in ("grey16", "rgb16"):
            image = image.colourspace("b-w" if image.interpretation == "grey16" else "srgb")
        elif image.interpretation not in ("srgb", "b-w", "multiband"):
            image = image.colourspace("srgb")
        pixels = _vips_array(image)
    except pyvips.Error:
        return None
    return _on_white(_eight_bit_array(pixels, alpha=image.hasalpha()))


def _vips_array(image: Any) -> np.ndarray:
    dtypes = {"uchar": np.uint8, "char": np.int8, "ushort": np.uint16, "short": np.int16, "uint": np.uint32}
    dtypes |= {"int": np.int32, "float": np.float32, "double": np.float64}
    return np.ndarray(
        buffer=image.write_to_memory(),
        dtype=dtypes[image.format],
        shape=(image.height, image.width, image.bands),
    )


def _eight_bit_array(pixels: np.ndarray, alpha: bool) -> Image.Image:
    """Samples of any type as 8 bits, by the rules of the contract: 16-bit unsigned divided by
    257, signed 8-bit offset by 128, wider integers that fit 16 bits as 16-bit ones and others
    stretched from lowest to highest, floats in 0-1 times 255 and others stretched."""
    if pixels.dtype == np.uint8:
        eight = pixels
    elif pixels.dtype == np.int8:
        eight = (pixels.astype(np.int16) + 128).astype(np.uint8)
    else:
        values = pixels.astype(np.float64)
        colour = values[..., : values.shape[2] - 1] if alpha else values
        low, high = float(colour.min()), float(colour.max())
        if pixels.dtype.kind == "f" and low >= 0 and high <= 1:
            scaled = values * 255
        elif pixels.dtype.kind != "f" and low >= 0 and high <= 65535:
            scaled = values / 257
        else:
            scaled = (values - low) * (255 / (high - low)) if high > low else values * 0
            if alpha:
                scaled[..., -1] = values[..., -1] / (257 if high > 255 else 1)
        eight = np.clip(scaled + 0.5, 0, 255).astype(np.uint8)
    bands = eight.shape[2]
    modes = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
    if bands > 4:
        eight, bands = eight[..., :4], 4
    return Image.fromarray(eight[..., 0] if bands == 1 else eight, modes[bands])


def _cmyk_without_profile(cmyk: np.ndarray) -> Image.Image:
    """CMYK with no profile as browsers show it: each of R, G, B = (255 - C)(255 - K) / 255."""
    values = cmyk.astype(np.float64) / (257 if cmyk.dtype == np.uint16 else 1)
    rgb = (255 - values[..., :3]) * (255 - values[..., 3:4]) / 255
    return Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), "RGB")


def _lab_to_srgb(lab: np.ndarray) -> Image.Image:
    """CIE L*a*b* (D65 white, libvips' float L 0-100) to sRGB, by the CIE and IEC 61966-2-1 formulas."""
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    fy = (lightness + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200

    def inverse(f: np.ndarray) -> np.ndarray:
        return np.where(f**3 > 0.008856, f**3, (f - 16 / 116) / 7.787)

    xyz = np.stack([inverse(fx) * 0.95047, inverse(fy), inverse(fz) * 1.08883], axis=-1)
    matrix = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    linear = np.clip(xyz @ matrix.T, 0, 1)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return Image.fromarray(np.clip(srgb * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")


def _pillow_reference(path: Path) -> Image.Image | None:
    try:
        with Image.open(path) as image:
            image.load()
            return _pillow_eight_bit(ImageOps.exif_transpose(image))
    except Exception:
        return None


def _pillow_eight_bit(image: Image.Image) -> Image.Image:
    """A Pillow image, any mode, as sRGB 8 bits on white (its ICC profile applied)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        pixels = np.asarray(image.convert("F") if image.mode == "F" else image.convert("I"))
        if image.mode.startswith("I;16"):
            pixels = pixels.astype(np.uint16)
        image = _eight_bit_array(pixels[..., np.newaxis], alpha=False)
    elif image.mode == "CMYK" and not image.info.get("icc_profile"):
        return _cmyk_without_profile(np.asarray(image))
    profile = image.info.get("icc_profile")
    flat = _on_white(image)
    if profile:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        if source.profile.xcolor_space.strip() == "RGB":
            flat = ImageCms.profileToProfile(flat, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    return flat


def _heif_reference(path: Path) -> Image.Image | None:
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True)
        return _pillow_eight_bit(heif.to_pillow())
    except Exception:
        return None


def reference_frames(path: Path) -> int | None:
    """How many frames the reference shows (pyvips' pages; Pillow's for APNG, which libvips
    reads as its default image)."""
    if _pillow_name(path) == "PNG":
        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    pyvips = _vips()
    try:
        return int(pyvips.Image.new_from_file(str(path), n=-1, fail=False).get_n_pages())
    except pyvips.Error:
        return None


def strict_reference_reads(path: Path) -> bool:
    """Whether a reference reads every pixel of the file without a warning (pyvips with `fail`,
    Pillow without LOAD_TRUNCATED_IMAGES)."""
    pyvips = _vips()
    try:
        pyvips.Image.new_from_file(str(path), fail=True).avg()
        return True
    except pyvips.Error:
        pass
    if _pillow_name(path) == "HEIF":
        return _heif_reference(path) is not None
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except Exception:
        return False


def _on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    canvas.alpha_composite(rgba)
    return canvas.convert("RGB")


def _difference(ours: Image.Image, reference: Image.Image) -> str | None:
    if ours.size != reference.size:
        return f"{ours.size[0]}x{ours.size[1]}, the reference is {reference.size[0]}x{reference.size[1]}"
    delta = np.abs(np.asarray(ours, dtype=np.int16) - np.asarray(reference, dtype=np.int16))
    mean = float(delta.mean())
    outliers = float((delta.max(axis=2) > 48).mean())
    if mean > MEAN_TOLERANCE or outliers > OUTLIER_SHARE:
        return f"differs from the reference: mean {mean:.1f}, {outliers:.1%} of pixels by more than 48"
    return None


def corpus_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.name.startswith("."))
