"""The local stack as a tool people keep running: it stops cleanly on Ctrl-C and SIGTERM, a busy
port is a one-line error, its workers never outlive it. (What it holds surviving a restart is
test_local_stack_restarts.py: a module of its own, so the e2e suite's workers share the long runs.)"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client import Client
from tests.e2e.conftest import (
    RunningStack,
    descendants,
    needs_embedded_emulator,
    same_on_any_emulator,
    stack_command,
    stack_environment,
    start_stack,
    stop_stack,
)
from tests.helpers import ROOT, image_bytes


def alive(pids: set[int]) -> set[int]:
    """The ones still running (a zombie that has exited but not been reaped counts as gone)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


def warmed_up(stack: RunningStack) -> Client:
    """A signed-up client whose task has run: the API, dispatch, webhook-events, upload and
    process functions have started workers (the stack starts them on demand, as Lambda does)."""
    client = Client(stack.api)
    client.sign_up()
    [task_id] = resize_tasks(client, 1, size=(400, 300))
    assert client.wait_for(task_id, seconds=60)["status"] == "done"
    return client


def resize_tasks(client: Client, count: int, size: tuple[int, int] = (1600, 1200)) -> list[str]:
    file_ids = [client.upload(image_bytes(size)).json()["id"] for _ in range(count)]
    body = {"type": "process", "file_ids": file_ids, "operations": [{"op": "resize", "width": 400}]}
    created = client.request("POST", "/tasks", json=body)
    assert created.status_code == 202, created.text
    return [task["id"] for task in created.json()["tasks"]]


# On LocalStack one signal is enough: what differs there (long polls to end) is the same for both.
@pytest.mark.parametrize("stop_signal", [pytest.param(signal.SIGINT, marks=same_on_any_emulator), signal.SIGTERM])
def test_a_stop_signal_ends_the_stack_and_its_workers_in_seconds_with_exit_0(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    process, stack = start_stack(tmp_path)
    warmed_up(stack)
    workers = descendants(process.pid)
    assert len(workers) >= 3, "the functions that ran have their workers"
    started = time.monotonic()
    process.send_signal(stop_signal)
    assert process.wait(timeout=15) == 0
    elapsed = time.monotonic() - started
    log = stack.log()
    assert elapsed < 8, f"took {elapsed:.1f} s to stop"
    assert "Traceback" not in log, log[-3000:]
    assert "stopped" in log
    assert not wait_gone(workers, 2)


@same_on_any_emulator
def test_a_stop_signal_that_the_kernel_hands_to_another_thread_still_stops_the_stack(tmp_path: Path) -> None:
    """The kernel may deliver a process's signal to any of its threads; the stack waits for one
    in short waits, so its main thread runs the handler whichever thread took it. (Waiting without
    a timeout, a SIGTERM that landed on a poller thread was ignored, and the stack had to be killed.)"""
    process, _ = start_stack(tmp_path)
    threads = [int(entry.name) for entry in Path(f"/proc/{process.pid}/task").iterdir()]
    threads = [tid for tid in threads if tid != process.pid]
    assert threads, "the stack runs its pollers on threads"
    libc = ctypes.CDLL(None, use_errno=True)
    sys_tgkill = 234 if platform.machine() == "x86_64" else 131  # the tgkill syscall's number
    # The earliest threads are the pollers, which live as long as the stack; a thread that served
    # one request may be gone by now (ESRCH), and the next one is tried.
    delivered_to = next(
        (tid for tid in sorted(threads) if libc.syscall(sys_tgkill, process.pid, tid, signal.SIGTERM) == 0), None
    )
    assert delivered_to is not None, ctypes.get_errno()
    assert process.wait(timeout=15) == 0


@same_on_any_emulator
def test_workers_do_not_outlive_a_stack_killed_with_sigkill(tmp_path: Path) -> None:
    process, stack = start_stack(tmp_path)
    warmed_up(stack)
    workers = descendants(process.pid)
    process.kill()
    process.wait()
    assert not wait_gone(workers, 3), "workers outlived the stack"


@needs_embedded_emulator
@pytest.mark.parametrize(("option", "role"), [("--api-port", "the API"), ("--emulator-port", "the AWS emulator")])
def test_a_busy_port_is_a_one_line_error_naming_it_and_the_option(tmp_path: Path, option: str, role: str) -> None:
    running_stacks_outputs = '{"ApiUrl": "http://127.0.0.1:3000"}\n'
    (tmp_path / "outputs.json").write_text(running_stacks_outputs)  # the stack that holds the port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"api_port": port} if option == "--api-port" else {"emulator_port": port}
        started = time.monotonic()
        ran = subprocess.run(  # noqa: S603 - our own module
            stack_command(tmp_path, **ports),
            cwd=ROOT,
            env=stack_environment(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        elapsed = time.monotonic() - started
    assert ran.returncode != 0
    # At once, not after a timeout: the time to start Python and import the stack (seconds on a
    # machine busy with the other suite), far below the 90 s a start waits for.
    assert elapsed < 20, f"took {elapsed:.1f} s to fail"
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, ran.stderr
    assert str(port) in lines[0] and option in lines[0] and role in lines[0], lines[0]
    assert (tmp_path / "outputs.json").read_text() == running_stacks_outputs  # a refused start touches nothing


def test_a_worker_killed_while_idle_is_replaced_before_work_reaches_it(stack_pid_and_stack: Any) -> None:
    process, stack = stack_pid_and_stack
    client = warmed_up(stack)
    killed = [pid for pid in descendants(process.pid) if Path(f"/proc/{pid}/comm").read_text().startswith("fn-Proc")]
    assert killed
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    assert not wait_gone(set(killed), 2)
    # Without the check, half of these would wait out the queue's 360 s visibility timeout.
    task_ids = resize_tasks(client, 6, size=(400, 300))
    finished = [client.wait_for(task_id, seconds=30) for task_id in task_ids]
    assert [task["status"] for task in finished] == ["done"] * 6
    assert [task["attempts"] for task in finished] == [1] * 6


@pytest.fixture
def stack_pid_and_stack(tmp_path: Path) -> Any:
    process, stack = start_stack(tmp_path)
    try:
        yield process, stack
    finally:
        stop_stack(process)


def test_the_sam_local_environment_file_has_every_function_and_variable_of_the_template(stack: RunningStack) -> None:
    from local_stack.template import load_template

    outputs_dir = Path(stack.log_path).parent
    environment = json.loads((outputs_dir / "sam-env.json").read_text())
    template = load_template(ROOT / "infra" / "template.yaml")
    functions = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert set(environment) == set(functions)
    global_names = set(template["Globals"]["Function"]["Environment"]["Variables"])
    for name, resource in functions.items():
        own = set(resource["Properties"].get("Environment", {}).get("Variables", {}))
        assert set(environment[name]) == global_names | own, name
        assert environment[name]["AWS_ENDPOINT_URL"] == stack.outputs["EndpointUrl"]
        assert environment[name]["TABLE_NAME"] == stack.outputs["TableName"]
        assert all(isinstance(value, str) and "${" not in value for value in environment[name].values())
