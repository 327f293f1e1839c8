"""Starts and stops the whole local stack."""

from __future__ import annotations

import json
import logging
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests
from botocore.config import Config

from . import moto_additions
from .edge import Edge, edge_config
from .emulator import EVENT_SOURCE_AGENT, EmbeddedEmulator
from .functions import FunctionSpec, function_specs
from .gateway import GatewayServer
from .metrics import MetricsPublisher
from .persistence import EmulatorState, Snapshot, release_idempotency_locks, release_in_flight_messages
from .pollers import IdleTurn, SqsPoller, StreamPoller
from .provision import Provisioned, Provisioner
from .runtime import FunctionPool, LambdaPython, this_python
from .session import emulator_session
from .template import REGION, Stack, load_template
from .websocket_api import WebSocketApi, websocket_config

log = logging.getLogger("local_stack")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = ROOT / "infra" / "template.yaml"


class PortInUse(Exception):
    """A port the stack needs is taken; says which, and the option that changes it."""

    def __init__(self, host: str, port: int, role: str, option: str) -> None:
        super().__init__(
            f"port {port} on {host} ({role}) is in use: stop what holds it, or choose another port "
            f"with {option} N (make run ARGS='{option} N')"
        )


# What a stack on this machine needs that AWS does not: URL ingest of files served from 127.0.0.1
# (the metadata addresses stay refused).
LOCAL_PARAMETERS = {"AllowPrivateUrls": "true"}
# The most API workers at once (each a process): enough for several long-polls beside other calls.
API_MAX_CONCURRENCY = 8


@dataclass
class StackConfig:
    template: Path = DEFAULT_TEMPLATE
    stack_name: str = "imgtasks-local"
    endpoint_url: str | None = None
    host: str = "127.0.0.1"
    emulator_port: int = 4566
    api_port: int = 3000
    concurrency: int = 2
    parameters: dict[str, str] = field(default_factory=dict)
    state_dir: Path = ROOT / ".local"
    # Start empty: the saved state of the embedded emulator is deleted first.
    fresh: bool = False
    # Keep the embedded emulator's state in memory only: nothing is restored or saved (a bench,
    # a throwaway run). Saving pauses the emulator while it pickles, up to half the time under
    # a steady stream of writes.
    in_memory: bool = False
    # Testing knob: a shorter visibility timeout than the template's, so retries and redrive can
    # be watched in seconds. Off by default: the template's value is used, as on AWS.
    visibility_timeout_s: int | None = None
    # Testing knob that goes with it: every function's timeout at most this, keeping AWS's rule of
    # visibility >= 6x timeout in spirit (a crashed worker's in-progress lock ends before the
    # message comes back).
    function_timeout_s: int | None = None
    # Models published to the models bucket at start (every folder with a manifest.json).
    models_dir: Path | None = ROOT / "models"
    python: LambdaPython = field(default_factory=this_python)
    # How long a stop lets running invocations finish before it ends their workers.
    stop_grace_s: float = 3.0


def _wait_until_up(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# How long the API's first worker may take to answer after a start (a loaded machine: 10-15 s).
HEALTH_WAIT_S = 120.0


def _wait_for_health(api_url: str, seconds: float = HEALTH_WAIT_S) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(f"{api_url}/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the API at {api_url} did not answer /health within {seconds:g} s")
        time.sleep(0.1)


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self._stop = threading.Event()
        self.emulator: EmbeddedEmulator | None = None
        self.state: EmulatorState | None = None
        self.restored: Snapshot | None = None
        self._pools: dict[str, FunctionPool] = {}
        self._sqs_pollers: list[SqsPoller] = []
        self._stream_pollers: dict[str, StreamPoller] = {}
        self._gateway: GatewayServer | None = None
        self.provisioned: Provisioned | None = None
        self.functions: list[FunctionSpec] = []
        self.outputs: dict[str, str] = {}

    @property
    def endpoint_url(self) -> str:
        return self.config.endpoint_url or f"http://{self.config.host}:{self.config.emulator_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.config.host}:{self.config.api_port}"

    @property
    def outputs_path(self) -> Path:
        return self.config.state_dir / "outputs.json"

    @property
    def sam_env_path(self) -> Path:
        return self.config.state_dir / "sam-env.json"

    @property
    def aws_calls_path(self) -> Path:
        return self.config.state_dir / "aws-calls.json"

    def session(self) -> Any:
        """A localstack-client session: its clients all reach this stack's emulator."""
        return emulator_session(self.endpoint_url)

    def bind_ports(self) -> None:
        """Takes both ports before anything else happens, so a busy one stops the start at once."""
        try:
            self._gateway = GatewayServer((self.config.host, self.config.api_port))
        except OSError as error:
            raise PortInUse(self.config.host, self.config.api_port, "the API", "--api-port") from error
        if self.config.endpoint_url is None:
            try:
                self.emulator = EmbeddedEmulator(self.config.host, self.config.emulator_port)
            except OSError as error:
                self._gateway.server_close()
                raise PortInUse(
                    self.config.host, self.config.emulator_port, "the AWS emulator", "--emulator-port"
                ) from error
        # Both ports are ours: no other stack runs on them, and its outputs.json (a refused start
        # leaves it alone) is stale; whoever waits for the new one must not read the old.
        self.outputs_path.unlink(missing_ok=True)

    def start(self) -> None:
        if self._gateway is None:
            self.bind_ports()
        gateway = self._gateway
        if gateway is None:
            raise RuntimeError("bind_ports did not bind the API port")
        if self.emulator is not None:
            if not self.config.in_memory:
                self._restore_state(self.emulator)
            self.emulator.start()
        _wait_until_up(self.endpoint_url)
        # The web app at /app/ posts big uploads straight to the uploads bucket: its origin (this
        # API's port) must pass the bucket's CORS rule.
        own_origins = f"http://{self.config.host}:{self.config.api_port},http://localhost:{self.config.api_port}"
        parameters = {
            **LOCAL_PARAMETERS,
            "AllowedOrigins": own_origins,
            # Render URLs are served here too, by the distribution's stand-in.
            "CdnBaseUrl": self.api_url,
            **self.config.parameters,
        }
        stack = Stack(load_template(self.config.template), self.config.stack_name, parameters)
        self.provisioned = Provisioner(stack, self.session(), self.endpoint_url, self.api_url).run()
        if self.emulator is not None:
            self.emulator.app.notifying_buckets = frozenset(
                stack.physical[name].ref
                for name, resource in stack.resources.items()
                if resource["Type"] == "AWS::S3::Bucket"
                and "NotificationConfiguration" in resource.get("Properties", {})
            )
        self._publish_models(self.provisioned.outputs.get("ModelsBucketName"))
        self.functions = function_specs(stack, self.config.template.parent)
        if self.config.function_timeout_s is not None:
            self.functions = [
                replace(spec, timeout_s=min(spec.timeout_s, self.config.function_timeout_s)) for spec in self.functions
            ]
        if self.restored is not None:
            # The workers that held them died with the last run: their messages and their
            # idempotency locks are released now, so the work they were doing starts again at once.
            released = release_in_flight_messages()
            unlocked = release_idempotency_locks(self.session(), self.endpoint_url, self.provisioned.outputs)
            if released or unlocked:
                log.info("released %d message(s) and %d lock(s) held when the stack last stopped", released, unlocked)
        # One client for every poller thread: a pool as large as they are many (urllib3 warns and
        # drops connections past its default of 10).
        pollers_config = Config(max_pool_connections=64, user_agent_extra=EVENT_SOURCE_AGENT)
        sqs = self.session().client("sqs", endpoint_url=self.endpoint_url, config=pollers_config)
        if self.config.visibility_timeout_s is not None:
            self._shorten_visibility(sqs, stack)
        for spec in self.functions:
            # Queue workers are as many as their pollers; the API grows with its requests.
            most = max(API_MAX_CONCURRENCY, self.config.concurrency) if spec.http_api else None
            self._pools[spec.logical_id] = FunctionPool(
                spec,
                self.endpoint_url,
                self.config.concurrency,
                self.config.python,
                max_concurrency=most,
                warm=1 if spec.http_api else 0,
            )
        urls_by_arn = {
            resource.attributes["Arn"]: resource.ref
            for resource in stack.physical.values()
            if "QueueUrl" in resource.attributes
        }
        for spec in self.functions:
            for source in spec.sqs_sources:
                turn = IdleTurn()
                for _ in range(self.config.concurrency):
                    poller = SqsPoller(
                        sqs,
                        urls_by_arn[source.queue_arn],
                        source,
                        self._pools[spec.logical_id],
                        self._stop,
                        activity=self.emulator.app.activity if self.emulator is not None else None,
                        turn=turn,
                    )
                    poller.start()
                    self._sqs_pollers.append(poller)
        streams = self.session().client("dynamodbstreams", endpoint_url=self.endpoint_url, config=pollers_config)
        saved_checkpoints = self.restored.stream_checkpoints if self.restored else {}
        for spec in self.functions:
            for stream_source in spec.stream_sources:
                key = f"{spec.logical_id}/{stream_source.name}"
                stream_poller = StreamPoller(
                    streams,
                    stream_source,
                    self._pools[spec.logical_id],
                    self._stop,
                    saved_checkpoints.get(key),
                    activity=self.emulator.app.activity if self.emulator is not None else None,
                )
                stream_poller.start()
                self._stream_pollers[key] = stream_poller
        if self.state is not None:
            self.state.start()
        self._metrics = MetricsPublisher(
            self.session().client("cloudwatch", endpoint_url=self.endpoint_url, config=pollers_config),
            self._pools,
            self._stop,
            queue_ages=moto_additions.oldest_message_ages if self.emulator is not None else None,
        )
        self._metrics.start()
        edge = edge_config(stack)
        if edge is not None:
            s3 = self.session().client("s3", endpoint_url=self.endpoint_url)
            gateway.edge = Edge(edge, s3, self._pools[edge.render_function])
        websocket = websocket_config(stack)
        if websocket is not None:
            gateway.websocket = WebSocketApi(websocket, self._pools[websocket.function])
        api_functions = [spec for spec in self.functions if spec.http_api]
        if api_functions:
            gateway.function = self._pools[api_functions[0].logical_id]
            threading.Thread(target=gateway.serve_forever, name="gateway", daemon=True).start()
        self.outputs = {
            **self.provisioned.outputs,
            "ApiUrl": self.api_url,
            "EndpointUrl": self.endpoint_url,
            "Region": REGION,
        }
        _wait_for_health(self.api_url)  # outputs.json and the banner mean the API answers
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        self.sam_env_path.write_text(json.dumps(sam_environment(self.functions, self.endpoint_url), indent=2) + "\n")
        # Written whole, then renamed into place: whoever waits for the file never reads half of it.
        partial = self.outputs_path.with_suffix(".json.partial")
        partial.write_text(json.dumps(self.outputs, indent=2) + "\n")
        partial.replace(self.outputs_path)

    def _restore_state(self, emulator: EmbeddedEmulator) -> None:
        folder = self.config.state_dir / "emulator"
        if self.config.fresh:
            shutil.rmtree(folder, ignore_errors=True)
        self.state = EmulatorState(folder, emulator.app, self._stream_checkpoints)
        self.restored = self.state.load()
        if self.restored is not None:
            log.info("state of %s restored from %s", time.ctime(self.restored.saved_at), self.state.path)

    def _stream_checkpoints(self) -> dict[str, dict[str, str | None]]:
        return {key: poller.checkpoints() for key, poller in self._stream_pollers.items()}

    def _publish_models(self, bucket: str | None) -> None:
        if self.config.models_dir is None or bucket is None:
            return
        sys.path.insert(0, str(ROOT / "layers" / "common"))
        from imgtasks.adapters.model_registry import publish

        s3 = self.session().client("s3", endpoint_url=self.endpoint_url)
        for manifest in sorted(self.config.models_dir.glob("*/manifest.json")):
            published = publish(s3, bucket, manifest.parent)
            log.info("published model %s version %s", published.id, published.version)

    def _shorten_visibility(self, sqs: Any, stack: Stack) -> None:
        for logical_id, resource in stack.resources.items():
            if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in resource.get("Properties", {}):
                sqs.set_queue_attributes(
                    QueueUrl=stack.physical[logical_id].ref,
                    Attributes={"VisibilityTimeout": str(self.config.visibility_timeout_s)},
                )

    def pool(self, logical_id: str) -> FunctionPool:
        return self._pools[logical_id]

    def function_totals(self) -> dict[str, tuple[int, float, float, float, int]]:
        """Each function's invocations so far: (how many, milliseconds, CPU milliseconds, the
        largest resident memory of a worker in MB, its memory size), for bench/stack.py's costs."""
        return {name: (*pool.totals(), pool.spec.memory_mb) for name, pool in self._pools.items()}

    def stop(self) -> None:
        """Takes no new work, lets running invocations finish for a moment, ends the workers,
        saves the emulator's state and closes the ports."""
        self._stop.set()
        if self.emulator is not None:
            self.emulator.app.activity.wake_all()  # idle pollers sleep until woken
        if self._gateway is not None:
            self._gateway.shutdown()
            self._gateway.server_close()
        deadline = time.monotonic() + self.config.stop_grace_s
        for pool in self._pools.values():
            pool.close(grace_s=max(0.0, deadline - time.monotonic()))
        for poller in [*self._sqs_pollers, *self._stream_pollers.values()]:
            poller.join(timeout=max(0.1, deadline + 2 - time.monotonic()))
        if self.state is not None:
            self.state.stop()
        if self.emulator is not None:
            self.emulator.stop()
            # What each function called on this run, as IAM actions: the rights its policy needs.
            calls = self.emulator.app.actions_by_function()
            self.aws_calls_path.write_text(json.dumps(calls, indent=2) + "\n")
        if self.outputs:
            self.outputs_path.unlink(missing_ok=True)  # a stopped stack's outputs are no longer true


def sam_environment(functions: list[FunctionSpec], endpoint_url: str) -> dict[str, dict[str, str]]:
    """Every function's variables as `sam local start-api --env-vars` takes them: by logical id,
    the template's variables with the local stack's names and ARNs, and the emulator's endpoint."""
    return {spec.logical_id: {**spec.environment, "AWS_ENDPOINT_URL": endpoint_url} for spec in functions}
