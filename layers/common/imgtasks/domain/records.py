"""Domain records as stored: users, files, and what every task has in common (the kinds of task
add their spec and result: imgtasks.kinds). Stored spec and result are JSON text, so no float
ever has to pass through DynamoDB's Decimal."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer

from imgtasks.domain.base import Model
from imgtasks.domain.errors import ErrorCode
from imgtasks.domain.usage import Usage


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class FileStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    REJECTED = "rejected"


class VideoInfo(Model):
    container: str = Field(description="mp4, mov, webm, mkv or avi")
    codec: str = Field(description="The video stream's codec, as FFmpeg names it (h264, hevc, vp9, av1...)")
    duration: float = Field(description="Seconds")
    fps: float = Field(description="The average frame rate")
    frames_estimated: bool = Field(description="True when `frames` is duration x fps, not a count the container gave")
    has_audio: bool
    rotation: int = Field(description="Degrees the player turns the picture (phones record upright video this way)")


def _from_text(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# Stored as JSON text, so its floats never pass through DynamoDB's Decimal.
StoredVideoInfo = Annotated[
    VideoInfo, BeforeValidator(_from_text), PlainSerializer(lambda info: info.model_dump_json(), return_type=str)
]


class User(Model):
    id: str
    username: str
    # Empty for a guest, who has no password until the account is claimed.
    password_hash: str
    created_at: str
    # A guest account (POST /auth/guest): it and everything it owns expire at expires_at (DynamoDB
    # TTL, epoch seconds) unless claimed with a username and password first.
    guest: bool = False
    expires_at: int | None = None


# The video formats a task writes.
VIDEO_OUTPUT_FORMATS = frozenset({"mp4", "webm"})


class FileRecord(Model):
    model_config = ConfigDict(use_enum_values=True)

    id: str
    owner_id: str
    filename: str
    content_type: str
    size: int
    status: FileStatus
    bucket: str
    key: str
    created_at: str
    format: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    # A video's container, codec, duration, frame rate and sound (None for images).
    video: StoredVideoInfo | None = None
    error: str | None = None
    # Why a rejected file was rejected (image_too_large, invalid_image, ...): its tasks fail with it.
    error_code: ErrorCode | None = None
    # A file fetched from a URL (URL ingest): where from. Shown without user and password.
    source_url: str | None = None
    # A fetch still being retried: the attempts that failed, and the last one's error and retry.
    fetch_attempts: int | None = None
    fetch_error: str | None = None
    # Set on outputs: the task that produced the file.
    task_id: str | None = None
    # Tasks created while the file was still pending; started when it becomes ready.
    waiting_task_ids: list[str] = Field(default_factory=list)
    # A pending upload's record expires (DynamoDB TTL, epoch seconds) if its bytes never arrive;
    # the inspection that finishes it sets it to retain_until, or removes it.
    expires_at: int | None = None
    # A guest's file: when the guest's data expires (the record's TTL once it is no longer pending,
    # and its bytes are tagged for the bucket's guest lifecycle rule).
    retain_until: int | None = None

    @property
    def is_video(self) -> bool:
        """An uploaded video (its inspection filled `video`) or a task's MP4 or WebM output (which
        carries no inspection)."""
        return self.video is not None or self.format in VIDEO_OUTPUT_FORMATS


class TaskError(Model):
    model_config = ConfigDict(use_enum_values=True)

    code: ErrorCode
    message: str


# Numbers DynamoDB gives back as Decimal.
_INTEGER_FIELDS = ("progress", "attempts", "duration_ms", "run", "expires_at", "outputs_ready")


class TaskBase(Model):
    """What every task record has. Each kind of task (imgtasks.kinds) adds its typed `spec` (what
    it was asked to do, validated once, at creation) and `result`; `imgtasks.kinds.Task` is the
    union of them, told apart by `type`."""

    model_config = ConfigDict(use_enum_values=True)

    id: str
    owner_id: str
    type: str
    # The worker (and queue) that runs it: `type`, or `video` for a process task that needs FFmpeg.
    kind: str
    status: TaskStatus
    # The input file; none for an archive task, whose inputs are other tasks (spec.task_ids).
    file_id: str | None = None
    created_at: str
    updated_at: str
    progress: int = 0
    # When the first attempt started, and when the last one did: duration_ms measures the attempt
    # that finished, not the wait for a redelivery after a crash.
    started_at: str | None = None
    attempt_started_at: str | None = None
    completed_at: str | None = None
    duration_ms: int | None = None
    attempts: int = 0
    error: TaskError | None = None
    # Bumped by every restart; a message carries the run it was sent for, so a message from an
    # earlier run can never act on a later one.
    run: int = 1
    # S3 drop-ins: where copies of the outputs go in the results bucket (outbox/<user>/<preset>/<name>).
    outbox: str | None = None
    # A URL the task's events are posted to (POST /tasks `webhook`).
    webhook: str | None = None
    # A queued task whose input is still uploading: not dispatched until the upload is inspected.
    waits_for_file: bool | None = None
    # A guest's task: DynamoDB's TTL removes it then (epoch seconds), and its outputs with it.
    expires_at: int | None = None
    # How many outputs the result holds (it grows while a task with variants runs): what a
    # long-poll and the `task.output` events compare.
    outputs_ready: int | None = None
    # What the task used of AWS so far (imgtasks.adapters.metering): the API call that made it,
    # its dispatch, every attempt that wrote an end. Stored as JSON text (usage_json).
    usage: Usage | None = None

    def formats(self) -> list[str]:
        """The formats the task writes (GET /tasks?format=): its outputs' once it has them, else
        those its spec names. Each kind says (a process task whose output keeps the input's format
        names none until it has run)."""
        return []

    def to_item(self) -> dict[str, Any]:
        """The record as stored: spec and result as JSON text (no float passes through DynamoDB's
        Decimal); the spec keeps only the fields that were set, so it reads back as it was asked."""
        item = self.model_dump(exclude={"spec", "result", "error", "usage"}, exclude_none=True)
        spec: Model = getattr(self, "spec")  # noqa: B009 - every kind's task has one
        item["spec_json"] = spec.model_dump_json(exclude_unset=True, exclude_none=True)
        result: Model | None = getattr(self, "result", None)
        if result is not None:
            item["result_json"] = result.model_dump_json()
        if self.error is not None:
            item["error"] = self.error.model_dump()
        if self.usage is not None:
            item["usage_json"] = self.usage.model_dump_json()
        item["formats"] = self.formats()
        return item


def task_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A stored task item as the fields of its model: keys dropped, JSON text parsed, numbers as
    ints. Records written before `kind` was stored carry `worker` (video) instead."""
    data = {k: v for k, v in item.items() if not k.startswith(("PK", "SK", "GSI")) and k != "formats"}
    data["spec"] = json.loads(data.pop("spec_json", "{}"))
    result_json = data.pop("result_json", None)
    data["result"] = json.loads(result_json) if result_json else None
    usage_json = data.pop("usage_json", None)
    data["usage"] = json.loads(usage_json) if usage_json else None
    worker = data.pop("worker", None)
    data.setdefault("kind", worker or data.get("type", "process"))
    for number in _INTEGER_FIELDS:
        if data.get(number) is not None:
            data[number] = int(data[number])
    return data
