"""Render URLs against thumbor, on one core, in one run:

    make bench-render      (or: .venv/bin/python bench/render.py [--cold 20] [--warm 100])

Three jobs, each on both servers with the same files and options: fit inside 800x600 as JPEG of
a 12 MP JPEG, a 256 px WebP thumbnail of the same, fit inside 800 of a 2 MP PNG. Each server runs
pinned to core 0 (taskset: every process it starts inherits it); the load comes from this process,
pinned to core 1, one request at a time:

- imgtasks: the local stack (`python -m local_stack --in-memory`: the embedded emulator, whose
  state is not saved to disk, one worker per function),
  render URLs through the distribution's stand-in: cold is the render origin's whole path (key,
  file, rate counter, the bucket looked up, the source read, rendered, stored twice), warm is the
  bucket's answer to a URL asked before;
- thumbor 7.8.0 from PyPI, in a venv of its own (.venv-thumbor), its own Tornado server with its
  file loader and its file result storage;
- sharp (npm, libvips) as the engine-speed reference: the same resizes in one Node process, no
  HTTP, one thread.

Cold requests ask for a new size each time (800, 799, ... px), so no cache can answer them;
warm requests repeat one URL. Quality: each server's render at the nominal size against a
LANCZOS resize of the fully decoded source (PSNR, dB); the goal is to be within 1 dB of thumbor's.
Goals: cold >= 1.5x thumbor's rate; warm >= 10x cold."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(ROOT),
    str(Path(__file__).resolve().parent),
    str(ROOT / "clients" / "python" / "src"),
    str(ROOT / "layers" / "common"),
    str(ROOT / "layers" / "imaging"),
]

import numpy as np  # noqa: E402
import requests  # noqa: E402
from engine import photo_like  # noqa: E402
from imgtasks_client import Client  # noqa: E402
from imgtasks_client import render_urls as signing  # noqa: E402
from PIL import Image  # noqa: E402

from tests.ports import free_port  # noqa: E402

THUMBOR = ROOT / ".venv-thumbor" / "bin" / "thumbor"
SHARP_DIR = ROOT / "bench" / "sharp"
SERVER_CORE, CLIENT_CORE = 0, 1


@dataclass(frozen=True)
class Job:
    name: str
    source: str  # a file name of the corpus
    # (imgtasks options, thumbor path) for a box of `side` px (cold requests shrink it)
    imgtasks: str
    thumbor: str
    width: int
    height: int
    fmt: str
    quality: int


JOBS = [
    Job(
        "fit 800x600 JPEG, 12 MP JPEG",
        "photo.jpg",
        "rs:fit:{w}:{h}/q:85/f:jpeg",
        "fit-in/{w}x{h}/filters:quality(85)",
        800,
        600,
        "jpeg",
        85,
    ),
    Job(
        "thumbnail 256 WebP, 12 MP JPEG",
        "photo.jpg",
        "rs:fit:{w}:{h}/q:80/f:webp",
        "fit-in/{w}x{h}/filters:format(webp):quality(80)",
        256,
        256,
        "webp",
        80,
    ),
    Job(
        "fit 800 PNG, 2 MP PNG",
        "screen.png",
        "rs:fit:{w}:{h}/f:png",
        "fit-in/{w}x{h}/filters:format(png)",
        800,
        800,
        "png",
        85,
    ),
]


def sources(folder: Path) -> dict[str, Path]:
    photo = folder / "photo.jpg"
    photo_like((4000, 3000), 1).save(photo, "JPEG", quality=90)
    screen = folder / "screen.png"
    photo_like((1920, 1080), 7).save(screen, "PNG", compress_level=6)
    return {"photo.jpg": photo, "screen.png": screen}


def pinned(command: list[str]) -> list[str]:
    return ["taskset", "-c", str(SERVER_CORE), *command]


def wait_until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not come up within {seconds:.0f} s")
        time.sleep(0.2)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.ConnectionError:
        return False


# ------------------------------------------------------------------ the servers
class Imgtasks:
    def __init__(self, folder: Path, files: dict[str, Path]) -> None:
        self.state = folder / "stack"
        self.port = free_port()
        command = [
            sys.executable, "-m", "local_stack", "--in-memory", "--state-dir", str(self.state),
            "--api-port", str(self.port), "--emulator-port", str(free_port()),
            "--concurrency", "1", "--no-models", "--log-level", "WARNING",
            "--param", "RendersPerMinute=1000000",
        ]  # fmt: skip
        self.log = (folder / "stack.log").open("w")
        self.process = subprocess.Popen(pinned(command), cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_until(lambda: (self.state / "outputs.json").exists(), 120, "the local stack")
        username = f"bench-{uuid.uuid4().hex[:8]}"
        requests.post(
            f"{self.base}/auth/register", json={"username": username, "password": "correct-horse"}, timeout=30
        )
        token = requests.post(
            f"{self.base}/auth/token",
            data={"grant_type": "password", "username": username, "password": "correct-horse"},
            timeout=30,
        ).json()["access_token"]
        self.client = Client(self.base, token=token)
        self.file_ids = {name: self.client.files.upload(path).id for name, path in files.items()}
        self.key = self.client.signing_keys.create()

    def url(self, job: Job, w: int, h: int) -> str:
        options = job.imgtasks.format(w=w, h=h)
        return signing.sign(self.base, self.key.id, str(self.key.secret), self.file_ids[job.source], options)

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class Thumbor:
    def __init__(self, folder: Path, files: dict[str, Path]) -> None:
        images = folder / "thumbor-images"
        images.mkdir()
        for name, path in files.items():
            shutil.copy(path, images / name)
        conf = folder / "thumbor.conf"
        conf.write_text(
            f"LOADER = 'thumbor.loaders.file_loader'\nFILE_LOADER_ROOT_PATH = '{images}'\n"
            "STORAGE = 'thumbor.storages.no_storage'\n"
            f"RESULT_STORAGE = 'thumbor.result_storages.file_storage'\n"
            f"RESULT_STORAGE_FILE_STORAGE_ROOT_PATH = '{folder / 'thumbor-results'}'\n"
            "RESULT_STORAGE_STORES_UNSAFE = True\nALLOW_UNSAFE_URL = True\nQUALITY = 85\nAUTO_WEBP = False\n"
            "RESPECT_ORIENTATION = True\nMAX_WIDTH = 0\nMAX_HEIGHT = 0\n"
        )
        self.port = free_port()
        self.log = (folder / "thumbor.log").open("w")
        command = [str(THUMBOR), "--port", str(self.port), "--conf", str(conf), "--log-level", "warning"]
        self.process = subprocess.Popen(pinned(command), stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        wait_until(lambda: answers(f"{self.base}/healthcheck"), 60, "thumbor")

    def url(self, job: Job, w: int, h: int) -> str:
        return f"{self.base}/unsafe/{job.thumbor.format(w=w, h=h)}/{job.source}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


# ------------------------------------------------------------------ measuring
@dataclass(frozen=True)
class Rate:
    per_second: float
    p50_ms: float
    p95_ms: float


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(session: requests.Session, urls: list[str]) -> Rate:
    latencies = []
    started = time.perf_counter()
    for url in urls:
        begun = time.perf_counter()
        answer = session.get(url, timeout=120)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}: {answer.text[:300]}")
        latencies.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    return Rate(len(urls) / elapsed, statistics.median(latencies) * 1000, percentile(latencies, 0.95) * 1000)


def cold_urls(server: Any, job: Job, count: int, round_: int) -> list[str]:
    """A new box each request: nothing cached can answer (round_ keeps two rounds apart)."""
    return [
        server.url(job, job.width - 1 - i - count * round_, job.height - 1 - i - count * round_) for i in range(count)
    ]


def psnr(rendered: bytes, reference: Image.Image) -> float:
    with Image.open(io.BytesIO(rendered)) as image:
        got = np.asarray(image.convert("RGB").resize(reference.size, Image.Resampling.LANCZOS), np.float64)
    error = np.mean((got - np.asarray(reference, np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(error, 1e-12)))


def reference(path: Path, box: tuple[int, int]) -> Image.Image:
    with Image.open(path) as image:
        full = image.convert("RGB")
    full.thumbnail(box, Image.Resampling.LANCZOS, reducing_gap=None)
    return full


# ------------------------------------------------------------------ the engine alone
def engine_rates(files: dict[str, Path], runs: int) -> dict[str, float]:
    """imgtasks' engine on the same jobs, in this process on the servers' core: what a cold
    render costs without the service around it (HTTP, the emulator's S3 and DynamoDB calls)."""
    import imgtasks_imaging as imaging
    from imgtasks.domain.render_options import parse

    os.sched_setaffinity(0, {SERVER_CORE})
    limits = imaging.DecodeLimits(max_pixels=100_000_000, max_frames=100)
    rates = {}
    for job in JOBS:
        data = files[job.source].read_bytes()
        specs = [
            parse(job.imgtasks.format(w=job.width - 1 - i, h=job.height - 1 - i).split("/")).spec for i in range(runs)
        ]
        imaging.render(data, specs[0], limits)
        started = time.perf_counter()
        for spec in specs:
            imaging.render(data, spec, limits)
        rates[job.name] = runs / (time.perf_counter() - started)
    os.sched_setaffinity(0, {CLIENT_CORE})
    return rates


# ------------------------------------------------------------------ sharp
SHARP_SCRIPT = """
const sharp = require('sharp');
sharp.concurrency(1);
sharp.cache(false);
const [jobs, runs] = JSON.parse(process.argv[1]);
(async () => {
  const out = {};
  for (const job of jobs) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) {
      let pipeline = sharp(job.path).resize(job.width - 1 - i, job.height - 1 - i, {fit: 'inside'});
      pipeline = job.fmt === 'jpeg' ? pipeline.jpeg({quality: job.quality})
        : job.fmt === 'webp' ? pipeline.webp({quality: job.quality}) : pipeline.png();
      await pipeline.toBuffer();
    }
    out[job.name] = runs / (Number(process.hrtime.bigint() - started) / 1e9);
  }
  console.log(JSON.stringify(out));
})();
"""


def sharp_rates(files: dict[str, Path], runs: int) -> dict[str, float] | None:
    node = shutil.which("node")
    if node is None or not (SHARP_DIR / "node_modules" / "sharp").exists():
        return None
    jobs = [
        {
            "name": job.name,
            "path": str(files[job.source]),
            "width": job.width,
            "height": job.height,
            "fmt": job.fmt,
            "quality": job.quality,
        }
        for job in JOBS
    ]  # fmt: skip
    ran = subprocess.run(
        pinned([node, "-e", SHARP_SCRIPT, json.dumps([jobs, runs])]),
        cwd=SHARP_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = json.loads(ran.stdout)
    return found


# ------------------------------------------------------------------ the run
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", type=int, default=20, help="cold requests per job and server")
    parser.add_argument("--warm", type=int, default=100, help="warm requests per job and server")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    if not THUMBOR.exists():
        raise SystemExit("thumbor is not installed: make bench-render makes .venv-thumbor (thumbor 7.8.0 from PyPI)")
    if shutil.which("taskset") is None:
        raise SystemExit("taskset (util-linux) pins each server to one core: apt-get install util-linux")
    os.sched_setaffinity(0, {CLIENT_CORE})
    folder = Path(tempfile.mkdtemp(prefix="bench-render-"))
    files = sources(folder)
    servers = {"thumbor 7.8.0": Thumbor(folder, files), "imgtasks": Imgtasks(folder, files)}
    results: dict[str, dict[str, Any]] = {}
    try:
        for job in JOBS:
            row: dict[str, Any] = {}
            ref = reference(files[job.source], (job.width, job.height))
            for name, server in servers.items():
                session = requests.Session()
                session.get(server.url(job, job.width - 500, job.height - 200), timeout=120)  # warm the worker up
                cold = timed(session, cold_urls(server, job, args.cold, 0))
                nominal = server.url(job, job.width, job.height)
                first = session.get(nominal, timeout=120)
                warm = timed(session, [nominal] * args.warm)
                row[name] = {
                    "cold": cold.__dict__,
                    "warm": warm.__dict__,
                    "psnr_db": psnr(first.content, ref),
                    "bytes": len(first.content),
                }
            results[job.name] = row
    finally:
        for server in servers.values():
            server.stop()
    sharp = sharp_rates(files, args.cold)
    engine = engine_rates(files, args.cold)
    print_table(results, sharp, engine, args)
    if args.json:
        args.json.write_text(json.dumps({"jobs": results, "sharp": sharp, "engine": engine}, indent=2) + "\n")


def print_table(
    results: dict[str, dict[str, Any]],
    sharp: dict[str, float] | None,
    engine: dict[str, float],
    args: argparse.Namespace,
) -> None:
    print(f"\nrender URLs, one core each (taskset -c {SERVER_CORE}), one request at a time")
    print(f"cold: {args.cold} new sizes a job; warm: {args.warm} repeats of one URL")
    columns = ("cold/s", "p50 ms", "p95 ms", "warm/s", "p50 ms", "p95 ms")
    header = f"{'job':<32}{'server':<16}" + "".join(f"{c:>8}" for c in columns) + f"{'PSNR dB':>9}{'KiB':>7}"
    print(header)
    print("-" * len(header))
    for job, row in results.items():
        for server, found in row.items():
            cold, warm = found["cold"], found["warm"]
            numbers = (cold["per_second"], cold["p50_ms"], cold["p95_ms"], warm["per_second"], warm["p50_ms"])
            print(
                f"{job:<32}{server:<16}" + "".join(f"{n:>8.1f}" for n in numbers) + f"{warm['p95_ms']:>8.1f}"
                f"{found['psnr_db']:>9.2f}{found['bytes'] / 1024:>7.0f}"
            )
        print(f"{job:<32}{'imgtasks engine':<16}{engine[job]:>8.1f}")
        if sharp is not None:
            print(f"{job:<32}{'sharp (engine)':<16}{sharp[job]:>8.1f}")
    print()
    print(f"{'goal':<48}{'measured':>10}{'target':>9}")
    print("-" * 67)
    for job, row in results.items():
        ours, theirs = row["imgtasks"], row["thumbor 7.8.0"]
        versus_thumbor = ours["cold"]["per_second"] / theirs["cold"]["per_second"]
        warm_over_cold = ours["warm"]["per_second"] / ours["cold"]["per_second"]
        print(f"{job + ': cold x thumbor':<48}{versus_thumbor:>10.2f}{'>= 1.5':>9}")
        print(f"{job + ': warm x cold':<48}{warm_over_cold:>10.1f}{'>= 10':>9}")
        print(f"{job + ': PSNR - thumbor (dB)':<48}{ours['psnr_db'] - theirs['psnr_db']:>10.2f}{'>= -1':>9}")


if __name__ == "__main__":
    main()
