"""Event sources, polled as Lambda's event source mappings do.

SQS: batches up to BatchSize gathered for up to MaximumBatchingWindowInSeconds, the SQS event
shape, messages deleted only when the invocation succeeds (less the ones named in
batchItemFailures when the source reports partial failures). Failed messages come back after the
queue's visibility timeout; the queue's own redrive policy moves them to the dead-letter queue
after maxReceiveCount receives.

DynamoDB Streams: each shard read in order from StartingPosition, batches up to BatchSize in the
stream event shape; the position moves past a batch only when the invocation succeeds, and with
partial failures only up to the first record named in batchItemFailures. A failed batch is
retried from there, with a back-off, until it succeeds (MaximumRetryAttempts: -1)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from . import moto_additions
from .emulator import Activity
from .functions import SqsSource, StreamSource
from .runtime import FunctionPool
from .template import REGION

log = logging.getLogger("local_stack.pollers")


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
            ),
        },
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def messages_to_delete(batch: list[dict[str, Any]], payload: Any, reports_failures: bool) -> list[dict[str, Any]]:
    """What a successful invocation lets go of. With partial batch responses, the ones named in
    batchItemFailures stay; a malformed response, or an id not in the batch, keeps the whole batch,
    as Lambda does."""
    if not reports_failures or not isinstance(payload, dict) or not payload.get("batchItemFailures"):
        return batch
    failures = payload["batchItemFailures"]
    ids = {m["MessageId"] for m in batch}
    try:
        failed = {str(item["itemIdentifier"]) for item in failures}
    except (TypeError, KeyError):
        return []
    if not failed <= ids:
        return []
    return [m for m in batch if m["MessageId"] not in failed]


class IdleTurn:
    """The pollers of one SQS source against another endpoint take turns at the idle long poll:
    one waits on the queue while the others park, and a poll that brings messages hands the turn
    on at once, so a second poller is waiting for the next message while the first delivers.
    LocalStack works on every long poll it holds: two per source had kept it at a tenth of a core
    with nothing to do."""

    PARKED_MAX_S = 2.0  # a parked poller looks at its stop at least this often

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._holder: threading.Thread | None = None

    def take(self, poller: threading.Thread) -> bool:
        """True when `poller` has (or now takes) the turn to long-poll."""
        with self._changed:
            if self._holder is None:
                self._holder = poller
            return self._holder is poller

    def hand_on(self, poller: threading.Thread) -> None:
        """`poller` gives the turn up (it received messages, or failed); a parked one takes it."""
        with self._changed:
            if self._holder is poller:
                self._holder = None
                self._changed.notify_all()

    def park(self) -> None:
        """Until the turn is free, or PARKED_MAX_S."""
        with self._changed:
            if self._holder is not None:
                self._changed.wait(self.PARKED_MAX_S)


class SqsPoller(threading.Thread):
    # With the embedded emulator: short polls and a pause when the queue is empty, where Lambda
    # long-polls, since a long poll would hold the emulator's gate (emulator.py) for its whole wait
    # and stall every state snapshot. The pause ends at once when a message is sent (the
    # emulator's Activity); a message only becomes receivable unannounced when its visibility
    # timeout or delay ends, and the emulator tells when that is (moto_additions), so an idle
    # poller sleeps until then (IDLE_MAX_KNOWN_S at most, a safety net): polls every 2 s by two
    # dozen pollers had kept an idle stack at a tenth of a core. Against another endpoint
    # (LocalStack, AWS), long polls, as Lambda's, one poller of a source at a time (IdleTurn):
    # short polls of 26 pollers once kept LocalStack busy at a third of a core with nothing to do.
    # Polls of 2 s, not Lambda's 20: a stop waits for them (a message that a poll received after
    # its process ended would stay invisible for its queue's whole visibility timeout), and Ctrl-C
    # must be quick.
    IDLE_MAX_KNOWN_S = 30.0
    LONG_POLL_S = 2

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        source: SqsSource,
        function: FunctionPool,
        stop: threading.Event,
        activity: Activity | None = None,
        turn: IdleTurn | None = None,
    ) -> None:
        super().__init__(name=f"poll-{function.spec.logical_id}-{source.name}", daemon=True)
        self._sqs = sqs
        self._url = queue_url
        self._source = source
        self._function = function
        # Not `_stop`: threading.Thread has a method of that name, which join() calls.
        self._stopping = stop
        self._activity = activity
        self._turn = turn or IdleTurn()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                if self._activity is None:
                    if not self._turn.take(self):
                        self._turn.park()
                        continue
                    batch = self._gather(wait_s=self.LONG_POLL_S)
                    if batch:
                        self._turn.hand_on(self)
                        self._deliver(batch)
                    continue
                seen = self._activity.count(Activity.SQS)
                batch = self._gather(wait_s=0)
                if batch:
                    self._deliver(batch)
                else:
                    due = moto_additions.seconds_until_visible(self._url)
                    pause = self.IDLE_MAX_KNOWN_S if due is None else min(self.IDLE_MAX_KNOWN_S, due + 0.01)
                    self._activity.wait(Activity.SQS, seen, pause)
            except Exception:  # keep polling through emulator hiccups, as Lambda's poller does
                log.exception("poller %s failed; retrying", self.name)
                self._turn.hand_on(self)
                self._stopping.wait(1.0)
        self._turn.hand_on(self)

    def _receive(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _gather(self, wait_s: int) -> list[dict[str, Any]]:
        batch = self._receive(self._source.batch_size, wait_s=wait_s)
        if not batch:
            return batch
        window_ends = time.monotonic() + self._source.batching_window_s
        while len(batch) < self._source.batch_size and time.monotonic() < window_ends and not self._stopping.is_set():
            more = self._receive(self._source.batch_size - len(batch), wait_s=0)
            if more:
                batch.extend(more)
            else:
                self._stopping.wait(min(0.1, max(0.0, window_ends - time.monotonic())))
        return batch

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_record(m, self._source.queue_arn) for m in batch]}
        result = self._function.invoke(event)
        if result.stopped:
            if result.error is None:  # no worker saw them: they are free again at once
                self._release(batch)
            return
        if not result.ok:
            log.warning(
                "%s: invocation %s; %d message(s) return after the visibility timeout",
                self._function.spec.logical_id,
                "timed out" if result.timed_out else f"failed ({(result.error or {}).get('errorMessage')})",
                len(batch),
            )
            return
        done = messages_to_delete(batch, result.payload, self._source.report_batch_item_failures)
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )

    def _release(self, batch: list[dict[str, Any]]) -> None:
        for start in range(0, len(batch), 10):
            chunk = batch[start : start + 10]
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )


def stream_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A record as DynamoDB Streams' GetRecords returns it (boto3 parses the creation time into a
    datetime), in the shape Lambda hands a function (epoch seconds)."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if created is not None and hasattr(created, "timestamp"):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**{k: v for k, v in record.items() if k != "dynamodb"}, "dynamodb": change, "eventSourceARN": stream_arn}


def stream_checkpoint(batch: list[dict[str, Any]], payload: Any, reports_failures: bool) -> str | None:
    """After a successful invocation, the sequence number of the last record that is done: the
    whole batch, or with partial failures the records before the first one named failed. None
    when nothing in the batch is done (a malformed answer counts as the whole batch failing)."""
    sequences = [str(record["dynamodb"]["SequenceNumber"]) for record in batch]
    if not reports_failures or not isinstance(payload, dict) or not payload.get("batchItemFailures"):
        return sequences[-1]
    try:
        failed = {str(item["itemIdentifier"]) for item in payload["batchItemFailures"]}
    except (TypeError, KeyError):
        return None
    if not failed <= set(sequences):
        return None
    first_failed = min(sequences.index(sequence) for sequence in failed)
    return sequences[first_failed - 1] if first_failed > 0 else None


def matches(pattern: Any, value: Any) -> bool:
    """Whether an event (a stream record) matches a filter pattern, as Lambda's event filtering
    reads one: objects nest, a list holds the values allowed (strings or numbers, or
    `{"exists": true|false}`, `{"prefix": ...}`, `{"anything-but": [...]}`)."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        for key, wanted in pattern.items():
            if isinstance(wanted, list):
                if not any(_allows(choice, key in value, value.get(key)) for choice in wanted):
                    return False
            elif key not in value or not matches(wanted, value[key]):
                return False
        return True
    return bool(pattern == value)


def _allows(choice: Any, present: bool, value: Any) -> bool:
    if isinstance(choice, dict):
        if "exists" in choice:
            return present is bool(choice["exists"])
        if "prefix" in choice:
            return present and isinstance(value, str) and value.startswith(choice["prefix"])
        if "anything-but" in choice:
            refused = choice["anything-but"]
            return present and value not in (refused if isinstance(refused, list) else [refused])
        return False
    return present and value == choice


def wanted_by(filters: tuple[dict[str, Any], ...], record: dict[str, Any]) -> bool:
    return not filters or any(matches(pattern, record) for pattern in filters)


class StreamPoller(threading.Thread):
    # Against another endpoint, as often as Lambda reads a shard (4 times a second) while records
    # come, backing off to once a second while none do: LocalStack's GetRecords is not cheap.
    IDLE_MIN_S = 0.25
    IDLE_MAX_S = 1.0
    # With the embedded emulator, woken by any write to DynamoDB (emulator.Activity) instead: a
    # stream has no record that a write did not announce, so the pause is only a safety net.
    IDLE_WOKEN_S = 30.0
    MAX_BACKOFF_S = 8.0
    SHARDS_REFRESH_S = 10.0

    def __init__(
        self,
        streams: Any,
        source: StreamSource,
        function: FunctionPool,
        stop: threading.Event,
        checkpoints: dict[str, str | None] | None = None,
        activity: Activity | None = None,
    ) -> None:
        super().__init__(name=f"stream-{function.spec.logical_id}-{source.name}", daemon=True)
        self._activity = activity
        self._streams = streams
        self._source = source
        self._function = function
        self._stopping = stop
        # shard -> last sequence number done; a restart goes on from the saved ones
        self._checkpoints: dict[str, str | None] = dict(checkpoints or {})
        self._iterators: dict[str, str] = {}  # shard -> where the last read ended
        self._shard_ids: list[str] | None = None
        self._shards_read_at = 0.0
        self._backoff_s = 0.0

    def checkpoints(self) -> dict[str, str | None]:
        return dict(self._checkpoints)

    def run(self) -> None:
        idle_s = self.IDLE_MIN_S
        while not self._stopping.is_set():
            try:
                seen = self._activity.count(Activity.DYNAMODB) if self._activity is not None else 0
                polled = [self._poll(shard) for shard in self._shards()]  # every shard, no short cut
                delivered = any(polled)
                self._backoff_s = 0.0
                if delivered:
                    idle_s = self.IDLE_MIN_S
                    continue
                if self._activity is None:
                    self._stopping.wait(idle_s)
                    idle_s = min(self.IDLE_MAX_S, idle_s * 2)
                else:
                    self._activity.wait(Activity.DYNAMODB, seen, self.IDLE_WOKEN_S)
            except _BatchFailed:
                self._backoff_s = min(self.MAX_BACKOFF_S, max(0.25, self._backoff_s * 2))
                self._stopping.wait(self._backoff_s)
            except Exception:  # keep polling through emulator hiccups, as Lambda's poller does
                log.exception("stream poller %s failed; retrying", self.name)
                self._stopping.wait(1.0)

    def _shards(self) -> list[str]:
        """The stream's shards, described again every SHARDS_REFRESH_S (as Lambda's poller keeps
        its shard list rather than asking on every read)."""
        now = time.monotonic()
        if self._shard_ids is None or now - self._shards_read_at > self.SHARDS_REFRESH_S:
            description = self._streams.describe_stream(StreamArn=self._source.stream_arn)["StreamDescription"]
            self._shard_ids = [shard["ShardId"] for shard in description.get("Shards", [])]
            self._shards_read_at = now
        return self._shard_ids

    def _iterator(self, shard: str) -> str:
        """Where to read next: the iterator the last read handed back, or one made from the
        checkpoint (at the start, and after a failed batch)."""
        kept = self._iterators.pop(shard, None)
        if kept is not None:
            return kept
        arguments: dict[str, Any] = {"StreamArn": self._source.stream_arn, "ShardId": shard}
        done = self._checkpoints.get(shard)
        if done is not None:
            arguments.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=done)
        elif shard not in self._checkpoints and self._source.starting_position == "LATEST":
            arguments["ShardIteratorType"] = "LATEST"
        else:
            arguments["ShardIteratorType"] = "TRIM_HORIZON"
        iterator: str = self._streams.get_shard_iterator(**arguments)["ShardIterator"]
        return iterator

    def _poll(self, shard: str) -> bool:
        """Delivers the shard's next batch; True when there was one."""
        response = self._streams.get_records(ShardIterator=self._iterator(shard), Limit=self._source.batch_size)
        self._checkpoints.setdefault(shard, None)
        batch = [stream_record(record, self._source.stream_arn) for record in response.get("Records", [])]
        following = response.get("NextShardIterator")
        if not batch:
            if following:
                self._iterators[shard] = following
            return False
        # The records the source's filter criteria let through; the rest are passed over, as
        # Lambda drops them, and a batch with none invokes nothing.
        wanted = [record for record in batch if wanted_by(self._source.filters, record)]
        if wanted:
            result = self._function.invoke({"Records": wanted})
            if result.stopped:
                return False
            if not result.ok:
                log.warning("%s: stream batch failed; retrying it", self._function.spec.logical_id)
                raise _BatchFailed
            done = stream_checkpoint(wanted, result.payload, self._source.report_batch_item_failures)
            if done is not None:
                self._checkpoints[shard] = done
            if done != wanted[-1]["dynamodb"]["SequenceNumber"]:
                log.warning("%s: stream records failed; retrying from the first", self._function.spec.logical_id)
                raise _BatchFailed
        self._checkpoints[shard] = batch[-1]["dynamodb"]["SequenceNumber"]
        if following:
            self._iterators[shard] = following
        return True


class _BatchFailed(Exception):
    """A stream batch, or part of it, failed: wait, then read again from the checkpoint."""
