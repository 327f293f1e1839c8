"""What operators see (GET /admin/stats) and do (redrive a dead-letter queue): each queue's depth
and its oldest message's age, each function's invocations, errors and p50/p95 duration over the
last hour (CloudWatch's Lambda and SQS metrics, one GetMetricData call), the tasks by status and
type over the last hour and day, throughput per minute and the top failure codes (the minute
figures the change stream keeps, imgtasks.adapters.repositories.activity)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from imgtasks.adapters.repositories.activity import ActivityRepository
from imgtasks.domain.clock import to_rfc3339, utc_now
from imgtasks.domain.errors import Conflict, NotFound

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_sqs import SQSClient

HOUR = 3600
TOP_FAILURE_CODES = 10
# ApproximateAgeOfOldestMessage is published once a minute: the last 5 minutes' maximum is now's.
AGE_WINDOW_S = 300


@dataclass(frozen=True)
class MonitoredQueue:
    name: str
    url: str
    dead_letter_url: str


def parse_queues(text: str) -> list[MonitoredQueue]:
    """`name=url|dead-letter url,...` (the template's MONITORED_QUEUES)."""
    found = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, _, urls = entry.partition("=")
        url, _, dead = urls.partition("|")
        found.append(MonitoredQueue(name, url, dead))
    return found


def parse_functions(text: str) -> dict[str, str]:
    """`name=function name,...` (the template's MONITORED_FUNCTIONS)."""
    pairs = (entry.partition("=") for entry in filter(None, (part.strip() for part in text.split(","))))
    return {name: function for name, _, function in pairs}


def queue_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


class Monitoring:
    def __init__(
        self,
        sqs: SQSClient,
        cloudwatch: CloudWatchClient,
        activity: ActivityRepository,
        *,
        queues: list[MonitoredQueue],
        functions: dict[str, str],
    ) -> None:
        self._sqs = sqs
        self._cloudwatch = cloudwatch
        self._activity = activity
        self._queues = queues
        self._functions = functions

    # ------------------------------------------------------------ GET /admin/stats
    def stats(self, now: datetime | None = None) -> dict[str, Any]:
        now = (now or utc_now()).replace(second=0, microsecond=0) + timedelta(minutes=1)
        metrics = self._metrics(now)
        queues = []
        for queue in self._queues:
            shown = self._depth(queue.url, metrics)
            shown["name"] = queue.name
            shown["dead_letter"] = self._depth(queue.dead_letter_url, metrics)
            queues.append(shown)
        functions = [
            {
                "name": name,
                "function_name": function,
                "invocations": int(metrics.get(f"inv_{index}") or 0),
                "errors": int(metrics.get(f"err_{index}") or 0),
                "duration_p50_ms": _rounded(metrics.get(f"p50_{index}")),
                "duration_p95_ms": _rounded(metrics.get(f"p95_{index}")),
            }
            for index, (name, function) in enumerate(self._functions.items())
        ]
        minutes = self._minutes(now - timedelta(days=1), now)
        hour_ago = to_rfc3339(now - timedelta(hours=1))[:16]
        return {
            "generated_at": to_rfc3339(utc_now()),
            "queues": queues,
            "functions": functions,
            "tasks": _by_status_and_type(minutes, hour_ago),
            "throughput": _throughput(minutes, now),
            "failure_codes": _failure_codes(minutes),
        }

    def _depth(self, url: str, metrics: dict[str, float | None]) -> dict[str, Any]:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        age = metrics.get(f"age_{_metric_id(queue_name(url))}")
        return {
            "queue_name": queue_name(url),
            "visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
            "oldest_age_seconds": None if age is None else int(age),
        }

    def _metrics(self, now: datetime) -> dict[str, float | None]:
        """The last hour's Lambda figures and the queues' latest ages, in one GetMetricData call
        (its 500 queries are far more than 4 per function and 1 per queue)."""
        queries: list[dict[str, Any]] = []
        for index, function in enumerate(self._functions.values()):
            dimensions = [{"Name": "FunctionName", "Value": function}]
            for query_id, metric, stat in (
                (f"inv_{index}", "Invocations", "Sum"),
                (f"err_{index}", "Errors", "Sum"),
                (f"p50_{index}", "Duration", "p50"),
                (f"p95_{index}", "Duration", "p95"),
            ):
                queries.append(_query(query_id, "AWS/Lambda", metric, dimensions, stat, HOUR))
        names = [queue_name(url) for queue in self._queues for url in (queue.url, queue.dead_letter_url)]
        for name in names:
            dimensions = [{"Name": "QueueName", "Value": name}]
            queries.append(
                _query(
                    f"age_{_metric_id(name)}",
                    "AWS/SQS",
                    "ApproximateAgeOfOldestMessage",
                    dimensions,
                    "Maximum",
                    AGE_WINDOW_S,
                )
            )
        found: dict[str, float | None] = {}
        for start in range(0, len(queries), 500):
            response = self._cloudwatch.get_metric_data(
                MetricDataQueries=queries[start : start + 500],  # type: ignore[arg-type]
                StartTime=now - timedelta(hours=1),
                EndTime=now,
                ScanBy="TimestampDescending",
            )
            for result in response["MetricDataResults"]:
                values = result.get("Values") or []
                found[result["Id"]] = float(values[0]) if values else None
        return found

    def _minutes(self, start: datetime, end: datetime) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        first, last = to_rfc3339(start), to_rfc3339(end)
        day = start.date()
        while day <= end.date():
            key = day.isoformat()
            low = first[11:16] if key == first[:10] else "00:00"
            high = last[11:16] if key == last[:10] else "23:59"
            found.update(self._activity.minutes(key, low, high))
            day += timedelta(days=1)
        return found

    # ------------------------------------------------------------ redrive
    def redrive(self, name: str) -> dict[str, Any]:
        """Moves the dead-letter queue's messages back to its queue (SQS's message move task)."""
        queue = next((queue for queue in self._queues if queue.name == name), None)
        if queue is None:
            known = ", ".join(queue.name for queue in self._queues)
            raise NotFound(f"no queue named '{name}' (the queues: {known})")
        dead = self._sqs.get_queue_attributes(
            QueueUrl=queue.dead_letter_url, AttributeNames=["QueueArn", "ApproximateNumberOfMessages"]
        )["Attributes"]
        waiting = int(dead.get("ApproximateNumberOfMessages", 0))
        if waiting == 0:
            raise Conflict(f"the dead-letter queue of '{name}' is empty; nothing to redrive")
        source = self._sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["QueueArn"])["Attributes"]
        try:
            started = self._sqs.start_message_move_task(SourceArn=dead["QueueArn"], DestinationArn=source["QueueArn"])
        except ClientError as error:
            # One move task at a time per queue: a second while one runs is refused.
            if error.response.get("Error", {}).get("Code") in ("UnsupportedOperation", "InvalidParameterValue"):
                raise Conflict(f"the dead-letter queue of '{name}' cannot be redriven now: {error}") from error
            raise
        return {"queue": name, "task_handle": started["TaskHandle"], "messages": waiting}


def _metric_id(name: str) -> str:
    """A GetMetricData query id: lower-case letters, digits and underscores, starting with a letter."""
    return "".join(char if char.isalnum() else "_" for char in name.lower())


def _query(
    query_id: str, namespace: str, metric: str, dimensions: list[dict[str, str]], stat: str, period: int
) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _by_status_and_type(minutes: dict[str, dict[str, int]], hour_ago: str) -> list[dict[str, Any]]:
    """Rows of {status, type, last_hour, last_day}; `created` is a task made, the rest statuses reached."""
    hour: Counter[str] = Counter()
    day: Counter[str] = Counter()
    for minute, figures in minutes.items():
        for name, count in figures.items():
            if name.startswith("code|"):
                continue
            day[name] += count
            if minute >= hour_ago:
                hour[name] += count
    rows = []
    for name in sorted(day):
        status, _, task_type = name.partition("|")
        rows.append({"status": status, "type": task_type, "last_hour": hour[name], "last_day": day[name]})
    return rows


def _throughput(minutes: dict[str, dict[str, int]], now: datetime) -> list[dict[str, Any]]:
    """Tasks done and failed in each of the last 60 minutes, oldest first."""
    points = []
    for back in range(60, 0, -1):
        minute = to_rfc3339(now - timedelta(minutes=back))[:16]
        figures = minutes.get(minute, {})
        done = sum(count for name, count in figures.items() if name.startswith("done|"))
        failed = sum(count for name, count in figures.items() if name.startswith("failed|"))
        points.append({"minute": f"{minute}Z", "done": done, "failed": failed})
    return points


def _failure_codes(minutes: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    codes: Counter[str] = Counter()
    for figures in minutes.values():
        for name, count in figures.items():
            if name.startswith("code|"):
                codes[name.removeprefix("code|")] += count
    return [{"code": code, "count": count} for code, count in codes.most_common(TOP_FAILURE_CODES)]
