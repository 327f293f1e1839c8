"""Named process specs. A preset stands alone: it cannot be mixed with operations, output or
variants, so what a preset produces never depends on what else was sent."""

from __future__ import annotations

from functools import cache
from typing import Any

from imgtasks.domain.errors import InvalidInput
from imgtasks.domain.specs import ProcessSpec

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


def resolve(spec: ProcessSpec) -> ProcessSpec:
    """The spec to run: the preset's, or the spec itself when it names none."""
    if spec.preset is None:
        return spec
    if spec.preset not in PRESET_NAMES:
        valid = ", ".join(sorted(PRESET_NAMES))
        raise InvalidInput(
            f"unknown preset '{spec.preset}'; valid presets: {valid}",
            errors=[{"loc": ["body", "preset"], "msg": f"must be one of: {valid}"}],
        )
    mixed = [name for name in ("operations", "variants", "output") if name in spec.model_fields_set]
    if mixed:
        raise InvalidInput(
            f"a preset cannot be combined with {', '.join(mixed)}",
            errors=[{"loc": ["body", name], "msg": "not allowed with preset"} for name in mixed],
        )
    return presets()[spec.preset]
