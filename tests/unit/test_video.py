"""Video: inspecting files made here with PyAV, the timeline that picks frames, and the renderer,
checked on a clip whose frames show their own index."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.limits import VideoLimits
from imgtasks.domain.video_inspection import InspectedVideo, inspect_video
from imgtasks_imaging.video.timeline import (
    Timing,
    frame_durations_ms,
    pick,
    playing_order,
    target_times,
)

BITS = 8
BLOCK = 24
LIMITS = VideoLimits(
    max_upload_bytes=500 * 2**20,
    max_seconds=3600,
    max_output_seconds=60,
    max_output_frames=1800,
    max_output_pixel_frames=600_000_000,
)


def probe(path: Path, limits: VideoLimits = LIMITS, max_pixels: int = 50_000_000) -> InspectedVideo:
    with path.open("rb") as handle:
        return inspect_video(handle, max_pixels=max_pixels, limits=limits)


def indexed_frame(index: int, size: tuple[int, int]) -> np.ndarray:
    """A frame whose top row of blocks spells its index in binary (big blocks survive the codec)."""
    width, height = size
    image = np.full((height, width, 3), 60, dtype=np.uint8)
    for bit in range(BITS):
        if index >> bit & 1:
            image[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = 255
        else:
            image[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = 0
    return image


def read_index(frame: av.VideoFrame) -> int:
    image = frame.to_ndarray(format="rgb24")
    return sum(1 << bit for bit in range(BITS) if image[BLOCK // 2, bit * BLOCK + BLOCK // 2, 0] > 127)


def make_clip(
    path: Path,
    *,
    frames: int = 90,
    fps: int = 30,
    size: tuple[int, int] = (320, 240),
    codec: str = "libx264",
    rotation: int | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    with av.open(str(path), mode="w", options=options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(indexed_frame(index, size), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("video") / "indexed.mp4")


def test_an_mp4_is_probed_from_its_container_and_first_frame(clip: Path) -> None:
    found = probe(clip)
    info = found.info
    assert (info.container, info.codec, found.width, found.height) == ("mp4", "h264", 320, 240)
    assert (info.fps, found.frames, info.has_audio, info.rotation) == (30.0, 90, False, 0)
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert found.content_type == "video/mp4"


def test_a_webm_without_a_frame_count_gets_an_estimate(tmp_path: Path) -> None:
    found = probe(make_clip(tmp_path / "clip.webm", frames=45, codec="libvpx-vp9"))
    assert (found.info.container, found.info.codec, found.info.frames_estimated) == ("webm", "vp9", True)
    assert found.frames == pytest.approx(45, abs=1)


def test_a_live_recording_without_a_duration_is_measured_from_its_packets(tmp_path: Path) -> None:
    """Recorded as MediaRecorder records (the WebM muxer's live mode: no Duration element, no cues),
    the container says nothing of its length; the packets' times do."""
    recording = make_clip(tmp_path / "recorded.webm", frames=90, codec="libvpx-vp9", options={"live": "1"})
    with av.open(str(recording)) as container:
        assert container.duration is None and container.streams.video[0].duration is None  # as recorded
    found = probe(recording)
    assert found.info.duration == pytest.approx(3.0, abs=0.05)
    assert found.frames == 90 and found.info.fps == pytest.approx(30.0, abs=0.5)
    rendering = render(recording, {"operations": [{"op": "frames", "start": 1, "end": 2, "fps": 10}]})
    assert rendering.outputs[0].frames == 10
    assert shown_indices(rendering.outputs[0].data) == list(range(30, 60, 3))


def test_a_phone_video_is_measured_as_shown_after_its_rotation(tmp_path: Path) -> None:
    found = probe(make_clip(tmp_path / "portrait.mp4", frames=10, size=(320, 240), rotation=90))
    assert found.info.rotation in (90, 270)
    assert (found.width, found.height) == (240, 320)


def audio_only(path: Path) -> Path:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=8000)
        for index in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 8000, index * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_each_kind_of_bad_video_fails_with_its_own_code(tmp_path: Path, clip: Path) -> None:
    whole = clip.read_bytes()
    (tmp_path / "noise.mp4").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 2])  # the index (moov) was at the end
    (tmp_path / "header-only.mp4").write_bytes(whole[:32] + bytes(5000))
    # An AVI whose codec tag names no codec FFmpeg knows.
    (tmp_path / "unknown.avi").write_bytes(
        make_clip(tmp_path / "ffv1.avi", frames=5, codec="ffv1").read_bytes().replace(b"FFV1", b"ZZZZ")
    )
    cases = {
        "noise.mp4": (ErrorCode.INVALID_VIDEO, "not a video this service reads"),
        "cut.mp4": (ErrorCode.INVALID_VIDEO, "truncated or damaged"),
        "header-only.mp4": (ErrorCode.INVALID_VIDEO, "truncated or damaged"),
        "sound.m4a": (ErrorCode.NO_VIDEO_STREAM, "sound only"),
        "unknown.avi": (ErrorCode.UNSUPPORTED_CODEC, "cannot decode"),
        "fast.mkv": (ErrorCode.INVALID_VIDEO, "5000 frames per second"),
    }
    audio_only(tmp_path / "sound.m4a")
    make_clip(tmp_path / "fast.mkv", frames=30, fps=5000)
    for name, (code, message) in cases.items():
        with pytest.raises(PermanentTaskError, match=message) as failure:
            probe(tmp_path / name)
        assert failure.value.code == code, name
    with pytest.raises(PermanentTaskError, match="320x240") as failure:
        probe(clip, max_pixels=320 * 200)
    assert failure.value.code == ErrorCode.IMAGE_TOO_LARGE


def picked(clip: Path, timing: Timing) -> list[int]:
    """The source indices the timeline picks, decoding the clip in order with one frame held."""
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base)
        decoded = ((float(frame.time), frame) for frame in container.decode(stream))
        chosen = [
            read_index(frame) for frame, times in pick(decoded, target_times(timing, duration)) for _ in range(times)
        ]
    return [chosen[i] for i in playing_order(len(chosen), reverse=timing.reverse, boomerang=timing.boomerang)]


def test_start_end_and_fps_pick_every_third_frame_of_the_second_second(clip: Path) -> None:
    assert picked(clip, Timing(start_s=1.0, end_s=2.0, fps=10)) == list(range(30, 60, 3))


def test_speed_two_skips_twice_as_far(clip: Path) -> None:
    assert picked(clip, Timing(start_s=1.0, end_s=2.0, fps=10, speed=2)) == list(range(30, 60, 6))


def test_a_higher_fps_than_the_source_repeats_frames(clip: Path) -> None:
    assert picked(clip, Timing(start_s=0.0, end_s=0.1, fps=50)) == [0, 1, 1, 2, 2]


def test_reverse_and_boomerang_orders(clip: Path) -> None:
    forward = list(range(30, 60, 6))
    assert picked(clip, Timing(start_s=1.0, end_s=2.0, fps=10, speed=2, reverse=True)) == forward[::-1]
    assert picked(clip, Timing(start_s=1.0, end_s=2.0, fps=10, speed=2, boomerang=True)) == [*forward, 48, 42, 36]


def test_the_whole_clip_by_default_and_nothing_past_its_end(clip: Path) -> None:
    assert len(picked(clip, Timing(fps=15))) == 45
    assert target_times(Timing(start_s=5.0), 3.0) == []


def test_gif_delays_keep_time_in_hundredths() -> None:
    assert frame_durations_ms(4, 12.5) == [80, 80, 80, 80]
    fifteen = frame_durations_ms(15, 15)
    assert sum(fifteen) == 1000
    assert set(fifteen) == {60, 70}


def test_timing_refuses_what_cannot_play() -> None:
    for wrong in ({"fps": 0}, {"speed": -1}, {"start_s": 2.0, "end_s": 1.0}):
        with pytest.raises(ValueError):
            Timing(**wrong)  # type: ignore[arg-type]


def moving_frames(count: int, size: tuple[int, int] = (240, 136)) -> list[av.VideoFrame]:
    width, height = size
    frames = []
    for index in range(count):
        image = np.zeros((height, width, 3), np.uint8)
        image[:, :, 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
        image[:, :, 2] = np.linspace(255, 0, height, dtype=np.uint8)[:, None]
        image[30:70, index * 6 : index * 6 + 40] = (250, 250, 40)
        frames.append(av.VideoFrame.from_ndarray(image, format="rgb24"))
    return frames


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / error))


@pytest.mark.parametrize("dither", ["bayer", "floyd_steinberg", "none"])
def test_a_gif_has_every_frame_its_delays_one_palette_and_loops(dither: str) -> None:
    from PIL import Image

    from imgtasks_imaging.video.gif import encode_gif

    frames = moving_frames(20)
    durations = frame_durations_ms(20, 15)
    data = encode_gif(lambda: iter(frames), durations, dither=dither)  # type: ignore[arg-type]
    with Image.open(io.BytesIO(data)) as gif:
        assert (gif.format, gif.n_frames, gif.info.get("loop")) == ("GIF", 20, 0)
        shown = []
        for index in range(gif.n_frames):
            gif.seek(index)
            shown.append(gif.info["duration"])
            if index in (0, 10, 19):
                quality = psnr(np.asarray(gif.convert("RGB")), frames[index].to_ndarray(format="rgb24"))
                assert quality > 28, (dither, index, quality)
    assert shown == durations


def render(clip: Path, spec: dict[str, Any], limits: VideoLimits = LIMITS, **options: Any) -> Any:
    from imgtasks.kinds.process import ProcessSpec
    from imgtasks_imaging.video.render import render_video

    return render_video(clip, ProcessSpec.model_validate(spec), max_pixels=50_000_000, limits=limits, **options)


def decoded(data: bytes) -> list[Any]:
    """The frames of an output as a player shows them (Pillow for GIF and WebP, FFmpeg otherwise)."""
    from PIL import Image

    if data[:3] == b"GIF" or data[8:12] == b"WEBP":
        frames = []
        with Image.open(io.BytesIO(data)) as image:
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                frames.append((image.convert("RGB"), image.info.get("duration", 0)))
        return frames
    with av.open(io.BytesIO(data)) as container:
        return [(frame.to_image(), 0) for frame in container.decode(video=0)]


def shown_indices(data: bytes) -> list[int]:
    return [read_index(av.VideoFrame.from_image(image)) for image, _ in decoded(data)]


def test_start_end_fps_and_grayscale_make_a_gif_of_the_picked_frames(clip: Path) -> None:
    rendering = render(clip, {"operations": [{"op": "frames", "start": 1, "end": 2, "fps": 10}, {"op": "grayscale"}]})
    (output,) = rendering.outputs
    assert (output.format, output.width, output.height, output.frames) == ("gif", 320, 240, 10)
    assert shown_indices(output.data) == list(range(30, 60, 3))
    shown = decoded(output.data)
    assert sum(duration for _, duration in shown) == 1000
    red, green, blue = (np.asarray(shown[3][0])[..., channel].astype(int) for channel in range(3))
    assert np.abs(red - green).max() <= 2 and np.abs(green - blue).max() <= 2  # grey: the palette is grey
    assert (rendering.source.format, rendering.source.frames, rendering.source.duration) == ("mp4", 90, 3.0)


def test_speed_reverse_and_boomerang_play_in_the_promised_order(clip: Path) -> None:
    fast = render(clip, {"operations": [{"op": "frames", "fps": 10, "speed": 2, "end": 2}]}).outputs[0]
    assert shown_indices(fast.data) == list(range(0, 60, 6))
    backwards = render(clip, {"operations": [{"op": "frames", "fps": 10, "end": 1, "reverse": True}]}).outputs[0]
    assert shown_indices(backwards.data) == list(range(27, -1, -3))
    there_and_back = render(clip, {"operations": [{"op": "frames", "fps": 10, "end": 0.5, "boomerang": True}]})
    assert shown_indices(there_and_back.outputs[0].data) == [0, 3, 6, 9, 12, 9, 6, 3]


def test_a_frame_shown_twice_in_a_row_is_kept_once_with_the_longer_delay(clip: Path) -> None:
    output = render(clip, {"operations": [{"op": "frames", "end": 0.1, "fps": 50}]}).outputs[0]
    assert shown_indices(output.data) == [0, 1, 2]
    assert [duration for _, duration in decoded(output.data)] == [20, 40, 40]


def test_the_first_resize_is_done_by_the_scaler_and_the_rest_per_frame(clip: Path) -> None:
    spec = {
        "operations": [
            {"op": "resize", "width": 160, "height": 160, "fit": "cover"},
            {"op": "flip", "orientation": "vertical"},
        ],
        "output": {"format": "webp"},
    }
    output = render(clip, spec).outputs[0]
    assert (output.format, output.width, output.height, output.frames) == ("webp", 160, 160, 45)
    first, _ = decoded(output.data)[0]
    assert first.size == (160, 160)
    # Flipped: the index blocks are at the bottom now, the grey background at the top.
    pixels = np.asarray(first)
    assert pixels[2, 80].mean() == pytest.approx(60, abs=12)


def test_variants_share_one_decode_and_each_writes_its_own_format(clip: Path) -> None:
    spec = {
        "operations": [{"op": "frames", "start": 1, "end": 2}],
        "variants": [
            {"name": "anim", "output": {"format": "webp", "quality": "low"}},
            {"name": "clip", "operations": [{"op": "resize", "width": 100}], "output": {"format": "mp4"}},
            {"name": "vp9", "output": {"format": "webm"}},
            {"name": "poster", "output": {"format": "jpeg"}},
        ],
    }
    outputs = {output.name: output for output in render(clip, spec).outputs}
    assert {name: output.format for name, output in outputs.items()} == {
        "anim": "webp", "clip": "mp4", "vp9": "webm", "poster": "jpeg"
    }  # fmt: skip
    assert (outputs["clip"].width, outputs["clip"].height) == (100, 75)
    assert shown_indices(outputs["poster"].data) == [30]
    assert shown_indices(outputs["vp9"].data)[:3] == [30, 32, 34]
    assert len(decoded(outputs["clip"].data)) == 15


def test_a_portrait_phone_clip_comes_out_upright(tmp_path: Path) -> None:
    portrait = make_clip(tmp_path / "portrait.mp4", frames=10, size=(320, 240), rotation=90)
    plain = render(portrait, {"operations": [{"op": "frames", "fps": 10}]}).outputs[0]
    scaled = render(portrait, {"operations": [{"op": "resize", "width": 120}], "output": {"format": "mp4"}}).outputs[0]
    assert (plain.width, plain.height) == (240, 320)
    assert (scaled.width, scaled.height) == (120, 160)


def test_limits_on_length_frames_and_pixels_fail_with_their_codes(clip: Path) -> None:
    from dataclasses import replace

    cases = [
        (replace(LIMITS, max_output_seconds=1), {}, ErrorCode.VIDEO_TOO_LONG, "limit is 1 s"),
        (replace(LIMITS, max_output_frames=10), {}, ErrorCode.OUTPUT_TOO_LARGE, "45 frames; the limit is 10"),
        (replace(LIMITS, max_output_pixel_frames=320 * 240 * 5), {}, ErrorCode.OUTPUT_TOO_LARGE, "pixels x frames"),
        (replace(LIMITS, max_seconds=2), {}, ErrorCode.VIDEO_TOO_LONG, "the video is 3.0 s long"),
        (LIMITS, {"operations": [{"op": "frames", "start": 5}]}, ErrorCode.INVALID_OPERATION, "after the video ends"),
    ]
    for limits, spec, code, message in cases:
        with pytest.raises(PermanentTaskError, match=message) as failure:
            render(clip, spec, limits)
        assert failure.value.code == code


def test_a_variant_cannot_retime_the_shared_decode(clip: Path) -> None:
    spec = {"variants": [{"name": "slow", "operations": [{"op": "frames", "speed": 0.5}]}]}
    with pytest.raises(PermanentTaskError, match="put frames in the shared operations") as failure:
        render(clip, spec)
    assert failure.value.code == ErrorCode.INVALID_OPERATION


def test_work_that_would_outrun_the_deadline_fails_before_it_does(clip: Path) -> None:
    with pytest.raises(PermanentTaskError, match="longer than a worker may run") as failure:
        render(clip, {}, remaining_s=lambda: 5.0)
    assert failure.value.code == ErrorCode.PROCESSING_TIMEOUT


def test_progress_rises_as_frames_are_written(clip: Path) -> None:
    seen: list[int] = []
    render(clip, {"operations": [{"op": "frames", "fps": 10}]}, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] >= 90
    assert max(b - a for a, b in zip([0, *seen], seen, strict=False)) <= 10


@pytest.mark.parametrize(
    ("kind", "codec", "container"),
    [("mp4", "h264", "mp4"), ("webm", "vp9", "webm"), ("webm-av1", "av1", "webm")],
)
def test_an_animation_becomes_a_clip_with_its_frames_and_timing(
    tmp_path: Path, kind: str, codec: str, container: str
) -> None:
    from imgtasks_imaging.video.clips import encode_clip

    images = [frame.to_image() for frame in moving_frames(12, size=(241, 137))]
    data = encode_clip(images, [100] * 12, kind=kind, quality=85)
    path = tmp_path / f"out.{kind}"
    path.write_bytes(data)
    found = probe(path)
    assert (found.info.container, found.info.codec, found.width, found.height) == (container, codec, 240, 136)
    assert found.info.duration == pytest.approx(1.2, abs=0.11)
    with av.open(str(path)) as opened:
        assert sum(1 for _ in opened.decode(video=0)) == 12


def test_quality_words_and_numbers_map_onto_the_encoders_scale() -> None:
    from imgtasks.domain.outputs import OutputSpec
    from imgtasks_imaging.video.clips import FORMATS, crf
    from imgtasks_imaging.video.gif import palette_colors

    x264 = FORMATS["mp4"]
    assert crf(x264, 100) == 16 and crf(x264, 1) == 40
    high, medium, low = (OutputSpec(quality=word).quality_number for word in ("high", "medium", "low"))  # type: ignore[arg-type]
    assert crf(x264, high) < crf(x264, medium) < crf(x264, low)
    assert (palette_colors(high), palette_colors(medium), palette_colors(low)) == (256, 128, 64)
    with pytest.raises(ValueError):
        crf(x264, 0)


def test_a_clip_palette_gif_keeps_see_through_pixels_see_through() -> None:
    from PIL import Image

    from imgtasks.domain.outputs import OutputSpec
    from imgtasks_imaging.encode import encode
    from imgtasks_imaging.frames import Frames

    pictures = []
    for colour in ((230, 20, 20, 255), (20, 20, 230, 255)):
        picture = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
        picture.paste(colour, (20, 0, 40, 40))
        pictures.append(picture)
    data, fmt, count, _ = encode(Frames(pictures, [100, 100]), OutputSpec(format="gif", dither="bayer"), "gif")
    assert (fmt, count) == ("gif", 2)
    with Image.open(io.BytesIO(data)) as gif:
        for index, expected in enumerate(((230, 20, 20), (20, 20, 230))):
            gif.seek(index)
            shown = gif.convert("RGBA")
            assert shown.getpixel((5, 5))[3] == 0, index  # type: ignore[index]
            assert shown.getpixel((30, 20))[:3] == pytest.approx(expected, abs=16), index  # type: ignore[index]


def colour_tables(gif: bytes) -> tuple[bool, int]:
    """Whether a GIF has a global colour table, and how many of its frames carry a local one."""

    def skip_sub_blocks(at: int) -> int:
        while gif[at]:
            at += gif[at] + 1
        return at + 1

    packed = gif[10]
    at = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    local = 0
    while gif[at] != 0x3B:
        if gif[at] == 0x21:  # an extension: label, then sub-blocks
            at = skip_sub_blocks(at + 2)
            continue
        image_packed = gif[at + 9]
        at += 10
        if image_packed & 0x80:
            local += 1
            at += 3 << ((image_packed & 7) + 1)
        at = skip_sub_blocks(at + 1)  # after the LZW minimum code size
    return bool(packed & 0x80), local


@pytest.mark.parametrize("dither", ["bayer", "floyd_steinberg", "none"])
def test_every_dither_of_a_gif_from_video_uses_one_palette_for_the_clip(clip: Path, dither: str) -> None:
    output = render(clip, {"operations": [{"op": "frames", "fps": 10}], "output": {"dither": dither}}).outputs[0]
    assert output.frames == 30
    assert colour_tables(output.data) == (True, 0)  # one global colour table, none per frame


def test_a_text_watermark_is_on_every_frame_of_a_clip(clip: Path) -> None:
    from imgtasks.kinds.process import ProcessSpec
    from imgtasks_imaging.video.render import render_video

    spec = ProcessSpec.model_validate(
        {
            "operations": [
                {"op": "frames", "end": 0.5, "fps": 10},
                {
                    "op": "overlay",
                    "text": "imgtasks",
                    "color": "#ff00ff",
                    "background": "#ff00ff",
                    "gravity": "north-west",
                },
            ],
            "output": {"format": "gif"},
        }
    )
    (output,) = render_video(clip, spec, max_pixels=50_000_000, limits=LIMITS).outputs
    shown = decoded(output.data)
    assert len(shown) == 5
    for image, _ in shown:
        red, green, blue = np.asarray(image.convert("RGB"))[10, 10].astype(int)
        assert red > 200 and green < 60 and blue > 200  # the magenta box in the corner, on every frame
