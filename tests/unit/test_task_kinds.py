"""Task kinds are declared once (imgtasks.kinds): the template's functions, queues and handlers
agree with each kind's declaration, the API's task types and the task union come from the same
place, every catalogue operation and output format has an implementation in the engine, and a
task's spec is stored as it will run (a preset resolved when the task was made)."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from typing import Any, get_args

import pytest

from imgtasks.domain.operations import Operation
from imgtasks.domain.outputs import OutputFormat
from imgtasks.kinds import KINDS, Task, TaskTypeName, task_from_item
from imgtasks.kinds import process as process_kind
from imgtasks.settings import FunctionSettings
from local_stack.template import Stack, load_template
from tests.helpers import ROOT, TEMPLATE, image_bytes


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def test_each_kind_runs_on_its_function_reading_its_queue_with_its_handler(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for kind in KINDS.values():
        function = resources[kind.function]["Properties"]
        assert function["Handler"] == kind.handler, kind.name
        # The queue its setting names is the queue the function's event source reads.
        assert kind.queue_url_setting in FunctionSettings.model_fields, kind.name
        queue = variables[kind.queue_url_setting.upper()]["Ref"]
        sources = [event["Properties"]["Queue"] for event in function["Events"].values() if event["Type"] == "SQS"]
        assert sources == [{"Fn::GetAtt": [queue, "Arn"]}], kind.name
        module, attribute = kind.handler.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), attribute)), kind.handler


def test_every_task_queue_of_the_template_belongs_to_a_kind(template: dict[str, Any]) -> None:
    stack = Stack(template, "kinds", {})
    queues_read_by_task_workers = {
        event["Properties"]["Queue"]["Fn::GetAtt"][0]
        for logical_id, resource in stack.resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        and resource["Properties"]["Handler"].startswith("imgtasks_workers.")
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    }
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    declared = {variables[kind.queue_url_setting.upper()]["Ref"] for kind in KINDS.values()}
    assert queues_read_by_task_workers == declared


def test_the_api_types_and_the_task_union_are_the_kinds_types() -> None:
    assert set(get_args(TaskTypeName)) == {kind.task_type for kind in KINDS.values()}
    union = get_args(get_args(Task)[0])
    assert {model.model_fields["type"].default for model in union} == set(get_args(TaskTypeName))
    # Each type's own kind is its default; a kind that runs another type's tasks is refused.
    for model in union:
        assert KINDS[model.model_fields["kind"].default].task_type == model.model_fields["type"].default


def test_every_operation_of_the_catalogue_has_an_implementation_in_the_engine() -> None:
    from imgtasks_imaging.operations import FRAME_OPERATIONS, SEQUENCE_OPERATIONS

    catalogue = set(get_args(get_args(Operation)[0]))
    assert catalogue == set(FRAME_OPERATIONS) | SEQUENCE_OPERATIONS
    assert not set(FRAME_OPERATIONS) & SEQUENCE_OPERATIONS


def encoders_after_importing(module: str) -> set[str]:
    """The engine's encoders in a fresh interpreter that imported `module`, as a worker would."""
    script = f"import {module}\nfrom imgtasks_imaging.encode import ENCODERS\nprint(' '.join(sorted(ENCODERS)))"
    path = os.pathsep.join(str(ROOT / folder) for folder in ("layers/common", "layers/imaging", "functions/workers"))
    ran = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": path},
    )
    return set(ran.stdout.split())


def test_every_output_format_has_an_encoder_on_the_worker_that_writes_it() -> None:
    from imgtasks_imaging.encode import CLIP_PALETTE_GIF

    image_worker = encoders_after_importing("imgtasks_imaging")
    video_worker = encoders_after_importing("imgtasks_imaging.video")
    assert video_worker == set(get_args(OutputFormat)) | {CLIP_PALETTE_GIF}
    # What the image worker lacks is exactly what sends a task to the video worker (kinds.video).
    assert video_worker - image_worker == {"mp4", "webm", CLIP_PALETTE_GIF}


def test_a_preset_is_stored_resolved_so_changing_it_later_does_not_change_a_waiting_task(
    api: Any, process: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((1600, 1200))).body["id"]
    created = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "preset": "web"})
    task_id = created.body["tasks"][0]["id"]
    assert created.body["tasks"][0]["spec"] == {"preset": "web"}  # shown as asked
    # The preset is edited while the task waits in its queue.
    edited = process_kind.ProcessSpec.model_validate(
        {"operations": [{"op": "resize", "width": 100}], "output": {"format": "png"}}
    )
    monkeypatch.setitem(process_kind.presets(), "web", edited)
    process.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert task["status"] == "done"
    assert task["spec"] == {"preset": "web"}
    (output,) = task["result"]["outputs"]
    assert (output["format"], output["width"], output["height"]) == ("jpeg", 800, 600)  # what "web" was
    stored = api.services.task_records.get(task_id)
    assert stored.spec.preset == "web"
    assert stored.spec.output.format == "jpeg"


def test_a_record_written_before_presets_were_stored_resolved_still_runs_its_preset() -> None:
    item = {
        "PK": "TASK#01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "SK": "TASK",
        "id": "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "owner_id": "01ARZ3NDEKTSV4RRFFQ69G5FAW",
        "type": "process",
        "worker": "video",
        "status": "queued",
        "file_id": "01ARZ3NDEKTSV4RRFFQ69G5FAX",
        "spec_json": '{"preset":"thumbnails"}',
        "created_at": "2026-11-23T00:00:00.000Z",
        "updated_at": "2026-11-23T00:00:00.000Z",
    }
    task = task_from_item(item)
    assert task.kind == "video"
    assert isinstance(task.spec, process_kind.ProcessSpec)
    assert [variant.name for variant in task.spec.variants] == ["1024", "512", "128"]
    assert task.spec.as_asked() == {"preset": "thumbnails"}


# One written form per operation of the catalogue, as a person types it after `imgtasks run --op`.
CLI_FORMS = {
    "resize": "resize 800x600 fit=cover gravity=attention",
    "rotate": "rotate 90",
    "flip": "flip vertical",
    "crop": "crop 10,20,300x200",
    "grayscale": "grayscale",
    "blur": "blur 3",
    "sharpen": "sharpen radius=1.5 percent=120",
    "frames": "frames start=0 end=2 fps=10 boomerang=true",
    "overlay": 'overlay text="© imgtasks" gravity=south-west opacity=0.8',
}


def catalogue_names() -> set[str]:
    return {get_args(model.model_fields["op"].annotation)[0] for model in get_args(get_args(Operation)[0])}


def test_the_cli_writes_every_operation_of_the_catalogue_and_the_service_accepts_it() -> None:
    from imgtasks_client.op_strings import parse_operation
    from pydantic import TypeAdapter

    assert set(CLI_FORMS) == catalogue_names()
    validate = TypeAdapter(Operation).validate_python
    for name, text in CLI_FORMS.items():
        assert validate(parse_operation(text)).op == name


def test_the_web_app_offers_every_operation_of_the_catalogue() -> None:
    builder = (ROOT / "web" / "src" / "builder.js").read_text()
    block = builder[builder.index("const OPERATIONS = {") : builder.index("};", builder.index("const OPERATIONS = {"))]
    offered = set(re.findall(r"^\s*([a-z]+): \{ label:", block, re.MULTILINE))
    assert offered == catalogue_names()


def test_a_preset_task_stores_every_field_so_a_later_default_cannot_change_it(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((64, 48))).body["id"]
    created = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "preset": "web"})
    item = api.services.task_records._table.get_item(Key={"PK": f"TASK#{created.body['tasks'][0]['id']}", "SK": "TASK"})
    stored = json.loads(item["Item"]["spec_json"])
    assert stored["preset"] == "web"
    assert stored["output"]["strip_metadata"] is True  # a default, written down
    assert stored["operations"][0]["upscale"] is False


def test_the_formats_table_is_what_every_client_offers_and_accepts() -> None:
    """imgtasks.domain.formats is the one table of image formats: the output enum, the Python
    client's names, suffixes and content types, the CLI's help and the web app agree with it."""
    from imgtasks_client import batch, operations
    from imgtasks_client.cli import app

    from imgtasks.domain.formats import IMAGE_FORMATS, READ_FORMATS_SENTENCE, WRITTEN_IMAGE_FORMATS
    from imgtasks.domain.inspection import ACCEPTED_CONTENT_TYPES, CONTENT_TYPES, EXTENSIONS

    clip_formats = {"mp4", "webm"}
    assert set(get_args(OutputFormat)) == set(WRITTEN_IMAGE_FORMATS) | clip_formats
    assert {name: operations.EXTENSIONS[name] for name in get_args(OutputFormat)} == {
        name: EXTENSIONS[name] for name in get_args(OutputFormat)
    }
    for suffix, content_type in operations.CONTENT_TYPES_BY_SUFFIX.items():
        assert content_type in ACCEPTED_CONTENT_TYPES, suffix
        assert suffix in batch.IMAGE_SUFFIXES, suffix
    for image_format in IMAGE_FORMATS.values():
        assert f".{image_format.extension}" in batch.IMAGE_SUFFIXES, image_format.name
        assert operations.guess_type(f"x.{image_format.extension}") in ACCEPTED_CONTENT_TYPES, image_format.name
        assert CONTENT_TYPES[image_format.name] == image_format.content_type
    builder = (ROOT / "web" / "src" / "builder.js").read_text()
    offered = json.loads(re.search(r"const FORMATS = (\[.*?\]);", builder).group(1))  # type: ignore[union-attr]
    assert set(offered) - {""} == set(get_args(OutputFormat))
    workspace = (ROOT / "web" / "src" / "workspace.js").read_text()
    hint = re.search(r"or drop files here\. (.*?) images, and", workspace).group(1)  # type: ignore[union-attr]
    assert hint.replace(" and ", ", ") == READ_FORMATS_SENTENCE
    from typer.testing import CliRunner

    help_text = " ".join(CliRunner().invoke(app, ["run", "--help"], terminal_width=400).output.split())
    for name in WRITTEN_IMAGE_FORMATS:
        assert name in help_text, name
