"""Starts and stops the whole local stack."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config

from .functions import FunctionSpec, function_specs
from .gateway import GatewayServer
from .pollers import SqsPoller, StreamPoller
from .provision import Provisioned, Provisioner
from .runtime import FunctionPool
from .template import REGION, Stack, load_template

log = logging.getLogger("local_stack")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = ROOT / "infra" / "template.yaml"


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
    # Testing knob: a shorter visibility timeout than the template's, so retries and redrive can
    # be watched in seconds. Off by default: the template's value is used, as on AWS.
    visibility_timeout_s: int | None = None
    # Testing knob that goes with it: every function's timeout at most this, keeping AWS's rule of
    # visibility >= 6x timeout in spirit (a crashed worker's in-progress lock ends before the
    # message comes back).
    function_timeout_s: int | None = None
    # Models published to the models bucket at start (every folder with a manifest.json).
    models_dir: Path | None = ROOT / "models"


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


class LocalStack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self._stop = threading.Event()
        self._moto: Any = None
        self._pools: dict[str, FunctionPool] = {}
        self._pollers: list[SqsPoller | StreamPoller] = []
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

    def session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - the emulator takes any key
            region_name=REGION,
        )

    def start(self) -> None:
        if self.config.endpoint_url is None:
            from moto.server import ThreadedMotoServer

            self._moto = ThreadedMotoServer(ip_address=self.config.host, port=self.config.emulator_port, verbose=False)
            self._moto.start()
        _wait_until_up(self.endpoint_url)
        stack = Stack(load_template(self.config.template), self.config.stack_name, self.config.parameters)
        self.provisioned = Provisioner(stack, self.session(), self.endpoint_url).run()
        self._publish_models(self.provisioned.outputs.get("ModelsBucketName"))
        self.functions = function_specs(stack, self.config.template.parent)
        if self.config.function_timeout_s is not None:
            self.functions = [
                replace(spec, timeout_s=min(spec.timeout_s, self.config.function_timeout_s)) for spec in self.functions
            ]
        # One client for every poller thread: a pool as large as they are many (urllib3 warns and
        # drops connections past its default of 10).
        sqs = self.session().client("sqs", endpoint_url=self.endpoint_url, config=Config(max_pool_connections=64))
        if self.config.visibility_timeout_s is not None:
            self._shorten_visibility(sqs, stack)
        for spec in self.functions:
            self._pools[spec.logical_id] = FunctionPool(spec, self.endpoint_url, self.config.concurrency)
        urls_by_arn = {
            resource.attributes["Arn"]: resource.ref
            for resource in stack.physical.values()
            if "QueueUrl" in resource.attributes
        }
        for spec in self.functions:
            for source in spec.sqs_sources:
                for _ in range(self.config.concurrency):
                    poller = SqsPoller(
                        sqs, urls_by_arn[source.queue_arn], source, self._pools[spec.logical_id], self._stop
                    )
                    poller.start()
                    self._pollers.append(poller)
        streams = self.session().client("dynamodbstreams", endpoint_url=self.endpoint_url)
        for spec in self.functions:
            for stream_source in spec.stream_sources:
                stream_poller = StreamPoller(streams, stream_source, self._pools[spec.logical_id], self._stop)
                stream_poller.start()
                self._pollers.append(stream_poller)
        api_functions = [spec for spec in self.functions if spec.http_api]
        if api_functions:
            self._gateway = GatewayServer(
                (self.config.host, self.config.api_port), self._pools[api_functions[0].logical_id]
            )
            threading.Thread(target=self._gateway.serve_forever, name="gateway", daemon=True).start()
        self.outputs = {
            **self.provisioned.outputs,
            "ApiUrl": self.api_url,
            "EndpointUrl": self.endpoint_url,
            "Region": REGION,
        }
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        (self.config.state_dir / "outputs.json").write_text(json.dumps(self.outputs, indent=2) + "\n")

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

    def stop(self) -> None:
        self._stop.set()
        if self._gateway is not None:
            self._gateway.shutdown()
            self._gateway.server_close()
        for poller in self._pollers:
            poller.join(timeout=5)
        for pool in self._pools.values():
            pool.close()
        if self._moto is not None:
            self._moto.stop()
