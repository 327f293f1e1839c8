"""Runs a function as Lambda does: in worker processes of its own, each with the function's code
and layers on the path, the template's environment, and a context with a deadline. A worker that
passes its timeout is killed and replaced, as Lambda ends a timed-out sandbox."""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import queue
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .functions import FunctionSpec
from .template import ACCOUNT_ID, REGION

log = logging.getLogger("local_stack.runtime")

# Kept from the machine's environment: what Python and the shell need, nothing of AWS's.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")


@dataclass(frozen=True)
class Invocation:
    ok: bool
    payload: Any = None
    timed_out: bool = False
    error: dict[str, Any] | None = None


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec, request_id: str, deadline: float) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{spec.name}"
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"local/{os.getpid()}"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def worker_name(spec: FunctionSpec) -> str:
    """The OS process name of the function's workers (Linux keeps 15 characters)."""
    return f"fn-{spec.logical_id}"[:15]


def function_environment(spec: FunctionSpec, endpoint_url: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "TZ": "UTC",
            # No X-Ray daemon runs locally.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(spec.environment)
    return env


def _worker_main(spec: FunctionSpec, environment: dict[str, str], connection: Connection) -> None:
    comm = Path("/proc/self/comm")
    if comm.exists():  # Linux: `ps` shows which function a worker runs
        comm.write_text(worker_name(spec)[:15])
    os.environ.clear()
    os.environ.update(environment)
    for path in reversed((str(spec.code_dir), *(str(p) for p in spec.layer_dirs))):
        sys.path.insert(0, path)
    module_name, _, function_name = spec.handler.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception:  # an init error is reported on every invocation, as Lambda does
        init_error = traceback.format_exc()
        handler = None
    while True:
        try:
            message = connection.recv()
        except (EOFError, KeyboardInterrupt):
            return
        event, request_id, deadline = message
        if handler is None:
            connection.send(("error", {"errorType": "Runtime.ImportModuleError", "errorMessage": init_error}))
            continue
        try:
            result = handler(event, LambdaContext(spec, request_id, deadline))
            connection.send(("ok", result))
        except Exception as error:
            traceback.print_exc()
            connection.send(
                (
                    "error",
                    {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "stackTrace": traceback.format_exc().splitlines(),
                    },
                )
            )


class _Worker:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str]) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(spec, environment, child), name=f"lambda-{spec.logical_id}", daemon=True
        )
        self.process.start()
        child.close()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class FunctionPool:
    """Up to `concurrency` workers of one function; an invocation waits for a free one."""

    def __init__(self, spec: FunctionSpec, endpoint_url: str, concurrency: int) -> None:
        self.spec = spec
        self._environment = function_environment(spec, endpoint_url)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(concurrency):
            self._add_worker()

    def _add_worker(self) -> None:
        worker = _Worker(self.spec, self._environment)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._all.remove(worker)
        if not self._closed:
            self._add_worker()

    def invoke(self, event: Any) -> Invocation:
        worker = self._idle.get()
        request_id = str(uuid.uuid4())
        deadline = time.time() + self.spec.timeout_s
        try:
            worker.connection.send((event, request_id, deadline))
            if not worker.connection.poll(self.spec.timeout_s + 0.5):
                log.warning(
                    "%s timed out after %ss (request %s)", self.spec.logical_id, self.spec.timeout_s, request_id
                )
                self._replace(worker)
                return Invocation(ok=False, timed_out=True)
            kind, payload = worker.connection.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            # The worker died mid-invocation (killed, or crashed): Lambda reports a runtime error.
            log.warning("%s worker died during request %s", self.spec.logical_id, request_id)
            self._replace(worker)
            return Invocation(ok=False, error={"errorType": "Runtime.ExitError", "errorMessage": "worker exited"})
        self._idle.put(worker)
        if kind == "ok":
            return Invocation(ok=True, payload=payload)
        return Invocation(ok=False, error=payload)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            worker.stop()
