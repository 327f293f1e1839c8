"""What a route reads from the resolver's context: the services and the authenticated caller."""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from imgtasks.services.credentials import Identity

from .schemas import Problem
from .services import Services

ResponseBody = TypeVar("ResponseBody")


def services(router: Router) -> Services:
    found: Services = router.context["services"]
    return found


def caller(router: Router) -> Identity:
    found: Identity = router.context["identity"]
    return found


def json_response(status: int, body: ResponseBody, headers: dict[str, str] | None = None) -> Response[ResponseBody]:
    """A JSON answer; Powertools validates `body` against the route's `Response[...]` annotation
    and serializes it."""
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def problem_responses(*statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI entries for the problem-details answers a route can give."""
    return {
        status: {
            "description": "Problem details (RFC 9457)",
            "content": {"application/problem+json": {"model": Problem}},
        }
        for status in statuses
    }


def ok_response(status: int, model: Any, description: str) -> dict[int, dict[str, Any]]:
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}
