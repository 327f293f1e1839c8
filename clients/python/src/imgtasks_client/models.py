"""What the service answers, as typed objects. Each model mirrors one schema of the server's
/openapi.json (a test compares their fields), and ignores fields a newer server may add."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

TaskStatus = Literal["queued", "running", "done", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"done", "failed", "cancelled"})


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False)


class VideoInfo(Model):
    container: str
    codec: str
    duration: float
    fps: float
    frames_estimated: bool
    has_audio: bool
    rotation: int


class File(Model):
    id: str
    filename: str
    content_type: str
    size: int
    status: Literal["pending", "ready", "rejected"]
    format: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    video: VideoInfo | None = None
    source_url: str | None = None
    fetch_attempts: int | None = None
    fetch_error: str | None = None
    created_at: str
    error: str | None = None
    error_code: str | None = None


class ColorShare(Model):
    hex: str
    share: float = Field(description="The part of the picture's opaque pixels nearest this colour")


class GpsPosition(Model):
    latitude: float
    longitude: float
    altitude: float | None = None


class PictureMetadata(Model):
    """What the source's camera said; a field the file does not say is None."""

    camera: str | None = None
    lens: str | None = None
    taken_at: str | None = None
    orientation: int | None = None
    color_profile: str | None = None
    f_number: float | None = None
    exposure_time: float | None = Field(default=None, description="Seconds")
    iso: int | None = None
    focal_length: float | None = Field(default=None, description="Millimetres")
    gps: GpsPosition | None = None


class PictureLook(Model):
    """Placeholders to show while a picture loads, and its dominant colours (None for a video)."""

    blurhash: str | None = None
    thumbhash: str | None = Field(default=None, description="Base64")
    colors: list[ColorShare] | None = None


class SourceImage(PictureLook):
    format: str
    width: int
    height: int
    frames: int
    size: int
    duration: float | None = None
    metadata: PictureMetadata | None = None


class AutoQualityChoice(Model):
    """What `quality: "auto"` chose for an output."""

    quality: int
    ssim: float
    target: float
    encodes: int


class Output(PictureLook):
    name: str
    file_id: str
    format: str
    width: int
    height: int
    frames: int
    size: int
    auto_quality: AutoQualityChoice | None = None
    url: str = Field(description="A presigned URL that expires within 15 minutes")
    cdn_url: str | None = Field(
        default=None, description="Its bytes through the CDN, signed with your newest key; null for a guest"
    )


class ProcessResult(Model):
    outputs: list[Output]
    source: SourceImage


class ImageClass(Model):
    label: str
    probability: float


class Keypoint(Model):
    """A named point of a detection (a face's eyes, nose, mouth and ears), in 0-1 of the image."""

    name: str
    x: float
    y: float


class Detection(Model):
    """An oriented box: centre, size and rotation (0-1 of a turn, clockwise), in 0-1 of the image."""

    label: str
    probability: float
    x: float
    y: float
    width: float
    height: float
    rotation: float
    keypoints: list[Keypoint] | None = None


class ModelUsed(Model):
    id: str
    version: str


class InferResult(Model):
    image_class: ImageClass | None
    detections: list[Detection]
    models: dict[str, ModelUsed]


class SkippedTask(Model):
    task_id: str
    reason: str
    status: str | None = None


class ArchiveFile(Model):
    file_id: str
    size: int
    url: str


class ArchiveResult(Model):
    tasks_requested: int
    tasks_included: int
    files: int
    skipped: list[SkippedTask]
    archive: ArchiveFile


class TaskError(Model):
    code: str
    message: str


class WaitingForFile(Model):
    """What a queued task's file is waiting for: its upload, or its URL's fetch (and how that goes)."""

    file_id: str
    reason: Literal["upload", "fetch"]
    fetch_attempts: int | None = None
    fetch_error: str | None = None


class Invocation(Model):
    function: str
    memory_mb: int
    ms: float
    share: float
    calls: dict[str, float] = Field(default_factory=dict)
    estimated: bool = False


class Requests(Model):
    s3_put: float = 0
    s3_get: float = 0
    s3_free: float = 0
    sqs: float = 0
    dynamodb_read_units: float = 0
    dynamodb_write_units: float = 0
    api_gateway: float = 0
    other: float = 0


class Cost(Model):
    region: str
    prices_read_on: str
    lambda_usd: float
    requests_usd: float
    cost_usd: float
    storage_usd_per_month: float


class TaskUsage(Model):
    """What a finished task used of AWS and what that cost at AWS's public prices."""

    invocations: list[Invocation] = Field(default_factory=list)
    requests: Requests = Field(default_factory=Requests)
    bytes_read: int = 0
    bytes_stored: int = 0
    lambda_gb_seconds: float
    lambda_requests: float
    cost: Cost


class UsageDay(Model):
    day: str
    type: str
    tasks: int
    cost_usd: float
    lambda_gb_seconds: float
    lambda_requests: float
    requests: float
    dynamodb_request_units: float
    bytes_read: int
    bytes_stored: int
    storage_usd_per_month: float


class UsageTotal(Model):
    tasks: int
    cost_usd: float
    lambda_gb_seconds: float
    requests: float
    dynamodb_request_units: float
    bytes_stored: int
    storage_usd_per_month: float


class UsageReport(Model):
    """GET /usage: the caller's usage and cost per day and type of task."""

    first_day: str
    last_day: str
    region: str
    prices_read_on: str
    days: list[UsageDay]
    total: UsageTotal


class UserUsage(Model):
    user_id: str
    days: list[UsageDay]
    total: UsageTotal


class EveryonesUsage(Model):
    """GET /admin/usage (operators): every user's usage and cost in the range."""

    first_day: str
    last_day: str
    region: str
    prices_read_on: str
    users: list[UserUsage]
    total: UsageTotal


class Task(Model):
    id: str
    type: Literal["process", "infer", "archive"]
    status: TaskStatus
    progress: int
    file_id: str | None
    spec: dict[str, Any]
    created_at: str
    updated_at: str
    started_at: str | None
    completed_at: str | None
    duration_ms: int | None
    attempts: int
    error: TaskError | None
    result: ProcessResult | InferResult | ArchiveResult | None
    webhook: str | None = None
    waiting_for: WaitingForFile | None = None
    usage: TaskUsage | None = None

    _client: Any = PrivateAttr(default=None)

    def bind(self, client: Any) -> Task:
        self._client = client
        return self

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL

    # With a Client these return at once; with an AsyncClient they are awaited.
    def wait(self, timeout: float = 600, *, raise_on_failure: bool = False) -> Any:
        """Until the task ends (done, failed or cancelled): the task as it ended. Long-polls."""
        return self._client.tasks.wait(self.id, timeout=timeout, raise_on_failure=raise_on_failure)

    def refresh(self) -> Any:
        return self._client.tasks.get(self.id)

    def download(self, dest: str | Path, *, variant: str | None = None, every: bool = False) -> Any:
        """One output (the first, or `variant`) into `dest` (a folder or a file name), or with
        `every`, each output into the folder `dest`; the paths written."""
        return self._client.tasks.download(self, dest, variant=variant, every=every)

    def cancel(self) -> Any:
        return self._client.tasks.cancel(self.id)

    def restart(self) -> Any:
        return self._client.tasks.restart(self.id)

    def delete(self) -> Any:
        return self._client.tasks.delete(self.id)


class Page(Model):
    """One page of a list, as GET /tasks and GET /files answer: its items and the list's totals."""

    items: list[Any]
    next_cursor: str | None
    total: int = Field(description="Items matching the filters, in all pages")
    pages: int
    has_next: bool
    has_previous: bool


class ModelInfo(Model):
    id: str
    name: str
    version: str
    labels: list[str]
    input_size: list[int]
    description: str


class ModelList(Model):
    detection_models: list[ModelInfo]
    classification_models: list[ModelInfo]


class Webhook(Model):
    id: str
    url: str
    events: list[str]
    created_at: str
    disabled: bool
    disabled_reason: str | None = None
    secret: str | None = None


class SigningKey(Model):
    id: str
    created_at: str
    secret: str | None = Field(default=None, description="In the answer that made the key only")


# Which server schema each model mirrors (tests/unit/test_client.py checks them against /openapi.json).
SCHEMAS: dict[type[Model], str] = {
    VideoInfo: "VideoInfo",
    File: "FileOut",
    SourceImage: "SourceImage",
    Output: "OutputOut",
    ProcessResult: "ProcessResultOut",
    ImageClass: "ImageClass",
    Detection: "Detection",
    ModelUsed: "ModelUsed",
    InferResult: "InferResult",
    SkippedTask: "SkippedTask",
    ArchiveFile: "ArchiveOut",
    ArchiveResult: "ArchiveResultOut",
    TaskError: "TaskErrorOut",
    Task: "TaskOut",
    ModelInfo: "ModelOut",
    ModelList: "ModelList",
    Webhook: "WebhookOut",
    SigningKey: "SigningKeyOut",
    Invocation: "Invocation",
    Requests: "Requests",
    Cost: "Cost",
    TaskUsage: "UsageOut",
    UsageDay: "UsageDay",
    UsageTotal: "UsageTotal",
    UsageReport: "UsageReport",
    UserUsage: "UserUsage",
    EveryonesUsage: "EveryonesUsage",
}
