"""Inference tasks: the registered ONNX models (detection, classification) run on an image."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from imgtasks.domain.base import StrictModel
from imgtasks.domain.records import TaskBase
from imgtasks.kinds.base import SOURCE_FIELDS, FileSources, TaskKind

INFER = TaskKind(
    name="infer",
    task_type="infer",
    queue_url_setting="infer_queue_url",
    function="InferFunction",
    handler="imgtasks_workers.infer.lambda_handler",
)


class InferSpec(StrictModel):
    detection_model: str | None = None
    classification_model: str | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> InferSpec:
        if not self.detection_model and not self.classification_model:
            raise ValueError("name a detection_model, a classification_model or both")
        return self


class CreateInferTasks(InferSpec, FileSources):
    type: Literal["infer"]

    def spec(self) -> InferSpec:
        return InferSpec.model_validate(self.model_dump(exclude=set(SOURCE_FIELDS), exclude_unset=True))


class ImageClass(StrictModel):
    label: str
    probability: float = Field(ge=0, le=1)


class Keypoint(StrictModel):
    """A named point of a detection (a face's eyes, nose, mouth and ears), 0-1 of the image."""

    name: str
    x: float
    y: float


class Detection(StrictModel):
    """An oriented box: centre, size and rotation, normalised to 0-1 of the image."""

    label: str
    probability: float = Field(ge=0, le=1)
    x: float
    y: float
    width: float
    height: float
    rotation: float = Field(ge=0, le=1, description="0-1 of a full turn, clockwise")
    keypoints: list[Keypoint] | None = Field(
        default=None,
        # Left out, not null, for the models without keypoints (all but `faces`).
        exclude_if=lambda value: value is None,
        description="The model's named points of the object (the `faces` model: six per face)",
    )


class ModelUsed(StrictModel):
    id: str
    version: str


class InferResult(StrictModel):
    image_class: ImageClass | None
    detections: list[Detection]
    models: dict[str, ModelUsed] = Field(description="The model used, by kind: `detection`, `classification`")


class InferTask(TaskBase):
    type: Literal["infer"] = "infer"
    kind: str = INFER.name
    spec: InferSpec
    result: InferResult | None = None
