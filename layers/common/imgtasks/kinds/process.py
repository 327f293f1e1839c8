"""Process tasks: operations on a file's frames, then one output or up to ten named variants.

The spec is validated once, when the task is created, and stored typed. A preset is resolved
then and stored resolved (with its name), so a preset changed later never alters a task made
before, and a restarted task does again what it did the first time. Images run on the process
worker; videos, and outputs only FFmpeg writes, on the video worker (imgtasks.kinds.video)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from imgtasks.domain.base import StrictModel
from imgtasks.domain.errors import InvalidInput
from imgtasks.domain.operations import MAX_OPERATIONS, Operation, OverlayOperation
from imgtasks.domain.outputs import AutoQualityChoice, OutputSpec
from imgtasks.domain.picture_facts import PictureLook, PictureMetadata
from imgtasks.domain.records import TaskBase
from imgtasks.kinds.base import SOURCE_FIELDS, FileSources, TaskKind

MAX_VARIANTS = 10

PROCESS = TaskKind(
    name="process",
    task_type="process",
    queue_url_setting="process_queue_url",
    function="ProcessFunction",
    handler="imgtasks_workers.process.lambda_handler",
)

VariantName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


class VariantSpec(StrictModel):
    name: VariantName
    operations: list[Operation] = Field(default_factory=list, max_length=MAX_OPERATIONS)
    output: OutputSpec | None = None


class ProcessSpec(StrictModel):
    """A process task: shared operations, then one output or up to ten named variants."""

    # Asked for, `preset` names the preset to use (alone); stored, the preset the operations,
    # output and variants were resolved from when the task was made.

    operations: list[Operation] = Field(default_factory=list, max_length=MAX_OPERATIONS)
    output: OutputSpec = Field(default_factory=OutputSpec)
    variants: list[VariantSpec] = Field(default_factory=list, max_length=MAX_VARIANTS)
    preset: str | None = Field(default=None, description="A name from GET /presets")

    def outputs(self) -> list[OutputSpec]:
        return [variant.output or self.output for variant in self.variants] or [self.output]

    def overlays(self) -> list[OverlayOperation]:
        """The overlays of the shared operations and of every variant."""
        every = [*self.operations, *(op for variant in self.variants for op in variant.operations)]
        return [op for op in every if isinstance(op, OverlayOperation)]

    @property
    def needs_ffmpeg(self) -> bool:
        """Whether an output is one only FFmpeg writes (a clip, or a GIF with a clip palette)."""
        return any(output.needs_ffmpeg for output in self.outputs())

    def as_asked(self) -> dict[str, Any]:
        """The spec as the client sent it: a preset's name alone, else the fields it set."""
        if self.preset is not None:
            return {"preset": self.preset}
        return self.model_dump(exclude_unset=True, exclude_none=True)

    @field_validator("variants")
    @classmethod
    def _unique_names(cls, variants: list[VariantSpec]) -> list[VariantSpec]:
        names = [variant.name for variant in variants]
        if len(names) != len(set(names)):
            raise ValueError("variant names must be unique")
        return variants


# ------------------------------------------------------------------ presets
# Named process specs. A preset stands alone: it cannot be mixed with operations, output or
# variants, so what a preset produces never depends on what else was sent.
_PRESETS: dict[str, dict[str, Any]] = {
    "web": {
        "description": "RGB, fit inside 800x600, JPEG quality 85",
        "spec": {
            "operations": [{"op": "resize", "width": 800, "height": 600, "fit": "inside"}],
            "output": {"format": "jpeg", "quality": 85},
        },
    },
    "thumbnails": {
        "description": "WebP thumbnails 1024, 512 and 128 px on the long side",
        "spec": {
            "output": {"format": "webp", "quality": 80},
            "variants": [
                {"name": f"{side}", "operations": [{"op": "resize", "width": side, "height": side}]}
                for side in (1024, 512, 128)
            ],
        },
    },
    # One thumbnail each: what a render URL's `p:thumbnail-512` names.
    **{
        f"thumbnail-{side}": {
            "description": f"A WebP thumbnail {side} px on the long side",
            "spec": {
                "operations": [{"op": "resize", "width": side, "height": side}],
                "output": {"format": "webp", "quality": 80},
            },
        }
        for side in (128, 256, 512, 1024)
    },
}

PRESET_NAMES = frozenset(_PRESETS)


@cache
def presets() -> dict[str, ProcessSpec]:
    """The presets as specs, validated on first use rather than at import (cold start)."""
    return {name: ProcessSpec.model_validate(p["spec"]) for name, p in _PRESETS.items()}


def describe_presets() -> list[dict[str, Any]]:
    return [
        {"name": name, "description": p["description"], "spec": presets()[name].model_dump(exclude_none=True)}
        for name, p in _PRESETS.items()
    ]


def preset_spec(name: str) -> ProcessSpec:
    """The spec a preset stands for now, carrying its name, with every field set (defaults too):
    stored so, a task keeps it whole even if a default changes later. InvalidInput for an unknown
    preset."""
    if name not in PRESET_NAMES:
        valid = ", ".join(sorted(PRESET_NAMES))
        raise InvalidInput(
            f"unknown preset '{name}'; valid presets: {valid}",
            errors=[{"loc": ["body", "preset"], "msg": f"must be one of: {valid}"}],
        )
    return ProcessSpec.model_validate({**presets()[name].model_dump(exclude_none=True), "preset": name})


def resolved(spec: ProcessSpec) -> ProcessSpec:
    """A spec as asked, with its preset (if it names one) resolved: what the task stores and runs."""
    if spec.preset is None:
        return spec
    mixed = [name for name in ("operations", "variants", "output") if name in spec.model_fields_set]
    if mixed:
        raise InvalidInput(
            f"a preset cannot be combined with {', '.join(mixed)}",
            errors=[{"loc": ["body", name], "msg": "not allowed with preset"} for name in mixed],
        )
    return preset_spec(spec.preset)


class CreateProcessTasks(ProcessSpec, FileSources):
    type: Literal["process"]

    def spec(self) -> ProcessSpec:
        """The spec to store, preset resolved. exclude_unset keeps which fields the client sent."""
        asked = ProcessSpec.model_validate(self.model_dump(exclude=set(SOURCE_FIELDS), exclude_unset=True))
        return resolved(asked)


# ------------------------------------------------------------------ results
# Unknown fields are an error (StrictModel), so a stored result is exactly the shape declared.
class SourceImage(PictureLook):
    """The task's input as the engine read it: size, placeholders and colours (of an image; a video
    has none), and what its camera said (`metadata`)."""

    format: str
    width: int
    height: int
    frames: int
    size: int = Field(description="Bytes")
    duration: float | None = Field(default=None, description="Seconds, for a video")
    metadata: PictureMetadata | None = Field(
        default=None, exclude_if=lambda value: value is None, description="The camera's facts (EXIF, colour profile)"
    )


class Output(PictureLook):
    """One output of a process task, as clients see it: a file of the task's owner, with its
    placeholders and colours (an image's; a video output has none)."""

    name: str = Field(description="`default`, or the variant's name")
    file_id: str
    format: str
    width: int
    height: int
    frames: int
    size: int = Field(description="Bytes")
    auto_quality: AutoQualityChoice | None = Field(
        default=None, exclude_if=lambda value: value is None, description="What quality auto chose, when it was asked"
    )


class OutputFile(Output):
    """An output as stored: where its bytes are in the results bucket."""

    bucket: str
    key: str


class ProcessResult(StrictModel):
    outputs: list[OutputFile]
    source: SourceImage


class ProcessTask(TaskBase):
    type: Literal["process"] = "process"
    kind: str = PROCESS.name
    spec: ProcessSpec
    result: ProcessResult | None = None

    def formats(self) -> list[str]:
        if self.result is not None:
            return sorted({output.format for output in self.result.outputs})
        return sorted({output.format for output in self.spec.outputs() if output.format})

    @field_validator("spec", mode="before")
    @classmethod
    def _resolve_unresolved_preset(cls, value: Any) -> Any:
        """Records written before presets were stored resolved name only the preset."""
        if isinstance(value, dict) and value.get("preset") and not {"operations", "variants", "output"} & set(value):
            return preset_spec(str(value["preset"])).model_dump(exclude_unset=True, exclude_none=True)
        return value
