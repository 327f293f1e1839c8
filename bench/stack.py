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
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import requests  # noqa: E402
from engine import photo_like  # noqa: E402

from local_stack.lambda_python import lambda_python  # noqa: E402
from local_stack.stack import LocalStack, StackConfig  # noqa: E402
from local_stack.template import ACCOUNT_ID, REGION  # noqa: E402
from tests.ports import free_port  # noqa: E402

SIZES = [(1600, 1200), (1400, 1000), (1200, 1000), (1920, 1080), (1280, 960)]  # 1.2-2.1 MP
WEB = {"type": "process", "preset": "web"}
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
                models_dir=None,
            )
        )
        self.http = requests.Session()
        self.images: list[Path] = []

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
            answer = self.http.post(
                f"{self.stack.api_url}/files", files={"file": (path.name, buffer.getvalue(), "image/jpeg")}
            )
            answer.raise_for_status()
            ids.append(answer.json()["id"])
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
        app = self.stack.emulator.app if self.stack.emulator else None
        if app is None:
            raise RuntimeError("the calls are counted by the embedded emulator")
        app.take_calls()
        cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
        chunks = [
            [file_ids[(start + i) % len(file_ids)] for i in range(min(50, self.tasks - start))]
            for start in range(0, self.tasks, 50)
        ]
        with ThreadPoolExecutor(max_workers=4) as submitters:
            created = [task_id for _, ids in submitters.map(self.create, chunks) for task_id in ids]
        finished = self.wait_all_done(set(created))
        calls = app.take_calls()
        stack_cpu = _cpu_seconds(resource.RUSAGE_SELF) - cpu_before
        created_at = [parse_time(task["created_at"]) for task in finished]
        completed_at = [parse_time(task["completed_at"]) for task in finished]
        return {
            "seconds": max(completed_at) - min(created_at),
            "submit_to_done": [done - made for made, done in zip(created_at, completed_at, strict=True)],
            "calls": calls,
            "stack_cpu_s": stack_cpu,
        }

    def engine_rate(self, processes: int, count: int) -> float:
        python = self.stack.config.python
        paths = [str(self.images[i % len(self.images)]) for i in range(count)]
        search = [str(ROOT / "layers" / "common"), str(ROOT / "layers" / "imaging")]
        if python.packages is not None:
            search.append(str(python.packages))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(search)}
        ran = subprocess.run(
            [python.executable, "-c", ENGINE_SCRIPT, str(processes), *paths],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return float(ran.stdout.strip().splitlines()[-1])

    def stop(self) -> None:
        self.stack.stop()


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
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    bench = Bench(args.tasks, args.concurrency)
    bench.start()
    try:
        file_ids = bench.upload_corpus(20)
        timings = bench.latency(file_ids, args.latency_rounds)
        run = bench.throughput(file_ids)
        total_tasks = args.tasks + args.latency_rounds * 51
    finally:
        bench.stop()
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
        *calls_table(run["calls"], args.tasks),
    ]
    print("\n".join(lines))
    if args.json:
        numbers = {
            "post_tasks_ms": {str(k): [v * 1000 for v in vs] for k, vs in timings.items()},
            "engine_tasks_per_s": engine,
            "stack_tasks_per_s": stack_rate,
            "submit_to_done_s": run["submit_to_done"],
            "calls": {" / ".join(key): value for key, value in run["calls"].items()},
        }
        args.json.write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
