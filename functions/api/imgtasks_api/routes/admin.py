"""The operators' endpoints (AdminUsernames): the service's figures, and the dead-letter redrive."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import Field

from imgtasks.domain.base import Model
from imgtasks.domain.errors import Forbidden
from imgtasks.services.usage import MAX_DAYS_EVERYONE, EveryonesUsage

from ..context import caller, json_response, new_router, ok_response, problem_responses, wiring_of
from .usage import FirstDay, LastDay

router = new_router()

QueueName = Annotated[
    str,
    Path(
        description="A queue's name: process, video, infer, archive, fetch, upload-events, webhooks",
        pattern=r"^[a-z-]{1,32}$",
    ),
]


class QueueDepth(Model):
    queue_name: str
    visible: int = Field(description="Messages waiting")
    in_flight: int = Field(description="Messages received and not yet deleted")
    delayed: int
    oldest_age_seconds: int | None = Field(
        description="The oldest message's age (CloudWatch, per minute); null when unknown"
    )


class QueueStats(QueueDepth):
    name: str
    dead_letter: QueueDepth


class FunctionStats(Model):
    name: str
    function_name: str
    invocations: int = Field(description="In the last hour")
    errors: int = Field(description="In the last hour")
    duration_p50_ms: float | None
    duration_p95_ms: float | None


class TaskFigures(Model):
    status: str = Field(description="`created`, or a status the tasks reached")
    type: str
    last_hour: int
    last_day: int


class ThroughputPoint(Model):
    minute: str
    done: int
    failed: int


class FailureCount(Model):
    code: str
    count: int


class AdminStats(Model):
    generated_at: str
    queues: list[QueueStats]
    functions: list[FunctionStats]
    tasks: list[TaskFigures]
    throughput: list[ThroughputPoint] = Field(description="Tasks done and failed in each of the last 60 minutes")
    failure_codes: list[FailureCount] = Field(description="The last day's commonest, most first")


class RedriveOut(Model):
    queue: str
    task_handle: str
    messages: int = Field(description="Messages in the dead-letter queue when the move started")


def operator() -> None:
    """Only the operators named by AdminUsernames (never a guest)."""
    who = caller(router)
    if who.guest_until is not None or who.username not in wiring_of(router).admins:
        raise Forbidden("only the operators named in the stack's AdminUsernames may do this")


@router.get(
    "/admin/stats",
    summary="The service's figures: queues, functions, tasks, throughput, failures (operators only)",
    operation_id="get_admin_stats",
    tags=["admin"],
    responses={**ok_response(200, AdminStats, "The figures"), **problem_responses(401, 403)},
)
def get_admin_stats() -> Response[AdminStats]:
    operator()
    return json_response(200, AdminStats.model_validate(wiring_of(router).monitoring.stats()))


@router.post(
    "/admin/dead-letters/<queue>/redrive",
    summary="Move a dead-letter queue's messages back to their queue (operators only)",
    operation_id="redrive_dead_letters",
    tags=["admin"],
    responses={**ok_response(202, RedriveOut, "The move started"), **problem_responses(400, 401, 403, 404, 409)},
)
def redrive_dead_letters(queue: QueueName) -> Response[RedriveOut]:
    operator()
    return json_response(202, RedriveOut.model_validate(wiring_of(router).monitoring.redrive(queue)))


@router.get(
    "/admin/usage",
    summary=f"Every user's usage and cost, per day and type (operators only; at most {MAX_DAYS_EVERYONE} days)",
    operation_id="get_admin_usage",
    tags=["admin"],
    responses={**ok_response(200, EveryonesUsage, "Every user's usage"), **problem_responses(400, 401, 403)},
)
def get_admin_usage(first: FirstDay = None, last: LastDay = None) -> Response[EveryonesUsage]:
    operator()
    return json_response(200, wiring_of(router).usage.of_everyone(first, last))
