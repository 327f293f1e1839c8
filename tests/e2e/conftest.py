"""The local stack started the way `make run` starts it (`python -m local_stack`), on free ports,
driven only over HTTP and S3 as a client would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from local_stack.session import emulator_session
from tests.e2e.client import Client
from tests.helpers import ROOT, image_bytes
from tests.ports import free_port


@dataclass
class RunningStack:
    outputs: dict[str, str]
    log_path: Path

    @property
    def api(self) -> str:
        return self.outputs["ApiUrl"]

    def client(self, service: str) -> Any:
        return emulator_session(self.outputs["EndpointUrl"]).client(service)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, *lines: str, seconds: float = 30) -> None:
        """Until one of the lines is in the stack's log. The log is a file the stack's process
        writes in blocks, after the work a test can see through the API, and later still on a
        busy machine."""
        deadline = time.monotonic() + seconds
        while not any(line in (log := self.log()) for line in lines):
            assert time.monotonic() < deadline, f"none of {lines} in the stack's log:\n" + log[-3000:]
            time.sleep(0.25)


# The session stack's operator (AdminUsernames): GET /admin/stats and the admin page.
OPERATOR = "operator-e2e"

# `make test-localstack` runs this suite against LocalStack at this endpoint instead of the
# embedded emulator; each stack then gets a name of its own there.
EXTERNAL_ENDPOINT = os.environ.get("IMGTASKS_E2E_ENDPOINT")
needs_embedded_emulator = pytest.mark.skipif(
    EXTERNAL_ENDPOINT is not None, reason="about the embedded emulator (its port, its state across restarts)"
)
# Tests of what the emulator cannot change: the API function's answers, the browser's work, a
# client's (the CLI, the async client, a generated client) and the engines' (inference, real
# files), over AWS calls that other tests run on both emulators: run once, on the embedded
# emulator. (What a browser does against S3 itself, a presigned upload, CORS, a download, runs on
# LocalStack too: the web app's full walk-through, the batch ZIP, the presigned POST policy.)
same_on_any_emulator = pytest.mark.skipif(
    EXTERNAL_ENDPOINT is not None,
    reason="what the emulator cannot change (the API, a browser, a client, an engine); run on the embedded emulator",
)


def stack_command(state_dir: Path, *extra: str, emulator_port: int = 0, api_port: int = 0) -> list[str]:
    if EXTERNAL_ENDPOINT:
        stack_name = f"e2e-{uuid.uuid4().hex[:8]}"
        extra = ("--endpoint", EXTERNAL_ENDPOINT, "--stack-name", stack_name, *extra)
    return [
        sys.executable,
        "-m",
        "local_stack",
        "--emulator-port",
        str(emulator_port or free_port()),
        "--api-port",
        str(api_port or free_port()),
        "--state-dir",
        str(state_dir),
        *extra,
    ]


def stack_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}


def start_stack(
    state_dir: Path, *extra: str, emulator_port: int = 0, api_port: int = 0
) -> tuple[subprocess.Popen[bytes], RunningStack]:
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "stack.log"
    env = stack_environment()
    command = stack_command(state_dir, *extra, emulator_port=emulator_port, api_port=api_port)
    started = time.time()
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    outputs_path = state_dir / "outputs.json"
    deadline = time.monotonic() + 90
    # This start's outputs.json: one left by a stack killed before (SIGKILL) is older than it.
    while not (outputs_path.exists() and outputs_path.stat().st_mtime >= started):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the local stack did not start:\n" + log_path.read_text(errors="replace")[-4000:])
        time.sleep(0.2)
    stack = RunningStack(json.loads(outputs_path.read_text()), log_path)
    # outputs.json (and the banner) are written once the API answers: no wait beyond this.
    try:
        answered = requests.get(f"{stack.api}/health", timeout=10).status_code
    except requests.RequestException as error:
        answered = repr(error)
    if answered != 200:
        process.kill()  # a stack that failed its start must not outlive the test
        raise RuntimeError(f"the local stack wrote outputs.json, then /health gave {answered}:\n" + stack.log()[-4000:])
    return process, stack


def descendants(pid: int) -> set[int]:
    """Every process started by pid, and by those, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def slow_task(client: Client, size: tuple[int, int] = (1400, 1050)) -> str:
    """A task of under a second for one worker on an idle machine (a full decode, a wide blur, an
    arbitrary rotation, a PNG): long enough to be caught running, short enough to fit the
    short-timeout stacks' 16 s, less the second before it a task's watchdog fails it
    `processing_timeout`, even on a machine busy with a second suite (where 2000x1500, 1.5 s
    idle, once took 15 s, and 2400x1800 19 s)."""
    file_id = client.upload(image_bytes(size, quality=60)).json()["id"]
    body = {
        "type": "process",
        "file_ids": [file_id],
        "operations": [{"op": "blur", "radius": 60}, {"op": "rotate", "angle": 33}, {"op": "sharpen"}],
        "output": {"format": "png"},
    }
    return str(client.request("POST", "/tasks", json=body).json()["tasks"][0]["id"])


def stop_stack(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    # Webhook retries a second apart, so a test sees a receiver fail and then succeed; an operator.
    process, running = start_stack(
        tmp_path_factory.mktemp("stack"), "--param", "WebhookRetryDelays=1,1,1", "--param", f"AdminUsernames={OPERATOR}"
    )
    try:
        yield running
    finally:
        stop_stack(process)
