"""The imaging engine's speed and memory against naive Pillow and pyvips, in one run on one core.

    make bench            (or: .venv/bin/python bench/engine.py [--runs 7])

Builds its own corpus (12 MP photo-like JPEGs, a 12 MP HEIC like an iPhone's, a 2 MP PNG, a
30-frame 480x270 GIF), then for each job times the engine (the code the process function runs), a
naive Pillow baseline doing the same work (open, convert, LANCZOS resize per output, save) and
pyvips (`thumbnail_buffer`). Prints medians, images/s and ratios from this run, so the numbers
compare like with like on any machine. Then the smart crop: on generated pictures with one
off-centre subject, the share of crops that keep the subject whole and the time per crop, for the
engine's gravities and pyvips' smartcrop.
"""

from __future__ import annotations

import argparse
import io
import math
import multiprocessing
import os
import random
import resource
import statistics
import struct
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT / "layers" / "imaging")]

from PIL import Image, ImageChops, ImageFilter, ImageStat  # noqa: E402

from imgtasks.domain.inspection import register_heif  # noqa: E402
from imgtasks.kinds.process import ProcessSpec, presets  # noqa: E402
from imgtasks_imaging import DecodeLimits, render  # noqa: E402
from imgtasks_imaging.operations import scale_to  # noqa: E402

try:
    import pyvips
except (ImportError, OSError):  # the benchmark runs without it, minus the pyvips columns
    pyvips = None
try:
    from zlib_ng import zlib_ng
except ImportError:  # the PNG profile's zlib-ng row needs it (requirements/bench.txt)
    zlib_ng = None

LIMITS = DecodeLimits(max_pixels=50_000_000, max_frames=500)


# ------------------------------------------------------------------ corpus
def photo_like(size: tuple[int, int], seed: int) -> Image.Image:
    """Smooth gradients, a fractal's fine detail and sensor-like noise, like a photo's spectrum."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    blue = Image.effect_mandelbrot(size, (-2.2 + seed * 0.01, -1.2, 1.0, 1.2), 120)
    noise = Image.effect_noise(size, 18)
    rgb = Image.merge("RGB", (red, green, blue))
    return Image.blend(rgb, Image.merge("RGB", (noise, noise, noise)), 0.15)


def corpus() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for index in range(2):
        buffer = io.BytesIO()
        photo_like((4000, 3000), index).save(buffer, "JPEG", quality=90)
        files[f"jpeg12mp-{index}"] = buffer.getvalue()
    buffer = io.BytesIO()
    photo_like((1920, 1080), 7).save(buffer, "PNG", compress_level=6)
    files["png2mp"] = buffer.getvalue()
    register_heif()  # pillow-heif, here to write the HEIC the bench reads
    buffer = io.BytesIO()
    photo_like((4032, 3024), 3).save(buffer, "HEIF", quality=80)
    files["heic12mp"] = buffer.getvalue()
    frames = [photo_like((480, 270), i).quantize(256, method=Image.Quantize.FASTOCTREE) for i in range(30)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=66, loop=0)
    files["gif30"] = buffer.getvalue()
    return files


# ------------------------------------------------------------------ the engine
def engine(spec: ProcessSpec) -> Callable[[bytes], object]:
    return lambda data: render(data, spec, LIMITS)


ROTATE_90 = ProcessSpec.model_validate({"operations": [{"op": "rotate", "angle": 90}], "output": {"format": "jpeg"}})
THREE_JPEGS = ProcessSpec.model_validate(
    {
        "output": {"format": "jpeg"},
        "variants": [
            {"name": str(s), "operations": [{"op": "resize", "width": s, "height": s}]} for s in (1024, 512, 128)
        ],
    }
)
GIF_240 = ProcessSpec.model_validate({"operations": [{"op": "resize", "width": 240}], "output": {"format": "gif"}})
WEB_SIZE = {"op": "resize", "width": 800, "height": 600}
WEB_AS_WEBP = ProcessSpec.model_validate({"operations": [WEB_SIZE], "output": {"format": "webp", "quality": 80}})
WEB_AS_AVIF = ProcessSpec.model_validate({"operations": [WEB_SIZE], "output": {"format": "avif", "quality": 60}})


# ------------------------------------------------------------------ naive Pillow
def fit(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    scale = min(box[0] / size[0], box[1] / size[1], 1.0)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def naive_web(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    return save(image.resize(fit(image.size, (800, 600)), Image.Resampling.LANCZOS), "JPEG", quality=85)


def naive_thumbnails(data: bytes) -> list[bytes]:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    return [
        save(image.resize(fit(image.size, (side, side)), Image.Resampling.LANCZOS), "WEBP", quality=80)
        for side in (1024, 512, 128)
    ]


def naive_three_jpegs(data: bytes) -> list[bytes]:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    return [
        save(image.resize(fit(image.size, (side, side)), Image.Resampling.LANCZOS), "JPEG", quality=85)
        for side in (1024, 512, 128)
    ]


def naive_rotate(data: bytes) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    return save(image.transpose(Image.Transpose.ROTATE_270), "JPEG", quality=85)


def naive_gif(data: bytes) -> bytes:
    source = Image.open(io.BytesIO(data))
    frames, durations = [], []
    for index in range(source.n_frames):
        source.seek(index)
        durations.append(source.info.get("duration", 100))
        frame = source.convert("RGB")
        frames.append(frame.resize(fit(frame.size, (240, 10_000)), Image.Resampling.LANCZOS))
    return save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)


def naive_web_as(fmt: str, **options: object) -> Callable[[bytes], bytes]:
    def job(data: bytes) -> bytes:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        return save(image.resize(fit(image.size, (800, 600)), Image.Resampling.LANCZOS), fmt, **options)

    return job


def draft_decode(data: bytes) -> Image.Image:
    """The floor: decoding at the DCT scale the web preset needs, and nothing else."""
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (800, 600))
    image.load()
    return image


# ------------------------------------------------------------------ pyvips
def vips_web(data: bytes) -> bytes:
    return bytes(pyvips.Image.thumbnail_buffer(data, 800, height=600).jpegsave_buffer(Q=85))


def vips_web_webp(data: bytes) -> bytes:
    return bytes(pyvips.Image.thumbnail_buffer(data, 800, height=600).webpsave_buffer(Q=80))


def vips_web_avif(data: bytes) -> bytes:
    return bytes(pyvips.Image.thumbnail_buffer(data, 800, height=600).heifsave_buffer(Q=60, compression="av1"))


def vips_thumbnails(data: bytes) -> list[bytes]:
    return [bytes(pyvips.Image.thumbnail_buffer(data, side).webpsave_buffer(Q=80)) for side in (1024, 512, 128)]


def vips_three_jpegs(data: bytes) -> list[bytes]:
    return [bytes(pyvips.Image.thumbnail_buffer(data, side).jpegsave_buffer(Q=85)) for side in (1024, 512, 128)]


def vips_rotate(data: bytes) -> bytes:
    return bytes(pyvips.Image.new_from_buffer(data, "").rot90().jpegsave_buffer(Q=85))


def vips_gif(data: bytes) -> bytes:
    return bytes(pyvips.Image.thumbnail_buffer(data, 240, option_string="n=-1").gifsave_buffer())


# ------------------------------------------------------------------ timing
def median_ms(jobs: dict[str, Callable[[bytes], object]], inputs: list[bytes], runs: int) -> dict[str, float]:
    """Medians per job, the jobs taking turns run by run, so that drift in the machine's speed
    (a shared host) falls on every column alike and the ratios stay fair."""
    for job in jobs.values():
        job(inputs[0])  # warm up: imports, caches, first-call costs
    samples: dict[str, list[float]] = {name: [] for name in jobs}
    for run in range(runs):
        data = inputs[run % len(inputs)]
        for name, job in jobs.items():
            started = time.perf_counter()
            job(data)
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_rss_rise_mb(job_name: str, data: bytes) -> float:
    """Peak RSS above the baseline of a fresh process that has imported everything and read the
    input, for one run of the job (measured in a child process, so earlier runs do not count)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return float(pool.apply(_measure_rss, (job_name, data)))


def _measure_rss(job_name: str, data: bytes) -> float:
    job = {"engine-web": engine(presets()["web"]), "naive-web": naive_web}[job_name]
    job(image_bytes_warmup())
    status = Path("/proc/self/status")
    if status.exists():
        # Linux: "5" resets the peak RSS mark (VmHWM) to the current RSS.
        Path("/proc/self/clear_refs").write_text("5")
        baseline_kb = _status_kb(status, "VmHWM")
        job(data)
        return (_status_kb(status, "VmHWM") - baseline_kb) / 1024
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    job(data)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline) / 1024


def _status_kb(status: Path, field: str) -> int:
    line = next(line for line in status.read_text().splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1])


def psnr(a: Image.Image, b: Image.Image) -> float:
    difference = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    mse = sum(rms * rms for rms in ImageStat.Stat(difference).rms) / 3
    return 10 * math.log10(255**2 / mse) if mse else float("inf")


def encode_like(image: Image.Image, fmt: str | None) -> Image.Image:
    options = {"quality": 85} if fmt == "JPEG" else {"quality": 80}
    return Image.open(io.BytesIO(save(image, fmt or "JPEG", **options)))


def image_bytes_warmup() -> bytes:
    return save(Image.new("RGB", (64, 48), (120, 80, 40)), "JPEG")


def avif_speeds() -> None:
    """libavif's speed setting on the web-sized picture: time and bytes, against WebP method 4."""
    picture = photo_like((4000, 3000), 0).resize((800, 600), Image.Resampling.LANCZOS)
    started = time.perf_counter()
    webp = save(picture, "WEBP", quality=80, method=4)
    webp_ms = (time.perf_counter() - started) * 1000
    print(f"\nAVIF encoder speed, an 800x600 picture (WebP q80 method 4: {webp_ms:.1f} ms, {len(webp)} bytes)")
    print(f"{'speed':>5} {'ms':>8} {'x WebP':>7} {'bytes':>8} {'PSNR':>6}")
    for speed in (4, 6, 8, 10):
        started = time.perf_counter()
        data = save(picture, "AVIF", quality=60, speed=speed)
        elapsed = (time.perf_counter() - started) * 1000
        quality = psnr(Image.open(io.BytesIO(data)), picture)
        print(f"{speed:5} {elapsed:8.1f} {elapsed / webp_ms:7.2f} {len(data):8} {quality:6.2f}")


def png_profile(data: bytes, runs: int) -> None:
    """Where the 2 MP PNG web preset's time goes: the decode, and within it the inflate (with the
    zlib Pillow's Linux wheels link, the system's, and with zlib-ng, which libvips' wheel carries),
    the resize and the encode, against pyvips' whole job."""
    image = Image.open(io.BytesIO(data))
    image.load()
    resized = scale_to(image, fit(image.size, (800, 600)))
    compressed = b"".join(png_chunks(data, b"IDAT"))

    def pillow_decode(payload: bytes) -> None:
        Image.open(io.BytesIO(payload)).load()

    jobs: dict[str, Callable[[bytes], object]] = {
        "engine, whole web preset": engine(presets()["web"]),
        "Pillow's PNG decode": pillow_decode,
        f"  its inflate (zlib {zlib.ZLIB_RUNTIME_VERSION})": lambda _: zlib.decompress(compressed),
    }
    if zlib_ng is not None:
        jobs["  the same inflate by zlib-ng"] = lambda _: zlib_ng.decompress(compressed)
    jobs["resize to 800x450 (the engine's)"] = lambda _: scale_to(image, resized.size)
    jobs["JPEG q85 encode"] = lambda _: save(resized, "JPEG", quality=85)
    if pyvips is not None:
        jobs["pyvips, whole web preset"] = vips_web
    medians = median_ms(jobs, [data], runs)
    whole = medians["engine, whole web preset"]
    print("\nwhere the 2 MP PNG web preset's time goes (medians, one core)")
    for name, milliseconds in medians.items():
        print(f"  {name:34} {milliseconds:7.1f} ms  {100 * milliseconds / whole:5.0f}% of the engine's whole job")


def thumbnails_profile(data: bytes, runs: int) -> None:
    """Where the thumbnails preset's time goes on a 12 MP JPEG: the decode at 1/2 scale, the three
    resizes (each from the one before), the three WebP encodes at the engine's method 4, and what
    a faster WebP method would save (and cost in bytes); pyvips' encode of the same 1024 picture."""
    decoded = Image.open(io.BytesIO(data))
    decoded.draft("RGB", (1024, 1024))
    decoded.load()
    sizes = [fit(decoded.size, (side, side)) for side in (1024, 512, 128)]
    pictures = [scale_to(decoded, sizes[0])]
    for size in sizes[1:]:
        pictures.append(scale_to(pictures[-1], size))
    sources = [decoded, *pictures[:-1]]

    def draft_decode_half(payload: bytes) -> None:
        image = Image.open(io.BytesIO(payload))
        image.draft("RGB", (1024, 1024))
        image.load()

    jobs: dict[str, Callable[[bytes], object]] = {
        "engine, whole thumbnails preset": engine(presets()["thumbnails"]),
        f"JPEG decode at 1/2 ({decoded.width}x{decoded.height})": draft_decode_half,
    }
    for source, picture in zip(sources, pictures, strict=True):
        jobs[f"resize to {picture.width}x{picture.height}"] = lambda _, s=source, p=picture: scale_to(s, p.size)
    for method in (4, 2):
        for picture in pictures:
            jobs[f"WebP q80 method {method}, {picture.width}"] = lambda _, p=picture, m=method: save(
                p, "WEBP", quality=80, method=m
            )
    if pyvips is not None:
        vips_picture = pyvips.Image.new_from_memory(pictures[0].tobytes(), *pictures[0].size, 3, "uchar")
        jobs["pyvips' WebP effort 4, 1024"] = lambda _: vips_picture.webpsave_buffer(Q=80)
    medians = median_ms(jobs, [data], runs)
    whole = medians["engine, whole thumbnails preset"]
    print("\nwhere the thumbnails preset's time goes, 12 MP JPEG (medians, one core)")
    for name, milliseconds in medians.items():
        print(f"  {name:34} {milliseconds:7.1f} ms  {100 * milliseconds / whole:5.0f}% of the engine's whole job")
    for method in (4, 2):
        sizes_in_bytes = [len(save(picture, "WEBP", quality=80, method=method)) for picture in pictures]
        print(f"  WebP method {method} bytes: {' / '.join(str(size) for size in sizes_in_bytes)}")


def png_chunks(data: bytes, kind: bytes) -> list[bytes]:
    found, position = [], 8
    while position + 8 <= len(data):
        length, chunk = struct.unpack_from(">I4s", data, position)
        if chunk == kind:
            found.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    return found


# ------------------------------------------------------------------ smart crop
SUBJECT_HUE = 230  # a magenta no background here has


def subject_scene(seed: int) -> tuple[bytes, int]:
    """A 2000x1000 picture: a textured, low-saturation background (gradients, blurred noise, soft
    stripes) and one saturated, detailed subject somewhere off centre. Returns the JPEG and how
    many subject pixels a 400x400 cover crop of the whole subject would hold."""
    rng = random.Random(seed)
    width, height = 2000, 1000
    grey = Image.blend(
        Image.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270])).resize((width, height)),
        Image.effect_noise((width, height), rng.uniform(20, 60)).filter(ImageFilter.GaussianBlur(rng.uniform(1, 4))),
        0.5,
    )
    tint = (rng.randint(90, 160), rng.randint(90, 160), rng.randint(90, 160))
    background = Image.merge("RGB", [grey.point(lambda v, t=t: (v + t) // 2) for t in tint])
    side = rng.randint(int(0.14 * height), int(0.3 * height))
    texture = Image.effect_mandelbrot((side, side), (-2 + rng.uniform(0, 0.5), -1.2, 1, 1.2), 80)
    subject = Image.merge(
        "RGB",
        (texture.point(lambda v: 190 + v // 5), texture.point(lambda v: v // 6), texture.point(lambda v: 150 + v // 3)),
    )
    # Off centre: left or right third, anywhere vertically that fits.
    x = rng.choice(
        [rng.randint(20, width // 3 - side // 2), rng.randint(2 * width // 3 - side // 2, width - side - 20)]
    )
    y = rng.randint(20, height - side - 20)
    background.paste(subject, (x, y))
    buffer = io.BytesIO()
    background.save(buffer, "JPEG", quality=90)
    scale = 400 / height  # a 400x400 cover of a 2000x1000 picture scales it to 800x400
    return buffer.getvalue(), round((side * scale) ** 2)


def subject_kept(data: bytes, whole: int) -> bool:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    red, green, blue = image.split()
    magenta = ImageChops.multiply(
        ImageChops.multiply(red.point(lambda v: 255 if v > 180 else 0), green.point(lambda v: 255 if v < 70 else 0)),
        blue.point(lambda v: 255 if v > 140 else 0),
    )
    found = ImageStat.Stat(magenta).sum[0] / 255
    return found >= 0.9 * whole


def smart_crops(runs: int) -> None:
    scenes = [subject_scene(seed) for seed in range(40)]
    cover = {"op": "resize", "width": 400, "height": 400, "fit": "cover"}
    ours = {
        gravity: engine(
            ProcessSpec.model_validate(
                {"operations": [{**cover, "gravity": gravity}], "output": {"format": "jpeg", "quality": 90}}
            )
        )
        # face: no face in these scenes, so the face search's cost, then attention's
        for gravity in ("center", "entropy", "attention", "face")
    }
    print(f"\nsmart crop, {len(scenes)} generated 2000x1000 JPEGs with one off-centre subject, cover 400x400")
    print(f"{'crop':28} {'subject whole':>14} {'ms per crop':>12}")
    contenders: dict[str, Callable[[bytes], bytes]] = {
        f"engine {gravity}": (lambda data, job=job: bytes(job(data).outputs[0].data))  # type: ignore[attr-defined]
        for gravity, job in ours.items()
    }
    if pyvips is not None:
        for strategy in ("entropy", "attention"):
            contenders[f"pyvips smartcrop {strategy}"] = lambda data, s=strategy: bytes(
                pyvips.Image.thumbnail_buffer(data, 400, height=400, crop=s).jpegsave_buffer(Q=90)
            )
    for name, job in contenders.items():
        kept, elapsed = 0, []
        for data, whole in scenes:
            started = time.perf_counter()
            output = job(data)
            elapsed.append((time.perf_counter() - started) * 1000)
            kept += subject_kept(output, whole)
        print(f"{name:28} {kept / len(scenes):14.0%} {statistics.median(elapsed):12.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as in performance.md
    if pyvips is not None:
        pyvips.cache_set_max(0)  # no caching of results between runs
        pyvips.concurrency_set(1)
    print(
        f"Pillow {Image.__version__}; pyvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
        if pyvips
        else f"Pillow {Image.__version__}; pyvips not installed"
    )
    print("building the corpus...", flush=True)
    files = corpus()
    jpegs = [files["jpeg12mp-0"], files["jpeg12mp-1"]]
    jobs: list[
        tuple[str, list[bytes], Callable[[bytes], object], Callable[[bytes], object], Callable[[bytes], object] | None]
    ] = [
        ("web preset, 12 MP JPEG", jpegs, engine(presets()["web"]), naive_web, vips_web),
        (
            "thumbnails preset (3 sizes), 12 MP JPEG",
            jpegs,
            engine(presets()["thumbnails"]),
            naive_thumbnails,
            vips_thumbnails,
        ),
        ("the same 3 sizes as JPEG, 12 MP JPEG", jpegs, engine(THREE_JPEGS), naive_three_jpegs, vips_three_jpegs),
        ("rotate 90 + JPEG, 12 MP JPEG", jpegs, engine(ROTATE_90), naive_rotate, vips_rotate),
        ("web preset, 2 MP PNG", [files["png2mp"]], engine(presets()["web"]), naive_web, vips_web),
        ("GIF resize to 240 px, 30 frames 480x270", [files["gif30"]], engine(GIF_240), naive_gif, vips_gif),
        (
            "web size as WebP q80, 12 MP JPEG",
            jpegs,
            engine(WEB_AS_WEBP),
            naive_web_as("WEBP", quality=80),
            vips_web_webp,
        ),
        (
            "web size as AVIF q60, 12 MP JPEG",
            jpegs,
            engine(WEB_AS_AVIF),
            naive_web_as("AVIF", quality=60, speed=6),
            vips_web_avif,
        ),
        # No pyvips column: the pyvips-binary wheel's libheif has no HEVC decoder (libde265).
        ("web preset, 12 MP HEIC (iPhone-like)", [files["heic12mp"]], engine(presets()["web"]), naive_web, None),
    ]
    print(f"\nmedian of {args.runs} runs, one core; ratio > 1 means the engine is faster\n")
    header = (
        f"{'job':42} {'engine ms':>10} {'img/s':>7} {'naive ms':>9} {'x naive':>8} {'pyvips ms':>10} {'x pyvips':>9}"
    )
    print(header)
    print("-" * len(header))
    results: dict[str, tuple[float, float, float | None]] = {}
    draft_ms = 0.0
    for name, inputs, ours, naive, vips in jobs:
        contenders = {"engine": ours, "naive": naive}
        if vips is not None and pyvips is not None:
            contenders["pyvips"] = vips
        if name == "web preset, 12 MP JPEG":
            contenders["draft"] = draft_decode
        medians = median_ms(contenders, inputs, args.runs)
        ours_ms, naive_ms, vips_ms = medians["engine"], medians["naive"], medians.get("pyvips")
        draft_ms = medians.get("draft", draft_ms)
        results[name] = (ours_ms, naive_ms, vips_ms)
        vips_cells = f"{vips_ms:10.1f} {vips_ms / ours_ms:9.2f}" if vips_ms else f"{'-':>10} {'-':>9}"
        print(
            f"{name:42} {ours_ms:10.1f} {1000 / ours_ms:7.1f} {naive_ms:9.1f} {naive_ms / ours_ms:8.2f} {vips_cells}",
            flush=True,
        )
    web_ms = results["web preset, 12 MP JPEG"][0]
    print(
        f"\nbare draft decode of the 12 MP JPEG: {draft_ms:.1f} ms; web preset / draft decode = {web_ms / draft_ms:.2f}"
    )
    reference = Image.open(io.BytesIO(jpegs[0])).convert("RGB")
    for name, job, box in (
        ("web preset", engine(presets()["web"]), (800, 600)),
        ("thumbnail 1024", engine(presets()["thumbnails"]), (1024, 768)),
    ):
        produced = Image.open(io.BytesIO(job(jpegs[0]).outputs[0].data))  # type: ignore[attr-defined]
        lanczos = reference.resize(box, Image.Resampling.LANCZOS)
        own_encoder = psnr(encode_like(lanczos, produced.format), lanczos)
        print(
            f"PSNR of the engine's {name} against a full-decode LANCZOS resize: {psnr(produced, lanczos):.2f} dB "
            f"(the same LANCZOS image through its own encoder: {own_encoder:.2f} dB)"
        )
    webp_ms = results["web size as WebP q80, 12 MP JPEG"][0]
    avif_ms = results["web size as AVIF q60, 12 MP JPEG"][0]
    print(f"AVIF / WebP time, the web size from a 12 MP JPEG: {avif_ms / webp_ms:.2f} (target < 4)")
    png_profile(files["png2mp"], args.runs)
    thumbnails_profile(jpegs[0], args.runs)
    avif_speeds()
    smart_crops(args.runs)
    engine_rss = peak_rss_rise_mb("engine-web", jpegs[0])
    naive_rss = peak_rss_rise_mb("naive-web", jpegs[0])
    print(f"peak RSS rise, web preset on a 12 MP JPEG: engine {engine_rss:.1f} MB, naive Pillow {naive_rss:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
