"""A user's usage per day and type of task (GET /usage), kept by the change stream
(imgtasks_dispatch) as sums instead of summed on every read.

Every write of a task whose stored usage changed adds the change to the day it happened on
(the task's updated_at) and its type: the API's share lands on the day the task was made, an
attempt's on the day it ended, and a restarted task adds only what its new run used. A new task
counts once, on its first day. Amounts are whole numbers (DynamoDB ADD on integers, no float
through Decimal): nano-dollars, GB-milliseconds, thousandths of a request."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from imgtasks.domain.base import Model
from imgtasks.domain.prices import GIB, price, prices_for
from imgtasks.domain.usage import Usage

# measure -> (stored scale: stored = value * scale)
MEASURES = {
    "tasks": 1,
    "cost_usd": 1_000_000_000,
    "lambda_gb_seconds": 1000,
    "lambda_requests": 1000,
    "requests": 1000,
    "dynamodb_request_units": 1000,
    "bytes_read": 1,
    "bytes_stored": 1,
}


def _measures(usage: Usage, region: str) -> dict[str, float]:
    requests = usage.requests
    return {
        "cost_usd": price(usage, region).cost_usd,
        "lambda_gb_seconds": usage.total_gb_seconds(),
        "lambda_requests": usage.total_lambda_requests(),
        "requests": requests.s3_put + requests.s3_get + requests.sqs + requests.api_gateway,
        "dynamodb_request_units": requests.dynamodb_read_units + requests.dynamodb_write_units,
        "bytes_read": usage.bytes_read,
        "bytes_stored": usage.bytes_stored,
    }


def _usage_of(image: dict[str, Any] | None) -> Usage:
    text = (image or {}).get("usage_json")
    return Usage.model_validate_json(str(text)) if text else Usage()


def usage_changes(
    old: dict[str, Any] | None, new: dict[str, Any] | None, region: str
) -> tuple[str, str, dict[str, int]] | None:
    """(the owner, the day, {"<type>|<measure>": stored delta}) of one change of a task record;
    None when its usage did not change (and it is not new)."""
    if not new or new.get("SK") != "TASK" or "owner_id" not in new:
        return None
    created = not old
    if not created and (old or {}).get("usage_json") == new.get("usage_json"):
        return None
    before, after = _measures(_usage_of(old), region), _measures(_usage_of(new), region)
    task_type = str(new.get("type", ""))
    deltas = {f"{task_type}|tasks": 1} if created else {}
    for name, value in after.items():
        stored = round((value - before[name]) * MEASURES[name])
        if stored:
            deltas[f"{task_type}|{name}"] = stored
    if not deltas:
        return None
    day = str(new.get("updated_at") or new.get("created_at") or "")[:10]
    return str(new["owner_id"]), day, deltas


class UsageDay(Model):
    day: str = Field(description="YYYY-MM-DD (UTC)")
    type: str = Field(description="The type of task")
    tasks: int = Field(description="Tasks made that day")
    cost_usd: float = Field(description="What the work recorded that day cost (lambda and requests), once")
    lambda_gb_seconds: float
    lambda_requests: float
    requests: float = Field(description="S3, SQS and API Gateway requests")
    dynamodb_request_units: float
    bytes_read: int
    bytes_stored: int = Field(description="Bytes the outputs made that day keep in S3")
    storage_usd_per_month: float = Field(description="What keeping those bytes costs a month")


def day_rows(day: str, stored: dict[str, Any], region: str) -> list[UsageDay]:
    """The rows of one day's stored sums, one per type of task."""
    by_type: dict[str, dict[str, float]] = {}
    for name, value in stored.items():
        if "|" not in name:
            continue
        task_type, measure = name.split("|", 1)
        if measure in MEASURES:
            by_type.setdefault(task_type, {})[measure] = float(value) / MEASURES[measure]
    _, table = prices_for(region)
    rows = []
    for task_type, values in sorted(by_type.items()):
        row = {name: values.get(name, 0) for name in MEASURES}
        rows.append(
            UsageDay(
                day=day,
                type=task_type,
                tasks=int(row["tasks"]),
                cost_usd=row["cost_usd"],
                lambda_gb_seconds=row["lambda_gb_seconds"],
                lambda_requests=row["lambda_requests"],
                requests=row["requests"],
                dynamodb_request_units=row["dynamodb_request_units"],
                bytes_read=int(row["bytes_read"]),
                bytes_stored=int(row["bytes_stored"]),
                storage_usd_per_month=row["bytes_stored"] / GIB * table.s3_gb_month,
            )
        )
    return rows
