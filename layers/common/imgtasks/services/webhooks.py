"""Webhooks: endpoints a user registers, the events the table's change stream shows (a status
that changed), fanned out to the endpoints subscribed and to a task's own `webhook` URL, and their
delivery with retries over more than a day.

Events come from change data capture, never from a second write beside the status change: the
lifecycle's conditional write is the one door, and the stream shows each change once per record
(a redelivered stream record gives the same webhook-id, which receivers deduplicate on)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imgtasks.adapters.outbound import OutboundClient, OutboundFailed, OutboundRefused, check_url
from imgtasks.adapters.queues import MessageQueue
from imgtasks.adapters.repositories.webhooks import WebhookRepository
from imgtasks.domain.clock import now_rfc3339, to_rfc3339, utc_now
from imgtasks.domain.errors import Conflict, ErrorCode, InvalidInput
from imgtasks.domain.ids import new_id
from imgtasks.domain.webhooks import (
    DELIVERY_LOG_DAYS,
    FILE_EVENTS,
    MAX_ENDPOINTS,
    MAX_PAYLOAD_BYTES,
    TASK_EVENTS,
    DeliveryAttempt,
    DeliveryMessage,
    EventType,
    WebhookEndpoint,
    new_secret,
    retry_delay,
    sign,
    webhook_id,
)
from imgtasks.observability import logger


@dataclass(frozen=True)
class Event:
    type: EventType
    owner_id: str
    # Identifies the change (the stream record's id): the same change, the same webhook-ids.
    key: str
    # The task or file as the API shows it.
    data: dict[str, Any]
    # A task's own webhook URL, if it has one.
    task_webhook: str | None = None


def event_of(old: dict[str, Any] | None, new: dict[str, Any] | None) -> tuple[EventType, str] | None:
    """The event a change of a task or file record is (its type, the record's kind), or None."""
    if not new or new.get("status") == (old or {}).get("status"):
        return None
    if new.get("SK") == "TASK":
        event = TASK_EVENTS.get(str(new.get("status")))
        return (event, "task") if event else None
    if new.get("SK") == "FILE" and not new.get("task_id"):  # inputs only, not the outputs of tasks
        event = FILE_EVENTS.get(str(new.get("status")))
        return (event, "file") if event else None
    return None


def _output_names(image: dict[str, Any] | None) -> list[str]:
    result = json.loads(str(image["result_json"])) if image and image.get("result_json") else None
    outputs = result.get("outputs") if isinstance(result, dict) else None
    return [str(output["name"]) for output in outputs] if isinstance(outputs, list) else []


def new_outputs(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """The names of the outputs a change of a task record added to its result (a `task.output`
    event each): by name, since a finished result lists them in the spec's order, not the order
    they were made in."""
    if not new or new.get("SK") != "TASK":
        return []
    before = set(_output_names(old))
    return [name for name in _output_names(new) if name not in before]


def payload(event: Event) -> str:
    """`{type, timestamp, data}`; under 20 kB (a task whose result is too big is sent without it,
    with a link to read it)."""
    body = {"type": event.type.value, "timestamp": to_rfc3339(utc_now()), "data": event.data}
    text = json.dumps(body, separators=(",", ":"))
    if len(text.encode()) > MAX_PAYLOAD_BYTES and "result" in event.data:
        trimmed = {**event.data, "result": None, "result_omitted": f"/tasks/{event.data['id']}/result"}
        text = json.dumps({**body, "data": trimmed}, separators=(",", ":"))
    return text


class WebhookService:
    def __init__(
        self,
        webhooks: WebhookRepository,
        *,
        queue: MessageQueue,
        retry_delays: list[int],
    ) -> None:
        self._webhooks = webhooks
        self._queue = queue
        self._delays = retry_delays

    def _send(self, messages: list[DeliveryMessage], delay_seconds: int) -> None:
        """Puts delivery messages on the webhook queue; raises when SQS refuses any, so the caller's
        input is delivered again (with the same webhook-ids)."""
        refused = self._queue.send(messages, delay_seconds=delay_seconds)
        if refused:
            raise RuntimeError(f"SQS refused {len(refused)} webhook messages")

    # ------------------------------------------------------------ endpoints (the API)
    def register(self, owner_id: str, url: str, events: list[EventType]) -> tuple[WebhookEndpoint, str | None]:
        """The endpoint, and the caller's signing secret when this call created it (shown once)."""
        self.check_url(url, ("body", "url"))
        if len(self._webhooks.list_owned(owner_id)) >= MAX_ENDPOINTS:
            raise Conflict(f"at most {MAX_ENDPOINTS} webhooks a user; delete one first")
        endpoint = WebhookEndpoint(
            id=new_id(), owner_id=owner_id, url=url, events=list(dict.fromkeys(events)), created_at=now_rfc3339()
        )
        self._webhooks.put(endpoint)
        secret = None
        if self._webhooks.secret(owner_id) is None:
            secret = new_secret()
            self._webhooks.set_secret(owner_id, secret)
        return endpoint, secret

    def rotate_secret(self, owner_id: str) -> str:
        secret = new_secret()
        self._webhooks.set_secret(owner_id, secret)
        return secret

    def has_secret(self, owner_id: str) -> bool:
        return self._webhooks.secret(owner_id) is not None

    def endpoints(self, owner_id: str) -> list[WebhookEndpoint]:
        return sorted(self._webhooks.list_owned(owner_id), key=lambda endpoint: endpoint.id)

    def delete(self, owner_id: str, endpoint_id: str) -> None:
        self._webhooks.get_owned(owner_id, endpoint_id)
        self._webhooks.delete(endpoint_id)

    def deliveries(self, owner_id: str, endpoint_id: str, limit: int) -> list[DeliveryAttempt]:
        self._webhooks.get_owned(owner_id, endpoint_id)
        return self._webhooks.attempts(endpoint_id, limit)

    @staticmethod
    def check_url(url: str, loc: tuple[str, ...]) -> None:
        try:
            check_url(url)
        except OutboundRefused as error:
            raise InvalidInput(
                f"the webhook URL cannot be used: {error}",
                errors=[{"loc": list(loc), "msg": str(error), "type": ErrorCode.URL_REFUSED.value}],
            ) from error

    # ------------------------------------------------------------ fan-out (the change stream)
    def fan_out(self, events: list[Event]) -> None:
        """One delivery message per event and destination subscribed to it."""
        messages: list[DeliveryMessage] = []
        endpoints: dict[str, list[WebhookEndpoint]] = {}
        for event in events:
            if event.owner_id not in endpoints:
                endpoints[event.owner_id] = self._webhooks.list_owned(event.owner_id)
            body = None
            for endpoint in endpoints[event.owner_id]:
                if endpoint.disabled or event.type.value not in endpoint.events:
                    continue
                body = body or payload(event)
                messages.append(self._message(event, body, endpoint.id, endpoint.url))
            if event.task_webhook:
                messages.append(self._message(event, body or payload(event), None, event.task_webhook))
        if messages:
            self._send(messages, 0)

    @staticmethod
    def _message(event: Event, body: str, endpoint_id: str | None, url: str) -> DeliveryMessage:
        return DeliveryMessage(
            webhook_id=webhook_id(event.key, endpoint_id or url),
            event=event.type,
            owner_id=event.owner_id,
            endpoint_id=endpoint_id,
            url=url,
            body=body,
        )

    # ------------------------------------------------------------ delivery (the webhook queue)
    def deliver(
        self, message: DeliveryMessage, client: OutboundClient, *, now: Callable[[], float] = time.time
    ) -> None:
        """One attempt; a failure schedules the next (chained through the queue's 15-minute
        delays), until the schedule ends. A 410, or a URL that may not be reached, disables the
        endpoint."""
        waiting = message.not_before - now()
        if waiting > 1:
            self._schedule(message, math.ceil(waiting))
            return
        endpoint = self._webhooks.get(message.endpoint_id) if message.endpoint_id else None
        if message.endpoint_id and (endpoint is None or endpoint.disabled):
            return  # deleted or disabled since: nobody to tell
        secret = self._webhooks.secret(message.owner_id)
        if secret is None:
            return  # no secret to sign with (a task webhook's owner never made one)
        timestamp = int(now())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message.webhook_id, timestamp, message.body),
        }
        status, error = None, None
        try:
            answer = client.request(
                "POST", message.url, body=message.body.encode(), headers=headers, follow_redirects=False
            )
            status = answer.status
            answer.response.close()  # the receiver's body is not read: it could be endless
        except OutboundRefused as refused:
            # The URL (or what its name resolves to now) may not be reached: no later attempt can
            # change that, so the endpoint is disabled at once rather than retried for 31 hours.
            self._record(message, None, f"refused: {refused}", False)
            if message.endpoint_id:
                self._webhooks.disable(message.endpoint_id, f"the URL may not be reached: {refused}")
            return
        except OutboundFailed as failure:
            error = str(failure)
        succeeded = status is not None and 200 <= status < 300
        if status is not None and not succeeded:
            error = f"the receiver answered {status}"
        self._record(message, status, error, succeeded)
        if succeeded:
            return
        if status == 410 and message.endpoint_id:
            self._webhooks.disable(message.endpoint_id, "the receiver answered 410 Gone")
            return
        delay = retry_delay(message.attempt, self._delays)
        if delay is not None:
            next_attempt = message.model_copy(update={"attempt": message.attempt + 1, "not_before": now() + delay})
            self._schedule(next_attempt, delay)

    def delivery_died(self, message: DeliveryMessage) -> None:
        """The dead-letter verdict on one attempt: the delivery function crashed or timed out on
        its message on every delivery (not the receiver's answer, which is recorded and retried
        by schedule). Recorded in the endpoint's delivery log, where its owner looks; the event is
        not sent again."""
        logger.warning(
            "webhook delivery message died", extra={"webhook_id": message.webhook_id, "attempt": message.attempt}
        )
        self._record(message, None, "the delivery function failed on every try of this attempt; not retried", False)

    def _schedule(self, message: DeliveryMessage, delay: int) -> None:
        self._send([message], min(900, delay))

    def _record(self, message: DeliveryMessage, status: int | None, error: str | None, succeeded: bool) -> None:
        if not message.endpoint_id:
            return  # a task's own webhook has no endpoint to list attempts under
        attempt = DeliveryAttempt(
            webhook_id=message.webhook_id,
            event=message.event,
            attempt=message.attempt,
            time=now_rfc3339(),
            status_code=status,
            error=error[:500] if error else None,
            succeeded=succeeded,
        )
        expires_at = int(time.time()) + DELIVERY_LOG_DAYS * 86400
        self._webhooks.add_attempt(message.endpoint_id, attempt, expires_at)
