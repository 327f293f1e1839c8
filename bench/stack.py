"""The local stack end to end, in one run: how long POST /tasks takes, how close the whole service
comes to the engine's own speed, and how many AWS calls a task costs.

    make bench-stack      (or: .venv/bin/python bench/stack.py [--tasks 500] [--concurrency 2])

It starts the local stack in this process (fresh state, free ports, the functions under the
Python `make run` uses), uploads a corpus of 1-2 MP photo-like JPEGs, then:

1. POST /tasks latency, 1 file and 50 files (`web` preset), p50 and p95 (target: the 50-file call
   under 4x the 1-file call);
2. throughput: --tasks `web` tasks submitted 50 to a call, timed from the first submit to the last
   task done (server timestamps), against the engine alone on the same images with as many
   processes as the stack has process workers, under the same interpreter (target: >= 50%);
   p50/p95 submit-to-done;
3. the AWS calls of the throughput run, counted at the emulator, per task, apart for the
   functions and for the event sources (the pollers that stand in for Lambda's).

Done is watched in the emulator's own memory, so the watching adds no call to the counts."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent), str(ROOT / "layers" / "common")]

import requests  # noqa: E402
from costs import MeasuredSet, cost_table, delta, lambda_lines, memory_lines  # noqa: E402
from engine import photo_like  # noqa: E402
from video import make_clip  # noqa: E402

from local_stack.lambda_python import lambda_python  # noqa: E402
from local_stack.stack import LocalStack, StackConfig  # noqa: E402
from local_stack.template import ACCOUNT_ID, REGION  # noqa: E402
from tests.ports import free_port  # noqa: E402

SIZES = [(1600, 1200), (1400, 1000), (1200, 1000), (1920, 1080), (1280, 960)]  # 1.2-2.1 MP
WEB = {"type": "process", "preset": "web"}
THUMBNAILS = {"type": "process", "preset": "thumbnails"}
# A 10 s clip to a GIF 480 px wide at 15 fps, as the video e2e test asks for one.
VIDEO_GIF = {"operations": [{"op": "resize", "width": 480}, {"op": "frames", "fps": 15}], "output": {"format": "gif"}}
INFER = {"type": "infer", "detection_model": "shapes", "classification_model": "scenes"}
# The engine alone, in the functions' interpreter and with their packages: N processes, each
# rendering its share of the images with the `web` preset.
ENGINE_SCRIPT = """
import sys, time, multiprocessing
from pathlib import Path
from imgtasks.kinds.process import preset_spec
from imgtasks_imaging import DecodeLimits, render

def work(paths):
    spec = preset_spec("web")
    limits = DecodeLimits(max_pixels=100_000_000, max_frames=1000)
    for path in paths:
        render(Path(path).read_bytes(), spec, limits)

if __name__ == "__main__":
    processes, paths = int(sys.argv[1]), sys.argv[2:]
    shares = [paths[i::processes] for i in range(processes)]
    work(paths[:processes])  # warm up each code path once
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.map(work, shares)
    print(len(paths) / (time.perf_counter() - started))
"""


# The engine on one job with 1 core, then 2 (os.sched_setaffinity), in the functions' interpreter:
# the median milliseconds of each.
SPEEDUP_SCRIPT = """
import os, statistics, sys, time
from pathlib import Path
from imgtasks.domain.limits import VideoLimits
from imgtasks.kinds.process import ProcessSpec, preset_spec
from imgtasks_imaging import DecodeLimits, render

job, source = sys.argv[1], Path(sys.argv[2])
data = source.read_bytes()
if job == "video":
    from imgtasks_imaging.video.render import render_video
    operations = [{"op": "resize", "width": 480}, {"op": "frames", "fps": 15}]
    spec = ProcessSpec.model_validate({"operations": operations, "output": {"format": "gif"}})
    limits = VideoLimits(2**40, 3600, 600, 100_000, 10**12)
    once = lambda: render_video(source, spec, max_pixels=100_000_000, limits=limits)
    rounds = 3
else:
    spec, limits = preset_spec(job), DecodeLimits(max_pixels=100_000_000, max_frames=1000)
    once = lambda: render(data, spec, limits)
    rounds = 15
times = []
for cores in ({0}, {0, 1}):
    os.sched_setaffinity(0, cores)
    once()
    taken = []
    for _ in range(rounds):
        started = time.perf_counter()
        once()
        taken.append((time.perf_counter() - started) * 1000)
    times.append(statistics.median(taken))
print(*times)
"""


def _priced(usage: dict[str, Any]) -> float:
    from imgtasks.domain.prices import price
    from imgtasks.domain.usage import Usage

    return price(Usage.model_validate(usage), "us-east-1").cost_usd


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Bench:
    def __init__(self, tasks: int, concurrency: int) -> None:
        self.tasks = tasks
        self.state_dir = Path(tempfile.mkdtemp(prefix="bench-stack-"))
        self.stack = LocalStack(
            StackConfig(
                emulator_port=free_port(),
                api_port=free_port(),
                concurrency=concurrency,
                state_dir=self.state_dir,
                python=lambda_python(),
                models_dir=ROOT / "models",  # the inference set runs the shipped models
            )
        )
        self.http = requests.Session()
        self.images: list[Path] = []
        self.api_requests = 0

    # ------------------------------------------------------------ setup
    def start(self) -> None:
        self.stack.bind_ports()
        self.stack.start()
        base = self.stack.api_url
        username, password = f"bench-{uuid.uuid4().hex[:8]}", "correct-horse-battery"
        self.http.post(f"{base}/auth/register", json={"username": username, "password": password}).raise_for_status()
        token = self.http.post(
            f"{base}/auth/token", data={"grant_type": "password", "username": username, "password": password}
        )
        token.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        self.owner = token.json().get("user_id")

    def upload_corpus(self, count: int) -> list[str]:
        folder = self.state_dir / "corpus"
        folder.mkdir()
        ids = []
        for index in range(count):
            buffer = io.BytesIO()
            photo_like(SIZES[index % len(SIZES)], index).save(buffer, "JPEG", quality=88)
            path = folder / f"photo-{index}.jpg"
            path.write_bytes(buffer.getvalue())
            self.images.append(path)
            ids.append(self.upload(path, "image/jpeg"))
        return ids

    # ------------------------------------------------------------ the emulator's view
    def tasks_in_table(self) -> list[dict[str, Any]]:
        """Every task item, read from moto's memory (no AWS call, no pause of the emulator)."""
        from moto.backends import get_backend

        table = get_backend("dynamodb")[ACCOUNT_ID][REGION].tables[self.stack.outputs["TableName"]]
        while True:
            try:
                items = [item.to_json()["Attributes"] for item in table.all_items()]
                break
            except RuntimeError:  # changed while read: read again
                continue
        return [
            {name: next(iter(value.values())) for name, value in item.items()}
            for item in items
            if item.get("SK", {}).get("S") == "TASK"
        ]

    def wait_all_done(self, task_ids: set[str], seconds: float = 900) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while True:
            tasks = [task for task in self.tasks_in_table() if task["id"] in task_ids]
            finished = [task for task in tasks if task["status"] in ("done", "failed", "cancelled")]
            if len(finished) == len(task_ids):
                failed = [task for task in finished if task["status"] != "done"]
                if failed:
                    raise RuntimeError(f"{len(failed)} task(s) did not finish done: {failed[0]}")
                return finished
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(task_ids) - len(finished)} task(s) unfinished after {seconds} s")
            time.sleep(0.5)

    # ------------------------------------------------------------ measurements
    def create(self, file_ids: list[str]) -> tuple[float, list[str]]:
        started = time.perf_counter()
        answer = self.http.post(f"{self.stack.api_url}/tasks", json={**WEB, "file_ids": file_ids})
        elapsed = time.perf_counter() - started
        self.api_requests += 1
        answer.raise_for_status()
        return elapsed, [task["id"] for task in answer.json()["tasks"]]

    def latency(self, file_ids: list[str], rounds: int) -> dict[int, list[float]]:
        timings: dict[int, list[float]] = {1: [], 50: []}
        created: set[str] = set()
        for round_ in range(rounds):
            for count in (1, 50):
                chosen = [file_ids[(round_ + i) % len(file_ids)] for i in range(count)]
                elapsed, ids = self.create(chosen)
                timings[count].append(elapsed)
                created.update(ids)
        self.wait_all_done(created)
        return timings

    def throughput(self, file_ids: list[str]) -> dict[str, Any]:
        if self.stack.emulator is None:
            raise RuntimeError("the calls are counted by the embedded emulator")
        cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
        chunks = [
            [file_ids[(start + i) % len(file_ids)] for i in range(min(50, self.tasks - start))]
            for start in range(0, self.tasks, 50)
        ]
        with ThreadPoolExecutor(max_workers=4) as submitters:
            created = [task_id for _, ids in submitters.map(self.create, chunks) for task_id in ids]
        finished = self.wait_all_done(set(created))
        stack_cpu = _cpu_seconds(resource.RUSAGE_SELF) - cpu_before
        created_at = [parse_time(task["created_at"]) for task in finished]
        completed_at = [parse_time(task["completed_at"]) for task in finished]
        return {
            "seconds": max(completed_at) - min(created_at),
            "submit_to_done": [done - made for made, done in zip(created_at, completed_at, strict=True)],
            "stack_cpu_s": stack_cpu,
            "ids": created,
        }

    def engine_environment(self) -> dict[str, str]:
        python = self.stack.config.python
        search = [str(ROOT / "layers" / "common"), str(ROOT / "layers" / "imaging")]
        if python.packages is not None:
            search.append(str(python.packages))
        return {**os.environ, "PYTHONPATH": os.pathsep.join(search)}

    def speedup_2_cores(self, job: str, source: Path) -> float:
        """The engine's speed on 2 cores against 1 on `job` (what Lambda's second vCPU buys)."""
        if (os.cpu_count() or 1) < 2:
            return 1.0
        ran = subprocess.run(
            [self.stack.config.python.executable, "-c", SPEEDUP_SCRIPT, job, str(source)],
            env=self.engine_environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        one, two = (float(value) for value in ran.stdout.split())
        return one / two

    def engine_rate(self, processes: int, count: int) -> float:
        paths = [str(self.images[i % len(self.images)]) for i in range(count)]
        ran = subprocess.run(
            [self.stack.config.python.executable, "-c", ENGINE_SCRIPT, str(processes), *paths],
            env=self.engine_environment(),
            capture_output=True,
            text=True,
            check=True,
        )
        return float(ran.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        self.stack.stop()

    # ------------------------------------------------------------ costs (bench/costs.py)
    def quiet(self, seconds: float = 2.0, longest: float = 120) -> None:
        """Until no function has called the emulator for `seconds`: the change stream drained."""
        app = self.stack.emulator.app  # type: ignore[union-attr]
        deadline = time.monotonic() + longest
        while time.monotonic() < deadline:
            before = sum(app.calls_by_function.values())
            time.sleep(seconds)
            if sum(app.calls_by_function.values()) == before:
                return

    def measured(self, name: str, images: int, work: Any, ids: Any = lambda answer: answer) -> tuple[MeasuredSet, Any]:
        """Runs `work()` (which makes `images` images' tasks and waits for them) and what the stack
        did for it: each function's invocations and CPU, and the calls the emulator counted."""
        app = self.stack.emulator.app  # type: ignore[union-attr]
        self.quiet()
        before = self.stack.function_totals()
        app.take_calls_by_function()
        app.take_calls()
        requests_before = self.api_requests
        answer = work()
        self.quiet()
        functions = delta(before, self.stack.function_totals())
        calls = app.take_calls_by_function()
        source_calls = app.take_calls()
        api_requests = self.api_requests - requests_before
        wanted = set(ids(answer) or [])
        tasks = [task for task in self.tasks_in_table() if task["id"] in wanted]
        usage = [json.loads(task["usage_json"]) for task in tasks if task.get("usage_json")]
        task_usd = sum(_priced(used) for used in usage)
        stored = sum(int(used.get("bytes_stored", 0)) for used in usage)
        measured = MeasuredSet(name, images, functions, calls, source_calls, api_requests, stored, task_usd)
        return measured, answer

    def upload(self, path: Path, content_type: str) -> str:
        answer = self.http.post(
            f"{self.stack.api_url}/files", files={"file": (path.name, path.read_bytes(), content_type)}
        )
        self.api_requests += 1
        answer.raise_for_status()
        return str(answer.json()["id"])

    def run_tasks(self, body: dict[str, Any], file_ids: list[str]) -> list[str]:
        """Tasks of `body` on the files, 50 to a POST, waited for in the emulator's memory."""
        created: list[str] = []
        for start in range(0, len(file_ids), 50):
            answer = self.http.post(
                f"{self.stack.api_url}/tasks", json={**body, "file_ids": file_ids[start : start + 50]}
            )
            self.api_requests += 1
            answer.raise_for_status()
            created += [task["id"] for task in answer.json()["tasks"]]
        self.wait_all_done(set(created))
        return created


def calls_table(calls: Counter[tuple[str, str, str]], tasks: int) -> list[str]:
    lines = [f"{'caller':<14}{'service':<17}{'operation':<22}{'calls':>8}{'per task':>10}", "-" * 71]
    for caller in ("function", "event source"):
        mine = {key: value for key, value in calls.items() if key[0] == caller}
        for (_, service, operation), value in sorted(mine.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"{caller:<14}{service:<17}{operation:<22}{value:>8}{value / tasks:>10.2f}")
        total = sum(mine.values())
        lines.append(f"{caller + ' total':<53}{total:>8}{total / tasks:>10.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2, help="workers per function (the stack's default)")
    parser.add_argument("--latency-rounds", type=int, default=10)
    parser.add_argument("--cost-tasks", type=int, default=100, help="thumbnails tasks (inference: half)")
    parser.add_argument("--videos", type=int, default=3, help="10 s clips to GIF")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bench = Bench(args.tasks, args.concurrency)
    bench.start()
    sets: list[MeasuredSet] = []
    try:
        uploads, file_ids = bench.measured("upload (POST /files)", 20, lambda: bench.upload_corpus(20))
        uploads.bytes_stored = sum(path.stat().st_size for path in bench.images)
        timings = bench.latency(file_ids, args.latency_rounds)
        web, run = bench.measured("web preset", args.tasks, lambda: bench.throughput(file_ids), ids=lambda r: r["ids"])
        total_tasks = args.tasks + args.latency_rounds * 51
        chosen = [file_ids[i % len(file_ids)] for i in range(args.cost_tasks)]
        thumbnails, _ = bench.measured(
            "thumbnails preset (3 sizes)", len(chosen), lambda: bench.run_tasks(THUMBNAILS, chosen)
        )
        clip = bench.state_dir / "clip.mp4"
        make_clip(clip, (640, 360), seconds=10, fps=30)
        clip_id = bench.upload(clip, "video/mp4")
        video_body = {"type": "process", **VIDEO_GIF}
        videos, _ = bench.measured(
            "10 s video to GIF (640x360)", args.videos, lambda: bench.run_tasks(video_body, [clip_id] * args.videos)
        )
        inferred = chosen[: max(1, args.cost_tasks // 2)]
        inference, _ = bench.measured(
            "inference (shapes + scenes)", len(inferred), lambda: bench.run_tasks(INFER, inferred)
        )
        sets = [web, thumbnails, videos, inference, uploads]
    finally:
        bench.stop()
    web.speedup_2_cores["ProcessFunction"] = bench.speedup_2_cores("web", bench.images[0])
    thumbnails.speedup_2_cores["ProcessFunction"] = bench.speedup_2_cores("thumbnails", bench.images[0])
    videos.speedup_2_cores["VideoFunction"] = bench.speedup_2_cores("video", clip)
    state = bench.stack.state
    snapshots = (state.saves, state.last_save_s) if state else (0, 0.0)
    workers_cpu = _cpu_seconds(resource.RUSAGE_CHILDREN)  # every worker of the run, reaped at the stop
    engine = bench.engine_rate(args.concurrency, args.tasks)
    stack_rate = args.tasks / run["seconds"]
    python = bench.stack.config.python
    one, fifty = statistics.median(timings[1]), statistics.median(timings[50])
    lines = [
        f"\nlocal stack, {args.concurrency} worker(s) per function, functions under {python.executable}",
        "",
        f"{'POST /tasks (web)':<28}{'p50 ms':>9}{'p95 ms':>9}{'x 1 file':>10}{'target':>9}",
        "-" * 65,
        f"{'1 file':<28}{one * 1000:>9.0f}{percentile(timings[1], 0.95) * 1000:>9.0f}{1.0:>10.2f}{'':>9}",
        f"{'50 files':<28}{fifty * 1000:>9.0f}{percentile(timings[50], 0.95) * 1000:>9.0f}"
        f"{fifty / one:>10.2f}{'< 4':>9}",
        "",
        f"{'throughput, ' + str(args.tasks) + ' web tasks':<40}{'tasks/s':>9}{'x engine':>10}{'target':>9}",
        "-" * 68,
        f"{'engine alone (same images)':<40}{engine:>9.1f}{1.0:>10.2f}{'':>9}",
        f"{'local stack, submit to last done':<40}{stack_rate:>9.1f}{stack_rate / engine:>10.2f}{'>= 0.50':>9}",
        "",
        f"submit to done: p50 {statistics.median(run['submit_to_done']):.2f} s, "
        f"p95 {percentile(run['submit_to_done'], 0.95):.2f} s",
        f"CPU per task: the stack's own process (emulator, pollers, gateway) "
        f"{run['stack_cpu_s'] / args.tasks * 1000:.0f} ms in the {args.tasks}-task run; "
        f"the function workers {workers_cpu / total_tasks * 1000:.0f} ms (whole run, {total_tasks} tasks); "
        f"the engine alone {1000 * args.concurrency / engine:.0f} ms",
        f"state snapshots: {snapshots[0]} in the whole run, the last took {snapshots[1] * 1000:.0f} ms "
        f"(the emulator waits meanwhile)",
        "",
        f"AWS calls of the {args.tasks}-task run, counted at the emulator:",
        *calls_table(web.source_calls, args.tasks),
        "",
        *cost_table(sets),
        "",
        *lambda_lines(sets),
        "",
        *memory_lines(
            sets,
            {
                web.name: "ProcessFunction",
                thumbnails.name: "ProcessFunction",
                videos.name: "VideoFunction",
                inference.name: "InferFunction",
            },
        ),
    ]
    print("\n".join(lines))
    if args.json:
        numbers = {
            "post_tasks_ms": {str(k): [v * 1000 for v in vs] for k, vs in timings.items()},
            "engine_tasks_per_s": engine,
            "stack_tasks_per_s": stack_rate,
            "submit_to_done_s": run["submit_to_done"],
            "calls": {" / ".join(key): value for key, value in web.source_calls.items()},
        }
        args.json.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
