"""One function worker: `python -P -m local_stack.worker FD`, started by runtime.FunctionPool.

It runs in the interpreter chosen for the functions (Python 3.13 like Lambda's runtime where the
machine has one), so it imports nothing but the standard library before the handler: the
function's code, layers and packages come from PYTHONPATH, its settings from the environment
(`_HANDLER` names the handler, as in Lambda). Once the handler is imported (Lambda's INIT phase)
it says ("ready", None); then invocations arrive as (event, request_id, deadline) over the
connection on file descriptor FD, and answers go back as ("ok", result) or ("error", info).

A worker never outlives the stack: it exits when the connection closes and, should the stack be
killed while a handler runs, within half a second of its parent's death."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

PARENT_CHECK_S = 0.5


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, request_id: str, deadline: float) -> None:
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{os.environ.get('LOCAL_ACCOUNT_ID', '')}:function:{name}"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{name}")
        self.log_stream_name = f"local/{os.getpid()}"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _exit_with_parent(parent_pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(0)


def _load_handler() -> tuple[Any, str | None]:
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), function_name), None
    except Exception:  # an init error is reported on every invocation, as Lambda does
        return None, traceback.format_exc()


def serve(connection: Connection) -> None:
    handler, init_error = _load_handler()
    connection.send(("ready", None))
    while True:
        try:
            event, request_id, deadline = connection.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if handler is None:
            connection.send(("error", {"errorType": "Runtime.ImportModuleError", "errorMessage": init_error}))
            continue
        try:
            result = handler(event, LambdaContext(request_id, deadline))
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
        else:
            connection.send(("ok", result))


def main() -> None:
    # Ctrl-C in the terminal is the stack's to handle: it stops (or kills) its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent_pid = os.getppid()
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), name="parent-watch", daemon=True).start()
    comm = Path("/proc/self/comm")
    if comm.exists():  # Linux: `ps` shows which function a worker runs
        comm.write_text(os.environ.get("LOCAL_WORKER_NAME", "fn-worker")[:15])
    serve(Connection(int(sys.argv[1])))


if __name__ == "__main__":
    main()
