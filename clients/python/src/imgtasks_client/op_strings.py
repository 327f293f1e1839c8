"""Operations written as the CLI takes them ("resize 800x600 fit=cover", "rotate 90", "crop
10,20,300x200", "grayscale", 'overlay text="© Jane Doe" gravity=south-west') read into the operation
objects of a process task. Anything the short forms do not cover is written key=value, quoted as in
a shell when it has spaces; the service validates the result."""

from __future__ import annotations

import shlex
from typing import Any

# Values that stay text even when they look like numbers ("text=1984").
TEXT_KEYS = frozenset({"text", "file_id", "color", "stroke_color", "background"})


def parse_value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


POSITIONAL = {"rotate": "angle", "blur": "radius", "sharpen": "radius", "flip": "orientation"}


def parse_operation(text: str) -> dict[str, Any]:
    """ "resize 800x600 fit=inside" -> {"op": "resize", "width": 800, "height": 600, "fit": "inside"};
    "rotate 90", "flip horizontal", "crop 10,20,300x200", "grayscale", "blur 3"."""
    words = shlex.split(text)
    if not words:
        raise ValueError("an operation needs a name: resize, crop, rotate, flip, grayscale, blur, sharpen")
    operation: dict[str, Any] = {"op": words[0].lower()}
    for word in words[1:]:
        if "=" in word:
            key, value = word.split("=", 1)
            operation[key] = value if key in TEXT_KEYS else parse_value(value)
        elif "," in word and operation["op"] == "crop":
            left, top, size = [*word.split(","), "", ""][:3]
            operation["left"], operation["top"] = int(left), int(top)
            if size:
                width, _, height = size.partition("x")
                operation["width"], operation["height"] = int(width), int(height)
        elif "x" in word and word.replace("x", "").isdigit():
            width, _, height = word.partition("x")
            if width:
                operation["width"] = int(width)
            if height:
                operation["height"] = int(height)
        elif operation["op"] in POSITIONAL:
            operation[POSITIONAL[operation["op"]]] = parse_value(word)
        else:
            raise ValueError(f"cannot read {word!r} in {text!r}; write key=value")
    return operation
