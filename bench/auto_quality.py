"""`quality: "auto"` against quality 85: bytes saved and time spent, on one core.

    make bench-auto-quality     (or: .venv/bin/python bench/auto_quality.py [--runs 5] [--side 1024])

For each picture (the bench's generated photo-like picture and real photographs from the corpus,
`make corpus`) resized to SIDE on its long side, and each format (JPEG, WebP, AVIF): the bytes and
time of quality 85 and of quality auto through the engine's encoder (imgtasks_imaging.encode), the
quality auto chose, its SSIM and encodes. Prints a table with the ratios, and the totals.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "common"), str(ROOT / "layers" / "imaging")]

from PIL import Image  # noqa: E402

from bench.engine import photo_like  # noqa: E402
from imgtasks.domain.outputs import OutputSpec  # noqa: E402
from imgtasks_imaging.encode import encode  # noqa: E402
from imgtasks_imaging.frames import Frames  # noqa: E402

PHOTOS = [
    "pillow-13.0.0/xmp_test.jpg",
    "face-recognition-1.3.0/obama.jpg",
    "face-recognition-1.3.0/biden.jpg",
    "face-recognition-1.3.0/obama3.jpg",
    "insightface-0.7.3/t1.jpg",
    "pillow-13.0.0/hopper.jpg",
]


def pictures(side: int) -> dict[str, Image.Image]:
    found = {"generated photo-like (bench/engine.py)": photo_like((4000, 3000), 1)}
    for name in PHOTOS:
        path = ROOT / ".corpus" / name
        if not path.exists():
            raise SystemExit(f"{path} is missing: run `make corpus` first")
        found[name] = Image.open(path).convert("RGB")
    for image in found.values():
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return found


def timed(image: Image.Image, output: OutputSpec, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = encode(Frames([image], [0]), output, "jpeg")
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--side", type=int, default=1024)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the bench's others
    rows = []
    totals: dict[str, list[float]] = {}
    for name, image in pictures(args.side).items():
        for fmt in ("jpeg", "webp", "avif"):
            fixed_ms, fixed = timed(image, OutputSpec(format=fmt, quality=85), args.runs)
            auto_ms, auto = timed(image, OutputSpec(format=fmt, quality="auto"), args.runs)
            choice = auto.auto_quality  # type: ignore[attr-defined]
            fixed_bytes, auto_bytes = len(fixed.data), len(auto.data)  # type: ignore[attr-defined]
            total = totals.setdefault(fmt, [0, 0, 0, 0])
            total[0] += fixed_bytes
            total[1] += auto_bytes
            total[2] += fixed_ms
            total[3] += auto_ms
            cells = [
                f"{name} {image.width}x{image.height}",
                fmt,
                f"{fixed_bytes / 1000:.1f} KB",
                f"{choice.quality} (SSIM {choice.ssim:.4f}, {choice.encodes} encodes)",
                f"{auto_bytes / 1000:.1f} KB",
                f"**{auto_bytes / fixed_bytes:.2f}x**",
                f"{fixed_ms:.0f} ms",
                f"{auto_ms:.0f} ms",
                f"{auto_ms / fixed_ms:.1f}x",
            ]
            rows.append("| " + " | ".join(cells) + " |")
    print(
        f"quality auto (SSIM >= target) against quality 85, long side {args.side} px, median of {args.runs}, one core\n"
    )
    columns = ["picture", "format", "bytes at 85", "auto chose", "bytes auto", "auto/85 bytes"]
    columns += ["time at 85", "time auto", "auto/85 time"]
    print("| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    print("\n".join(rows))
    print("\n| format | bytes auto/85, all pictures | time auto/85 |\n|---|---|---|")
    for fmt, (fixed_bytes, auto_bytes, fixed_ms, auto_ms) in totals.items():
        print(f"| {fmt} | **{auto_bytes / fixed_bytes:.2f}x** | {auto_ms / fixed_ms:.1f}x |")


if __name__ == "__main__":
    main()
