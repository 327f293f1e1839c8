"""Integration fixtures: moto's server over HTTP on a free port, provisioned from the template."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from moto.server import ThreadedMotoServer

from imgtasks.adapters import aws
from local_stack.functions import FunctionSpec, function_specs
from local_stack.provision import Provisioned, Provisioner
from local_stack.session import emulator_session
from local_stack.template import Stack, load_template
from tests.helpers import TEMPLATE
from tests.ports import free_port


@dataclass
class Emulated:
    endpoint: str
    provisioned: Provisioned
    functions: dict[str, FunctionSpec]

    @property
    def outputs(self) -> dict[str, str]:
        return self.provisioned.outputs

    def client(self, service: str) -> Any:
        return emulator_session(self.endpoint).client(service)

    def use_environment_of(self, logical_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", self.endpoint)
        for name, value in self.functions[logical_id].environment.items():
            monkeypatch.setenv(name, value)
        aws.forget_clients()


@pytest.fixture
def emulated(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulated]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    # moto's backends live in the process, not in the server: start each test from nothing.
    requests.post(f"{endpoint}/moto-api/reset", timeout=10)
    try:
        stack = Stack(load_template(TEMPLATE), "imgtasks-it")
        provisioned = Provisioner(stack, emulator_session(endpoint), endpoint).run()
        functions = {spec.logical_id: spec for spec in function_specs(stack, TEMPLATE.parent)}
        yield Emulated(endpoint, provisioned, functions)
    finally:
        aws.forget_clients()
        requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        server.stop()
