"""Test helpers: real event shapes, a Lambda context, images made on the fly."""

from __future__ import annotations

import io
import json
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
from PIL import Image

from local_stack.gateway import build_event
from training.synthetic import Scene, make_scene

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"


class FakeLambdaContext:
    function_name = "test-function"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    memory_limit_in_mb = 1024
    log_group_name = "/aws/lambda/test-function"
    log_stream_name = "test"

    def __init__(self, timeout_s: float = 30.0) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.time() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.time()) * 1000)


def http_event(
    method: str,
    path: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """The HTTP API payload v2.0 event, built by the same code the local gateway uses."""
    all_headers = {"host": "api.example.test", "user-agent": "pytest", **(headers or {})}
    if json_body is not None:
        body = json.dumps(json_body).encode()
        all_headers.setdefault("content-type", "application/json")
    if form is not None:
        body = urlencode(form).encode()
        all_headers.setdefault("content-type", "application/x-www-form-urlencoded")
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    return build_event(method, path, list(all_headers.items()), body, "198.51.100.7")


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, content_type) in files.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def image_bytes(size: tuple[int, int] = (640, 480), fmt: str = "JPEG", mode: str = "RGB", **save: Any) -> bytes:
    """A photo-like image: smooth gradients plus detail, so resampling has something to do."""
    image = Image.linear_gradient("L").resize(size).convert(mode if mode != "P" else "RGB")
    if mode == "RGB":
        red = Image.linear_gradient("L").resize(size)
        green = Image.linear_gradient("L").rotate(90).resize(size)
        blue = Image.effect_mandelbrot(size, (-2, -1.2, 1, 1.2), 64)
        image = Image.merge("RGB", (red, green, blue))
    elif mode == "RGBA":
        rgb = Image.effect_mandelbrot(size, (-2, -1.2, 1, 1.2), 64).convert("RGB")
        alpha = Image.linear_gradient("L").resize(size)
        image = Image.merge("RGBA", (*rgb.split(), alpha))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def response_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


def scene_with_shapes() -> Scene:
    """A 560x400 stripes scene with three or more shapes, the same on every run: what the default
    models are asked to find in the end-to-end tests."""
    scene = make_scene(np.random.default_rng(424242), 560, 400, background="stripes", max_shapes=4)
    while len(scene.shapes) < 3:
        scene = make_scene(np.random.default_rng(len(scene.shapes) + 99), 560, 400, background="stripes", max_shapes=4)
    return scene
