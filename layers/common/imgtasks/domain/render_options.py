"""The options of a render URL (`/img/{key_id}/{signature}/{options}/{file_id}`): a short path
grammar, one option per segment, over the same operations and outputs as process tasks.

    rs:{fit}:{width}:{height}[:{upscale}]   resize; fit = fit (inside), cover, contain, fill
                                            (stretch); 0 leaves a side to the aspect ratio
    g:{gravity} | g:fp:{x}:{y}              the window a cover resize or a crop keeps
    c:{width}:{height}[:{left}:{top}]       crop (without left and top, gravity picks the window)
    rot:{degrees} | fl:{h|v|hv} | gs        rotate clockwise, flip, grayscale
    bl:{radius} | sh:{radius}[:{percent}[:{threshold}]]
    bg:{rrggbb[aa]}                         what a contain resize or a rotation fills with
    q:{1-100|auto} | f:{format|auto}        the output's quality and format
    p:{preset}[:{variant}]                  a preset from GET /presets; options after it adjust it

Each option also has a long name (`resize`, `gravity`, `crop`, `rotate`, `flip`, `grayscale`,
`blur`, `sharpen`, `background`, `quality`, `format`, `preset`). An option given twice counts
once, the last time. Whatever their order in the URL, the operations run in one order: the
preset's, then crop, resize, rotate, flip, grayscale, blur, sharpen (as imgproxy does), so
options are a set and two spellings of the same set are the same render (`normalised`)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from imgtasks.domain.errors import InvalidInput
from imgtasks.domain.formats import IMAGE_FORMATS
from imgtasks.kinds.process import PRESET_NAMES, ProcessSpec, presets

MAX_OPTIONS = 20
MAX_OPTION_LENGTH = 64
AUTO_FORMAT = "auto"
# What `f:auto` picks from, in the order the edge prefers them (infra/template.yaml,
# RenderRequestFunction): each if the request's Accept names it.
NEGOTIATED_FORMATS = ("avif", "webp", "jpeg")
# Still images only: a render answers one request, and animations are process tasks' work.
RENDER_FORMATS = ("jpeg", "png", "webp", "avif", "gif", "tiff", "jxl")

FITS = {"fit": "inside", "inside": "inside", "cover": "cover", "contain": "contain", "fill": "fill"}
GRAVITIES = {
    "center": "center",
    "ce": "center",
    "north": "north",
    "no": "north",
    "north-east": "north-east",
    "noea": "north-east",
    "east": "east",
    "ea": "east",
    "south-east": "south-east",
    "soea": "south-east",
    "south": "south",
    "so": "south",
    "south-west": "south-west",
    "sowe": "south-west",
    "west": "west",
    "we": "west",
    "north-west": "north-west",
    "nowe": "north-west",
    "entropy": "entropy",
    "attention": "attention",
    "sm": "attention",
    "smart": "attention",
    "face": "face",
    "faces": "face",
}
NAMES = {
    "rs": "resize",
    "resize": "resize",
    "g": "gravity",
    "gravity": "gravity",
    "c": "crop",
    "crop": "crop",
    "rot": "rotate",
    "rotate": "rotate",
    "fl": "flip",
    "flip": "flip",
    "gs": "grayscale",
    "grayscale": "grayscale",
    "bl": "blur",
    "blur": "blur",
    "sh": "sharpen",
    "sharpen": "sharpen",
    "bg": "background",
    "background": "background",
    "q": "quality",
    "quality": "quality",
    "f": "format",
    "format": "format",
    "p": "preset",
    "preset": "preset",
}
# Without a `#`: in a URL it would begin the fragment.
_COLOR = re.compile(r"^([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


class InvalidRenderOption(InvalidInput):
    """A render URL's option that cannot be read; the 400 names it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"option '{option}': {message}", errors=[{"loc": ["path", "options"], "msg": message}])
        self.option = option


@dataclass
class _Asked:
    """Each option's arguments, as the URL gave them (the last of each name)."""

    raw: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # name -> (as written, args)

    def get(self, name: str) -> tuple[str, list[str]] | None:
        return self.raw.get(name)


@dataclass(frozen=True)
class RenderOptions:
    """A render URL's options, read: the process spec they stand for, and whether the output
    format is left to the request's Accept header (`f:auto`)."""

    spec: ProcessSpec
    auto_format: bool = False

    @property
    def is_plain(self) -> bool:
        """No operation and no output setting: the file's own bytes, as they are."""
        return self.spec == ProcessSpec() and not self.auto_format

    def with_format(self, fmt: str) -> RenderOptions:
        output = self.spec.output.model_copy(update={"format": fmt})
        return RenderOptions(self.spec.model_copy(update={"output": output}), auto_format=False)

    def normalised(self) -> str:
        """The same text for the same render, however the URL spelt it: the spec as JSON, every
        field (defaults too), keys sorted."""
        return json.dumps(self.spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        return hashlib.sha256(self.normalised().encode()).hexdigest()[:32]


def parse(segments: list[str]) -> RenderOptions:
    """The options of a render URL, its segments between the signature and the file. Raises
    InvalidRenderOption naming the first option that cannot be read."""
    if len(segments) > MAX_OPTIONS:
        raise InvalidRenderOption(segments[MAX_OPTIONS], f"at most {MAX_OPTIONS} options")
    asked = _Asked()
    for segment in segments:
        if not segment:
            raise InvalidRenderOption(segment, "an empty option (two slashes in a row)")
        if len(segment) > MAX_OPTION_LENGTH:
            raise InvalidRenderOption(
                segment[:MAX_OPTION_LENGTH] + "...", f"longer than {MAX_OPTION_LENGTH} characters"
            )
        head, *args = segment.split(":")
        name = NAMES.get(head)
        if name is None:
            raise InvalidRenderOption(segment, f"unknown option '{head}'; options: {', '.join(sorted(set(NAMES)))}")
        asked.raw[name] = (segment, args)
    return _build(asked)


def _build(asked: _Asked) -> RenderOptions:
    base, preset_segment = _preset(asked)
    operations: list[dict[str, Any]] = [op.model_dump() for op in base.operations]
    output: dict[str, Any] = base.output.model_dump(exclude_unset=True)
    gravity = _gravity(asked)
    background = _background(asked)
    for name in ("crop", "resize", "rotate", "flip", "grayscale", "blur", "sharpen"):
        given = asked.get(name)
        if given is None:
            continue
        segment, args = given
        operations.extend(_OPERATIONS[name](segment, args, gravity, background))
    auto = False
    if (given := asked.get("format")) is not None:
        segment, args = given
        value = _one(segment, args, "a format")
        if value == AUTO_FORMAT:
            auto = True
            output.pop("format", None)
        elif value in RENDER_FORMATS or (value == "jpg" and (value := "jpeg")):
            output["format"] = value
        else:
            raise InvalidRenderOption(segment, f"format must be one of: {', '.join((*RENDER_FORMATS, AUTO_FORMAT))}")
    if (given := asked.get("quality")) is not None:
        segment, args = given
        given_quality = _one(segment, args, "a quality")
        output["quality"] = (
            "auto" if given_quality == "auto" else _number(segment, given_quality, 1, 100, whole=True, what="quality")
        )
    try:
        spec = ProcessSpec.model_validate({"operations": operations, "output": output})
    except ValidationError as error:
        first = error.errors()[0]
        where = [str(part) for part in first["loc"]]
        culprit = _culprit(asked, where, preset_segment)
        raise InvalidRenderOption(culprit, str(first["msg"]).removeprefix("Value error, ")) from error
    return RenderOptions(spec, auto_format=auto)


def _culprit(asked: _Asked, where: list[str], preset_segment: str | None) -> str:
    """The option a validation error comes from, as the URL wrote it."""
    if where[:1] == ["output"]:
        for name in ("format", "quality"):
            if (given := asked.get(name)) is not None:
                return given[0]
    for name in ("crop", "resize", "rotate", "flip", "grayscale", "blur", "sharpen", "gravity"):
        if (given := asked.get(name)) is not None:
            return given[0]
    return preset_segment or "options"


def _preset(asked: _Asked) -> tuple[ProcessSpec, str | None]:
    given = asked.get("preset")
    if given is None:
        return ProcessSpec(), None
    segment, args = given
    if not args or len(args) > 2:
        raise InvalidRenderOption(segment, "p:{preset} or p:{preset}:{variant}")
    name = args[0]
    if name not in PRESET_NAMES:
        raise InvalidRenderOption(segment, f"unknown preset '{name}'; presets: {', '.join(sorted(PRESET_NAMES))}")
    spec = presets()[name]
    if not spec.variants:
        if len(args) == 2:
            raise InvalidRenderOption(segment, f"preset '{name}' has no variants")
        return spec, segment
    names = [variant.name for variant in spec.variants]
    if len(args) == 1 or args[1] not in names:
        raise InvalidRenderOption(segment, f"preset '{name}' makes {len(names)} outputs: name one, p:{name}:{names[0]}")
    variant = spec.variants[names.index(args[1])]
    output = variant.output or spec.output
    return ProcessSpec(operations=[*spec.operations, *variant.operations], output=output), segment


def _one(segment: str, args: list[str], what: str) -> str:
    if len(args) != 1 or not args[0]:
        raise InvalidRenderOption(segment, f"takes one argument, {what}")
    return args[0]


def _number(segment: str, text: str, low: float, high: float, *, whole: bool = False, what: str = "value") -> Any:
    try:
        value: float = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise InvalidRenderOption(segment, f"{what} must be {kind} from {low:g} to {high:g}") from None
    if not low <= value <= high or value != value:  # NaN is not in any range
        raise InvalidRenderOption(segment, f"{what} must be from {low:g} to {high:g}")
    return value


def _gravity(asked: _Asked) -> dict[str, Any]:
    """What a window-choosing operation gets: {"gravity": ...} or {"focus": ...}, or nothing."""
    given = asked.get("gravity")
    if given is None:
        return {}
    segment, args = given
    if args[:1] == ["fp"]:
        if len(args) != 3:
            raise InvalidRenderOption(segment, "a focus point is g:fp:{x}:{y}, each from 0 to 1")
        return {
            "focus": {"x": _number(segment, args[1], 0, 1, what="x"), "y": _number(segment, args[2], 0, 1, what="y")}
        }
    value = _one(segment, args, "a gravity")
    if value not in GRAVITIES:
        raise InvalidRenderOption(
            segment, f"gravity must be one of: {', '.join(sorted(set(GRAVITIES.values())))}, or fp"
        )
    return {"gravity": GRAVITIES[value]}


def _background(asked: _Asked) -> dict[str, str]:
    given = asked.get("background")
    if given is None:
        return {}
    segment, args = given
    value = _one(segment, args, "a colour")
    if not _COLOR.match(value):
        raise InvalidRenderOption(segment, "a colour is 6 or 8 hexadecimal digits, rrggbb or rrggbbaa")
    return {"background": "#" + value.lower()}


Built = list[dict[str, Any]]


def _resize(segment: str, args: list[str], gravity: dict[str, Any], background: dict[str, str]) -> Built:
    if len(args) not in (3, 4):
        raise InvalidRenderOption(segment, "rs:{fit}:{width}:{height}[:{upscale}]")
    fit = FITS.get(args[0])
    if fit is None:
        raise InvalidRenderOption(segment, "fit must be one of: fit, inside, cover, contain, fill")
    width = _number(segment, args[1], 0, 16384, whole=True, what="width")
    height = _number(segment, args[2], 0, 16384, whole=True, what="height")
    upscale = len(args) == 4 and args[3] in ("1", "t", "true")
    if len(args) == 4 and args[3] not in ("0", "1", "t", "f", "true", "false"):
        raise InvalidRenderOption(segment, "upscale is 1 or 0")
    op: dict[str, Any] = {"op": "resize", "fit": fit, "upscale": upscale, "width": width or None}
    op["height"] = height or None
    if fit == "cover":
        op.update(gravity)
    if fit == "contain":
        op.update(background)
    return [op]


def _crop(segment: str, args: list[str], gravity: dict[str, Any], background: dict[str, str]) -> Built:
    if len(args) not in (2, 4):
        raise InvalidRenderOption(segment, "c:{width}:{height} or c:{width}:{height}:{left}:{top}")
    op: dict[str, Any] = {
        "op": "crop",
        "width": _number(segment, args[0], 1, 16384, whole=True, what="width"),
        "height": _number(segment, args[1], 1, 16384, whole=True, what="height"),
    }
    if len(args) == 4:
        op["left"] = _number(segment, args[2], 0, 1_000_000, whole=True, what="left")
        op["top"] = _number(segment, args[3], 0, 1_000_000, whole=True, what="top")
    else:
        op.update(gravity)
    return [op]


def _rotate(segment: str, args: list[str], gravity: dict[str, Any], background: dict[str, str]) -> Built:
    angle = _number(segment, _one(segment, args, "degrees clockwise"), -360, 360, what="the angle")
    return [{"op": "rotate", "angle": angle, **background}] if angle % 360 else []


def _flip(segment: str, args: list[str], gravity: dict[str, Any], background: dict[str, str]) -> Built:
    value = _one(segment, args, "h, v or hv")
    if value not in ("h", "v", "hv", "vh"):
        raise InvalidRenderOption(segment, "flip is fl:h, fl:v or fl:hv")
    return [{"op": "flip", "orientation": o} for key, o in (("h", "horizontal"), ("v", "vertical")) if key in value]


def _grayscale(segment: str, args: list[str], gravity: dict[str, Any], background: dict[str, str]) -> Built:
    if args not in ([], ["1"], ["true"], ["0"], ["false"]):
        raise InvalidRenderOption(segment, "grayscale is gs (or gs:1, gs:0)")
    return [{"op": "grayscale"}] if args in ([], ["1"], ["true"]) else []


def _blur(segment: str, args: list[str], gravity: dict[str, Any], background: dict[str, str]) -> Built:
    return [{"op": "blur", "radius": _number(segment, _one(segment, args, "a radius"), 0.01, 250, what="radius")}]


def _sharpen(segment: str, args: list[str], gravity: dict[str, Any], background: dict[str, str]) -> Built:
    if not 1 <= len(args) <= 3:
        raise InvalidRenderOption(segment, "sh:{radius}[:{percent}[:{threshold}]]")
    op: dict[str, Any] = {"op": "sharpen", "radius": _number(segment, args[0], 0.01, 50, what="radius")}
    if len(args) > 1:
        op["percent"] = _number(segment, args[1], 1, 500, whole=True, what="percent")
    if len(args) > 2:
        op["threshold"] = _number(segment, args[2], 0, 255, whole=True, what="threshold")
    return [op]


_OPERATIONS = {
    "resize": _resize,
    "crop": _crop,
    "rotate": _rotate,
    "flip": _flip,
    "grayscale": _grayscale,
    "blur": _blur,
    "sharpen": _sharpen,
}


def extension_format(extension: str) -> str:
    """The format a file name's extension in a render URL asks for (`.jpg` is JPEG)."""
    for fmt in RENDER_FORMATS:
        if IMAGE_FORMATS[fmt].extension == extension or fmt == extension:
            return fmt
    raise InvalidRenderOption("." + extension, f"an extension names a format: {', '.join(RENDER_FORMATS)}")
