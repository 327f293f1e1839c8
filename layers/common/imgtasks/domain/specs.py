"""What a client may ask a task to do. These models validate API requests and are what the
workers read back from the task record, so there is one definition of a valid spec."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from imgtasks.domain.base import Model

MAX_OUTPUT_SIDE = 16384
MAX_OPERATIONS = 20
MAX_VARIANTS = 10
MAX_FILES_PER_REQUEST = 50

Color = Annotated[str, Field(pattern=r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$", examples=["#ffffff"])]
Side = Annotated[int, Field(ge=1, le=MAX_OUTPUT_SIDE)]


class StrictModel(Model):
    """Unknown fields are an error, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")


class ResizeOperation(StrictModel):
    op: Literal["resize"]
    width: Side | None = None
    height: Side | None = None
    fit: Literal["inside", "cover", "contain", "fill"] = "inside"
    upscale: bool = False
    background: Color = "#00000000"

    @model_validator(mode="after")
    def _needs_a_side(self) -> ResizeOperation:
        if self.width is None and self.height is None:
            raise ValueError("resize needs width, height or both")
        if self.fit in ("cover", "contain", "fill") and (self.width is None or self.height is None):
            raise ValueError(f"fit '{self.fit}' needs both width and height")
        return self


class RotateOperation(StrictModel):
    op: Literal["rotate"]
    angle: float | None = Field(default=None, ge=-360, le=360, description="Degrees clockwise")
    direction: Literal["clockwise", "counterclockwise"] | None = Field(
        default=None, description="A quarter turn; an alternative to angle"
    )
    background: Color = "#00000000"

    @model_validator(mode="after")
    def _angle_or_direction(self) -> RotateOperation:
        if (self.angle is None) == (self.direction is None):
            raise ValueError("rotate needs exactly one of angle or direction")
        return self

    @property
    def clockwise_degrees(self) -> float:
        if self.direction is not None:
            return 90.0 if self.direction == "clockwise" else 270.0
        return float(self.angle or 0.0) % 360.0


class FlipOperation(StrictModel):
    op: Literal["flip"]
    orientation: Literal["horizontal", "vertical"]


class CropOperation(StrictModel):
    op: Literal["crop"]
    left: int = Field(ge=0)
    top: int = Field(ge=0)
    width: Side
    height: Side


class GrayscaleOperation(StrictModel):
    op: Literal["grayscale"]


class BlurOperation(StrictModel):
    op: Literal["blur"]
    radius: float = Field(default=2.0, gt=0, le=250)


class SharpenOperation(StrictModel):
    op: Literal["sharpen"]
    radius: float = Field(default=2.0, gt=0, le=50)
    percent: int = Field(default=150, ge=1, le=500)
    threshold: int = Field(default=3, ge=0, le=255)


class FramesOperation(StrictModel):
    """Timing of an animated input: a time window, a new frame rate, speed, direction."""

    op: Literal["frames"]
    start: float = Field(default=0.0, ge=0, description="Seconds from the first frame")
    end: float | None = Field(default=None, gt=0, description="Seconds; the end of the input if absent")
    fps: float | None = Field(default=None, gt=0, le=100, description="Resample to this frame rate")
    speed: float = Field(default=1.0, gt=0, le=16, description="2.0 plays twice as fast")
    reverse: bool = False
    boomerang: bool = Field(default=False, description="Play forward, then backward")

    @model_validator(mode="after")
    def _window(self) -> FramesOperation:
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


Operation = Annotated[
    ResizeOperation
    | RotateOperation
    | FlipOperation
    | CropOperation
    | GrayscaleOperation
    | BlurOperation
    | SharpenOperation
    | FramesOperation,
    Field(discriminator="op"),
]

OutputFormat = Literal["jpeg", "png", "webp", "gif"]


class OutputSpec(StrictModel):
    format: OutputFormat | None = Field(default=None, description="Default: the input's own format")
    quality: int = Field(default=85, ge=1, le=100)
    strip_metadata: bool = True
    lossless: bool = Field(default=False, description="WebP only")
    fast: bool = Field(
        default=False, description="Trade size for speed: WebP method 1 instead of 4, PNG level 1 instead of 3"
    )
    background: Color = Field(default="#ffffff", description="Flattens alpha for formats without it")


VariantName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


class VariantSpec(StrictModel):
    name: VariantName
    operations: list[Operation] = Field(default_factory=list, max_length=MAX_OPERATIONS)
    output: OutputSpec | None = None


class ProcessSpec(StrictModel):
    """A process task: shared operations, then one output or up to ten named variants."""

    operations: list[Operation] = Field(default_factory=list, max_length=MAX_OPERATIONS)
    output: OutputSpec = Field(default_factory=OutputSpec)
    variants: list[VariantSpec] = Field(default_factory=list, max_length=MAX_VARIANTS)
    preset: str | None = Field(default=None, description="A name from GET /presets")

    @field_validator("variants")
    @classmethod
    def _unique_names(cls, variants: list[VariantSpec]) -> list[VariantSpec]:
        names = [variant.name for variant in variants]
        if len(names) != len(set(names)):
            raise ValueError("variant names must be unique")
        return variants


FileIds = Annotated[list[str], Field(min_length=1, max_length=MAX_FILES_PER_REQUEST)]


class CreateProcessTasks(ProcessSpec):
    type: Literal["process"]
    file_ids: FileIds

    def spec(self) -> ProcessSpec:
        # exclude_unset keeps which fields the client sent, which presets.resolve relies on.
        return ProcessSpec.model_validate(self.model_dump(exclude={"type", "file_ids"}, exclude_unset=True))


class InferSpec(StrictModel):
    detection_model: str | None = None
    classification_model: str | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> InferSpec:
        if not self.detection_model and not self.classification_model:
            raise ValueError("name a detection_model, a classification_model or both")
        return self


class CreateInferTasks(InferSpec):
    type: Literal["infer"]
    file_ids: FileIds

    def spec(self) -> InferSpec:
        return InferSpec.model_validate(self.model_dump(exclude={"type", "file_ids"}, exclude_unset=True))


CreateTasks = Annotated[CreateProcessTasks | CreateInferTasks, Field(discriminator="type")]
