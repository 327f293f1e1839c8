"""Archive tasks: the outputs of many of the caller's done tasks as one ZIP (POST /archives, or
GET /tasks/batch-download). Their inputs are tasks, not a file."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from imgtasks.domain.base import StrictModel
from imgtasks.domain.records import TaskBase
from imgtasks.kinds.base import MAX_FILES_PER_REQUEST, TaskKind

ARCHIVE = TaskKind(
    name="archive",
    task_type="archive",
    queue_url_setting="archive_queue_url",
    function="ArchiveFunction",
    handler="imgtasks_workers.archive.lambda_handler",
)


class ArchiveSpec(StrictModel):
    """An archive task: the outputs of these tasks (the caller's, done) as one ZIP."""

    task_ids: Annotated[list[str], Field(min_length=1, max_length=MAX_FILES_PER_REQUEST)]

    @field_validator("task_ids")
    @classmethod
    def _unique(cls, task_ids: list[str]) -> list[str]:
        return list(dict.fromkeys(task_ids))


class SkippedTask(StrictModel):
    task_id: str
    reason: str = Field(description="`not_found`, or `not_done` (with the task's `status`)")
    status: str | None = None


class ArchiveFile(StrictModel):
    """The ZIP, as stored."""

    file_id: str
    size: int = Field(description="Bytes")
    bucket: str
    key: str


class ArchiveResult(StrictModel):
    tasks_requested: int
    tasks_included: int
    files: int = Field(description="Entries in the ZIP")
    skipped: list[SkippedTask]
    archive: ArchiveFile


class ArchiveTask(TaskBase):
    type: Literal["archive"] = "archive"
    kind: str = ARCHIVE.name
    spec: ArchiveSpec
    result: ArchiveResult | None = None

    def formats(self) -> list[str]:
        return ["zip"]
