"""SQS event sources, polled as Lambda's event source mapping does: batches up to BatchSize
gathered for up to MaximumBatchingWindowInSeconds, the SQS event shape, messages deleted only
when the invocation succeeds (less the ones named in batchItemFailures when the source reports
partial failures). Failed messages come back after the queue's visibility timeout; the queue's own
redrive policy moves them to the dead-letter queue after maxReceiveCount receives."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .functions import SqsSource
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


class SqsPoller(threading.Thread):
    def __init__(
        self, sqs: Any, queue_url: str, source: SqsSource, function: FunctionPool, stop: threading.Event
    ) -> None:
        super().__init__(name=f"poll-{function.spec.logical_id}-{source.name}", daemon=True)
        self._sqs = sqs
        self._url = queue_url
        self._source = source
        self._function = function
        self._stop = stop

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = self._gather()
                if batch:
                    self._deliver(batch)
            except Exception:  # keep polling through emulator hiccups, as Lambda's poller does
                log.exception("poller %s failed; retrying", self.name)
                self._stop.wait(1.0)

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

    def _gather(self) -> list[dict[str, Any]]:
        batch = self._receive(self._source.batch_size, wait_s=1)
        if not batch:
            return batch
        window_ends = time.monotonic() + self._source.batching_window_s
        while len(batch) < self._source.batch_size and time.monotonic() < window_ends and not self._stop.is_set():
            more = self._receive(self._source.batch_size - len(batch), wait_s=0)
            if more:
                batch.extend(more)
            else:
                self._stop.wait(min(0.1, max(0.0, window_ends - time.monotonic())))
        return batch

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_record(m, self._source.queue_arn) for m in batch]}
        result = self._function.invoke(event)
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
