"""Inference on the local stack with the default models it publishes at start."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import requests
from PIL import Image

from imgtasks_imaging.faces import find_faces
from tests.e2e.client import Client
from tests.e2e.conftest import same_on_any_emulator
from tests.helpers import ROOT, scene_with_shapes
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


def test_faces_are_found_with_their_keypoints_and_a_cover_resize_keeps_the_face(stack: Any) -> None:
    """A real photograph (face_recognition's test portrait, from the corpus): the `faces` model finds
    the one face and its six keypoints; `gravity: face` keeps it where the centre would cut it."""
    client = Client(stack.api)
    client.sign_up()
    listed = {m["id"]: m for m in client.request("GET", "/models").json()["detection_models"]}
    assert listed["faces"]["labels"] == ["face"]
    photo = (ROOT / ".corpus" / "face-recognition-1.3.0" / "obama.jpg").read_bytes()
    file_id = client.upload(photo, "portrait.jpg").json()["id"]
    infer = {"type": "infer", "file_ids": [file_id], "detection_model": "faces"}
    cover = {"op": "resize", "width": 910, "height": 300, "fit": "cover", "gravity": "face"}
    process = {"type": "process", "file_ids": [file_id], "operations": [cover], "output": {"format": "png"}}
    infer_id = client.request("POST", "/tasks", json=infer).json()["tasks"][0]["id"]
    process_id = client.request("POST", "/tasks", json=process).json()["tasks"][0]["id"]

    (face,) = client.wait_for(infer_id)["result"]["detections"]
    assert face["label"] == "face" and face["probability"] > 0.5
    assert 0.41 < face["x"] < 0.66 and 0.12 < face["y"] < 0.36  # inside the face labelled by hand
    points = {point["name"]: point for point in face["keypoints"]}
    assert list(points) == ["right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear"]
    assert points["right_eye"]["x"] < points["nose_tip"]["x"] < points["left_eye"]["x"]

    task = client.wait_for(process_id)
    assert task["status"] == "done", task
    (output,) = task["result"]["outputs"]
    strip = Image.open(io.BytesIO(requests.get(output["url"], timeout=30).content))
    assert strip.size == (910, 300)
    # A centre crop keeps y 418-718 of the 1137 px, below the face (y 136-409): no face in it.
    assert len(find_faces(strip)) == 1, "the strip kept no face"


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
