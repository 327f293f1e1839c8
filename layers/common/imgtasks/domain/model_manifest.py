"""A model's manifest: what the model is, what it takes and how to read its outputs. Kept in the
models bucket beside the weights (see imgtasks.adapters.model_registry)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from imgtasks.domain.base import Model


class InputSpec(Model):
    name: str = "images"
    size: tuple[int, int] = Field(description="Width and height the model takes")
    layout: Literal["NCHW", "NHWC"] = "NCHW"


class Preprocess(Model):
    color: Literal["RGB", "BGR"] = "RGB"
    scale: float = 1 / 255
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    letterbox: bool = True
    pad: int = 114


class OutputLayout(Model):
    """How to read the outputs.

    yolov8: [1, 4 + classes, anchors], boxes cx cy w h in input pixels.
    yolov8-obb: [1, 4 + classes + 1, anchors], the last row the angle in radians.
    ssd: two outputs, boxes [1, anchors, 4] (x1 y1 x2 y2) and scores [1, anchors, classes].
    classifier: [1, classes], logits or probabilities.
    blazeface: MediaPipe's BlazeFace, two outputs, regressors [1, anchors, 4 + 2 * keypoints]
    (box centre offset and size, then each keypoint's offset, in input pixels from the anchor) and
    raw scores [1, anchors, 1]; the anchors are the SSD grid of `anchor_strides`.
    """

    model_config = ConfigDict(extra="forbid")

    layout: Literal["yolov8", "yolov8-obb", "ssd", "classifier", "blazeface"]
    boxes: Literal["cxcywh-pixels", "xyxy-normalized", "xyxy-pixels"] = "cxcywh-pixels"
    angle: Literal["radians-clockwise", "radians-counterclockwise"] = "radians-clockwise"
    values: Literal["logits", "probabilities"] = "probabilities"
    background_class: int | None = Field(default=None, description="SSD: the index of a background class to ignore")
    box_output: str | None = Field(default=None, description="SSD: the boxes output's name")
    score_output: str | None = Field(default=None, description="SSD: the scores output's name")
    anchor_strides: list[int] = Field(
        default_factory=list, description="blazeface: the stride of each grid of anchors, in input pixels"
    )
    anchors_per_cell: list[int] = Field(
        default_factory=list, description="blazeface: how many anchors each cell of each grid has"
    )
    keypoints: list[str] = Field(default_factory=list, description="blazeface: the keypoints' names, in order")


class Thresholds(Model):
    score: float = Field(default=0.25, ge=0, le=1)
    nms_iou: float = Field(default=0.45, ge=0, le=1)


class ModelManifest(Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str
    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,32}$")
    task: Literal["detection", "classification"]
    description: str = ""
    labels: list[str] = Field(min_length=1)
    input: InputSpec
    preprocess: Preprocess = Field(default_factory=Preprocess)
    output: OutputLayout
    thresholds: Thresholds = Field(default_factory=Thresholds)
    max_detections: int = Field(default=100, ge=1, le=1000)
    sha256: str | None = None

    @property
    def weights_key(self) -> str:
        return f"models/{self.id}/{self.version}/model.onnx"
