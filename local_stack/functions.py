"""The functions of the template as the local stack runs them: handler, code and layer folders,
environment (Globals merged in), timeout and event sources."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .template import Stack


@dataclass(frozen=True)
class SqsSource:
    name: str
    queue_arn: str
    batch_size: int
    batching_window_s: float
    report_batch_item_failures: bool


@dataclass(frozen=True)
class StreamSource:
    name: str
    stream_arn: str
    batch_size: int
    starting_position: str
    report_batch_item_failures: bool
    # The event source mapping's FilterCriteria patterns (a record goes to the function when any
    # matches; none: every record does).
    filters: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]
    timeout_s: int
    memory_mb: int
    http_api: bool = False
    sqs_sources: tuple[SqsSource, ...] = field(default_factory=tuple)
    stream_sources: tuple[StreamSource, ...] = field(default_factory=tuple)


def _merge(globals_value: Any, own: Any, key: str = "") -> Any:
    if key == "Layers" and isinstance(globals_value, list) and isinstance(own, list):
        return globals_value + own  # SAM adds a function's layers to the Globals' layers
    if isinstance(globals_value, dict) and isinstance(own, dict):
        merged = dict(globals_value)
        for key, value in own.items():
            merged[key] = _merge(globals_value.get(key), value, key)
        return merged
    return own if own is not None else globals_value


def function_specs(stack: Stack, template_dir: Path) -> list[FunctionSpec]:
    specs = []
    function_globals = stack.globals_for_functions()
    for logical_id, resource in stack.resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        raw = _merge(function_globals, resource.get("Properties", {}))
        layer_dirs = []
        for layer in raw.get("Layers", []):
            layer_id = layer.get("Ref") if isinstance(layer, dict) else None
            if layer_id and stack.resources.get(layer_id, {}).get("Type") == "AWS::Serverless::LayerVersion":
                content = stack.resources[layer_id]["Properties"]["ContentUri"]
                layer_dirs.append((template_dir / content).resolve())
        environment = {
            key: str(value) for key, value in stack.resolve(raw.get("Environment", {}).get("Variables", {})).items()
        }
        sqs_sources = []
        stream_sources = []
        http_api = False
        for event_name, event in raw.get("Events", {}).items():
            props = stack.resolve(event.get("Properties", {}))
            if event["Type"] == "SQS":
                sqs_sources.append(
                    SqsSource(
                        name=event_name,
                        queue_arn=props["Queue"],
                        batch_size=int(props.get("BatchSize", 10)),
                        batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                        report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                    )
                )
            elif event["Type"] == "DynamoDB":
                # The function filters what it takes itself too, so FilterCriteria are not applied here.
                stream_sources.append(
                    StreamSource(
                        name=event_name,
                        stream_arn=props["Stream"],
                        batch_size=int(props.get("BatchSize", 100)),
                        starting_position=props.get("StartingPosition", "LATEST"),
                        report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                        filters=tuple(
                            json.loads(entry["Pattern"]) for entry in props.get("FilterCriteria", {}).get("Filters", [])
                        ),
                    )
                )
            elif event["Type"] == "HttpApi":
                http_api = True
            else:
                raise NotImplementedError(f"{logical_id}: event type {event['Type']} is not run locally")
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                name=stack.physical[logical_id].ref if logical_id in stack.physical else logical_id,
                handler=raw["Handler"],
                code_dir=(template_dir / raw["CodeUri"]).resolve(),
                layer_dirs=tuple(layer_dirs),
                environment=environment,
                timeout_s=int(raw.get("Timeout", 3)),
                memory_mb=int(raw.get("MemorySize", 128)),
                http_api=http_api,
                sqs_sources=tuple(sqs_sources),
                stream_sources=tuple(stream_sources),
            )
        )
    return specs
