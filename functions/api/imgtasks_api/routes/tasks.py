"""Tasks: create (JSON, or multipart file + spec), list, read, result, download, cancel, restart,
delete; and the presets a process task can name."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import TypeAdapter

from imgtasks.adapters.repositories.tasks import TaskOrder
from imgtasks.domain.errors import InvalidInput, UnsupportedMediaType
from imgtasks.domain.ids import ID_PATTERN, new_id
from imgtasks.domain.outputs import OutputFormat
from imgtasks.domain.records import TaskStatus
from imgtasks.kinds import CreateTaskRequest, CreateTasks, Task, TaskTypeName
from imgtasks.kinds.process import describe_presets
from imgtasks.observability import logger, metrics
from imgtasks.services.credentials import Identity
from imgtasks.services.tasks import MAX_WAIT_SECONDS
from imgtasks.views import TaskOut, TaskStatusName

from ..bodies import load_json, media_type, parse_json, parse_multipart, raw_body, validate
from ..context import caller, json_response, new_router, ok_response, problem_responses, request, wiring_of
from ..policy import policy
from ..routes.files import file_part
from ..schemas import PresetList, TaskList, TaskPage, TaskResultOut
from ..wiring import ApiWiring

router = new_router()

# The formats a task can write: its outputs' formats, and an archive's ZIP.
TaskFormatName = OutputFormat | Literal["zip"]

TaskId = Annotated[str, Path(description="A task id (a ULID)", min_length=1, max_length=64, pattern=ID_PATTERN)]


@cache
def create_tasks_adapter() -> TypeAdapter[CreateTaskRequest]:
    """Built on the first POST /tasks, not at cold start."""
    return TypeAdapter(CreateTasks)


def shown_all(found: ApiWiring, owner_id: str, tasks: list[Task]) -> list[TaskOut]:
    """The caller's tasks as clients see them: outputs carry presigned URLs instead of storage
    keys, and a task that waits for its file says what the file is waiting for (a failing fetch's
    error). Those files are read in one batch, however many tasks wait (a list, 50 URLs at once)."""
    waiting = {
        task.id: task.file_id
        for task in tasks
        if task.status == TaskStatus.QUEUED and task.waits_for_file and task.file_id
    }
    files = found.files.get_many(owner_id, list(waiting.values())) if waiting else {}
    links = found.stable_urls.for_owner(owner_id) if found.stable_urls is not None else None
    # A file deleted meanwhile has nothing to show; a guest's outputs have no stable link.
    return [
        TaskOut.from_task(
            task,
            found.tasks.output_url,
            files.get(waiting.get(task.id, "")),
            cdn_url=links if task.expires_at is None else None,
        )
        for task in tasks
    ]


def shown(found: ApiWiring, task: Task) -> TaskOut:
    return shown_all(found, task.owner_id, [task])[0]


MULTIPART_TASK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "spec"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "At most 4 MiB"},
                        "spec": {"type": "string", "description": "The JSON task body without file_ids"},
                    },
                    "additionalProperties": False,  # another part is refused
                }
            },
        },
    }
}
JSON_TASK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            # Its definitions are added to the components when the document is built (openapi.py).
            "application/json": {"schema": {"$ref": "#/components/schemas/CreateTasks"}},
        },
    }
}


def _create_from_multipart(owner: Identity) -> list[Task]:
    fields, parts = parse_multipart(request(router), required=frozenset({"file", "spec"}))
    upload = file_part(parts)
    if "spec" not in fields:
        raise InvalidInput(
            "the multipart body needs a part named 'spec' holding the task as JSON",
            errors=[{"loc": ["body", "spec"], "msg": "field required", "type": "missing"}],
        )
    spec = load_json(fields["spec"], loc=("body", "spec"))
    if not isinstance(spec, dict) or "file_ids" in spec:
        raise InvalidInput(
            "the 'spec' part must be a JSON object without file_ids (the uploaded file is the input)",
            errors=[{"loc": ["body", "spec"], "msg": "must be an object without file_ids", "type": "value_error"}],
        )
    # Validate the spec before storing the file, so a bad spec leaves nothing behind.
    asked = validate({**spec, "file_ids": [new_id()]}, create_tasks_adapter(), loc_prefix=("body", "spec"))
    found = wiring_of(router)
    record = found.uploads.upload(owner.user_id, upload.filename, upload.data, retain_until=owner.guest_until)
    return found.tasks.create(
        owner.user_id, asked.model_copy(update={"file_ids": [record.id]}), retain_until=owner.guest_until
    )


def queued(found: ApiWiring, tasks: list[Task]) -> Response[TaskList]:
    metrics.add_metric(name="TasksCreated", unit=MetricUnit.Count, value=len(tasks))
    logger.info("tasks created", extra={"task_ids": [task.id for task in tasks]})
    return json_response(202, TaskList(tasks=shown_all(found, caller(router).user_id, tasks)))


@router.post(
    "/tasks",
    summary="Create one task per file",
    description=(
        "One task per entry of `file_ids` (1 to 50); a task whose file is still `pending` waits and starts when "
        "the upload lands. This path also accepts the multipart body of `POST /tasks/upload` (the contract's "
        "second form); the document lists that form under its own operation so that generated clients get one "
        "body type per operation."
    ),
    operation_id="create_tasks",
    tags=["tasks"],
    responses={**ok_response(202, TaskList, "The queued tasks"), **problem_responses(400, 401, 413, 415)},
    openapi_extensions=JSON_TASK_BODY,
)
@policy(idempotent=True)
def create_tasks() -> Response[TaskList]:
    owner = caller(router)
    found = wiring_of(router)
    kind = media_type(request(router))
    if kind == "application/json":
        asked = parse_json(raw_body(request(router)), create_tasks_adapter())
        return queued(found, found.tasks.create(owner.user_id, asked, retain_until=owner.guest_until))
    if kind == "multipart/form-data":
        return queued(found, _create_from_multipart(owner))
    raise UnsupportedMediaType(
        f"send application/json, or multipart/form-data with 'file' and 'spec' parts (got {kind or 'none'})"
    )


@router.post(
    "/tasks/upload",
    summary="Upload a file (multipart, at most 4 MiB) and create its task",
    operation_id="upload_file_and_create_task",
    tags=["tasks"],
    responses={**ok_response(202, TaskList, "The queued task"), **problem_responses(400, 401, 413, 415)},
    openapi_extensions=MULTIPART_TASK_BODY,
)
@policy(idempotent=True)
def upload_and_create_task() -> Response[TaskList]:
    kind = media_type(request(router))
    if kind != "multipart/form-data":
        raise UnsupportedMediaType(f"send multipart/form-data with 'file' and 'spec' parts (got {kind or 'none'})")
    return queued(wiring_of(router), _create_from_multipart(caller(router)))


@router.get(
    "/tasks",
    summary="The caller's tasks",
    operation_id="list_tasks",
    tags=["tasks"],
    responses={**ok_response(200, TaskPage, "A page of tasks"), **problem_responses(400, 401)},
)
def list_tasks(
    status: Annotated[TaskStatusName | None, Query()] = None,
    task_type: Annotated[TaskTypeName | None, Query(alias="type")] = None,
    output_format: Annotated[
        TaskFormatName | None, Query(alias="format", description="Tasks that write this format")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    order: Annotated[
        TaskOrder,
        Query(
            description="created_at (ULIDs: GSI1, or GSI2 with a status), updated_at (GSI3) or status (GSI2, one "
            "status after another, newest first within each); `-` for descending"
        ),
    ] = "-created_at",
) -> Response[TaskPage]:
    found = wiring_of(router)
    page = found.tasks.list(
        caller(router).user_id,
        limit=limit,
        cursor=cursor,
        order=order,
        status=status,
        task_type=task_type,
        output_format=output_format,
    )
    items = shown_all(found, caller(router).user_id, page.items)
    return json_response(200, TaskPage(items=items, **TaskPage.of(page, limit, cursor)))


@router.get(
    "/tasks/<task_id>",
    summary="A task; with wait=N, long-polls until its status changes or an output appears",
    description=(
        "With `wait` (1-20 seconds), the answer comes as soon as the task's status differs from `seen` (the "
        "status the caller last saw; by default its status at the call) or its result holds more outputs than "
        "`seen_outputs` (by default as many as at the call: a task with variants shows each output as it is "
        "made), or after `wait` seconds with the task as it is. A task that has ended answers at once unless "
        "`seen` is given."
    ),
    operation_id="get_task",
    tags=["tasks"],
    responses={**ok_response(200, TaskOut, "The task"), **problem_responses(400, 401, 404)},
)
def get_task(
    task_id: TaskId,
    wait: Annotated[int, Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for a change, 0-20")] = 0,
    seen: Annotated[TaskStatusName | None, Query(description="The status the caller last saw")] = None,
    seen_outputs: Annotated[
        int | None,
        Query(
            ge=0,
            le=100,
            description="How many outputs the caller has seen in `result.outputs`; default: as many as now",
        ),
    ] = None,
) -> Response[TaskOut]:
    found = wiring_of(router)
    owner = caller(router).user_id
    waits = wait or seen or seen_outputs is not None
    task = found.tasks.wait(owner, task_id, wait, seen, seen_outputs) if waits else found.tasks.get(owner, task_id)
    return json_response(200, shown(found, task))


@router.get(
    "/tasks/<task_id>/result",
    summary="A task's result (null until done)",
    operation_id="get_task_result",
    tags=["tasks"],
    responses={**ok_response(200, TaskResultOut, "The result"), **problem_responses(400, 401, 404)},
)
def get_task_result(task_id: TaskId) -> Response[TaskResultOut]:
    found = wiring_of(router)
    task = shown(found, found.tasks.get(caller(router).user_id, task_id))
    return json_response(200, TaskResultOut(id=task.id, status=task.status, result=task.result))


@router.get(
    "/tasks/<task_id>/download",
    summary="Redirect (302) to a presigned URL of an output",
    operation_id="download_task_output",
    tags=["tasks"],
    responses={302: {"description": "Location: a presigned S3 URL"}, **problem_responses(400, 401, 404, 409)},
)
def download_task_output(
    task_id: TaskId,
    variant: Annotated[str | None, Query(max_length=64, description="An output name; default the first")] = None,
    attachment: Annotated[
        bool, Query(description="Served as an attachment (a browser saves it) rather than inline")
    ] = False,
) -> Response[str]:
    url = wiring_of(router).tasks.download_url(caller(router).user_id, task_id, variant, attachment=attachment)
    return Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store"}, body="")


@router.post(
    "/tasks/<task_id>/cancel",
    summary="Cancel a queued or running task",
    operation_id="cancel_task",
    tags=["tasks"],
    responses={**ok_response(202, TaskOut, "The cancelled task"), **problem_responses(400, 401, 404, 409)},
)
def cancel_task(task_id: TaskId) -> Response[TaskOut]:
    found = wiring_of(router)
    return json_response(202, shown(found, found.tasks.cancel(caller(router).user_id, task_id)))


@router.post(
    "/tasks/<task_id>/restart",
    summary="Queue a failed or cancelled task again",
    operation_id="restart_task",
    tags=["tasks"],
    responses={**ok_response(202, TaskOut, "The queued task"), **problem_responses(400, 401, 404, 409)},
)
def restart_task(task_id: TaskId) -> Response[TaskOut]:
    found = wiring_of(router)
    return json_response(202, shown(found, found.tasks.restart(caller(router).user_id, task_id)))


@router.delete(
    "/tasks/<task_id>",
    summary="Delete a task (cancelling it first when active) and its outputs",
    operation_id="delete_task",
    tags=["tasks"],
    responses={204: {"description": "Deleted"}, **problem_responses(400, 401, 404)},
)
def delete_task(task_id: TaskId) -> Response[str]:
    wiring_of(router).tasks.delete(caller(router).user_id, task_id)
    return Response(status_code=204, body="")


@router.get(
    "/presets",
    summary="The presets a process task can name",
    operation_id="list_presets",
    tags=["tasks"],
    responses={**ok_response(200, PresetList, "The presets"), **problem_responses(401)},
)
def list_presets() -> Response[PresetList]:
    return json_response(200, PresetList.model_validate({"presets": describe_presets()}))
