"""Archives: the outputs of many tasks as one ZIP, made by a task of type `archive`; and the
earlier system's GET /tasks/batch-download?task_ids=... form of it."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from imgtasks.domain.errors import InvalidInput
from imgtasks.domain.records import TaskStatus
from imgtasks.kinds.archive import ArchiveSpec
from imgtasks.kinds.base import MAX_FILES_PER_REQUEST
from imgtasks.views import TaskOut

from ..context import caller, json_response, new_router, ok_response, problem_responses, wiring_of
from ..policy import policy
from ..routes.tasks import queued
from ..schemas import TaskList

router = new_router()


@router.post(
    "/archives",
    summary="Archive the outputs of up to 50 tasks as one ZIP",
    description=(
        "202 with a task of type `archive`. A worker streams the outputs of the caller's `done` tasks into one ZIP "
        "(each entry named `<task id>-<source name>/<output name>.<ext>`; an inference task's result as "
        "`result.json`); its result counts the tasks requested and included and the files, and lists the tasks "
        "skipped and why (`not_found`, `not_done`). `GET /tasks/{id}/download` gives the ZIP."
    ),
    operation_id="create_archive",
    tags=["tasks"],
    responses={**ok_response(202, TaskList, "The archive task, queued"), **problem_responses(400, 401, 415)},
)
@policy(idempotent=True)
def create_archive(request: Annotated[ArchiveSpec, Body()]) -> Response[TaskList]:
    found = wiring_of(router)
    owner = caller(router)
    return queued(found, [found.archives.create(owner.user_id, request, retain_until=owner.guest_until)])


@router.get(
    "/tasks/batch-download",
    summary="The ZIP of these tasks' outputs: 202 with its archive task until it is done, then 302",
    description=(
        "The earlier system's form of `POST /archives`. The same set of ids (in any order) reuses the same archive "
        "task while it exists: 202 with the task while it is queued or running (ask again, or long-poll it), 302 to "
        "the ZIP once it is done; a failed or cancelled archive answers 202 with the task as it is (restart it)."
    ),
    operation_id="batch_download",
    tags=["tasks"],
    responses={
        **ok_response(202, TaskOut, "The archive task, not done yet"),
        302: {"description": "Location: a presigned URL of the ZIP"},
        **problem_responses(400, 401),
    },
)
@policy(changes_state=True)  # it may create the archive task
def batch_download(
    task_ids: Annotated[str, Query(min_length=1, max_length=2000, description="Comma-separated task ids, 1 to 50")],
) -> Response[Any]:  # 202 with the task, or 302 to the ZIP
    ids = [task_id.strip() for task_id in task_ids.split(",") if task_id.strip()]
    if not 1 <= len(set(ids)) <= MAX_FILES_PER_REQUEST:
        raise InvalidInput(
            f"name 1 to {MAX_FILES_PER_REQUEST} task ids",
            errors=[{"loc": ["query", "task_ids"], "msg": f"1 to {MAX_FILES_PER_REQUEST} comma-separated ids"}],
        )
    found = wiring_of(router)
    identity = caller(router)
    owner = identity.user_id
    task = found.archives.for_set(owner, ArchiveSpec(task_ids=ids), retain_until=identity.guest_until)
    if task.status == TaskStatus.DONE:
        url = found.tasks.download_url(owner, task.id, None)
        return Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store"}, body="")
    return json_response(202, TaskOut.from_task(task, found.tasks.output_url))
