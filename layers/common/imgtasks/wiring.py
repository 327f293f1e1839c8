"""The one place where collaborators are built from settings, once per cold start. Every function's
startup asks a `Wiring` for what it needs; each part is built on first use, so a function pays
only for what it uses."""

from __future__ import annotations

from functools import cache, cached_property
from typing import Any

from imgtasks.adapters import aws
from imgtasks.adapters.fetch_queue import FetchQueue
from imgtasks.adapters.model_registry import ModelRegistry
from imgtasks.adapters.outbound import OutboundClient
from imgtasks.adapters.repositories import FileRepository, TaskRepository, UserRepository, WebhookRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.adapters.task_queue import TaskQueue
from imgtasks.adapters.webhook_queue import WebhookQueue
from imgtasks.domain.limits import Limits, VideoLimits
from imgtasks.domain.webhooks import DELIVERY_TIMEOUT_S
from imgtasks.services.archives import Archives
from imgtasks.services.dropins import DropIns
from imgtasks.services.files import FileService
from imgtasks.services.lifecycle import TaskLifecycle
from imgtasks.services.tasks import TaskService
from imgtasks.services.webhooks import WebhookService
from imgtasks.settings import FunctionSettings


class Wiring:
    def __init__(self, settings: FunctionSettings) -> None:
        self.settings = settings

    # ------------------------------------------------------------ adapters
    @cached_property
    def table(self) -> Any:
        return aws.table(self.settings.table_name)

    @cached_property
    def store(self) -> ObjectStore:
        return ObjectStore(aws.client("s3"))

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.table)

    @cached_property
    def files(self) -> FileRepository:
        return FileRepository(self.table)

    @cached_property
    def tasks(self) -> TaskRepository:
        return TaskRepository(self.table)

    @cached_property
    def task_queue(self) -> TaskQueue:
        return TaskQueue(
            aws.client("sqs"),
            process_queue_url=self.settings.process_queue_url,
            infer_queue_url=self.settings.infer_queue_url,
            video_queue_url=self.settings.video_queue_url,
            archive_queue_url=self.settings.archive_queue_url,
        )

    @cached_property
    def fetch_queue(self) -> FetchQueue:
        return FetchQueue(aws.client("sqs"), self.settings.fetch_queue_url)

    @cached_property
    def outbound(self) -> OutboundClient:
        return OutboundClient(allow_private=self.settings.allow_private_urls)

    @cached_property
    def model_registry(self) -> ModelRegistry:
        return ModelRegistry(aws.client("s3"), self.settings.models_bucket)

    # ------------------------------------------------------------ services
    @cached_property
    def limits(self) -> Limits:
        return Limits(
            max_upload_bytes=self.settings.max_upload_bytes,
            max_pixels=self.settings.max_image_pixels,
            max_frames=self.settings.max_image_frames,
            video=VideoLimits(
                max_upload_bytes=self.settings.max_video_upload_bytes,
                max_seconds=self.settings.max_video_seconds,
                max_output_seconds=self.settings.max_video_output_seconds,
                max_output_frames=self.settings.max_video_output_frames,
                max_output_pixel_frames=self.settings.max_video_output_pixel_frames,
            ),
        )

    @cached_property
    def lifecycle(self) -> TaskLifecycle:
        return TaskLifecycle(self.tasks, max_receive_count=self.settings.max_receive_count)

    @cached_property
    def file_service(self) -> FileService:
        return FileService(self.files, self.store, self.settings.uploads_bucket, self.limits)

    @cached_property
    def task_service(self) -> TaskService:
        return TaskService(self.tasks, self.files, self.store, self.lifecycle)

    @cached_property
    def webhook_queue(self) -> WebhookQueue:
        return WebhookQueue(aws.client("sqs"), self.settings.webhook_queue_url)

    @cached_property
    def webhooks(self) -> WebhookService:
        delays = [int(part) for part in self.settings.webhook_retry_delays.split(",") if part.strip()]
        return WebhookService(WebhookRepository(self.table), send=self.webhook_queue.send, retry_delays=delays)

    @cached_property
    def webhook_client(self) -> OutboundClient:
        """Deliveries: 15 s to answer, and the same SSRF guard as URL ingest."""
        return OutboundClient(allow_private=self.settings.allow_private_urls, read_timeout_s=DELIVERY_TIMEOUT_S)

    @cached_property
    def archives(self) -> Archives:
        return Archives(self.tasks, self.files, self.store, self.settings.results_bucket)

    @cached_property
    def dropins(self) -> DropIns:
        return DropIns(
            self.users,
            self.files,
            self.store,
            self.task_service,
            bucket=self.settings.uploads_bucket,
            limits=self.limits,
        )


@cache
def shared_wiring() -> Wiring:
    """The wiring of a function that reads only the shared settings (the upload-events, dispatch
    and dead-letter functions), built on first use and kept for the container's life."""
    return Wiring(FunctionSettings())  # type: ignore[call-arg]
