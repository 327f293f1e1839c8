"""The dispatch function: the table's change stream in, task messages out (to each task's kind's
queue, imgtasks.kinds),
fetch messages out for files created from a URL, the tasks of a pending file that was deleted
or expired failed, the cached renders of a deleted file or a revoked signing key deleted, and
the totals of the list endpoints kept (imgtasks.domain.counts: every change of a task or a file
moves its owner's counters).

Whenever a write leaves a task queued and not waiting for its file (created, restarted, or its
upload inspected), the task's message goes to its worker's queue (imgtasks.services.lifecycle's
`needs_dispatch`). The API and the upload function only write records; nothing writes a record
and then sends a message, so no half-failed pair can leave a task queued for ever. A send that
fails is reported as a batch item failure, and the stream delivers the record again. A message
sent twice is harmless: workers claim a task on its run once.

The messages of a batch of records go out together, ten to a SendMessageBatch call: a POST /tasks
of 50 files is 5 calls, not 50."""

from __future__ import annotations

import time
from collections import Counter
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters import metering
from imgtasks.adapters.repositories.items import plain_item
from imgtasks.domain.counts import ACTIVITY_DAYS, activity_bucket, activity_changes, count_changes
from imgtasks.domain.messages import FetchMessage
from imgtasks.domain.prices import running_region
from imgtasks.domain.records import FileRecord, FileStatus
from imgtasks.domain.usage_totals import usage_changes
from imgtasks.kinds import Task, task_from_item
from imgtasks.observability import logger, metrics
from imgtasks.services.lifecycle import needs_dispatch
from imgtasks.settings import CacheSweepSettings
from imgtasks.wiring import Wiring

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
CountChanges = dict[tuple[str, str], dict[str, int]]


@cache
def dispatch_wiring() -> Wiring:
    """The shared wiring, told the distribution whose edges forget what a deletion removes."""
    return Wiring(CacheSweepSettings())  # type: ignore[call-arg]


def task_image(image: dict[str, Any] | None) -> Task | None:
    """A task from a stream image; None for any other item (users, files), no image, or a task
    item no model reads. That one is logged and passed over: retrying could never make it
    readable, and failing it would hold up every record behind it on its shard for a day."""
    if not image or image.get("SK") != "TASK":
        return None
    try:
        return task_from_item(image)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        logger.error(
            "unreadable task record passed over", extra={"task_id": image.get("id"), "reason": str(error)[:500]}
        )
        return None


def file_to_fetch(record: DynamoDBRecord) -> str | None:
    """The id of a file created to be fetched from a URL (URL ingest), else None."""
    change = record.dynamodb
    image = change.new_image if change is not None else None
    if record.event_name != DynamoDBRecordEventName.INSERT or not image or image.get("SK") != "FILE":
        return None
    if image.get("status") != FileStatus.PENDING.value or not image.get("source_url"):
        return None
    return str(image["id"])


def pending_file_image(image: dict[str, Any] | None) -> FileRecord | None:
    if not image or image.get("SK") != "FILE" or image.get("status") != FileStatus.PENDING.value:
        return None
    return FileRecord.model_validate(plain_item(image))


def forget_cached_renders(image: dict[str, Any] | None) -> None:
    """A ready file deleted (by the API, with its task, or expired) or a signing key revoked: the
    cached answers of render URLs that showed it, or were signed with it, are deleted. An error
    fails the record, and the stream delivers it again."""
    if not image:
        return
    if image.get("SK") == "FILE" and image.get("status") == FileStatus.READY.value:
        deleted = dispatch_wiring().cached_renders.forget_file(str(image["id"]))
        logger.info("file deleted; its cached renders deleted", extra={"file_id": image["id"], "objects": deleted})
    elif image.get("SK") == "SIGNINGKEY":
        deleted = dispatch_wiring().cached_renders.forget_key(str(image["id"]))
        logger.info(
            "signing key revoked; its cached renders deleted", extra={"key_id": image["id"], "objects": deleted}
        )


class DispatchBatch:
    """The tasks one invocation's records make dispatchable, sent together at its end, and what
    the records do to their owners' counters."""

    def __init__(self) -> None:
        self._tasks: list[tuple[str, Task]] = []  # (the record's sequence number, the task)
        self._fetches: list[tuple[str, str]] = []  # (the record's sequence number, the file id)
        self._counts: list[tuple[str, CountChanges]] = []  # (the record's sequence number, its changes)
        # (the record's sequence number, (day, minute), what it adds to that minute)
        self._activity: list[tuple[str, tuple[str, str], dict[str, int]]] = []
        # (the record's sequence number, (owner, day), what it adds to that day's usage sums)
        self._usage: list[tuple[str, tuple[str, str], dict[str, int]]] = []
        self._records = 0

    def take(self, record: DynamoDBRecord) -> None:
        self._records += 1
        change = record.dynamodb
        if change is None:
            return
        counted = count_changes(change.old_image, change.new_image)
        if counted:
            self._counts.append((str(change.sequence_number), counted))
        happened = activity_changes(change.old_image, change.new_image)
        if happened and change.new_image is not None:
            self._activity.append((str(change.sequence_number), activity_bucket(change.new_image), happened))
        used = self._usage_changes(change.old_image, change.new_image)
        if used is not None:
            owner, day, deltas = used
            self._usage.append((str(change.sequence_number), (owner, day), deltas))
        fetch = file_to_fetch(record)
        if fetch is not None:
            self._fetches.append((str(change.sequence_number), fetch))
            return
        if record.event_name == DynamoDBRecordEventName.REMOVE:
            forget_cached_renders(change.old_image)
            gone = pending_file_image(change.old_image)
            if gone is not None and gone.waiting_task_ids:
                logger.info("pending file gone; failing its waiting tasks", extra={"file_id": gone.id})
                dispatch_wiring().tasks.file_gone(gone)
            return
        after = task_image(change.new_image)
        if after is not None and needs_dispatch(task_image(change.old_image), after):
            self._tasks.append((str(change.sequence_number), after))

    @staticmethod
    def _usage_changes(
        old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> tuple[str, str, dict[str, int]] | None:
        """The record's usage sums; none for usage that cannot be read (a record the stream would
        otherwise deliver again for a day, holding up every dispatch behind it)."""
        try:
            return usage_changes(old, new, running_region())
        except ValueError:
            logger.exception("a task's usage could not be read; it is left out of the sums")
            return None

    def count(self, failed: set[str]) -> list[str]:
        """Adds the records' changes to their owners' counters: the records before the first one
        that failed (the stream delivers it and every later one again, so those are counted then,
        not twice), summed per owner, one UpdateItem each, owners in the order they first appear.
        When an owner's write fails, that owner's first record is reported failed, so the stream
        delivers it and what follows again; nothing of the owners after it was written. (What an
        owner written before it changed after that record is counted again: a partial failure of
        DynamoDB costs exactness, as does an invocation that dies between writes.)"""
        first_failed = min((int(sequence) for sequence in failed), default=None)
        owners: dict[tuple[str, str], tuple[str, Counter[str]]] = {}  # -> (first sequence, deltas)
        for sequence, changes in self._counts:
            if first_failed is not None and int(sequence) >= first_failed:
                break
            for key, deltas in changes.items():
                owners.setdefault(key, (sequence, Counter()))[1].update(deltas)
        counts = dispatch_wiring().count_records
        for (owner_id, counters), (first, deltas) in owners.items():
            written = {name: delta for name, delta in deltas.items() if delta}
            if not written:
                continue
            try:
                counts.add(owner_id, counters, written)
            except Exception:  # DynamoDB away: this owner's records and the rest come again
                logger.exception("counters not written; the stream delivers the records again")
                self._record_activity(int(first))
                self._record_usage(int(first))
                return [first]
        self._record_activity(first_failed)
        self._record_usage(first_failed)
        return []

    def _record_activity(self, first_failed: int | None) -> None:
        """The operators' minute figures of the records counted: one write per minute a batch
        touched. Approximate by design: a write that fails is logged, not retried."""
        minutes: dict[tuple[str, str], Counter[str]] = {}
        for sequence, bucket, happened in self._activity:
            if first_failed is not None and int(sequence) >= first_failed:
                break
            minutes.setdefault(bucket, Counter()).update(happened)
        expires_at = int(time.time()) + ACTIVITY_DAYS * 86400
        for (day, minute), deltas in minutes.items():
            try:
                dispatch_wiring().activity_records.add(day, minute, dict(deltas), expires_at)
            except Exception:
                logger.exception("activity figures not written", extra={"minute": f"{day}T{minute}"})

    def _record_usage(self, first_failed: int | None) -> None:
        """The users' usage sums of the records counted (GET /usage): one write per user and day
        a batch touched. Like the activity figures, a write that fails is logged, not retried:
        the task keeps its own usage whole either way."""
        days: dict[tuple[str, str], Counter[str]] = {}
        for sequence, key, deltas in self._usage:
            if first_failed is not None and int(sequence) >= first_failed:
                break
            days.setdefault(key, Counter()).update(deltas)
        for (owner_id, day), sums in days.items():
            written = {name: value for name, value in sums.items() if value}
            if not written:
                continue
            try:
                dispatch_wiring().usage_records.add(owner_id, day, written)
            except Exception:
                logger.exception("usage sums not written", extra={"owner_id": owner_id, "day": day})

    def send(self) -> list[str]:
        """Sends the messages; returns the sequence numbers of the records whose message did not go."""
        return self._send_fetches() + self._send_tasks()

    def _send_fetches(self) -> list[str]:
        if not self._fetches:
            return []
        try:
            messages = [FetchMessage(file_id=file_id) for _, file_id in self._fetches]
            refused = set(dispatch_wiring().fetch_queue.send(messages))
        except Exception:  # SQS away: every record of ours comes again
            logger.exception("sending fetch messages failed; the stream delivers their records again")
            return [sequence for sequence, _ in self._fetches]
        return [sequence for index, (sequence, _) in enumerate(self._fetches) if index in refused]

    def _send_tasks(self) -> list[str]:
        if not self._tasks:
            return []
        # Each task's message carries one record's share of this invocation: what a task costs
        # the dispatcher (its later records are modelled from it: imgtasks.adapters.metering).
        meter = metering.invocation_meter()
        share = meter.usage(1 / self._records) if meter is not None and self._records else None
        try:
            tasks = [task for _, task in self._tasks]
            refused = {id(task) for task in dispatch_wiring().task_queues.send(tasks, share)}
        except Exception:  # SQS away: every record of ours comes again
            logger.exception("sending task messages failed; the stream delivers their records again")
            return [sequence for sequence, _ in self._tasks]
        for _, task in self._tasks:
            if id(task) not in refused:
                logger.info("task dispatched", extra={"task_id": task.id, "run": task.run, "type": task.type})
        return [sequence for sequence, task in self._tasks if id(task) in refused]


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@metering.invocation("dispatch")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    batch = DispatchBatch()
    response = process_partial_response(event=event, record_handler=batch.take, processor=processor, context=context)
    failures = response.setdefault("batchItemFailures", [])
    named = {str(failure["itemIdentifier"]) for failure in failures}
    failures.extend({"itemIdentifier": sequence} for sequence in batch.send() if sequence not in named)
    named = {str(failure["itemIdentifier"]) for failure in failures}
    failures.extend({"itemIdentifier": sequence} for sequence in batch.count(named))
    return response
