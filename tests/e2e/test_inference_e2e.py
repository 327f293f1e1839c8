"""Inference on the local stack with the default models it publishes at start."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import requests

from tests.e2e.client import Client
from tests.e2e.conftest import same_on_any_emulator
from tests.helpers import scene_with_shapes
from training.synthetic import make_scene

pytestmark = same_on_any_emulator  # the inference engine's answers; the models bucket is read as any object is


def test_the_default_models_are_listed(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    models = client.request("GET", "/models").json()
    detection = {m["id"]: m for m in models["detection_models"]}
    classification = {m["id"]: m for m in models["classification_models"]}
    assert detection["shapes"]["labels"] == ["circle", "rectangle", "triangle"]
    assert classification["scenes"]["labels"] == ["plain", "gradient", "noise", "stripes", "checkerboard"]
    assert detection["shapes"]["version"] and detection["shapes"]["input_size"] == [256, 256]


def test_an_infer_task_finds_the_shapes_and_the_background_of_a_known_scene(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    scene = scene_with_shapes()
    buffer = io.BytesIO()
    scene.image.save(buffer, "PNG")
    file_id = client.upload(buffer.getvalue(), "scene.png", "image/png").json()["id"]
    body = {"type": "infer", "file_ids": [file_id], "detection_model": "shapes", "classification_model": "scenes"}
    created = client.request("POST", "/tasks", json=body)
    assert created.status_code == 202, created.text
    task = client.wait_for(created.json()["tasks"][0]["id"])
    assert task["status"] == "done", task
    result = task["result"]
    assert result["image_class"]["label"] == "stripes"
    assert 0 < result["image_class"]["probability"] <= 1
    detections = result["detections"]
    for shape in scene.shapes:
        x, y = shape.cx / 560, shape.cy / 400
        near = [d for d in detections if abs(d["x"] - x) < 0.05 and abs(d["y"] - y) < 0.05]
        assert near and near[0]["label"] == shape.label, (shape, detections)
    assert len(detections) == len(scene.shapes)
    assert all(0 <= d["rotation"] < 1 and 0 < d["probability"] <= 1 for d in detections)


def test_an_unknown_model_id_is_a_400_naming_the_valid_ids(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    file_id = client.upload(_png()).json()["id"]
    answer = client.request("POST", "/tasks", json={"type": "infer", "file_ids": [file_id], "detection_model": "yolo"})
    assert answer.status_code == 400
    assert "shapes" in answer.json()["detail"]


def test_a_corrupt_image_fails_its_infer_task_at_once(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    data = _png(600, 400)[:900]
    started = client.request(
        "POST", "/files", json={"filename": "x.png", "content_type": "image/png", "size": len(data)}
    ).json()
    upload = started["upload"]
    requests.post(upload["url"], data=upload["fields"], files={"file": ("x.png", data, "image/png")}, timeout=30)
    body = {"type": "infer", "file_ids": [started["file"]["id"]], "classification_model": "scenes"}
    task = client.wait_for(client.request("POST", "/tasks", json=body).json()["tasks"][0]["id"])
    assert (task["status"], task["error"]["code"], task["attempts"]) == ("failed", "invalid_image", 1)


def _png(width: int = 64, height: int = 64) -> bytes:
    scene = make_scene(np.random.default_rng(5), width, height, background="noise")
    buffer = io.BytesIO()
    scene.image.save(buffer, "PNG")
    return buffer.getvalue()
