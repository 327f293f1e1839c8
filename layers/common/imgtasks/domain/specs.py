"""What a client may ask a task to do. These models validate API requests and are what the
workers read back from the task record, so there is one definition of a valid spec."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, PlainValidator, WithJsonSchema, field_validator, model_validator

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


# Where a cover resize (or a crop without left/top) keeps its window: a side or corner, the centre,
# the window with the most detail (`entropy`) or the one a person would look at first (`attention`:
# edges, saturated colour and skin tones, as libvips defines it).
Gravity = Literal[
    "center",
    "north",
    "north-east",
    "east",
    "south-east",
    "south",
    "south-west",
    "west",
    "north-west",
    "entropy",
    "attention",
]


class Focus(StrictModel):
    """A known point of interest, in 0-1 of the width and height: the window is centred on it."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)


class ResizeOperation(StrictModel):
    op: Literal["resize"]
    width: Side | None = None
    height: Side | None = None
    fit: Literal["inside", "cover", "contain", "fill"] = "inside"
    upscale: bool = False
    background: Color = "#00000000"
    gravity: Gravity = Field(default="center", description="fit cover: which part of the image the crop keeps")
    focus: Focus | None = Field(default=None, description="fit cover: a point the crop is centred on (over gravity)")

    @model_validator(mode="after")
    def _needs_a_side(self) -> ResizeOperation:
        if self.width is None and self.height is None:
            raise ValueError("resize needs width, height or both")
        if self.fit in ("cover", "contain", "fill") and (self.width is None or self.height is None):
            raise ValueError(f"fit '{self.fit}' needs both width and height")
        if self.fit != "cover" and (self.gravity != "center" or self.focus is not None):
            raise ValueError("gravity and focus choose the window of fit 'cover' only")
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
    left: int | None = Field(default=None, ge=0, description="With top; without both, gravity picks the window")
    top: int | None = Field(default=None, ge=0)
    width: Side
    height: Side
    gravity: Gravity = Field(default="center", description="Without left and top: which window to keep")
    focus: Focus | None = Field(default=None, description="Without left and top: a point the window is centred on")

    @model_validator(mode="after")
    def _position_or_gravity(self) -> CropOperation:
        if (self.left is None) != (self.top is None):
            raise ValueError("crop needs both left and top, or neither (gravity then picks the window)")
        if self.left is not None and (self.gravity != "center" or self.focus is not None):
            raise ValueError("gravity and focus choose the window when left and top are not given")
        return self


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

OutputFormat = Literal["jpeg", "png", "webp", "gif", "avif", "mp4", "webm"]
# Formats that are video files: written by FFmpeg's encoders, on the video worker.
CLIP_FORMATS = frozenset({"mp4", "webm"})
QualityWord = Literal["low", "medium", "high"]
# The earlier conversion service's words, as numbers on our 1-100 scale.
QUALITY_WORDS: dict[str, int] = {"low": 40, "medium": 65, "high": 85}


def _quality(value: object) -> int | str:
    """One error for a bad quality, not one per member of the union."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100:
        return value
    if isinstance(value, str) and value in QUALITY_WORDS:
        return value
    raise ValueError("must be a number from 1 to 100, or low, medium or high")


Quality = Annotated[
    int | QualityWord,
    PlainValidator(_quality),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 100},
                {"type": "string", "enum": list(QUALITY_WORDS)},
            ]
        }
    ),
]


class OutputSpec(StrictModel):
    format: OutputFormat | None = Field(
        default=None,
        description="Default: the input's own format (`gif` for a video). `mp4` (H.264) and `webm` (VP9, or AV1 "
        "with `codec`) from videos and animations; `jpeg` or `png` from a video is its frame at `frames.start`",
    )
    quality: Quality = Field(default=85, description="1-100, or low (40), medium (65), high (85)")
    strip_metadata: bool = True
    lossless: bool = Field(default=False, description="WebP only")
    fast: bool = Field(
        default=False, description="Trade size for speed: WebP method 1 instead of 4, PNG level 1 instead of 3"
    )
    background: Color = Field(default="#ffffff", description="Flattens alpha for formats without it")
    dither: Literal["bayer", "floyd_steinberg", "none"] | None = Field(
        default=None,
        description="GIF only. Default: `bayer` for GIFs made from video (one palette for the clip, as FFmpeg's "
        "palettegen/paletteuse), `floyd_steinberg` from images; `bayer` from an image input uses the clip palette too",
    )
    bayer_scale: int = Field(default=2, ge=0, le=5, description="Bayer dither only: 0 is the most visible pattern")
    codec: Literal["vp9", "av1"] | None = Field(default=None, description="WebM video only; default vp9")

    @model_validator(mode="after")
    def _codec_for_webm(self) -> OutputSpec:
        if self.codec is not None and self.format != "webm":
            raise ValueError("codec applies to format webm only")
        return self

    @property
    def quality_number(self) -> int:
        return QUALITY_WORDS[self.quality] if isinstance(self.quality, str) else self.quality

    @property
    def needs_ffmpeg(self) -> bool:
        """Written by FFmpeg (the video worker) whatever the input: clips, and clip-palette GIFs."""
        return self.format in CLIP_FORMATS or (self.format == "gif" and self.dither == "bayer")


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

    def outputs(self) -> list[OutputSpec]:
        return [variant.output or self.output for variant in self.variants] or [self.output]

    @field_validator("variants")
    @classmethod
    def _unique_names(cls, variants: list[VariantSpec]) -> list[VariantSpec]:
        names = [variant.name for variant in variants]
        if len(names) != len(set(names)):
            raise ValueError("variant names must be unique")
        return variants


FileIds = Annotated[list[str], Field(default_factory=list, max_length=MAX_FILES_PER_REQUEST)]
Urls = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=2048)]],
    Field(default_factory=list, max_length=MAX_FILES_PER_REQUEST, description="Files to fetch (URL ingest)"),
]
SOURCE_FIELDS = frozenset({"type", "file_ids", "urls", "webhook"})


class FileSources(StrictModel):
    """The files a POST /tasks works on: ids of files, URLs to fetch, or both (1 to 50 in all)."""

    file_ids: FileIds
    urls: Urls
    webhook: str | None = Field(
        default=None,
        max_length=2048,
        description="A URL this task's events are posted to, signed with the caller's webhook secret",
    )

    @model_validator(mode="after")
    def _one_to_fifty(self) -> FileSources:
        count = len(self.file_ids) + len(self.urls)
        if not 1 <= count <= MAX_FILES_PER_REQUEST:
            raise ValueError(f"name 1 to {MAX_FILES_PER_REQUEST} files in file_ids and urls together (got {count})")
        return self


class CreateProcessTasks(ProcessSpec, FileSources):
    type: Literal["process"]

    def spec(self) -> ProcessSpec:
        # exclude_unset keeps which fields the client sent, which presets.resolve relies on.
        return ProcessSpec.model_validate(self.model_dump(exclude=set(SOURCE_FIELDS), exclude_unset=True))


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


class ArchiveSpec(StrictModel):
    """An archive task: the outputs of these tasks (the caller's, done) as one ZIP."""

    task_ids: Annotated[list[str], Field(min_length=1, max_length=MAX_FILES_PER_REQUEST)]

    @field_validator("task_ids")
    @classmethod
    def _unique(cls, task_ids: list[str]) -> list[str]:
        return list(dict.fromkeys(task_ids))


CreateTasks = Annotated[CreateProcessTasks | CreateInferTasks, Field(discriminator="type")]
