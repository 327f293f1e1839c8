"""The events function: the table's change stream (the second consumer beside dispatch; a stream
is read by two at most), each change of a task or a file turned into what its owner is told:

- webhook events: a task or file whose status changed (with the task or file as the API shows
  it), and each output a task's result gained (`task.output`), fanned out to the subscribed
  endpoints and the task's own webhook as messages on the webhook queue. A batch whose messages
  cannot be sent fails whole and the stream delivers it again; the webhook-ids come from the
  stream records' ids, so a repeated record repeats ids that receivers deduplicate, never a
  second event.
- pushes: every change (progress too), posted to the owner's WebSocket connections
  (imgtasks.services.push), best effort: never a reason to deliver the batch again."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters.repositories.items import plain_item
from imgtasks.domain.records import FileRecord
from imgtasks.domain.webhooks import EventType as WebhookEvent
from imgtasks.kinds import task_from_item
from imgtasks.observability import logger, metrics
from imgtasks.services.push import Change
from imgtasks.services.webhooks import Event, event_of, new_outputs
from imgtasks.settings import EventsSettings
from imgtasks.views import FileOut, TaskOut
from imgtasks.wiring import Wiring

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
KINDS = {"TASK": "task", "FILE": "file"}
CHANGES = {
    DynamoDBRecordEventName.INSERT: "created",
    DynamoDBRecordEventName.MODIFY: "updated",
    DynamoDBRecordEventName.REMOVE: "deleted",
}


@cache
def events_wiring() -> Wiring:
    """The shared wiring, told where render URLs are served (the outputs' `cdn_url`) and where
    WebSocket connections are posted to."""
    return Wiring(EventsSettings())  # type: ignore[call-arg]


def shown(kind: str, image: dict[str, Any]) -> tuple[dict[str, Any], str, str | None]:
    """The record as the API shows it, its owner, and a task's own webhook."""
    if kind == "task":
        task = task_from_item(image)
        stable_urls = events_wiring().stable_urls
        links = stable_urls.for_owner(task.owner_id) if stable_urls is not None and task.expires_at is None else None
        out = TaskOut.from_task(task, events_wiring().tasks.output_url, cdn_url=links)
        return json.loads(out.model_dump_json()), task.owner_id, task.webhook
    record = FileRecord.model_validate(plain_item(image))
    return json.loads(FileOut.model_validate(record, from_attributes=True).model_dump_json()), record.owner_id, None


class EventBatch:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changes: list[Change] = []
        # Each owner's WebSocket connections, read once a batch: a change is shown (its outputs'
        # URLs signed) only for an owner who is listening, or for a webhook event.
        self.connections: dict[str, list[str]] = {}

    def _listening(self, owner_id: str) -> bool:
        pusher = events_wiring().pusher
        if pusher is None:
            return False
        if owner_id not in self.connections:
            try:
                self.connections[owner_id] = pusher.connections_of(owner_id)
            except Exception:  # the connections cannot be read: nobody is told this time
                logger.exception("connections not read; changes not pushed")
                self.connections[owner_id] = []
        return bool(self.connections[owner_id])

    def take(self, record: DynamoDBRecord) -> None:
        change = record.dynamodb
        image = (change.new_image or change.old_image) if change is not None else None
        kind = KINDS.get(str(image.get("SK"))) if image else None
        if change is None or image is None or kind is None or record.event_name is None:
            return
        listening = self._listening(str(image.get("owner_id", "")))
        if not change.new_image:  # deleted (an image the record lacks reads as empty): its owner is told which
            if listening:
                self.changes.append(Change(str(image["owner_id"]), kind, "deleted", {"id": image["id"]}))
            return
        found = event_of(change.old_image, change.new_image)
        outputs = new_outputs(change.old_image, change.new_image)
        if not (listening or found or outputs):
            return
        try:
            data, owner_id, task_webhook = shown(kind, change.new_image)
        except ValueError as error:  # a record no model reads: passed over, as dispatch does
            extra = {"id": change.new_image.get("id"), "reason": str(error)[:500]}
            logger.error("unreadable record passed over; no event", extra=extra)
            return
        if listening:
            self.changes.append(Change(owner_id, kind, CHANGES[record.event_name], data))
        key = str(record.event_id)
        by_name = {output["name"]: output for output in (data.get("result") or {}).get("outputs", [])}
        for name in outputs:
            # Only to endpoints that subscribed to task.output, not to the task's own webhook URL.
            output_data = {**data, "output": by_name[name]}
            self.events.append(Event(WebhookEvent.TASK_OUTPUT, owner_id, f"{key}#{name}", output_data))
        if found is not None:
            self.events.append(Event(found[0], owner_id, key, data, task_webhook))

    def push(self) -> None:
        pusher = events_wiring().pusher
        if pusher is None or not self.changes:
            return
        try:
            pusher.push(self.changes, self.connections)
        except Exception:  # never a reason to deliver the batch again
            logger.exception("changes not pushed")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    batch = EventBatch()
    response = process_partial_response(event=event, record_handler=batch.take, processor=processor, context=context)
    failures = response.setdefault("batchItemFailures", [])
    batch.push()
    try:
        events_wiring().webhooks.fan_out(batch.events)
    except Exception:
        logger.exception("webhook messages not sent; the stream delivers the batch again")
        first = event["Records"][0]["dynamodb"]["SequenceNumber"] if event.get("Records") else None
        return {"batchItemFailures": [{"itemIdentifier": first}] if first else failures}
    if batch.events:
        logger.info("webhook events", extra={"events": [e.type.value for e in batch.events]})
    return response
