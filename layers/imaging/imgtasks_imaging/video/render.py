"""A process task on a video: decoded once as a stream, the picked frames scaled by FFmpeg straight
from the decoder's pixels to the size the first resize asks for, turned upright (the rotation
phones record), run through the shared operations and then each output's, and kept at output
size only; then each output encoded: GIF with one palette for the clip, animated WebP, MP4/WebM,
or one still (JPEG/PNG: the frame at `start`).

Timing comes from the shared `frames` operation (default: 15 fps, the whole clip); a variant
cannot retime, since every output is made from the same decoded frames."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.limits import VideoLimits
from imgtasks.domain.operations import FramesOperation, Operation, ResizeOperation
from imgtasks.domain.outputs import OutputSpec
from imgtasks.domain.video_inspection import InspectedVideo, inspect_video
from imgtasks.kinds.process import ProcessSpec

from ..animation import merge_repeats
from ..encode import encode
from ..frames import Frames
from ..operations import FrameByFrame, SameWindow, resize, resize_box
from ..pipeline import Rendered, Rendering, Source
from .gif import gif_from_images, palette_colors
from .timeline import Timing, frame_durations_ms, pick, playing_order, target_times

DEFAULT_FPS = 15.0
STILL_FORMATS = ("jpeg", "png")
# What is left for encoding and storing when decoding stops: this much, plus half the time
# decoding took (encoding the held frames costs less than decoding the clip did).
DEADLINE_RESERVE_S = 10.0

ProgressCallback = Callable[[int], None]
RemainingSeconds = Callable[[], float]


@dataclass(frozen=True)
class Output:
    name: str
    operations: list[Operation]
    spec: OutputSpec

    @property
    def format(self) -> str:
        return self.spec.format or "gif"


def _timing(spec: ProcessSpec) -> tuple[Timing, list[Operation]]:
    """The shared frames operation as a Timing, and the per-frame operations."""
    retimes = [op for op in spec.operations if isinstance(op, FramesOperation)]
    if len(retimes) > 1:
        raise PermanentTaskError(ErrorCode.INVALID_OPERATION, "a video task takes one frames operation")
    for variant in spec.variants:
        if any(isinstance(op, FramesOperation) for op in variant.operations):
            raise PermanentTaskError(
                ErrorCode.INVALID_OPERATION,
                f"variant '{variant.name}' retimes the video: put frames in the shared operations (every output "
                "is made from the same decoded frames)",
            )
    frames = retimes[0] if retimes else FramesOperation(op="frames")
    timing = Timing(
        start_s=frames.start,
        end_s=frames.end,
        fps=frames.fps or DEFAULT_FPS,
        speed=frames.speed,
        reverse=frames.reverse,
        boomerang=frames.boomerang,
    )
    return timing, [op for op in spec.operations if not isinstance(op, FramesOperation)]


def _outputs(spec: ProcessSpec) -> list[Output]:
    if not spec.variants:
        return [Output("default", [], spec.output)]
    return [Output(v.name, list(v.operations), v.output or spec.output) for v in spec.variants]


class FrameShaper:
    """A decoded frame to the upright picture the operations expect. When the first operation is
    a resize, FFmpeg's scaler goes from the decoder's YUV to RGB at the resize's size in one step
    (Lanczos, as FFmpeg's own recipe scales): the full-size picture is never made."""

    def __init__(self, video: InspectedVideo, operations: list[Operation]) -> None:
        self.rotation = video.info.rotation
        self.scaled_to: tuple[int, int] | None = None
        self.first_resize: ResizeOperation | None = None
        self.first_resize_window = SameWindow()
        first = operations[0] if operations else None
        if isinstance(first, ResizeOperation):
            self.scaled_to = resize_box(video.width, video.height, first)
            self.first_resize = first
            operations = operations[1:]
        self.rest = FrameByFrame(operations)

    def __call__(self, frame: av.VideoFrame) -> Image.Image:
        if self.scaled_to is not None:
            width, height = self.scaled_to
            if self.rotation in (90, 270):  # the stored picture is on its side
                width, height = height, width
            if (width, height) != (frame.width, frame.height):
                frame = frame.reformat(width=width, height=height, format="rgb24", interpolation="LANCZOS")
        image = frame.to_image()  # type: ignore[no-untyped-call]
        if self.rotation:
            # The display matrix turns the picture counter-clockwise; so does PIL's rotate.
            image = image.rotate(self.rotation, expand=True)
        if self.first_resize is not None:
            # A cover crop or contain pad; no rescale.
            image = resize(image, self.first_resize, self.scaled_to, self.first_resize_window)
        return self.rest(image)


def _decoded(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[tuple[float, av.VideoFrame]]:
    try:
        for frame in container.decode(stream):
            yield float(frame.time or 0.0), frame
    except av.error.FFmpegError as error:
        raise PermanentTaskError(
            ErrorCode.INVALID_VIDEO, "the video is damaged past its first frames and cannot be decoded"
        ) from error


def render_video(
    path: Path,
    spec: ProcessSpec,
    *,
    max_pixels: int,
    limits: VideoLimits,
    progress: ProgressCallback | None = None,
    remaining_s: RemainingSeconds | None = None,
) -> Rendering:
    report = progress or (lambda _: None)
    with path.open("rb") as handle:
        video = inspect_video(handle, max_pixels=max_pixels, limits=limits)
    timing, shared = _timing(spec)
    outputs = _outputs(spec)
    stills_only = all(output.format in STILL_FORMATS for output in outputs)

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        duration_s = video.info.duration  # the inspection's: live recordings' containers do not say
        targets = target_times(timing, duration_s)
        if not targets:
            raise PermanentTaskError(
                ErrorCode.INVALID_OPERATION,
                f"frames start at {timing.start_s:g} s, after the video ends ({duration_s:.2f} s)",
            )
        if stills_only:
            targets = targets[:1]
        _check_length(len(targets), timing, limits)
        shaper = FrameShaper(video, shared)
        per_output = {output.name: FrameByFrame(output.operations) for output in outputs}
        held: dict[str, list[Image.Image]] = {output.name: [] for output in outputs}
        pixel_frames = 0
        served = 0
        started = time.monotonic()
        for frame, times in pick(_decoded(container, stream), targets):
            if remaining_s is not None:
                _check_deadline(remaining_s(), time.monotonic() - started)
            picture = shaper(frame)
            for output in outputs:
                result = per_output[output.name](picture)
                held[output.name].extend([result] * times)
                pixel_frames += result.width * result.height * times * (2 if timing.boomerang else 1)
            if pixel_frames > limits.max_output_pixel_frames:
                raise PermanentTaskError(
                    ErrorCode.OUTPUT_TOO_LARGE,
                    f"the outputs would pass {limits.max_output_pixel_frames} pixels x frames (width x height x "
                    "frames, summed); ask for a smaller size, fewer frames per second or a shorter window",
                )
            served += times
            report(5 + 80 * served // len(targets))
    if not served:
        raise PermanentTaskError(ErrorCode.INVALID_VIDEO, "no frame of the video could be decoded")

    source = Source(
        video.info.container, video.width, video.height, video.frames, path.stat().st_size, video.info.duration
    )
    rendered = []
    for index, output in enumerate(outputs):
        rendered.append(_encode(output, held.pop(output.name), timing))
        report(85 + 10 * (index + 1) // len(outputs))
    return Rendering(source, rendered)


def _check_length(count: int, timing: Timing, limits: VideoLimits) -> None:
    frames = count * 2 - 2 if timing.boomerang and count > 2 else count
    seconds = frames / timing.fps
    if seconds > limits.max_output_seconds:
        raise PermanentTaskError(
            ErrorCode.VIDEO_TOO_LONG,
            f"the output would play for {seconds:.1f} s; the limit is {limits.max_output_seconds:g} s (shorten it "
            "with frames.end, or raise frames.speed)",
        )
    if frames > limits.max_output_frames:
        raise PermanentTaskError(
            ErrorCode.OUTPUT_TOO_LARGE,
            f"the output would have {frames} frames; the limit is {limits.max_output_frames} (lower frames.fps)",
        )


def _check_deadline(remaining: float, decoding_s: float) -> None:
    if remaining < DEADLINE_RESERVE_S + decoding_s / 2:
        raise PermanentTaskError(
            ErrorCode.PROCESSING_TIMEOUT,
            "the video would take longer than a worker may run; ask for less (a shorter window with frames.start "
            "and frames.end, a lower frames.fps, a smaller size)",
        )


def _encode(output: Output, pictures: list[Image.Image], timing: Timing) -> Rendered:
    fmt = output.format
    if fmt in STILL_FORMATS:
        frames = Frames(pictures[:1])
    else:
        order = playing_order(len(pictures), reverse=timing.reverse, boomerang=timing.boomerang)
        images, durations = merge_repeats([pictures[i] for i in order], frame_durations_ms(len(order), timing.fps))
        if len(images) == 1:  # one picture held for the whole clip: still two frames, so it stays a clip
            images, durations = images * 2, [max(10, durations[0] // 2)] * 2
        frames = Frames(images, durations, loop=0)
    width, height = frames.size
    if fmt == "gif":
        # Whatever the dither, one palette for the whole clip: a per-frame quantiser flickers.
        spec = output.spec
        data = gif_from_images(
            frames.images,
            frames.durations,
            dither=spec.dither or "bayer",
            bayer_scale=spec.bayer_scale,
            colors=palette_colors(spec.quality_number),
        )
        return Rendered(output.name, "gif", width, height, len(frames.images), data)
    data, written_format, count, _ = encode(frames, output.spec.model_copy(update={"format": fmt}), fmt)
    return Rendered(output.name, written_format, width, height, count, data)
