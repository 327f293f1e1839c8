"""The metrics AWS publishes by itself, published here as it would: each function's Invocations,
Errors and Duration (AWS/Lambda, FunctionName) and, on the embedded emulator, each queue's
ApproximateAgeOfOldestMessage (AWS/SQS, QueueName), every PERIOD_S seconds, to the emulator's
CloudWatch, so GET /admin/stats and the dashboard read the same figures as on AWS."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .runtime import FunctionPool

log = logging.getLogger("local_stack.metrics")

PERIOD_S = 10.0
_BATCH = 1000  # PutMetricData's limit of values a call


class MetricsPublisher(threading.Thread):
    def __init__(
        self,
        cloudwatch: Any,
        pools: dict[str, FunctionPool],
        stop: threading.Event,
        queue_ages: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        super().__init__(name="metrics", daemon=True)
        self._cloudwatch = cloudwatch
        self._pools = pools
        self._stop = stop
        self._queue_ages = queue_ages

    def run(self) -> None:
        while not self._stop.wait(PERIOD_S):
            try:
                self.publish()
            except Exception:  # the emulator stopping under us: the next round tries again
                log.debug("metrics not published", exc_info=True)

    def publish(self) -> int:
        now = datetime.now(UTC)
        data: list[dict[str, Any]] = []
        for pool in self._pools.values():
            finished = pool.take_finished()
            if not finished:
                continue
            dimensions = [{"Name": "FunctionName", "Value": pool.spec.name}]
            errors = sum(1 for _, ok in finished if not ok)
            data.append(_datum("Invocations", dimensions, len(finished), "Count", now))
            data.append(_datum("Errors", dimensions, errors, "Count", now))
            data.extend(_datum("Duration", dimensions, ms, "Milliseconds", now) for ms, _ in finished)
        for start in range(0, len(data), _BATCH):
            self._cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data[start : start + _BATCH])
        ages = self._queue_ages() if self._queue_ages is not None else {}
        queues = [
            _datum("ApproximateAgeOfOldestMessage", [{"Name": "QueueName", "Value": name}], age, "Seconds", now)
            for name, age in ages.items()
        ]
        for start in range(0, len(queues), _BATCH):
            self._cloudwatch.put_metric_data(Namespace="AWS/SQS", MetricData=queues[start : start + _BATCH])
        return len(data) + len(queues)


def _datum(name: str, dimensions: list[dict[str, str]], value: float, unit: str, when: datetime) -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": dimensions, "Value": float(value), "Unit": unit, "Timestamp": when}
