"""The imaging engine: decode once, apply operations, encode each output. Pure Pillow, no AWS.

Speed comes from doing less work: JPEGs are decoded at the smallest DCT scale that still covers
the largest output (`draft`), resizes reduce by an integer factor before the final resample
(`reducing_gap`), and variants are made from the shared result, largest first, each from the one
before, so the full-size image is resampled once."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageOps

from imgtasks.errors import PermanentTaskError
from imgtasks.inspection import SUPPORTED_FORMATS
from imgtasks.specs import (
    BlurOperation,
    CropOperation,
    FlipOperation,
    FramesOperation,
    GrayscaleOperation,
    Operation,
    OutputSpec,
    ProcessSpec,
    ResizeOperation,
    RotateOperation,
    SharpenOperation,
)

MAX_OUTPUT_PIXELS = 100_000_000
RESAMPLE = Image.Resampling.LANCZOS
REDUCING_GAP = 2.0


@dataclass(frozen=True)
class Limits:
    max_pixels: int
    max_frames: int


@dataclass(frozen=True)
class Source:
    format: str
    width: int
    height: int
    frames: int
    size: int


@dataclass(frozen=True)
class Rendered:
    name: str
    format: str
    width: int
    height: int
    frames: int
    data: bytes


@dataclass(frozen=True)
class Rendering:
    source: Source
    outputs: list[Rendered]


ProgressCallback = Callable[[int], None]


def _color(hex_color: str) -> tuple[int, int, int, int]:
    value = hex_color.lstrip("#")
    if len(value) == 6:
        value += "ff"
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), int(value[6:8], 16))


# ------------------------------------------------------------------ geometry
def resize_box(width: int, height: int, op: ResizeOperation) -> tuple[int, int]:
    """The size the image is scaled to before any crop (cover) or pad (contain)."""
    target_w, target_h = op.width, op.height
    if op.fit == "fill" and target_w is not None and target_h is not None:
        if not op.upscale:
            return min(target_w, width), min(target_h, height)
        return target_w, target_h
    scales = []
    if target_w is not None:
        scales.append(target_w / width)
    if target_h is not None:
        scales.append(target_h / height)
    scale = max(scales) if op.fit == "cover" else min(scales)
    if not op.upscale:
        scale = min(scale, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize(image: Image.Image, op: ResizeOperation) -> Image.Image:
    new_size = resize_box(image.width, image.height, op)
    if new_size != image.size:
        image = image.resize(new_size, RESAMPLE, reducing_gap=REDUCING_GAP)
    if op.fit == "cover" and op.width and op.height:
        crop_w, crop_h = min(op.width, image.width), min(op.height, image.height)
        left, top = (image.width - crop_w) // 2, (image.height - crop_h) // 2
        image = image.crop((left, top, left + crop_w, top + crop_h))
    elif op.fit == "contain" and op.width and op.height and image.size != (op.width, op.height):
        canvas = Image.new("RGBA", (op.width, op.height), _color(op.background))
        canvas.paste(image.convert("RGBA"), ((op.width - image.width) // 2, (op.height - image.height) // 2))
        image = canvas
    return image


def rotate(image: Image.Image, op: RotateOperation) -> Image.Image:
    degrees = op.clockwise_degrees
    lossless = {90.0: Image.Transpose.ROTATE_270, 180.0: Image.Transpose.ROTATE_180, 270.0: Image.Transpose.ROTATE_90}
    if degrees == 0.0:
        return image
    if degrees in lossless:
        return image.transpose(lossless[degrees])
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    fill = _color(op.background)
    if image.mode == "RGB" and fill[3] < 255:
        image = image.convert("RGBA")
    fillcolor = fill if image.mode in ("RGBA",) else fill[:3] if image.mode == "RGB" else fill[0]
    # Pillow turns counter-clockwise; the API's angles are clockwise.
    return image.rotate(-degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fillcolor)


def crop(image: Image.Image, op: CropOperation) -> Image.Image:
    if op.left >= image.width or op.top >= image.height:
        raise PermanentTaskError(
            "invalid_operation",
            f"crop starts at ({op.left}, {op.top}), outside the {image.width}x{image.height} image",
        )
    return image.crop((op.left, op.top, min(op.left + op.width, image.width), min(op.top + op.height, image.height)))


def grayscale(image: Image.Image) -> Image.Image:
    return image.convert("LA" if _has_alpha(image) else "L")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def apply(image: Image.Image, op: Operation) -> Image.Image:
    if isinstance(op, ResizeOperation):
        return resize(image, op)
    if isinstance(op, RotateOperation):
        return rotate(image, op)
    if isinstance(op, FlipOperation):
        method = Image.Transpose.FLIP_LEFT_RIGHT if op.orientation == "horizontal" else Image.Transpose.FLIP_TOP_BOTTOM
        return image.transpose(method)
    if isinstance(op, CropOperation):
        return crop(image, op)
    if isinstance(op, GrayscaleOperation):
        return grayscale(image)
    if isinstance(op, BlurOperation):
        return _working(image).filter(ImageFilter.GaussianBlur(op.radius))
    if isinstance(op, SharpenOperation):
        return _working(image).filter(ImageFilter.UnsharpMask(op.radius, op.percent, op.threshold))
    if isinstance(op, FramesOperation):
        return image  # timing is applied to the frame sequence, not to a single frame
    raise PermanentTaskError("invalid_operation", f"unknown operation {op!r}")


def _working(image: Image.Image) -> Image.Image:
    """Filters need a true-colour or grey mode."""
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    return image.convert("RGBA" if _has_alpha(image) else "RGB")


# ------------------------------------------------------------------ decode
def open_checked(data: bytes, limits: Limits) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
    except Exception as error:  # Pillow raises many kinds for bad input
        raise PermanentTaskError("invalid_image", "the file is not an image this service can read") from error
    if image.format not in SUPPORTED_FORMATS:
        raise PermanentTaskError("unsupported_format", f"{image.format or 'this'} images are not supported")
    if image.width * image.height > limits.max_pixels:
        raise PermanentTaskError(
            "image_too_large",
            f"the image is {image.width}x{image.height}; the limit is {limits.max_pixels} pixels",
        )
    return image


def _largest_request(spec: ProcessSpec, width: int, height: int) -> tuple[int, int] | None:
    """The smallest size the decoder may deliver and still cover every output, when the first
    operation is a resize (the common case); None when the full image is needed."""
    if not spec.operations or not isinstance(spec.operations[0], ResizeOperation):
        return None
    return resize_box(width, height, spec.operations[0])


def decode(data: bytes, spec: ProcessSpec, limits: Limits) -> tuple[Image.Image, Source]:
    image = open_checked(data, limits)
    source_format = SUPPORTED_FORMATS[image.format or ""]
    source = Source(
        format=source_format,
        width=image.width,
        height=image.height,
        frames=int(getattr(image, "n_frames", 1)),
        size=len(data),
    )
    orientation = image.getexif().get(0x0112, 1)
    if image.format == "JPEG":
        wanted = _largest_request(spec, *_oriented(image.width, image.height, orientation))
        if wanted is not None:
            # draft() decodes at 1/2, 1/4 or 1/8 scale while staying >= the requested size.
            request = wanted if orientation < 5 else (wanted[1], wanted[0])
            image.draft(image.mode if image.mode in ("RGB", "L") else "RGB", request)
    try:
        image.load()
    except Exception as error:
        raise PermanentTaskError("invalid_image", "the image is truncated or corrupt and cannot be decoded") from error
    transposed = ImageOps.exif_transpose(image)
    return (transposed if transposed is not None else image), source


def _oriented(width: int, height: int, orientation: int) -> tuple[int, int]:
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


# ------------------------------------------------------------------ encode
def encode(image: Image.Image, output: OutputSpec, source_format: str) -> tuple[bytes, str]:
    fmt = output.format or source_format
    buffer = io.BytesIO()
    if fmt == "jpeg":
        image = _flatten(image, output.background) if _has_alpha(image) else image
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(buffer, "JPEG", quality=output.quality, optimize=True, progressive=True, **_icc(image, output))
    elif fmt == "png":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1", "I;16"):
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
        image.save(buffer, "PNG", compress_level=3, **_icc(image, output))
    elif fmt == "webp":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if _has_alpha(image) else "RGB")
        image.save(buffer, "WEBP", quality=output.quality, lossless=output.lossless, method=4, **_icc(image, output))
    elif fmt == "gif":
        if image.mode != "P":
            rgb = image.convert("RGBA") if _has_alpha(image) else image.convert("RGB")
            image = rgb.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.FLOYDSTEINBERG)
        image.save(buffer, "GIF", optimize=False)
    else:
        raise PermanentTaskError("invalid_output", f"output format {fmt} is not supported")
    return buffer.getvalue(), fmt


def _flatten(image: Image.Image, background: str) -> Image.Image:
    rgba = image.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, (*_color(background)[:3], 255))
    canvas.alpha_composite(rgba)
    return canvas.convert("RGB")


def _icc(image: Image.Image, output: OutputSpec) -> dict[str, bytes]:
    if output.strip_metadata:
        return {}
    profile = image.info.get("icc_profile")
    return {"icc_profile": profile} if profile else {}


# ------------------------------------------------------------------ the whole job
def render(
    data: bytes,
    spec: ProcessSpec,
    limits: Limits,
    progress: ProgressCallback | None = None,
) -> Rendering:
    """Decodes once, runs the shared operations, then each variant (or the single output)."""
    report = progress or (lambda _: None)
    image, source = decode(data, spec, limits)
    report(30)
    for op in spec.operations:
        image = apply(image, op)
        _check_output_size(image)
    variants = spec.variants or []
    outputs: list[Rendered] = []
    if not variants:
        encoded, fmt = encode(image, spec.output, source.format)
        outputs.append(Rendered("default", fmt, image.width, image.height, 1, encoded))
        report(95)
        return Rendering(source, outputs)
    for index, variant in enumerate(variants):
        result = image
        for op in variant.operations:
            result = apply(result, op)
            _check_output_size(result)
        encoded, fmt = encode(result, variant.output or spec.output, source.format)
        outputs.append(Rendered(variant.name, fmt, result.width, result.height, 1, encoded))
        report(30 + int(65 * (index + 1) / len(variants)))
    return Rendering(source, outputs)


def _check_output_size(image: Image.Image) -> None:
    if image.width * image.height > MAX_OUTPUT_PIXELS:
        raise PermanentTaskError(
            "image_too_large", f"the output would be {image.width}x{image.height}; at most {MAX_OUTPUT_PIXELS} pixels"
        )
