"""What the caller's tasks used of AWS and cost, per day and type (GET /usage; the operators' view
of everyone's is GET /admin/usage)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from imgtasks.services.usage import DEFAULT_DAYS, MAX_DAYS, UsageReport

from ..context import caller, json_response, new_router, ok_response, problem_responses, wiring_of

router = new_router()

DAY = r"^\d{4}-\d{2}-\d{2}$"
FirstDay = Annotated[
    str | None,
    Query(alias="from", pattern=DAY, description=f"The first day (UTC, YYYY-MM-DD); {DEFAULT_DAYS} days before `to`"),
]
LastDay = Annotated[str | None, Query(alias="to", pattern=DAY, description="The last day, inclusive; today")]


@router.get(
    "/usage",
    summary=f"Your tasks' use of AWS and its cost, per day and type (at most {MAX_DAYS} days)",
    operation_id="get_usage",
    tags=["usage"],
    responses={**ok_response(200, UsageReport, "The usage"), **problem_responses(400, 401)},
)
def get_usage(first: FirstDay = None, last: LastDay = None) -> Response[UsageReport]:
    return json_response(200, wiring_of(router).usage.of_user(caller(router).user_id, first, last))
