"""The composition root: the one place where the service's parts are built from the settings. A
function's entry module asks its `Wiring` (the API's: imgtasks_api.wiring.ApiWiring, which adds
accounts, tokens and Idempotency-Key) for the parts it needs; each is built on
first use and kept for the container's life (a cold start pays only for what it uses), and every
part gets all of its collaborators: none is optional, none fails for want of one at run time."""

from __future__ import annotations

from functools import cache, cached_property
from typing import TYPE_CHECKING

from imgtasks.adapters import aws
from imgtasks.adapters.queues import MessageQueue
from imgtasks.adapters.repositories.activity import ActivityRepository
from imgtasks.adapters.repositories.counts import CountRepository
from imgtasks.adapters.repositories.files import FileRepository
from imgtasks.adapters.repositories.tasks import TaskRepository
from imgtasks.adapters.repositories.users import UserRepository
from imgtasks.adapters.storage import ObjectStore
from imgtasks.adapters.task_queues import TaskQueues
from imgtasks.domain.limits import Limits, VideoLimits
from imgtasks.domain.webhooks import DELIVERY_TIMEOUT_S
from imgtasks.kinds import KINDS
from imgtasks.services.files import FileService
from imgtasks.services.lifecycle import TaskLifecycle
from imgtasks.services.tasks import TaskService
from imgtasks.settings import CacheSweepSettings, EventsSettings, FunctionSettings, OutputLinkSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_sqs import SQSClient

    from imgtasks.adapters.model_registry import ModelRegistry
    from imgtasks.adapters.outbound import OutboundClient
    from imgtasks.adapters.repositories.renders import RenderRepository
    from imgtasks.adapters.repositories.signing_keys import SigningKeyRepository
    from imgtasks.adapters.repositories.usage import UsageRepository
    from imgtasks.adapters.repositories.webhooks import WebhookRepository
    from imgtasks.services.archives import Archives
    from imgtasks.services.dropins import DropIns
    from imgtasks.services.push import Pusher
    from imgtasks.services.renders import CachedRenders, Renderer, RenderService, StableUrls
    from imgtasks.services.retention import GuestData
    from imgtasks.services.signing_keys import SigningKeys
    from imgtasks.services.uploads import Uploads
    from imgtasks.services.url_ingest import UrlIngest
    from imgtasks.services.webhooks import WebhookService


class Wiring:
    def __init__(self, settings: FunctionSettings) -> None:
        self.settings = settings

    # ------------------------------------------------------------ adapters
    @cached_property
    def table(self) -> Table:
        return aws.table(self.settings.table_name)

    @cached_property
    def store(self) -> ObjectStore:
        return ObjectStore(aws.s3())

    @cached_property
    def user_records(self) -> UserRepository:
        return UserRepository(self.table)

    @cached_property
    def file_records(self) -> FileRepository:
        return FileRepository(self.table)

    @cached_property
    def activity_records(self) -> ActivityRepository:
        return ActivityRepository(self.table)

    @cached_property
    def count_records(self) -> CountRepository:
        return CountRepository(self.table)

    @cached_property
    def usage_records(self) -> UsageRepository:
        from imgtasks.adapters.repositories.usage import UsageRepository

        return UsageRepository(self.table)

    @cached_property
    def task_records(self) -> TaskRepository:
        return TaskRepository(self.table)

    @cached_property
    def webhook_records(self) -> WebhookRepository:
        from imgtasks.adapters.repositories.webhooks import WebhookRepository

        return WebhookRepository(self.table)

    @cached_property
    def signing_key_records(self) -> SigningKeyRepository:
        from imgtasks.adapters.repositories.signing_keys import SigningKeyRepository

        return SigningKeyRepository(self.table)

    @cached_property
    def render_records(self) -> RenderRepository:
        from imgtasks.adapters.repositories.renders import RenderRepository

        return RenderRepository(self.table)

    @cached_property
    def sqs(self) -> SQSClient:
        return aws.sqs()

    @cached_property
    def task_queues(self) -> TaskQueues:
        """Each kind's queue, named by the setting its TaskKind declares."""
        return TaskQueues(
            {
                name: MessageQueue(self.sqs, getattr(self.settings, kind.queue_url_setting))
                for name, kind in KINDS.items()
            }
        )

    @cached_property
    def fetch_queue(self) -> MessageQueue:
        return MessageQueue(self.sqs, self.settings.fetch_queue_url)

    @cached_property
    def webhook_queue(self) -> MessageQueue:
        return MessageQueue(self.sqs, self.settings.webhook_queue_url)

    @cached_property
    def outbound(self) -> OutboundClient:
        """URL ingest's client: the SSRF guard, the settings' private-address rule."""
        from imgtasks.adapters.outbound import OutboundClient

        return OutboundClient(allow_private=self.settings.allow_private_urls)

    @cached_property
    def webhook_client(self) -> OutboundClient:
        """Deliveries: 15 s to answer, and the same SSRF guard as URL ingest."""
        from imgtasks.adapters.outbound import OutboundClient

        return OutboundClient(allow_private=self.settings.allow_private_urls, read_timeout_s=DELIVERY_TIMEOUT_S)

    @cached_property
    def model_registry(self) -> ModelRegistry:
        from imgtasks.adapters.model_registry import ModelRegistry

        return ModelRegistry(aws.s3(), self.settings.models_bucket)

    def idempotency_store(self, table_name: str) -> DynamoDBPersistenceLayer:
        """Powertools idempotency records in the IdempotencyTable (the API's Idempotency-Key, the
        workers' duplicate deliveries). Imported here, on first use: most functions never need it."""
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=aws.dynamodb())

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
        return TaskLifecycle(self.task_records, max_receive_count=self.settings.max_receive_count)

    @cached_property
    def files(self) -> FileService:
        return FileService(self.file_records, self.count_records, self.store)

    @cached_property
    def uploads(self) -> Uploads:
        from imgtasks.services.uploads import Uploads

        return Uploads(self.file_records, self.store, self.settings.uploads_bucket, self.limits)

    @cached_property
    def url_ingest(self) -> UrlIngest:
        from imgtasks.services.url_ingest import UrlIngest

        return UrlIngest(self.file_records, self.store, self.settings.uploads_bucket, self.limits)

    @cached_property
    def webhooks(self) -> WebhookService:
        from imgtasks.services.webhooks import WebhookService

        delays = [int(part) for part in self.settings.webhook_retry_delays.split(",") if part.strip()]
        return WebhookService(self.webhook_records, queue=self.webhook_queue, retry_delays=delays)

    @cached_property
    def signing_keys(self) -> SigningKeys:
        from imgtasks.services.signing_keys import SigningKeys

        return SigningKeys(self.signing_key_records)

    @cached_property
    def pusher(self) -> Pusher | None:
        """Posts changes to WebSocket connections, in the function told where they are (events)."""
        from imgtasks.adapters.repositories.connections import ConnectionRepository
        from imgtasks.services.push import Pusher

        if not isinstance(self.settings, EventsSettings):
            return None
        return Pusher(ConnectionRepository(self.table), aws.connections(self.settings.connections_url))

    @cached_property
    def stable_urls(self) -> StableUrls | None:
        """Outputs' `cdn_url`s, in the functions told where render URLs are served (CDN_BASE_URL)."""
        from imgtasks.services.renders import StableUrls

        if not isinstance(self.settings, OutputLinkSettings):
            return None
        return StableUrls(self.signing_keys, self.settings.cdn_base_url)

    def render_service(self, renderer: Renderer, renders_per_minute: int) -> RenderService:
        """The render origin's service; the renderer is the imaging layer's (the render function's)."""
        from imgtasks.services.renders import RenderService

        return RenderService(
            self.signing_keys,
            self.render_records,
            self.store,
            bucket=self.settings.results_bucket,
            renders_per_minute=renders_per_minute,
            renderer=renderer,
        )

    @cached_property
    def cached_renders(self) -> CachedRenders:
        from imgtasks.adapters.edge_cache import EdgeCache
        from imgtasks.services.renders import CachedRenders

        settings = self.settings
        distribution = settings.distribution_id if isinstance(settings, CacheSweepSettings) else ""
        edges = EdgeCache(aws.cloudfront(), distribution) if distribution else None
        return CachedRenders(self.render_records, self.store, settings.results_bucket, edges)

    @cached_property
    def tasks(self) -> TaskService:
        return TaskService(
            self.task_records,
            self.file_records,
            self.count_records,
            self.store,
            self.lifecycle,
            # The registry is read when a request names a model, not when the service is built.
            known_models=lambda: self.model_registry.ids(),
            fetch=self.url_ingest.start_fetch,
            webhooks=self.webhooks,
        )

    @cached_property
    def archives(self) -> Archives:
        from imgtasks.services.archives import Archives

        return Archives(self.task_records, self.file_records, self.store, self.settings.results_bucket)

    @cached_property
    def dropins(self) -> DropIns:
        from imgtasks.services.dropins import DropIns

        return DropIns(
            self.user_records,
            self.file_records,
            self.store,
            self.tasks,
            bucket=self.settings.uploads_bucket,
            limits=self.limits,
        )

    @cached_property
    def guest_data(self) -> GuestData:
        from imgtasks.services.retention import GuestData

        return GuestData(self.file_records, self.task_records, self.store)


@cache
def wiring() -> Wiring:
    """The wiring of a function that reads only the shared settings, built on first use and kept
    for the container's life."""
    return Wiring(FunctionSettings())  # type: ignore[call-arg]
