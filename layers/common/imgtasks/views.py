"""Tasks and files as clients see them: the API's answers and the webhook events' `data` use these
shapes. Outputs carry presigned URLs instead of where their bytes are kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_serializer

from imgtasks.adapters.outbound import redacted
from imgtasks.domain.base import Model
from imgtasks.domain.errors import ErrorCode, catalog_markdown
from imgtasks.domain.prices import Cost, price, running_region
from imgtasks.domain.records import FileRecord, VideoInfo
from imgtasks.domain.usage import Usage
from imgtasks.kinds import Task, TaskSpec, TaskTypeName
from imgtasks.kinds.archive import ArchiveFile, ArchiveResult, SkippedTask
from imgtasks.kinds.infer import InferResult
from imgtasks.kinds.process import Output, OutputFile, ProcessResult, ProcessSpec, SourceImage

OutputLink = Callable[[OutputFile], str]
TaskStatusName = Literal["queued", "running", "done", "failed", "cancelled"]


class FileOut(Model):
    id: str
    filename: str
    content_type: str
    size: int
    status: Literal["pending", "ready", "rejected"]
    format: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    video: VideoInfo | None = Field(
        default=None, description="A video's container, codec, duration, frame rate and sound; absent for images"
    )
    source_url: str | None = Field(default=None, description="A fetched file's URL, without user and password")
    fetch_attempts: int | None = Field(
        default=None, description="A pending fetched file: how many attempts to fetch its URL have failed so far"
    )
    fetch_error: str | None = Field(
        default=None,
        description="A pending fetched file: the last failed attempt's error, its code first, and when the next is",
    )
    created_at: str
    error: str | None = Field(default=None, description="Why a rejected file was rejected, as a sentence")
    error_code: ErrorCode | None = Field(
        default=None, description="A rejected file's reason as a catalog code (the same codes as a task's error)"
    )

    @field_serializer("source_url")
    def _without_credentials(self, url: str | None) -> str | None:
        return redacted(url) if url else None


class TaskErrorOut(Model):
    code: Annotated[
        ErrorCode,
        Field(description="Why the task failed; every code the service gives:\n" + catalog_markdown()),
    ]
    message: str = Field(description="A sentence for a person")


class OutputOut(Output):
    url: str = Field(description="A presigned URL that expires within 15 minutes")
    cdn_url: str | None = Field(
        default=None,
        description="The output's render URL with no operations: its bytes, through the CDN, signed with your "
        "newest signing key. It works as long as that key and the file do; null for a guest's outputs",
    )


class ProcessResultOut(Model):
    outputs: list[OutputOut]
    source: SourceImage

    @classmethod
    def from_result(
        cls, result: ProcessResult, output_url: Callable[[OutputFile], str], cdn_url: OutputLink | None = None
    ) -> ProcessResultOut:
        outputs = [
            OutputOut(
                **output.model_dump(exclude={"bucket", "key"}),
                url=output_url(output),
                cdn_url=cdn_url(output) if cdn_url is not None else None,
            )
            for output in result.outputs
        ]
        return cls(outputs=outputs, source=result.source)


class ArchiveOut(Model):
    file_id: str
    size: int = Field(description="Bytes")
    url: str = Field(description="A presigned URL of the ZIP that expires within 15 minutes")


class ArchiveResultOut(Model):
    tasks_requested: int
    tasks_included: int
    files: int = Field(description="Entries in the ZIP")
    skipped: list[SkippedTask] = Field(description="The tasks left out, and why")
    archive: ArchiveOut

    @classmethod
    def from_result(cls, result: ArchiveResult, url: Callable[[ArchiveFile], str]) -> ArchiveResultOut:
        archive = ArchiveOut(file_id=result.archive.file_id, size=result.archive.size, url=url(result.archive))
        return cls(**result.model_dump(exclude={"archive"}), archive=archive)


TaskResultView = ProcessResultOut | InferResult | ArchiveResultOut
OutputUrl = Callable[[OutputFile | ArchiveFile], str]


class WaitingForFile(Model):
    file_id: str
    reason: Literal["upload", "fetch"] = Field(
        description="upload: the file's bytes have not arrived or are being inspected; fetch: its URL is being fetched"
    )
    fetch_attempts: int | None = Field(default=None, description="The fetch attempts that failed so far")
    fetch_error: str | None = Field(
        default=None, description="The last failed fetch's error, its code first, and when the next attempt is"
    )

    @classmethod
    def of(cls, record: FileRecord) -> WaitingForFile:
        return cls(
            file_id=record.id,
            reason="fetch" if record.source_url else "upload",
            fetch_attempts=record.fetch_attempts,
            fetch_error=record.fetch_error,
        )


class UsageOut(Usage):
    """What a task used of AWS and what that cost at the public prices (imgtasks.domain.prices)."""

    lambda_gb_seconds: float = Field(description="Sum of the invocations' GB-seconds (memory x time)")
    lambda_requests: float = Field(description="Sum of the invocations' shares (Lambda bills each request)")
    cost: Cost

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        return cls(
            **usage.model_dump(),
            lambda_gb_seconds=usage.total_gb_seconds(),
            lambda_requests=usage.total_lambda_requests(),
            cost=price(usage, running_region()),
        )


FINISHED = ("done", "failed", "cancelled")


class TaskOut(Model):
    # The document shows `spec` as the models it is validated with; serializing it only leaves
    # out what the client left out.
    model_config = ConfigDict(json_schema_mode_override="validation")

    id: str
    type: TaskTypeName
    status: TaskStatusName
    progress: int = Field(ge=0, le=100)
    file_id: str | None = Field(description="The input file; null for an archive, whose inputs are tasks")
    spec: TaskSpec = Field(description="The task as it was asked for (fields left out stay out)")
    created_at: str
    updated_at: str
    started_at: str | None
    completed_at: str | None
    duration_ms: int | None
    attempts: int
    error: TaskErrorOut | None
    result: TaskResultView | None
    webhook: str | None = Field(default=None, description="The URL this task's events are posted to")
    waiting_for: WaitingForFile | None = Field(
        default=None,
        description="A queued task whose file is not ready yet: what it waits for (absent in webhook events)",
    )
    usage: UsageOut | None = Field(
        default=None,
        description="A finished task's use of AWS (Lambda time, requests, bytes) and its cost at public prices",
    )

    @field_serializer("webhook")
    def _webhook_without_credentials(self, url: str | None) -> str | None:
        return redacted(url) if url else None

    @field_serializer("spec")
    def _spec_as_asked(self, spec: TaskSpec) -> dict[str, Any]:
        if isinstance(spec, ProcessSpec):
            return spec.as_asked()
        return spec.model_dump(exclude_unset=True, exclude_none=True)

    @classmethod
    def from_task(
        cls,
        task: Task,
        output_url: OutputUrl,
        waited_file: FileRecord | None = None,
        cdn_url: OutputLink | None = None,
    ) -> TaskOut:
        """`waited_file`: the record of the file a queued task waits for (the caller decides);
        `cdn_url`: the outputs' stable links, where the caller shows them (not for a guest)."""
        shown = task.model_dump(
            exclude={
                "owner_id",
                "run",
                "outbox",
                "attempt_started_at",
                "spec",
                "result",
                "kind",
                "waits_for_file",
                "outputs_ready",
                "usage",
            }
        )
        if task.usage is not None and task.status in FINISHED:
            shown["usage"] = UsageOut.of(task.usage)
        if waited_file is not None:
            shown["waiting_for"] = WaitingForFile.of(waited_file)
        # The spec as a model, not a dict: it keeps which fields were set (shown as asked).
        shown["spec"] = task.spec
        result = task.result
        if isinstance(result, ProcessResult):
            shown["result"] = ProcessResultOut.from_result(result, output_url, cdn_url)
        elif isinstance(result, ArchiveResult):
            shown["result"] = ArchiveResultOut.from_result(result, output_url)
        else:
            shown["result"] = result
        return cls.model_validate(shown)
