"""The operation catalogue: every operation a process task can run on a frame, as the models that
validate it. The engine keeps one implementation per model
(imgtasks_imaging.operations); a test checks that every member of `Operation` has one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from imgtasks.domain.base import StrictModel

MAX_OUTPUT_SIDE = 16384
MAX_OPERATIONS = 20

Color = Annotated[str, Field(pattern=r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$", examples=["#ffffff"])]
Side = Annotated[int, Field(ge=1, le=MAX_OUTPUT_SIDE)]


# Where a cover resize (or a crop without left/top) keeps its window: a side or corner, the centre,
# the window with the most detail (`entropy`), the one a person would look at first (`attention`:
# edges, saturated colour and skin tones, as libvips defines it), or the faces (`face`: every face
# when they fit in the window, else the biggest; `attention` when there is none).
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
    "face",
]


class Focus(StrictModel):
    """A known point of interest, in 0-1 of the width and height: the window is centred on it."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)


def _given(*names: str) -> dict[str, Any]:
    """JSON Schema: each of the fields is there and not null."""
    return {"required": list(names), "properties": {name: {"not": {"type": "null"}} for name in names}}


# A window chosen by gravity or focus: gravity other than center, or a focus.
_WINDOW_CHOSEN: dict[str, Any] = {
    "anyOf": [{"required": ["gravity"], "properties": {"gravity": {"not": {"const": "center"}}}}, _given("focus")]
}


# The validators' rules across fields are stated in the document as `allOf` of if/then (client
# generators keep the model one class; an anyOf or oneOf there splits it into one per branch).
class ResizeOperation(StrictModel):
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {"if": {"not": _given("width")}, "then": _given("height")},
                {
                    "if": {"required": ["fit"], "properties": {"fit": {"enum": ["cover", "contain", "fill"]}}},
                    "then": _given("width", "height"),
                },
                {"if": _WINDOW_CHOSEN, "then": {"required": ["fit"], "properties": {"fit": {"const": "cover"}}}},
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [{"if": _given("angle"), "then": {"not": _given("direction")}, "else": _given("direction")}]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": _given("left"),
                    "then": {**_given("top"), "not": _WINDOW_CHOSEN},
                    "else": {"not": _given("top")},
                }
            ]
        }
    )

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


# Where an overlay goes: a side, a corner or the centre.
Placement = Literal["center", "north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"]
MAX_OVERLAY_TEXT = 200


class OverlayOperation(StrictModel):
    """A watermark: another image file of the caller's (a PNG logo) or a line of text, over every
    frame of the picture, an animation or a video. Sizes are shares of the picture, so one spec
    suits every size the picture comes in."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {"if": _given("file_id"), "then": {"not": _given("text")}},
                {"if": {"not": _given("file_id")}, "then": _given("text")},
            ]
        }
    )

    op: Literal["overlay"]
    file_id: str | None = Field(default=None, description="An image file of yours (a PNG logo); or text, not both")
    text: str | None = Field(default=None, min_length=1, max_length=MAX_OVERLAY_TEXT, description="Or a line of text")
    scale: float = Field(default=0.2, gt=0, le=1, description="A logo's width, as a share of the picture's width")
    font_size: float = Field(
        default=0.05, gt=0, le=0.5, description="Text height, as a share of the picture's shorter side"
    )
    color: Color = Field(default="#ffffff", description="The text's colour")
    stroke_width: float = Field(default=0, ge=0, le=0.3, description="An outline round the text, a share of its size")
    stroke_color: Color = "#000000"
    background: Color | None = Field(default=None, description="A box behind the text")
    padding: float = Field(default=0.25, ge=0, le=2, description="Room round the text in its box, a share of its size")
    opacity: float = Field(default=1.0, gt=0, le=1)
    gravity: Placement = "south-east"
    margin: float = Field(
        default=0.02,
        ge=0,
        le=0.5,
        description="From the picture's edge (and between tiles), a share of its shorter side",
    )
    offset_x: int = Field(default=0, ge=-10_000, le=10_000, description="Pixels to the right (negative: left)")
    offset_y: int = Field(default=0, ge=-10_000, le=10_000, description="Pixels down (negative: up)")
    tile: bool = Field(default=False, description="Repeat it across the whole picture (gravity and offsets unused)")
    # The logo's bytes, attached by the worker that renders the task (never stored with the spec).
    _logo: bytes | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _logo_or_text(self) -> OverlayOperation:
        if (self.file_id is None) == (self.text is None):
            raise ValueError("overlay needs file_id or text, not both")
        return self

    def attach_logo(self, data: bytes) -> None:
        self._logo = data

    @property
    def logo(self) -> bytes | None:
        return self._logo


Operation = Annotated[
    ResizeOperation
    | RotateOperation
    | FlipOperation
    | CropOperation
    | GrayscaleOperation
    | BlurOperation
    | SharpenOperation
    | FramesOperation
    | OverlayOperation,
    Field(discriminator="op"),
]
