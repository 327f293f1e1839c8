"""Video groundwork: probing files made here with PyAV, and the timeline that picks frames, checked
on a clip whose frames show their own index."""

from __future__ import annotations

import io
import wave
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from imgtasks_process.video.probe import NotAVideo, probe
from imgtasks_process.video.timeline import (
    Timing,
    frame_durations_ms,
    pick,
    playing_order,
    target_times,
)

BITS = 8
BLOCK = 24


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
) -> Path:
    with av.open(str(path), mode="w") as container:
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
    info = probe(clip)
    assert (info.container, info.codec, info.width, info.height) == ("mov", "h264", 320, 240)
    assert (info.fps, info.frames, info.has_audio, info.rotation) == (30.0, 90, False, 0)
    assert info.duration_s == pytest.approx(3.0, abs=0.05)


def test_a_webm_without_a_frame_count_gets_an_estimate(tmp_path: Path) -> None:
    info = probe(make_clip(tmp_path / "clip.webm", frames=45, codec="libvpx-vp9"))
    assert (info.container, info.codec, info.frames_estimated) == ("matroska", "vp9", True)
    assert info.frames == pytest.approx(45, abs=1)


def test_a_phone_video_is_measured_as_shown_after_its_rotation(tmp_path: Path) -> None:
    info = probe(make_clip(tmp_path / "portrait.mp4", frames=10, size=(320, 240), rotation=90))
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (240, 320)


def test_what_is_not_a_video_says_so(tmp_path: Path, clip: Path) -> None:
    sound = io.BytesIO()
    with wave.open(sound, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\0\0" * 8000)
    (tmp_path / "sound.wav").write_bytes(sound.getvalue())
    (tmp_path / "noise.mp4").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "cut.mp4").write_bytes(clip.read_bytes()[:4096])
    with pytest.raises(NotAVideo, match="audio only"):
        probe(tmp_path / "sound.wav")
    with pytest.raises(NotAVideo):
        probe(tmp_path / "noise.mp4")
    with pytest.raises(NotAVideo):
        probe(tmp_path / "cut.mp4")


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

    from imgtasks_process.video.gif import encode_gif

    frames = moving_frames(20)
    durations = frame_durations_ms(20, 15)
    data = encode_gif(frames, durations, dither=dither)  # type: ignore[arg-type]
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


def operations(*ops: dict[str, object]) -> list[Any]:
    from imgtasks.domain.specs import ProcessSpec

    return list(ProcessSpec.model_validate({"operations": list(ops)}).operations or [])


def shown_indices(animation: Any) -> list[int]:
    indices = []
    for image in animation.images:
        frame = av.VideoFrame.from_image(image.convert("RGB"))
        indices.append(read_index(frame))
    return indices


def test_picked_frames_go_through_the_operations_at_output_size(clip: Path) -> None:
    from imgtasks_process.video.render import render_animation

    animation = render_animation(
        clip,
        Timing(start_s=1.0, end_s=2.0, fps=10),
        operations({"op": "grayscale"}),
        max_frames=100,
        max_pixel_frames=10_000_000,
    )
    assert shown_indices(animation) == list(range(30, 60, 3))
    assert {image.mode for image in animation.images} == {"L"}
    assert sum(animation.durations_ms) == 1000


def test_a_frame_shown_twice_in_a_row_is_kept_once_with_the_longer_delay(clip: Path) -> None:
    from imgtasks_process.video.render import render_animation

    animation = render_animation(
        clip, Timing(start_s=0.0, end_s=0.1, fps=50), [], max_frames=100, max_pixel_frames=10_000_000
    )
    assert shown_indices(animation) == [0, 1, 2]
    assert animation.durations_ms == [20, 40, 40]


def test_a_portrait_phone_clip_comes_out_upright(tmp_path: Path) -> None:
    from imgtasks_process.video.render import render_animation

    portrait = make_clip(tmp_path / "portrait.mp4", frames=10, size=(320, 240), rotation=90)
    animation = render_animation(portrait, Timing(fps=10), [], max_frames=100, max_pixel_frames=10_000_000)
    assert {image.size for image in animation.images} == {(240, 320)}


def test_limits_on_frames_and_pixels_stop_the_work(clip: Path) -> None:
    from imgtasks_process.video.render import TooManyFrames, render_animation

    with pytest.raises(TooManyFrames, match="frames; the limit is 10"):
        render_animation(clip, Timing(fps=15), [], max_frames=10, max_pixel_frames=10**9)
    with pytest.raises(TooManyFrames, match="pixels x frames"):
        render_animation(clip, Timing(fps=15), [], max_frames=1000, max_pixel_frames=320 * 240 * 5)


@pytest.mark.parametrize(
    ("kind", "codec", "container"),
    [("mp4", "h264", "mov"), ("webm", "vp9", "matroska"), ("webm-av1", "av1", "matroska")],
)
def test_an_animation_becomes_a_clip_with_its_frames_and_timing(
    tmp_path: Path, kind: str, codec: str, container: str
) -> None:
    from imgtasks_process.video.clips import encode_clip

    images = [frame.to_image() for frame in moving_frames(12, size=(241, 137))]
    data = encode_clip(images, [100] * 12, kind=kind, quality="high")
    path = tmp_path / f"out.{kind}"
    path.write_bytes(data)
    info = probe(path)
    assert (info.container, info.codec, info.width, info.height) == (container, codec, 240, 136)
    assert info.duration_s == pytest.approx(1.2, abs=0.11)
    with av.open(str(path)) as opened:
        assert sum(1 for _ in opened.decode(video=0)) == 12


def test_quality_words_and_numbers_map_onto_the_encoders_scale() -> None:
    from imgtasks_process.video.clips import FORMATS, crf

    x264 = FORMATS["mp4"]
    assert crf(x264, 100) == 16 and crf(x264, 1) == 40
    assert crf(x264, "high") < crf(x264, "medium") < crf(x264, "low")
    with pytest.raises(ValueError):
        crf(x264, 0)
