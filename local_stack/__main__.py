"""`python -m local_stack`: runs imgtasks on this machine in the foreground (what `make run` does)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .lambda_python import lambda_python
from .persistence import SNAPSHOT_INTERVAL_S
from .stack import DEFAULT_TEMPLATE, ROOT, LocalStack, PortInUse, StackConfig


def parse_args(argv: list[str]) -> StackConfig:
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument(
        "--endpoint",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="use a running LocalStack (or other emulator) at this URL instead of the embedded moto server",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--emulator-port", type=int, default=4566)
    parser.add_argument("--api-port", type=int, default=3000)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=2,
        help="most worker processes of each queue-fed function (started on demand)",
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    parser.add_argument("--stack-name", default="imgtasks-local")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=ROOT / ".local",
        help="where the emulator's state is kept across restarts, and outputs.json and sam-env.json are written",
    )
    parser.add_argument("--fresh", action="store_true", help="start empty: delete the state kept by earlier runs")
    parser.add_argument(
        "--in-memory",
        action="store_true",
        help="keep the state in memory only: nothing is restored or saved (benchmarks, throwaway runs)",
    )
    parser.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="a template parameter override"
    )
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=None,
        metavar="SECONDS",
        help="testing: shorten the queues' visibility timeout so retries happen in seconds",
    )
    parser.add_argument(
        "--function-timeout",
        type=int,
        default=None,
        metavar="SECONDS",
        help="testing: cap every function's timeout (pair with --visibility-timeout)",
    )
    parser.add_argument("--no-models", action="store_true", help="do not publish the models under models/ at start")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    parameters = {}
    for item in args.param:
        name, separator, value = item.partition("=")
        if not separator:
            parser.error(f"--param takes NAME=VALUE, got {item!r}")
        parameters[name] = value
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return StackConfig(
        template=args.template,
        stack_name=args.stack_name,
        endpoint_url=args.endpoint,
        host=args.host,
        emulator_port=args.emulator_port,
        api_port=args.api_port,
        concurrency=args.concurrency,
        parameters=parameters,
        state_dir=args.state_dir,
        fresh=args.fresh,
        in_memory=args.in_memory,
        python=lambda_python(),
        visibility_timeout_s=args.visibility_timeout,
        function_timeout_s=args.function_timeout,
        models_dir=None if args.no_models else ROOT / "models",
    )


class StopSignals:
    """The first Ctrl-C (or SIGTERM) asks for a clean stop; a second one ends the process at once
    (its workers notice within half a second and exit too)."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def wait(self) -> None:
        """Until a stop is asked for. In short waits: the kernel may hand a signal to any thread,
        and Python runs its handler only when the main thread next runs bytecode, which a wait
        without a timeout would put off for good (the stack then ignored a SIGTERM under load)."""
        while not self.requested.wait(timeout=0.25):
            pass

    def _on_signal(self, number: int, _frame: object) -> None:
        if self.requested.is_set():
            print("\nforced stop", file=sys.stderr, flush=True)
            os._exit(128 + number)
        self.requested.set()


def banner(stack: LocalStack) -> str:
    outputs = stack.outputs
    config = stack.config
    if stack.emulator is None:
        state = "kept by the emulator at the endpoint"
    elif config.in_memory:
        state = "in memory only: gone when the stack stops (--in-memory)"
    elif stack.restored is not None:
        state = f"restored from {config.state_dir}/ (--fresh starts empty)"
    else:
        every = f"saved within {SNAPSHOT_INTERVAL_S:g} s of a change"
        state = f"kept in {config.state_dir}/ across restarts ({every}; --fresh starts empty)"
    python = config.python.executable + (f" ({config.python.note})" if config.python.note else "")
    return (
        "\nimgtasks is running\n"
        f"  API            {outputs['ApiUrl']}   (docs: {outputs['ApiUrl']}/docs)\n"
        f"  web app        {outputs['ApiUrl']}/app/\n"
        f"  live changes   {outputs.get('EventsUrl', '')}   (WebSocket: POST /events/tickets)\n"
        f"  AWS endpoint   {outputs['EndpointUrl']}   (region {outputs['Region']}, any access key)\n"
        f"  uploads bucket {outputs['UploadsBucketName']}\n"
        f"  results bucket {outputs['ResultsBucketName']}\n"
        f"  models bucket  {outputs['ModelsBucketName']}\n"
        f"  table          {outputs['TableName']}\n"
        f"  functions run  {python}\n"
        f"  state          {state}\n"
        f"  outputs        {stack.outputs_path}   (sam local: {stack.sam_env_path})\n"
        "Press Ctrl-C to stop.\n"
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(sys.argv[1:] if argv is None else argv)
    signals = StopSignals()
    stack = LocalStack(config)
    try:
        stack.bind_ports()
    except PortInUse as error:
        print(f"imgtasks: {error}", file=sys.stderr, flush=True)
        return 2
    try:
        stack.start()
        if not signals.requested.is_set():
            print(banner(stack), flush=True)
            signals.wait()
        print("stopping (Ctrl-C again to force)...", flush=True)
    finally:
        stack.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
