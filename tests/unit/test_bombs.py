"""Decompression bombs stay small: each kind is refused `image_too_large` by the upload's
inspection, and by the worker's decoder (which must not trust that an upload was inspected), in a
process whose peak memory stays under twice what a normal file of the same format needs. Each
render runs in a process of its own, so its peak (VmHWM) is its own; the peaks and times go
to tests/output/bombs/ for the record."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from imgtasks.domain.errors import ErrorCode, PermanentTaskError
from imgtasks.domain.inspection import inspect_image
from tests import bombs
from tests.helpers import ROOT

MAX_PIXELS = 50_000_000
MAX_FRAMES = 500
RECORDS = ROOT / "tests" / "output" / "bombs"

# The worker's decode and one output, in a fresh interpreter; prints the outcome and the peak.
PROBE = """
import json, sys, time
from imgtasks.domain.errors import PermanentTaskError
from imgtasks.kinds.process import ProcessSpec
from imgtasks_imaging.pipeline import DecodeLimits, render
data = open(sys.argv[1], "rb").read()
spec = ProcessSpec.model_validate({"output": {"format": "webp"}})
started = time.monotonic()
try:
    render(data, spec, DecodeLimits(int(sys.argv[2]), int(sys.argv[3])))
    code = None
except PermanentTaskError as error:
    code = error.code.value
elapsed = time.monotonic() - started
# VmHWM: this program's own peak (ru_maxrss would keep the forking parent's, pytest's, across exec).
peak_kb = int(next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1])
print(json.dumps({"code": code, "peak_kb": peak_kb, "seconds": elapsed}))
"""


def _image(fmt: str, size: tuple[int, int] = (640, 480), **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.effect_mandelbrot(size, (-2, -1.2, 1, 1.2), 64).convert("RGB").save(buffer, fmt, **options)
    return buffer.getvalue()


def _animation(fmt: str) -> bytes:
    buffer = io.BytesIO()
    frames = [Image.new("RGB", (100, 100), (index * 20, 0, 0)) for index in range(10)]
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def _icon() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (256, 256), (10, 20, 30, 200)).save(buffer, "ICO", sizes=[(256, 256)])
    return buffer.getvalue()


def _jpeg_xl() -> bytes:
    from imgtasks.domain.inspection import register_jpeg_xl

    register_jpeg_xl()
    return _image("JXL", quality=80)


# name: (the bomb, a normal file of the same format)
BOMBS: dict[str, tuple[Callable[[], bytes], Callable[[], bytes]]] = {
    "GIF frame far outside its canvas": (bombs.gif_frame_far_outside, lambda: _animation("GIF")),
    "GIF of 100,000 frames": (bombs.gif_many_frames, lambda: _animation("GIF")),
    "PNG header of 100,000 x 100,000": (bombs.png_huge_canvas, lambda: _image("PNG")),
    "APNG saying 1,000,000 frames": (bombs.apng_lying_frame_count, lambda: _animation("PNG")),
    "TIFF of 20,000 pages": (bombs.tiff_deep_pages, lambda: _image("TIFF")),
    "ICO entry of 60,000 x 60,000": (bombs.ico_huge_entry, _icon),
    "JPEG XL header of 100,000 x 100,000": (bombs.jpeg_xl_huge_canvas, _jpeg_xl),
}
_peaks: dict[str, tuple[int, dict[str, object], dict[str, object]]] = {}


@dataclass(frozen=True)
class ProbeRun:
    code: str | None
    peak_kb: int
    seconds: float


def _probe(data: bytes, tmp_path: Path, name: str) -> ProbeRun:
    path = tmp_path / name
    path.write_bytes(data)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(  # noqa: S603 - this interpreter, our own probe
        [sys.executable, "-c", PROBE, str(path), str(MAX_PIXELS), str(MAX_FRAMES)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return ProbeRun(**json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_bomb_is_refused_by_the_inspection(name: str) -> None:
    bomb, _ = BOMBS[name]
    with pytest.raises(PermanentTaskError) as refused:
        inspect_image(bomb(), max_pixels=MAX_PIXELS, max_frames=MAX_FRAMES)
    assert refused.value.code == ErrorCode.IMAGE_TOO_LARGE, refused.value.message


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_bomb_is_refused_by_the_worker_in_less_than_twice_a_normal_files_memory(name: str, tmp_path: Path) -> None:
    bomb, normal = BOMBS[name]
    bomb_bytes = bomb()
    normal_run = _probe(normal(), tmp_path, "normal")
    assert normal_run.code is None, normal_run
    bomb_run = _probe(bomb_bytes, tmp_path, "bomb")
    assert bomb_run.code == ErrorCode.IMAGE_TOO_LARGE.value, bomb_run
    assert bomb_run.peak_kb < 2 * normal_run.peak_kb, (bomb_run, normal_run)
    _record(name, len(bomb_bytes), bomb_run, normal_run)


def _record(name: str, size: int, bomb_run: ProbeRun, normal_run: ProbeRun) -> None:
    """The bomb's row for the closing note (`python scripts/corpus.py table` prints them all)."""
    RECORDS.mkdir(parents=True, exist_ok=True)
    row = {
        "bomb": name,
        "bytes": size,
        "refused": bomb_run.code,
        "peak_mb": round(bomb_run.peak_kb / 1024),
        "normal_peak_mb": round(normal_run.peak_kb / 1024),
        "seconds": round(bomb_run.seconds, 2),
    }
    (RECORDS / f"{list(BOMBS).index(name):02d}.json").write_text(json.dumps(row))
