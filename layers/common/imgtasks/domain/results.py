"""What a finished task produced, as stored on the task record. The API shows the same shapes,
with a presigned `url` in place of each output's storage location (see the API's schemas)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from imgtasks.domain.base import Model


class ResultModel(Model):
    # Unknown fields are an error, so a stored result is always exactly one of the shapes below.
    model_config = ConfigDict(extra="forbid")


class SourceImage(ResultModel):
    format: str
    width: int
    height: int
    frames: int
    size: int = Field(description="Bytes")
    duration: float | None = Field(default=None, description="Seconds, for a video")


class Output(ResultModel):
    """One output of a process task, as clients see it: a file of the task's owner."""

    name: str = Field(description="`default`, or the variant's name")
    file_id: str
    format: str
    width: int
    height: int
    frames: int
    size: int = Field(description="Bytes")


class OutputFile(Output):
    """An output as stored: where its bytes are in the results bucket."""

    bucket: str
    key: str


class ProcessResult(ResultModel):
    outputs: list[OutputFile]
    source: SourceImage


class ImageClass(ResultModel):
    label: str
    probability: float = Field(ge=0, le=1)


class Detection(ResultModel):
    """An oriented box: centre, size and rotation, normalised to 0-1 of the image."""

    label: str
    probability: float = Field(ge=0, le=1)
    x: float
    y: float
    width: float
    height: float
    rotation: float = Field(ge=0, le=1, description="0-1 of a full turn, clockwise")


class ModelUsed(ResultModel):
    id: str
    version: str


class InferResult(ResultModel):
    image_class: ImageClass | None
    detections: list[Detection]
    models: dict[str, ModelUsed] = Field(description="The model used, by kind: `detection`, `classification`")


class SkippedTask(ResultModel):
    task_id: str
    reason: str = Field(description="`not_found`, or `not_done` (with the task's `status`)")
    status: str | None = None


class ArchiveFile(ResultModel):
    """The ZIP, as stored."""

    file_id: str
    size: int = Field(description="Bytes")
    bucket: str
    key: str


class ArchiveResult(ResultModel):
    tasks_requested: int
    tasks_included: int
    files: int = Field(description="Entries in the ZIP")
    skipped: list[SkippedTask]
    archive: ArchiveFile


TaskResult = ProcessResult | InferResult | ArchiveResult
