"""Inference: decoders for each output layout against tiny ONNX graphs whose outputs are known,
and the infer function on real SQS events with models published to the (mocked) models bucket."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from imgtasks.adapters.model_registry import publish
from imgtasks.domain.model_manifest import ModelManifest
from imgtasks_imaging.model_input import prepare
from imgtasks_workers.inference.decoders import classify, detect


def constant_model(
    outputs: dict[str, np.ndarray], input_size: tuple[int, int] = (64, 64), dynamic_batch: bool = False
) -> bytes:
    """An ONNX graph that ignores its image and answers `outputs` (one image's worth, tiled per batch)."""
    batch: str | int = "batch" if dynamic_batch else 1
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, input_size[1], input_size[0]])
    nodes, infos, initializers = [], [], []
    # Tile the constant over the batch: Shape(images)[0] -> repeats.
    nodes.append(helper.make_node("Shape", ["images"], ["shape"]))
    initializers.append(numpy_helper.from_array(np.array([0], np.int64), "zero"))
    initializers.append(numpy_helper.from_array(np.array([1], np.int64), "one"))
    nodes.append(helper.make_node("Slice", ["shape", "zero", "one"], ["batch_size"]))
    for name, value in outputs.items():
        initializers.append(numpy_helper.from_array(value.astype(np.float32), f"{name}_value"))
        ones = np.ones(value.ndim - 1, np.int64)
        initializers.append(numpy_helper.from_array(ones, f"{name}_ones"))
        nodes.append(helper.make_node("Concat", ["batch_size", f"{name}_ones"], [f"{name}_repeats"], axis=0))
        nodes.append(helper.make_node("Tile", [f"{name}_value", f"{name}_repeats"], [name]))
        infos.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, *value.shape[1:]]))
    graph = helper.make_graph(nodes, "constant", [image], infos, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def run(model: bytes, tensor: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, [out[0] for out in session.run(None, {"images": tensor[None]})], strict=True))


def manifest(**fields: Any) -> ModelManifest:
    base = {
        "id": "tiny",
        "name": "tiny",
        "version": "1",
        "task": "detection",
        "labels": ["cat", "dog"],
        "input": {"size": [64, 64]},
        "output": {"layout": "yolov8"},
        "thresholds": {"score": 0.25, "nms_iou": 0.5},
    }
    base.update(fields)
    return ModelManifest.model_validate(base)


def wide_image() -> Image.Image:
    """128x64: letterboxed into 64x64 at scale 0.5 with 16 px of padding above and below."""
    return Image.new("RGB", (128, 64), (10, 20, 30))


def test_yolov8_boxes_are_thresholded_suppressed_and_mapped_back_through_the_letterbox() -> None:
    # Anchors: a box, a weaker duplicate of it, a box below the score threshold, a box of class 2.
    raw = np.zeros((1, 6, 4), np.float32)
    raw[0, :, 0] = [32, 32, 16, 8, 0.9, 0.1]
    raw[0, :, 1] = [33, 32, 16, 8, 0.6, 0.0]
    raw[0, :, 2] = [10, 20, 4, 4, 0.2, 0.1]
    raw[0, :, 3] = [48, 40, 8, 8, 0.0, 0.7]
    spec = manifest()
    tensor, placement = prepare(wide_image(), spec)
    detections = detect(run(constant_model({"output0": raw}), tensor), spec, placement)
    assert [(d["label"], d["probability"]) for d in detections] == [("cat", 0.9), ("dog", 0.7)]
    cat = detections[0]
    assert (cat["x"], cat["y"], cat["width"], cat["height"], cat["rotation"]) == (0.5, 0.5, 0.25, 0.25, 0.0)
    dog = detections[1]
    assert (dog["x"], dog["y"]) == (0.75, 0.75)  # (48-0)/0.5/128, (40-16)/0.5/64


def test_yolov8_obb_reports_rotation_as_a_fraction_of_a_turn_and_suppresses_by_rotated_iou() -> None:
    raw = np.zeros((1, 7, 3), np.float32)
    raw[0, :, 0] = [32, 32, 20, 6, 0.0, 0.8, math.pi / 2]
    raw[0, :, 1] = [32, 32, 20, 6, 0.0, 0.5, math.pi / 2 + 0.05]  # the same box, nearly: suppressed
    raw[0, :, 2] = [32, 32, 20, 6, 0.0, 0.4, 0.0]  # crosses the first at right angles: IoU 0.17, kept
    spec = manifest(output={"layout": "yolov8-obb"})
    tensor, placement = prepare(Image.new("RGB", (64, 64)), spec)
    detections = detect(run(constant_model({"output0": raw}), tensor), spec, placement)
    assert [(d["label"], d["rotation"]) for d in detections] == [("dog", 0.25), ("dog", 0.0)]


def test_ssd_boxes_and_scores_with_a_background_class() -> None:
    boxes = np.array([[[0.25, 0.25, 0.75, 0.75], [0.0, 0.0, 0.1, 0.1]]], np.float32)
    scores = np.array([[[0.05, 0.15, 0.8], [0.9, 0.05, 0.05]]], np.float32)  # column 0 is background
    spec = manifest(
        output={
            "layout": "ssd",
            "boxes": "xyxy-normalized",
            "background_class": 0,
            "box_output": "boxes",
            "score_output": "scores",
        },
        preprocess={"letterbox": False},
    )
    tensor, placement = prepare(Image.new("RGB", (200, 100)), spec)
    detections = detect(run(constant_model({"boxes": boxes, "scores": scores}), tensor), spec, placement)
    assert detections == [
        {"label": "dog", "probability": 0.8, "x": 0.5, "y": 0.5, "width": 0.5, "height": 0.5, "rotation": 0.0}
    ]


@pytest.mark.parametrize(
    ("values", "raw", "expected"),
    [
        ("logits", [1.0, 3.0, 0.5], ("b", 0.8214)),
        ("probabilities", [0.1, 0.2, 0.7], ("c", 0.7)),
    ],
)
def test_classifiers_give_the_top_label_and_its_probability(
    values: str, raw: list[float], expected: tuple[str, float]
) -> None:
    spec = manifest(task="classification", labels=["a", "b", "c"], output={"layout": "classifier", "values": values})
    tensor, _ = prepare(Image.new("RGB", (30, 50)), spec)
    out = run(constant_model({"logits": np.array([raw], np.float32)}), tensor)
    result = classify(out["logits"], spec)
    assert (result["label"], result["probability"]) == expected


def test_preprocessing_follows_the_manifest() -> None:
    spec = manifest(
        preprocess={"color": "BGR", "scale": 1.0, "mean": [1, 2, 3], "std": [2, 2, 2], "letterbox": True, "pad": 0},
        input={"size": [4, 4], "layout": "NHWC"},
    )
    tensor, placement = prepare(Image.new("RGB", (8, 4), (10, 20, 30)), spec)
    assert tensor.shape == (4, 4, 3)
    assert tensor[1, 0].tolist() == [(30 - 1) / 2, (20 - 2) / 2, (10 - 3) / 2]  # BGR, minus mean, over std
    assert tensor[0, 0].tolist() == [(0 - 1) / 2, (0 - 2) / 2, (0 - 3) / 2]  # the letterbox pad row
    assert (placement.scale_x, placement.pad_y) == (0.5, 1)


# ------------------------------------------------------------------ the infer function
@pytest.fixture
def published(mocked_stack: Any, tmp_path: Path) -> Any:
    """A tiny detector and classifier in the models bucket, as `make publish-model` puts them."""
    raw = np.zeros((1, 6, 2), np.float32)
    raw[0, :, 0] = [32, 32, 16, 8, 0.9, 0.1]
    s3 = mocked_stack.client("s3")
    for model_id, task, outputs, output_spec in (
        ("boxes", "detection", {"output0": raw}, {"layout": "yolov8"}),
        (
            "kinds",
            "classification",
            {"logits": np.array([[0.0, 5.0]], np.float32)},
            {"layout": "classifier", "values": "logits"},
        ),
    ):
        directory = tmp_path / model_id
        directory.mkdir()
        (directory / "model.onnx").write_bytes(constant_model(outputs, dynamic_batch=True))
        spec = manifest(id=model_id, task=task, output=output_spec).model_dump(mode="json")
        (directory / "manifest.json").write_text(json.dumps(spec))
        publish(s3, mocked_stack.outputs["ModelsBucketName"], directory)
    return mocked_stack


@pytest.fixture
def infer(published: Any, dispatch: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    from imgtasks_workers import infer as handler
    from tests.unit.queue_driver import QueueDriver

    published.use_environment_of("InferFunction", monkeypatch)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "cache"))
    handler.worker.cache_clear()
    yield QueueDriver(
        published.client("sqs"), published.outputs["InferQueueUrl"], handler.lambda_handler, dispatcher=dispatch
    )
    handler.worker.cache_clear()


def jpeg(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_models_are_listed_and_an_unknown_id_is_a_400_naming_the_valid_ones(api: Any, published: Any) -> None:
    api.sign_up()
    models = api.call("GET", "/models").body
    assert [m["id"] for m in models["detection_models"]] == ["boxes"]
    assert models["classification_models"][0] == {
        "id": "kinds",
        "name": "tiny",
        "version": "1",
        "labels": ["cat", "dog"],
        "input_size": [64, 64],
        "description": "",
    }
    file_id = api.upload(jpeg((64, 64))).body["id"]
    answer = api.call("POST", "/tasks", json_body={"type": "infer", "file_ids": [file_id], "detection_model": "yolo"})
    assert answer.status == 400
    assert "valid ids: boxes" in answer.problem["detail"]


def test_a_batch_of_infer_tasks_runs_through_both_models(api: Any, infer: Any) -> None:
    api.sign_up()
    ids = [api.upload(jpeg((128, 64))).body["id"] for _ in range(3)]
    body = {"type": "infer", "file_ids": ids, "detection_model": "boxes", "classification_model": "kinds"}
    tasks = [t["id"] for t in api.call("POST", "/tasks", json_body=body).body["tasks"]]
    assert infer.deliver(infer.receive()) == {"batchItemFailures": []}
    for task_id in tasks:
        task = api.call("GET", f"/tasks/{task_id}").body
        assert task["status"] == "done", task
        result = task["result"]
        assert result["image_class"] == {"label": "dog", "probability": 0.9933}
        assert result["detections"] == [
            {"label": "cat", "probability": 0.9, "x": 0.5, "y": 0.5, "width": 0.25, "height": 0.25, "rotation": 0.0}
        ]


def test_a_corrupt_image_fails_its_infer_task_and_not_the_others(api: Any, infer: Any, mocked_stack: Any) -> None:
    api.sign_up()
    good = api.upload(jpeg((64, 64))).body
    bad = api.upload(jpeg((64, 64))).body
    owner = api.services.signer.verify(api.token).user_id
    mocked_stack.client("s3").put_object(
        Bucket=mocked_stack.outputs["UploadsBucketName"], Key=f"files/{owner}/{bad['id']}", Body=jpeg((64, 64))[:300]
    )
    body = {"type": "infer", "file_ids": [good["id"], bad["id"]], "classification_model": "kinds"}
    tasks = [t["id"] for t in api.call("POST", "/tasks", json_body=body).body["tasks"]]
    assert infer.deliver(infer.receive()) == {"batchItemFailures": []}
    statuses = [api.call("GET", f"/tasks/{t}").body for t in tasks]
    assert [s["status"] for s in statuses] == ["done", "failed"]
    assert statuses[1]["error"]["code"] == "invalid_image"


def test_a_model_removed_from_the_registry_fails_the_task_with_model_unavailable(
    api: Any, infer: Any, mocked_stack: Any
) -> None:
    api.sign_up()
    file_id = api.upload(jpeg((64, 64))).body["id"]
    task_id = api.call(
        "POST", "/tasks", json_body={"type": "infer", "file_ids": [file_id], "detection_model": "boxes"}
    ).body["tasks"][0]["id"]
    mocked_stack.client("s3").delete_object(Bucket=mocked_stack.outputs["ModelsBucketName"], Key="registry/boxes.json")
    infer.deliver(infer.receive())
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["error"]["code"]) == ("failed", "model_unavailable")
