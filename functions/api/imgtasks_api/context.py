"""What a route reads from the resolver's context: the API's wiring and the authenticated caller."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from imgtasks.services.credentials import Identity

from .schemas import Problem
from .wiring import ApiWiring

ResponseBody = TypeVar("ResponseBody")


def new_router() -> Router:
    """A Router for a module of routes (Powertools' constructor is untyped)."""
    return Router()  # type: ignore[no-untyped-call]


def request(router: Router) -> APIGatewayProxyEventV2:
    """The request being answered: the HTTP API's payload 2.0 event (the resolver is
    APIGatewayHttpResolver)."""
    return cast(APIGatewayProxyEventV2, router.current_event)


def wiring_of(router: Router) -> ApiWiring:
    found: ApiWiring = router.context["wiring"]
    return found


def caller(router: Router) -> Identity:
    found: Identity = router.context["identity"]
    return found


def json_response(status: int, body: ResponseBody, headers: dict[str, str] | None = None) -> Response[ResponseBody]:
    """A JSON answer; Powertools validates `body` against the route's `Response[...]` annotation
    and serializes it."""
    return Response(status_code=status, content_type="application/json", body=body, headers=headers)


def problem_responses(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries for the problem-details answers a route can give."""
    return {
        status: {
            "description": "Problem details (RFC 9457)",
            "content": {"application/problem+json": {"model": Problem}},
        }
        for status in statuses
    }


def ok_response(status: int, model: Any, description: str) -> dict[int, OpenAPIResponse]:
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}
