"""The kinds of task, declared once each, a module apiece: process, infer and archive with their
spec, result and task record; video runs process tasks (the same spec and result) on a queue and
function of its own. Each module's TaskKind names the queue and the function. Read off them here:
the task union, the create requests, the queue of each task.

To add a kind: its module here (a TaskKind, its spec, result and task model), a line in KINDS
and in the unions below, its queue and function in the template, and its worker module in
functions/workers. tests/unit/test_task_kinds.py checks that these agree."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from imgtasks.domain.records import task_fields
from imgtasks.kinds.archive import ARCHIVE, ArchiveResult, ArchiveSpec, ArchiveTask
from imgtasks.kinds.base import TaskKind
from imgtasks.kinds.infer import INFER, CreateInferTasks, InferResult, InferSpec, InferTask
from imgtasks.kinds.process import PROCESS, CreateProcessTasks, ProcessResult, ProcessSpec, ProcessTask
from imgtasks.kinds.video import VIDEO

KINDS: dict[str, TaskKind] = {kind.name: kind for kind in (PROCESS, VIDEO, INFER, ARCHIVE)}

# The API's task types (a task's `type`); each is the task_type of one kind or more.
TaskTypeName = Literal["process", "infer", "archive"]
AnyTask = ProcessTask | InferTask | ArchiveTask
Task = Annotated[AnyTask, Field(discriminator="type")]
TaskSpec = ProcessSpec | InferSpec | ArchiveSpec
TaskResult = ProcessResult | InferResult | ArchiveResult
# The bodies of POST /tasks (archives have an endpoint of their own).
CreateTaskRequest = CreateProcessTasks | CreateInferTasks
CreateTasks = Annotated[CreateTaskRequest, Field(discriminator="type")]


@cache
def _tasks() -> TypeAdapter[AnyTask]:
    """Built on first use, not at import: it compiles every kind's validators (cold start)."""
    return TypeAdapter(Task)


def task_from_item(item: dict[str, Any]) -> AnyTask:
    """A stored task item as its type's task model, on a kind that runs that type."""
    task = _tasks().validate_python(task_fields(item))
    kind = KINDS.get(task.kind)
    if kind is None or kind.task_type != task.type:
        raise ValueError(f"task {task.id}: the kind {task.kind!r} does not run {task.type} tasks")
    return task


def kind_of(task: AnyTask) -> TaskKind:
    return KINDS[task.kind]


__all__ = [
    "KINDS",
    "AnyTask",
    "ArchiveTask",
    "CreateTaskRequest",
    "CreateTasks",
    "InferTask",
    "ProcessTask",
    "Task",
    "TaskKind",
    "TaskResult",
    "TaskSpec",
    "TaskTypeName",
    "kind_of",
    "task_from_item",
]
