"""Webhooks as Standard Webhooks 1.0 specifies them: the events, the signature, the secret, and
when a failed delivery is tried again.

A delivery carries `webhook-id` (the same on every attempt of one event), `webhook-timestamp` (Unix
seconds of the attempt) and `webhook-signature`: `v1,` + base64 of HMAC-SHA256, keyed with the
secret's bytes (the base64 after `whsec_`), over `{id}.{timestamp}.{body}`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from imgtasks.domain.base import Model

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
MAX_PAYLOAD_BYTES = 20_000
DELIVERY_TIMEOUT_S = 15.0
# Days a delivery attempt stays listed (DynamoDB TTL).
DELIVERY_LOG_DAYS = 30
MAX_ENDPOINTS = 20


class EventType(StrEnum):
    TASK_RUNNING = "task.running"
    TASK_COMPLETED = "task.completed"
    TASK_FAILED = "task.failed"
    TASK_CANCELLED = "task.cancelled"
    # An output of a process task stored (each variant as it is made, while the task runs).
    TASK_OUTPUT = "task.output"
    FILE_READY = "file.ready"
    FILE_REJECTED = "file.rejected"


# The event a record's new status is, by the kind of record.
TASK_EVENTS = {
    "running": EventType.TASK_RUNNING,
    "done": EventType.TASK_COMPLETED,
    "failed": EventType.TASK_FAILED,
    "cancelled": EventType.TASK_CANCELLED,
}
FILE_EVENTS = {"ready": EventType.FILE_READY, "rejected": EventType.FILE_REJECTED}


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header of one attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_id(event_key: str, destination: str) -> str:
    """The same id for the same event to the same destination, however often it is produced (a
    change stream may deliver a record twice): receivers deduplicate on it."""
    return "msg_" + hashlib.sha256(f"{event_key}|{destination}".encode()).hexdigest()[:32]


def retry_delay(attempt: int, delays: list[int]) -> int | None:
    """Seconds to wait before attempt `attempt + 1` after attempt `attempt` failed; None when
    the last attempt has been made."""
    return delays[attempt - 1] if attempt - 1 < len(delays) else None


class WebhookEndpoint(Model):
    model_config = ConfigDict(use_enum_values=True)

    id: str
    owner_id: str
    url: str
    events: list[EventType]
    created_at: str
    disabled: bool = False
    disabled_reason: str | None = None


class DeliveryAttempt(Model):
    webhook_id: str
    event: EventType
    attempt: int
    time: str
    status_code: int | None = Field(description="The receiver's answer; null when none came")
    error: str | None = None
    succeeded: bool


class DeliveryMessage(Model):
    """A message on the webhook queue: one event to one destination, its body fixed when the event
    happened, and the attempt it is for."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["webhook"] = "webhook"
    webhook_id: str
    event: EventType
    owner_id: str
    endpoint_id: str | None = None  # None: a task's own `webhook` URL
    url: str
    body: str
    attempt: int = 1
    not_before: float = 0.0  # Unix seconds: SQS delays stop at 15 minutes, so longer waits are chained
