"""Video to animation: the engine (imgtasks_imaging.video) against the `ffmpeg` command, in one run,
each job on one core (taskset -c 0) in a process of its own.

    make bench-video      (or: .venv/bin/python bench/video.py)

Makes its own clips with PyAV: 10 s of 1920x1080 and of 1280x720 H.264 at 30 fps, with motion and
gradients. For each: a GIF 480 px wide at 15 fps with bayer dither, by the engine and by ffmpeg's
palettegen/paletteuse recipe (and the same recipe run by PyAV's FFmpeg, `pyav-ff`, which is newer than
Debian's and maps colours differently), and an MP4 of the same frames (libx264, preset medium, same
CRF) by both. Reports time, output bytes, peak memory (the job's max RSS) and quality (PSNR and SSIM of
the output frames against the source frames at output size, LANCZOS). Targets: GIF time <= 1.2x
ffmpeg's, bytes within 10%, SSIM no worse by more than 0.01, peak memory under 300 MB for 1080p.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT / "layers" / "imaging")]

import av  # noqa: E402
from PIL import Image  # noqa: E402

WIDTH = 480
FPS = 15
CRF = 23  # the engine's "medium" for H.264 at quality 60 is close to this; both get the same number


# ------------------------------------------------------------------ clips
def make_clip(path: Path, size: tuple[int, int], seconds: int = 10, fps: int = 30) -> None:
    width, height = size
    x = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for index in range(seconds * fps):
            t = index / fps
            red = 0.5 + 0.5 * np.sin(6 * x + t)
            green = 0.5 + 0.5 * np.cos(5 * y - 0.7 * t)
            blue = 0.5 + 0.5 * np.sin(9 * (x + y) + 1.3 * t)
            image = (np.stack([red + 0 * y, green + 0 * x, blue], axis=-1) * 255).astype(np.uint8)
            cx, cy = int((0.1 + 0.8 * (t / seconds)) * width), int(height / 2 + height / 4 * np.sin(t))
            radius = height // 8
            image[max(0, cy - radius) : cy + radius, max(0, cx - radius) : cx + radius] = (240, 240, 30)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


# ------------------------------------------------------------------ the jobs (each in its own process)
def engine_job(kind: str, source: str, output: str) -> None:
    """The engine as the video worker runs a task: GIF with the default (bayer) dither, MP4 at the
    quality whose CRF is ffmpeg's."""
    from imgtasks.domain.limits import VideoLimits
    from imgtasks.kinds.process import ProcessSpec
    from imgtasks_imaging.video.render import render_video

    output_spec = {"format": "gif"} if kind == "gif" else {"format": "mp4", "quality": _quality_for_crf(CRF)}
    spec = ProcessSpec.model_validate(
        {"operations": [{"op": "resize", "width": WIDTH}, {"op": "frames", "fps": FPS}], "output": output_spec}
    )
    limits = VideoLimits(2**40, 3600, 600, 100_000, 10**12)
    rendering = render_video(Path(source), spec, max_pixels=100_000_000, limits=limits)
    Path(output).write_bytes(rendering.outputs[0].data)


def _quality_for_crf(crf: int) -> int:
    from imgtasks_imaging.video.clips import FORMATS
    from imgtasks_imaging.video.clips import crf as crf_of

    return min(range(1, 101), key=lambda quality: abs(crf_of(FORMATS["mp4"], quality) - crf))


def recipe_job(kind: str, source: str, output: str) -> None:
    """ffmpeg's own GIF recipe (the same filter chain as ffmpeg_command) run by PyAV's FFmpeg, which
    is newer than Debian's: it separates what the library version does to quality (FFmpeg 6 and
    later map colours to the palette in OkLab) from what the engine does."""
    from av.filter import Graph

    del kind  # GIF only
    with av.open(source) as container, av.open(output, "w", format="gif", options={"loop": "0"}) as gif:
        stream = container.streams.video[0]
        graph = Graph()
        buffer = graph.add_buffer(template=stream)
        chain = [graph.add("fps", str(FPS)), graph.add("scale", f"{WIDTH}:-2:flags=lanczos"), graph.add("split")]
        palette = graph.add("palettegen", "stats_mode=full")
        use = graph.add("paletteuse", "dither=bayer:bayer_scale=2:diff_mode=rectangle")
        sink = graph.add("buffersink")
        buffer.link_to(chain[0])
        chain[0].link_to(chain[1])
        chain[1].link_to(chain[2])
        chain[2].link_to(use, 0, 0)
        chain[2].link_to(palette, 1, 0)
        palette.link_to(use, 0, 1)
        use.link_to(sink)
        graph.configure()
        out = gif.add_stream("gif", rate=FPS)
        out.pix_fmt = "pal8"
        mapped = []
        for frame in container.decode(stream):
            buffer.push(frame)
        buffer.push(None)
        while True:
            try:
                mapped.append(sink.pull())
            except (av.error.BlockingIOError, av.error.EOFError):
                break
        out.width, out.height = mapped[0].width, mapped[0].height
        for index, frame in enumerate(mapped):
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            gif.mux(out.encode(frame))
        gif.mux(out.encode(None))


def ffmpeg_command(kind: str, source: str, output: str) -> list[str]:
    scale = f"fps={FPS},scale={WIDTH}:-2:flags=lanczos"
    if kind == "gif":
        palette = "palettegen=stats_mode=full"
        use = "paletteuse=dither=bayer:bayer_scale=2:diff_mode=rectangle"
        graph = f"{scale},split[a][b];[a]{palette}[p];[b][p]{use}"
        return ["ffmpeg", "-v", "error", "-threads", "1", "-i", source, "-vf", graph, "-y", output]
    return [
        "ffmpeg", "-v", "error", "-threads", "1", "-i", source, "-vf", scale,
        "-c:v", "libx264", "-preset", "medium", "-crf", str(CRF), "-pix_fmt", "yuv420p", "-an", "-y", output,
    ]  # fmt: skip


def timed(command: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of the command, pinned to one core, measured from a wrapper."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "started = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True)\n"
        "print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    ran = subprocess.run([sys.executable, "-c", wrapper, *pin, *command], capture_output=True, text=True, check=True)
    seconds, megabytes = ran.stdout.split()
    return float(seconds), float(megabytes)


# ------------------------------------------------------------------ quality
def reference_frames(source: Path) -> list[np.ndarray]:
    from imgtasks_imaging.video.timeline import Timing, pick, target_times

    frames: list[np.ndarray] = []
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        targets = target_times(Timing(fps=FPS), float(stream.duration * stream.time_base))
        decoded = ((float(frame.time), frame) for frame in container.decode(stream))
        for frame, times in pick(decoded, targets):
            image = frame.to_image()
            height = round(image.height * WIDTH / image.width / 2) * 2
            frames += [np.asarray(image.resize((WIDTH, height), Image.Resampling.LANCZOS))] * times
    return frames


def output_frames(path: Path) -> list[np.ndarray]:
    if path.suffix == ".gif":
        frames = []
        with Image.open(path) as gif:
            for index in range(gif.n_frames):
                gif.seek(index)
                frames.append(np.asarray(gif.convert("RGB")))
        return frames
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def luma(image: np.ndarray) -> np.ndarray:
    return image[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def ssim(a: np.ndarray, b: np.ndarray, window: int = 8) -> float:
    """Mean SSIM on luma over non-overlapping 8x8 windows (the constants of Wang et al., 2004)."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    height, width = (min(a.shape[0], b.shape[0]) // window) * window, (min(a.shape[1], b.shape[1]) // window) * window
    x = luma(a)[:height, :width].reshape(height // window, window, width // window, window)
    y = luma(b)[:height, :width].reshape(height // window, window, width // window, window)
    mx, my = x.mean(axis=(1, 3)), y.mean(axis=(1, 3))
    vx, vy = x.var(axis=(1, 3)), y.var(axis=(1, 3))
    cov = ((x - mx[:, None, :, None]) * (y - my[:, None, :, None])).mean(axis=(1, 3))
    return float((((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))).mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    height, width = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    error = np.mean((a[:height, :width, :3].astype(np.float64) - b[:height, :width, :3].astype(np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(error, 1e-9)))


def quality(reference: list[np.ndarray], path: Path) -> tuple[float, float, int]:
    frames = output_frames(path)
    pairs = list(zip(reference, frames, strict=False))[:: max(1, len(frames) // 30)]  # 30 frames spread out
    return (
        sum(psnr(r, f) for r, f in pairs) / len(pairs),
        sum(ssim(r, f) for r, f in pairs) / len(pairs),
        len(frames),
    )


# ------------------------------------------------------------------ the run
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("_job", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._job:  # a job in its own process: <engine|recipe> <gif|mp4> <source> <output>
        job = engine_job if args._job[0] == "engine" else recipe_job
        job(*args._job[1:])
        return 0
    if shutil.which("ffmpeg") is None:
        print("bench/video.py needs the ffmpeg command (Debian: apt-get install ffmpeg; make bench-video does)")
        return 2
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for label, size in (("1080p", (1920, 1080)), ("720p", (1280, 720))):
            source = folder / f"{label}.mp4"
            make_clip(source, size)
            reference = reference_frames(source)
            for kind in ("gif", "mp4"):
                for who in ("engine", "ffmpeg", "pyav-ff") if kind == "gif" else ("engine", "ffmpeg"):
                    output = folder / f"{label}-{who}.{kind}"
                    if who == "engine":
                        command = [sys.executable, __file__, "engine", kind, str(source), str(output)]
                    elif who == "pyav-ff":
                        command = [sys.executable, __file__, "recipe", kind, str(source), str(output)]
                    else:
                        command = ffmpeg_command(kind, str(source), str(output))
                    seconds, megabytes = timed(command)
                    score_psnr, score_ssim, frames = quality(reference, output)
                    rows.append(
                        {
                            "clip": label, "output": kind, "by": who, "seconds": seconds,
                            "bytes": output.stat().st_size, "peak_mb": megabytes,
                            "psnr": score_psnr, "ssim": score_ssim, "frames": frames,
                        }
                    )  # fmt: skip
    print(f"\n{version}; one core each (taskset -c 0); {WIDTH} px wide, {FPS} fps; PyAV {av.__version__}")
    header = ("clip", "out", "by", "s", "x ff", "KB", "x ff", "MB", "PSNR", "SSIM", "frames")
    widths = (-7, -5, -8, 7, 7, 8, 7, 7, 7, 7, 7)
    print("".join(f"{name:<{-w}}" if w < 0 else f"{name:>{w}}" for name, w in zip(header, widths, strict=True)))
    print("-" * 78)
    for row in rows:
        ffmpeg = next(r for r in rows if (r["clip"], r["output"], r["by"]) == (row["clip"], row["output"], "ffmpeg"))
        print(
            f"{row['clip']:<7}{row['output']:<5}{row['by']:<8}{row['seconds']:>7.2f}"
            f"{row['seconds'] / ffmpeg['seconds']:>7.2f}{row['bytes'] / 1024:>8.0f}"
            f"{row['bytes'] / ffmpeg['bytes']:>7.2f}"
            f"{row['peak_mb']:>7.0f}{row['psnr']:>7.2f}{row['ssim']:>7.3f}{row['frames']:>7}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
