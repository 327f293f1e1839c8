"""The local stack started the way `make run` starts it (`python -m local_stack`), on free ports,
driven only over HTTP and S3 as a client would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.helpers import ROOT
from tests.ports import free_port


@dataclass
class RunningStack:
    outputs: dict[str, str]
    log_path: Path

    @property
    def api(self) -> str:
        return self.outputs["ApiUrl"]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.outputs["EndpointUrl"], region_name="us-east-1")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_stack(state_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], RunningStack]:
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / "stack.log"
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    command = [
        sys.executable,
        "-m",
        "local_stack",
        "--emulator-port",
        str(free_port()),
        "--api-port",
        str(free_port()),
        "--state-dir",
        str(state_dir),
        *extra,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    outputs_path = state_dir / "outputs.json"
    deadline = time.monotonic() + 90
    while not outputs_path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the local stack did not start:\n" + log_path.read_text(errors="replace")[-4000:])
        time.sleep(0.2)
    stack = RunningStack(json.loads(outputs_path.read_text()), log_path)
    while True:
        try:
            if requests.get(f"{stack.api}/health", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the local stack's API did not answer:\n" + stack.log()[-4000:])
        time.sleep(0.2)
    return process, stack


def stop_stack(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    process, running = start_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield running
    finally:
        stop_stack(process)
