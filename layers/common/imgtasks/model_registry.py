"""The model registry: each model is an ONNX file plus a manifest, kept in the models bucket.

    registry/<id>.json                    the manifest of the model's current version
    models/<id>/<version>/model.onnx      the weights of that version

Publishing uploads the weights first and the manifest last, so a reader never sees a manifest whose
weights are missing. The API lists the registry (cached briefly); the infer function loads the
weights of the version a task names, once per container."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

REGISTRY_PREFIX = "registry/"
LIST_CACHE_SECONDS = 60


class InputSpec(BaseModel):
    name: str = "images"
    size: tuple[int, int] = Field(description="Width and height the model takes")
    layout: Literal["NCHW", "NHWC"] = "NCHW"


class Preprocess(BaseModel):
    color: Literal["RGB", "BGR"] = "RGB"
    scale: float = 1 / 255
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    letterbox: bool = True
    pad: int = 114


class OutputSpec(BaseModel):
    """How to read the outputs.

    yolov8: [1, 4 + classes, anchors], boxes cx cy w h in input pixels.
    yolov8-obb: [1, 4 + classes + 1, anchors], the last row the angle in radians.
    ssd: two outputs, boxes [1, anchors, 4] (x1 y1 x2 y2) and scores [1, anchors, classes].
    classifier: [1, classes], logits or probabilities.
    """

    model_config = ConfigDict(extra="forbid")

    layout: Literal["yolov8", "yolov8-obb", "ssd", "classifier"]
    boxes: Literal["cxcywh-pixels", "xyxy-normalized", "xyxy-pixels"] = "cxcywh-pixels"
    angle: Literal["radians-clockwise", "radians-counterclockwise"] = "radians-clockwise"
    values: Literal["logits", "probabilities"] = "probabilities"
    background_class: int | None = Field(default=None, description="SSD: the index of a background class to ignore")
    box_output: str | None = Field(default=None, description="SSD: the boxes output's name")
    score_output: str | None = Field(default=None, description="SSD: the scores output's name")


class Thresholds(BaseModel):
    score: float = Field(default=0.25, ge=0, le=1)
    nms_iou: float = Field(default=0.45, ge=0, le=1)


class ModelManifest(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str
    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")
    task: Literal["detection", "classification"]
    description: str = ""
    labels: list[str] = Field(min_length=1)
    input: InputSpec
    preprocess: Preprocess = Field(default_factory=Preprocess)
    output: OutputSpec
    thresholds: Thresholds = Field(default_factory=Thresholds)
    max_detections: int = Field(default=100, ge=1, le=1000)
    sha256: str | None = None

    @property
    def weights_key(self) -> str:
        return f"models/{self.id}/{self.version}/model.onnx"

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "labels": self.labels,
            "input_size": list(self.input.size),
            "description": self.description,
        }


class ModelRegistry:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._cached: tuple[float, list[ModelManifest]] | None = None

    def manifests(self) -> list[ModelManifest]:
        if self._cached is not None and time.monotonic() - self._cached[0] < LIST_CACHE_SECONDS:
            return self._cached[1]
        manifests = []
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=REGISTRY_PREFIX):
            for item in page.get("Contents", []):
                body = self._s3.get_object(Bucket=self._bucket, Key=item["Key"])["Body"].read()
                manifests.append(ModelManifest.model_validate_json(body))
        manifests.sort(key=lambda manifest: manifest.id)
        self._cached = (time.monotonic(), manifests)
        return manifests

    def ids(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {"detection": [], "classification": []}
        for manifest in self.manifests():
            found[manifest.task].append(manifest.id)
        return found

    def get(self, model_id: str) -> ModelManifest | None:
        return next((manifest for manifest in self.manifests() if manifest.id == model_id), None)

    def weights(self, manifest: ModelManifest) -> bytes:
        data: bytes = self._s3.get_object(Bucket=self._bucket, Key=manifest.weights_key)["Body"].read()
        return data


def publish(s3_client: Any, bucket: str, directory: Path) -> ModelManifest:
    """Uploads directory/model.onnx and registers directory/manifest.json as the model's version."""
    weights = (directory / "model.onnx").read_bytes()
    manifest = ModelManifest.model_validate(json.loads((directory / "manifest.json").read_text()))
    manifest = manifest.model_copy(update={"sha256": hashlib.sha256(weights).hexdigest()})
    s3_client.put_object(Bucket=bucket, Key=manifest.weights_key, Body=weights)
    s3_client.put_object(
        Bucket=bucket,
        Key=f"{REGISTRY_PREFIX}{manifest.id}.json",
        Body=manifest.model_dump_json(indent=2).encode(),
        ContentType="application/json",
    )
    return manifest
