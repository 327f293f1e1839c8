"""Configuration every function reads, parsed once per cold start. Every variable is declared in
infra/template.yaml, which alone holds the values: no field here has a default that would repeat
(and could drift from) the template."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class FunctionSettings(BaseSettings):
    """The variables the template's Globals give every function."""

    # Built on first use (each function reads one of these classes): less to do at a cold start.
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True, defer_build=True)

    table_name: str
    uploads_bucket: str
    results_bucket: str
    models_bucket: str
    process_queue_url: str
    infer_queue_url: str
    video_queue_url: str
    fetch_queue_url: str
    archive_queue_url: str
    webhook_queue_url: str
    # Seconds between a failed delivery and the next attempt, comma-separated (WebhookRetryDelays).
    webhook_retry_delays: str
    allow_private_urls: bool
    max_receive_count: int
    max_upload_bytes: int
    max_image_pixels: int
    max_image_frames: int
    max_video_upload_bytes: int
    max_video_seconds: float
    max_video_output_seconds: float
    max_video_output_frames: int
    max_video_output_pixel_frames: int


class OutputLinkSettings(FunctionSettings):
    """The functions that show task outputs (the API, webhook events) sign each output's
    `cdn_url` for where render URLs are served (the distribution, or CdnBaseUrl)."""

    cdn_base_url: str


class TokenSettings(FunctionSettings):
    """The functions that verify access tokens (the API, the WebSocket API's connections)."""

    token_secret_arn: str
    token_ttl_seconds: int
    token_issuer: str


class ConnectionSettings(TokenSettings):
    """The WebSocket API's connections function."""


class ApiSettings(OutputLinkSettings, TokenSettings):
    allow_registration: bool
    sign_in_attempts: int
    sign_in_window_seconds: int
    allow_guests: bool
    guest_days: int
    guests_per_address: int
    idempotency_table_name: str
    # The WebSocket URL (POST /events/tickets answers it).
    events_url: str
    # Operators, comma-separated (AdminUsernames), and what GET /admin/stats reads: each queue as
    # `name=url|dead-letter url`, each function as `name=function name`, comma-separated.
    admin_usernames: str
    monitored_queues: str
    monitored_functions: str


class EventsSettings(OutputLinkSettings):
    """The events function posts each change to WebSocket connections: the WebSocket API's
    endpoint (wss://... on AWS, ws://... on the local stack) and its stage."""

    websocket_endpoint: str
    websocket_stage: str

    @property
    def connections_url(self) -> str:
        """The API Gateway management API of the stage (https for wss, http for the local ws)."""
        scheme, _, host = self.websocket_endpoint.partition("://")
        return f"{'http' if scheme == 'ws' else 'https'}://{host}/{self.websocket_stage}"


class ProcessSettings(FunctionSettings):
    idempotency_table_name: str


class InferSettings(FunctionSettings):
    model_cache_dir: str


class RenderSettings(FunctionSettings):
    renders_per_minute: int


class CacheSweepSettings(FunctionSettings):
    """The function that deletes cached renders (dispatch) invalidates them at the distribution's
    edges too: its id, or empty where there are no edges (the local stack's stand-in)."""

    distribution_id: str
