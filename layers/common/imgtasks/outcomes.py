"""How a worker ends a task it claimed: done with a result, or failed with a code. Both are
conditional on the task still being on the same run, so a task cancelled, restarted or deleted
meanwhile is left as the user left it; both count in the metrics."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from .clock import millis_between, now_rfc3339
from .errors import Conflict, NotFound
from .models import Task, TaskError, TaskStatus
from .observability import logger, metrics
from .repositories import TaskRepository

RETRIES_EXHAUSTED = "retries_exhausted"


def complete(tasks: TaskRepository, task: Task, result: dict[str, Any]) -> bool:
    """running -> done with the result; False when the task moved on while it ran."""
    now = now_rfc3339()
    try:
        tasks.transition(
            task.owner_id,
            task.id,
            TaskStatus.DONE,
            changes={
                "progress": 100,
                "result_json": json.dumps(result, separators=(",", ":")),
                "completed_at": now,
                "duration_ms": millis_between(task.started_at or now, now),
            },
            run=task.run,
        )
    except (Conflict, NotFound):
        logger.info("task moved on while it ran; its result is dropped", extra={"task_id": task.id})
        return False
    metrics.add_metric(name="TasksCompleted", unit=MetricUnit.Count, value=1)
    logger.info("task done", extra={"task_id": task.id, "type": task.type})
    return True


def fail(
    tasks: TaskRepository,
    task: Task,
    code: str,
    message: str,
    sources: frozenset[TaskStatus] | None = None,
) -> bool:
    """-> failed with {code, message}; False when the task had moved on."""
    now = now_rfc3339()
    changes: dict[str, Any] = {"error": TaskError(code=code, message=message).model_dump(), "completed_at": now}
    if task.started_at:
        changes["duration_ms"] = millis_between(task.started_at, now)
    try:
        tasks.transition(task.owner_id, task.id, TaskStatus.FAILED, changes=changes, sources=sources, run=task.run)
    except (Conflict, NotFound):
        logger.info("task could not be marked failed: it moved on", extra={"task_id": task.id})
        return False
    metrics.add_metric(name="TasksFailed", unit=MetricUnit.Count, value=1)
    logger.warning("task failed", extra={"task_id": task.id, "code": code, "error": message})
    return True


def fail_if_last_delivery(
    tasks: TaskRepository, task: Task, error: Exception, receive_count: int, max_receive_count: int
) -> None:
    """A transient error: raised again so SQS retries the message, except on the last delivery,
    when the task fails with retries_exhausted instead (its message goes to the dead-letter queue
    next, and the task must not stay running)."""
    if receive_count < max_receive_count:
        raise error
    logger.exception("task failed on its last delivery", extra={"task_id": task.id})
    fail(tasks, task, RETRIES_EXHAUSTED, f"the task failed {receive_count} times; last error: {error}")
