"""One task's imaging: decode once, run the shared operations, then each output.

Speed comes from doing less work (performance.md): JPEGs are decoded at the smallest DCT scale
that covers every output, and variants that start with a fit-inside resize are made largest
first, each from the one before, so the big image is resampled once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.formats import written_format
from imgtasks.domain.operations import FramesOperation, Operation, ResizeOperation
from imgtasks.domain.outputs import AutoQualityChoice, OutputSpec
from imgtasks.domain.picture_facts import PictureLook, PictureMetadata
from imgtasks.kinds.process import ProcessSpec, VariantSpec

from .animation import retime
from .decode import decode
from .encode import ANIMATED_FORMATS, encode
from .facts import COLOR_SIDE, look_of, metadata_of
from .frames import Frames
from .operations import SameWindow, apply, resize, resize_box

MAX_OUTPUT_PIXELS = 100_000_000

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class DecodeLimits:
    max_pixels: int
    max_frames: int


@dataclass(frozen=True)
class Source:
    format: str
    width: int
    height: int
    frames: int
    size: int
    duration: float | None = None  # seconds, for a video
    look: PictureLook | None = None  # placeholders and colours (an image's)
    metadata: PictureMetadata | None = None


@dataclass(frozen=True)
class Rendered:
    name: str
    format: str
    width: int
    height: int
    frames: int
    data: bytes
    look: PictureLook | None = None
    auto_quality: AutoQualityChoice | None = None


@dataclass(frozen=True)
class Rendering:
    source: Source
    outputs: list[Rendered]


def _leading_resize(operations: list[Operation]) -> ResizeOperation | None:
    first = operations[0] if operations else None
    return first if isinstance(first, ResizeOperation) else None


def smallest_needed(spec: ProcessSpec, width: int, height: int) -> tuple[int, int] | None:
    """The smallest upright decode size that loses nothing for any output; None for full size."""
    shared = _leading_resize(spec.operations)
    if shared is not None:
        return resize_box(width, height, shared)
    if spec.operations or not spec.variants:
        return None
    boxes = []
    for variant in spec.variants:
        first = _leading_resize(variant.operations)
        if first is None:
            return None
        boxes.append(resize_box(width, height, first))
    return max(box[0] for box in boxes), max(box[1] for box in boxes)


def keeps_frames(spec: ProcessSpec, source_format: str) -> bool:
    """Whether any output keeps an animation's frames (or a TIFF's pages), or an operation reads
    its timeline: otherwise only the first frame is decoded."""
    operations = [*spec.operations, *(op for variant in spec.variants for op in variant.operations)]
    if any(isinstance(op, FramesOperation) for op in operations):
        return True
    outputs = [variant.output or spec.output for variant in spec.variants] or [spec.output]
    return any((output.format or written_format(source_format)) in ANIMATED_FORMATS for output in outputs)


def _apply(frames: Frames, op: Operation, limits: DecodeLimits) -> Frames:
    if isinstance(op, FramesOperation):
        return retime(frames, op, limits.max_frames)
    place = SameWindow()  # an animation's frames share one crop window
    result = frames.map(lambda image: apply(image, op, place))
    width, height = result.size
    if width * height > MAX_OUTPUT_PIXELS:
        raise PermanentTaskError(
            ErrorCode.IMAGE_TOO_LARGE, f"the output would be {width}x{height}; at most {MAX_OUTPUT_PIXELS} pixels"
        )
    return result


def render(
    data: bytes,
    spec: ProcessSpec,
    limits: DecodeLimits,
    progress: ProgressCallback | None = None,
    on_output: Callable[[Source, Rendered], None] | None = None,
    *,
    describe: bool = True,
) -> Rendering:
    """The outputs of `spec` from `data`; `on_output` is told of each output as soon as it is
    encoded (variants in the order they are made, which is not always the spec's). `describe`:
    work out the source's and outputs' placeholders, colours and metadata (a task's result shows
    them; a render URL's answer is only bytes)."""
    report = progress or (lambda _: None)
    decoded = decode(
        data,
        max_pixels=limits.max_pixels,
        max_frames=limits.max_frames,
        needed=lambda upright: smallest_needed(spec, *upright),
        every_frame=lambda source_format: keeps_frames(spec, source_format),
    )
    width, height = decoded.header.oriented_size
    source = Source(
        decoded.header.format,
        width,
        height,
        decoded.header.frames,
        len(data),
        metadata=metadata_of(decoded.exif, decoded.icc_profile, decoded.header.orientation) if describe else None,
    )
    report(30)
    frames = _apply_all(decoded.frames, spec.operations, limits)

    def describe_source(whole_scaled: Frames | None) -> None:
        """The source's placeholders and colours, once: from the first output that is the whole
        picture scaled down when there is one (alike at the 48 px they are made from, and far
        fewer pixels to reduce than a decoded PNG's: 4-5 ms a task), else from the decoded picture."""
        nonlocal source
        if describe and source.look is None:
            if whole_scaled is not None and max(whole_scaled.size) < 2 * COLOR_SIDE:
                whole_scaled = None  # too small a copy to make the placeholders from
            source = replace(source, look=look_of((whole_scaled or decoded.frames).first))

    def look(result: Frames, operations: list[Operation]) -> PictureLook | None:
        """An output that is the whole picture scaled (fit-inside resizes only) looks as the source
        does: its placeholders and colours are the source's (a few milliseconds saved per output)."""
        if not describe:
            return None
        if all(isinstance(op, ResizeOperation) and op.fit == "inside" for op in operations):
            describe_source(result)
            return source.look
        return look_of(result.first)

    def finish(name: str, result: Frames, output: OutputSpec, operations: list[Operation]) -> Rendered:
        encoded = encode(result, output, source.format, decoded.icc_profile, decoded.exif)
        rendered = Rendered(
            name,
            encoded.format,
            result.size[0],
            result.size[1],
            encoded.frames,
            encoded.data,
            look(result, operations),
            encoded.auto_quality,
        )
        describe_source(None)
        if on_output is not None:
            on_output(source, rendered)
        return rendered

    if not spec.variants:
        rendered = [finish("default", frames, spec.output, spec.operations)]
        report(95)
        return Rendering(source, rendered)

    outputs: dict[str, Rendered] = {}

    def done(variant: VariantSpec, result: Frames) -> None:
        outputs[variant.name] = finish(
            variant.name, result, variant.output or spec.output, [*spec.operations, *variant.operations]
        )
        report(30 + int(65 * len(outputs) / len(spec.variants)))

    # Fit-inside variants largest first, each scaled from the previous one when that one still
    # covers it: the big image is resampled once.
    plan = sorted(
        ((resize_box(*frames.size, op), variant, op) for variant in spec.variants if (op := _fit_inside(variant))),
        key=lambda item: item[0],
        reverse=True,
    )
    previous: Frames | None = None
    for box, variant, op in plan:
        start = previous if previous is not None and _covers(previous.size, box) else frames
        previous = _scale(start, op, box)
        done(variant, _apply_all(previous, variant.operations[1:], limits))
    for variant in spec.variants:
        if _fit_inside(variant) is None:
            done(variant, _apply_all(frames, variant.operations, limits))
    return Rendering(source, [outputs[variant.name] for variant in spec.variants])


def _fit_inside(variant: VariantSpec) -> ResizeOperation | None:
    first = _leading_resize(variant.operations)
    return first if first is not None and first.fit == "inside" else None


def _scale(frames: Frames, op: ResizeOperation, box: tuple[int, int]) -> Frames:
    return frames.map(lambda image: resize(image, op, box))


def _apply_all(frames: Frames, operations: list[Operation], limits: DecodeLimits) -> Frames:
    for op in operations:
        frames = _apply(frames, op, limits)
    return frames


def _covers(size: tuple[int, int], box: tuple[int, int]) -> bool:
    return size[0] >= box[0] and size[1] >= box[1]
