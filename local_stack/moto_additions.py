"""What the embedded emulator answers that moto 5.2 does not, each the real API's shape:

- SQS `StartMessageMoveTask` and `ListMessageMoveTasks` (a dead-letter redrive): the messages a
  dead-letter queue holds are moved at once to the destination (or to the queue whose redrive
  policy names it), as new messages (their receive counts start again, as SQS's do);
- CloudWatch percentile statistics (`p50`, `p95`, ...) in GetMetricData, which moto answers
  with nothing;
- the age of each queue's oldest message (`ApproximateAgeOfOldestMessage`, which SQS publishes
  to CloudWatch itself), read from moto's queues for the stack's metrics publisher;
- when a queue's next in-flight or delayed message can be received, and a call when a receive has
  moved a message to a dead-letter queue, for the stack's idle pollers.

Reached through moto's in-process backends: this works for the embedded emulator only (LocalStack
has the move tasks and the percentiles of its own)."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from .template import ACCOUNT_ID, REGION

_move_tasks: list[dict[str, Any]] = []


def _sqs() -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[ACCOUNT_ID][REGION]


def _queue_by_arn(arn: str) -> Any:
    return _sqs().get_queue(arn.rsplit(":", 1)[-1])


def _redriven_to(source_arn: str) -> str | None:
    """The queue whose redrive policy sends its dead letters to `source_arn`."""
    for queue in _sqs().queues.values():
        policy = getattr(queue, "redrive_policy", None) or {}
        if isinstance(policy, str):
            policy = json.loads(policy)
        if policy.get("deadLetterTargetArn") == source_arn:
            return str(queue.queue_arn)
    return None


def start_message_move_task(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    source_arn = str(body.get("SourceArn", ""))
    destination_arn = body.get("DestinationArn") or _redriven_to(source_arn)
    try:
        source = _queue_by_arn(source_arn)
        destination = _queue_by_arn(str(destination_arn)) if destination_arn else None
    except Exception:  # moto's QueueDoesNotExist
        return 400, {"__type": "com.amazonaws.sqs#ResourceNotFoundException", "message": "The resource does not exist"}
    if destination is None:
        return 400, {"__type": "com.amazonaws.sqs#InvalidParameterValue", "message": "no destination for the move"}
    backend = _sqs()
    moved = 0
    while True:
        received = backend.receive_message(source.name, 10, 0, 30)
        if not received:
            break
        for message in received:
            backend.send_message(destination.name, message.body)
            source.delete_message(message.receipt_handle)
            moved += 1
    handle = uuid.uuid4().hex
    _move_tasks.append(
        {
            "TaskHandle": handle,
            "Status": "COMPLETED",
            "SourceArn": source_arn,
            "DestinationArn": str(destination.queue_arn),
            "ApproximateNumberOfMessagesMoved": moved,
            "ApproximateNumberOfMessagesToMove": moved,
            "StartedTimestamp": int(time.time() * 1000),
        }
    )
    return 200, {"TaskHandle": handle}


def list_message_move_tasks(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    source_arn = body.get("SourceArn")
    results = [task for task in reversed(_move_tasks) if task["SourceArn"] == source_arn]
    return 200, {"Results": results[: int(body.get("MaxResults", 1))]}


SQS_OPERATIONS = {"StartMessageMoveTask": start_message_move_task, "ListMessageMoveTasks": list_message_move_tasks}


def oldest_message_ages() -> dict[str, float]:
    """Seconds since the oldest message of each queue was sent (queues with messages only)."""
    now_ms = time.time() * 1000
    ages = {}
    for name, queue in list(_sqs().queues.items()):
        sent = [m.sent_timestamp for m in list(queue._messages) if m.sent_timestamp]
        if sent:
            ages[name] = max(0.0, (now_ms - min(sent)) / 1000)
    return ages


def seconds_until_visible(queue_url: str) -> float | None:
    """Seconds until the first of a queue's in-flight or delayed messages can be received again
    (0 when one can be now; None when the queue holds none, or is gone): an idle poller need
    not look at the queue before then unless a message is sent."""
    from moto.core.utils import unix_time_millis

    queue = _sqs().queues.get(queue_url.rstrip("/").rsplit("/", 1)[-1])
    if queue is None:
        return None
    receivable_at: list[float] = [max(m.visible_at, m.delayed_until) for m in list(queue._messages)]
    if not receivable_at:
        return None
    return max(0.0, (min(receivable_at) - unix_time_millis()) / 1000)


def install_dead_letter_wake(notify: Callable[[], None]) -> None:
    """`notify` is called when a ReceiveMessage moves a message to its queue's dead-letter queue
    (moto does it inside the receive, as SQS does), so the dead-letter queue's idle pollers look
    at once: no call announces that message otherwise."""
    from moto.sqs.models import SQSBackend

    global _dead_letter_notify
    _dead_letter_notify = notify
    if getattr(SQSBackend, "_imgtasks_dead_letter_wake", False):
        return
    plain = SQSBackend.receive_message

    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        dead = self.get_queue(queue_name).dead_letter_queue
        before = len(dead._messages) if dead is not None else 0
        received = plain(self, queue_name, *args, **kwargs)
        if dead is not None and len(dead._messages) > before and _dead_letter_notify is not None:
            _dead_letter_notify()
        return received

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    SQSBackend._imgtasks_dead_letter_wake = True  # type: ignore[attr-defined]


_dead_letter_notify: Callable[[], None] | None = None


def install_percentiles() -> None:
    """GetMetricData's `pNN` statistics, nearest rank, as CloudWatch computes them from the values."""
    from moto.cloudwatch.models import Statistics

    if getattr(Statistics, "_imgtasks_percentiles", False):
        return
    plain = Statistics.get_statistics_for_type

    def with_percentiles(self: Any, stat: str) -> Any:
        if stat.startswith("p") and stat[1:].replace(".", "", 1).isdigit():
            values = sorted(self.metric_single_values_list)
            if not values:
                return None
            rank = max(1, math.ceil(float(stat[1:]) / 100 * len(values)))
            return values[min(rank, len(values)) - 1]
        return plain(self, stat)

    Statistics.get_statistics_for_type = with_percentiles  # type: ignore[method-assign]
    Statistics._imgtasks_percentiles = True  # type: ignore[attr-defined]
