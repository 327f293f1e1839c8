"""Runs a function as Lambda does: in worker processes of its own (local_stack/worker.py), each
with the function's code and layers on the path, the template's environment, and a context with a
deadline. A worker that passes its timeout is killed and replaced, as Lambda ends a timed-out
sandbox; one found dead is replaced before an invocation reaches it.

The workers run under the interpreter of `LambdaPython`: Python 3.13 with the layers' packages
(what the template's python3.13 runtime has) where the machine has one, else this one."""

from __future__ import annotations

import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .emulator import function_access_key
from .functions import FunctionSpec
from .template import ACCOUNT_ID, REGION

log = logging.getLogger("local_stack.runtime")

# Lambda's INIT phase (importing the handler) has a budget of its own, apart from the function's
# timeout; past it, the rest of the init counts against the first invocation, as on Lambda.
INIT_TIMEOUT_S = 10.0

# Kept from the machine's environment: what Python and the shell need, nothing of AWS's.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True)
class Invocation:
    ok: bool
    payload: Any = None
    timed_out: bool = False
    error: dict[str, Any] | None = None
    # The stack stopped before or while it ran: nothing to report, the event source retries it.
    stopped: bool = False


def _cpu_seconds(pid: int) -> float:
    """A live process's user and system CPU time so far (Linux: /proc/<pid>/stat); 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    """A live process's peak resident memory (Linux: VmHWM in /proc/<pid>/status); 0 elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker_name(spec: FunctionSpec) -> str:
    """The OS process name of the function's workers (Linux keeps 15 characters)."""
    return f"fn-{spec.logical_id}"[:15]


def function_environment(spec: FunctionSpec, endpoint_url: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # The emulators take any key: one per function says which function made a call.
            "AWS_ACCESS_KEY_ID": function_access_key(spec.logical_id),
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "TZ": "UTC",
            "LOCAL_ACCOUNT_ID": ACCOUNT_ID,
            # No X-Ray daemon runs locally.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(spec.environment)
    return env


@dataclass(frozen=True)
class LambdaPython:
    """The interpreter the workers run under, and the folder of packages it adds (the layers'
    requirements and the runtime's boto3, as Lambda has them), or None for a venv's own."""

    executable: str
    packages: Path | None = None
    note: str = ""


def this_python(note: str = "") -> LambdaPython:
    return LambdaPython(sys.executable, None, note)


ROOT = Path(__file__).resolve().parent.parent


class _Worker:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str], python: LambdaPython) -> None:
        parent_end, child_end = socket.socketpair()
        paths = [str(spec.code_dir), *(str(p) for p in spec.layer_dirs)]
        if python.packages is not None:
            paths.append(str(python.packages))
        paths.append(str(ROOT))  # for local_stack.worker itself, last so it shadows nothing
        env = {**environment, "PYTHONPATH": os.pathsep.join(paths), "LOCAL_WORKER_NAME": worker_name(spec)}
        # A session of its own: a Ctrl-C in the terminal reaches the stack, which stops its workers.
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [python.executable, "-P", "-m", "local_stack.worker", str(child_end.fileno())],
            env=env,
            pass_fds=(child_end.fileno(),),
            start_new_session=True,
        )
        child_end.close()
        self.connection = Connection(parent_end.detach())
        self._stopping = threading.Lock()
        self._stopped = False
        self.initialised = False

    def await_init(self, seconds: float) -> None:
        """Waits up to `seconds` for the worker to have imported its handler (it says so once).
        Raises EOFError or OSError when it died doing so."""
        if self.initialised or not self.connection.poll(seconds):
            return
        kind, _ = self.connection.recv()
        self.initialised = kind == "ready"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Kills the worker; safe to call from two threads at once (a stop and a timed-out call)."""
        with self._stopping:
            if self._stopped:
                return
            self._stopped = True
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("worker %s did not exit after SIGKILL", self.process.pid)
        self.connection.close()


class FunctionPool:
    """The workers of one function, started as Lambda starts its execution environments: on
    demand. An invocation takes a free worker, or starts one (a cold start) while the pool is
    under `max_concurrency` (the API's long-polls hold a worker each for up to 20 s); past that it
    waits for one to come free. `warm` workers are started with the pool (the API keeps one, so
    its first request need not wait for a process to start)."""

    def __init__(
        self,
        spec: FunctionSpec,
        endpoint_url: str,
        concurrency: int,
        python: LambdaPython,
        max_concurrency: int | None = None,
        warm: int = 0,
    ) -> None:
        self.spec = spec
        self._max = max(concurrency, max_concurrency or concurrency, warm)
        self._python = python
        self._environment = function_environment(spec, endpoint_url)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._busy = 0
        self._finished: list[tuple[float, bool]] = []
        self._invocations = 0
        self._ms = 0.0
        self._cpu_s = 0.0
        self._peak_rss_mb = 0.0
        self._closed = threading.Event()
        # Workers being started: counted with the running ones, so threads that find no idle worker
        # at the same moment never start more than max_concurrency between them.
        self._starting = 0
        for _ in range(warm):
            self._reserve_slot()
            self._add_worker()

    def _reserve_slot(self) -> bool:
        """Whether a new worker may start now (its slot is then held until it has)."""
        with self._lock:
            if len(self._all) + self._starting >= self._max:
                return False
            self._starting += 1
            return True

    def _add_worker(self) -> None:
        """Starts a worker in a slot reserved by _reserve_slot."""
        try:
            worker = _Worker(self.spec, self._environment, self._python)
        finally:
            with self._lock:
                self._starting -= 1
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        if not self._closed.is_set() and self._reserve_slot():
            self._add_worker()

    def _take(self) -> _Worker | None:
        """A live idle worker (a dead one is replaced first), or None once the pool is closed."""
        while not self._closed.is_set():
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                if self._reserve_slot():
                    self._add_worker()
                    continue
                try:
                    worker = self._idle.get(timeout=0.25)
                except queue.Empty:
                    continue
            if worker.alive():
                return worker
            log.warning("%s worker %s had died while idle; replacing it", self.spec.logical_id, worker.process.pid)
            self._replace(worker)
        return None

    def invoke(self, event: Any) -> Invocation:
        with self._lock:
            self._busy += 1
        started = time.monotonic()
        result = Invocation(ok=False, stopped=True)
        try:
            result = self._invoke(event)
            return result
        finally:
            with self._lock:
                self._busy -= 1
                if not result.stopped:
                    elapsed_ms = (time.monotonic() - started) * 1000
                    self._finished.append((elapsed_ms, result.ok))
                    self._invocations += 1
                    self._ms += elapsed_ms

    def _count_resources(self, seconds: float, peak_rss_mb: float) -> None:
        with self._lock:
            self._cpu_s += max(0.0, seconds)
            self._peak_rss_mb = max(self._peak_rss_mb, peak_rss_mb)

    def totals(self) -> tuple[int, float, float, float]:
        """Every invocation so far: how many, their milliseconds, their workers' CPU milliseconds,
        and the largest resident memory a worker reached (bench/stack.py prices them)."""
        with self._lock:
            return self._invocations, self._ms, self._cpu_s * 1000, self._peak_rss_mb

    def take_finished(self) -> list[tuple[float, bool]]:
        """The invocations finished since the last call: (milliseconds, whether it succeeded), for
        the Lambda metrics the stack publishes as Lambda would (local_stack/metrics.py)."""
        with self._lock:
            taken, self._finished = self._finished, []
        return taken

    def _invoke(self, event: Any) -> Invocation:
        request_id = str(uuid.uuid4())
        while True:
            worker = self._take()
            if worker is None:
                return Invocation(ok=False, stopped=True)
            try:
                worker.await_init(INIT_TIMEOUT_S)  # a cold start's import is not the invocation's time
                deadline = time.time() + self.spec.timeout_s
                worker.connection.send((event, request_id, deadline))
            except (EOFError, OSError):  # it died before the event reached it
                self._replace(worker)
                continue
            break
        cpu_before = _cpu_seconds(worker.process.pid)
        try:
            answer = self._answer(worker, deadline)
            self._count_resources(_cpu_seconds(worker.process.pid) - cpu_before, _peak_rss_mb(worker.process.pid))
        except (EOFError, OSError):
            self._replace(worker)
            if self._closed.is_set():
                return Invocation(ok=False, stopped=True)
            # The worker died mid-invocation (killed, or crashed): Lambda reports a runtime error.
            log.warning("%s worker died during request %s", self.spec.logical_id, request_id)
            return Invocation(ok=False, error={"errorType": "Runtime.ExitError", "errorMessage": "worker exited"})
        if answer is None:
            log.warning("%s timed out after %ss (request %s)", self.spec.logical_id, self.spec.timeout_s, request_id)
            self._replace(worker)
            return Invocation(ok=False, timed_out=True)
        kind, payload = answer
        self._idle.put(worker)
        if kind == "ok":
            return Invocation(ok=True, payload=payload)
        return Invocation(ok=False, error=payload)

    @staticmethod
    def _answer(worker: _Worker, deadline: float) -> tuple[str, Any] | None:
        """The worker's answer, or None when it gives none by the deadline (and half a second). A
        worker whose init outlasted INIT_TIMEOUT_S says it is ready first: the answer follows."""
        while True:
            if not worker.connection.poll(max(0.0, deadline + 0.5 - time.time())):
                return None
            kind, payload = worker.connection.recv()
            if kind != "ready":
                return kind, payload
            worker.initialised = True

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all]

    def close(self, grace_s: float = 0.0) -> None:
        """Takes no new invocation, lets the running ones finish for up to grace_s, then ends
        every worker."""
        self._closed.set()
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._busy == 0:
                    break
            time.sleep(0.05)
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            worker.stop()
