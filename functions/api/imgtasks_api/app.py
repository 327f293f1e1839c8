"""The resolver: routes, the error mapping and the generated OpenAPI document."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

import imgtasks
from imgtasks.domain.errors import DomainError
from imgtasks.observability import logger

from .context import json_response, ok_response
from .policy import policy
from .problems import from_domain_error, problem, summary, validation_errors
from .routes import admin, archives, auth, events, files, inference_models, signing_keys, tasks, usage, webhooks
from .schemas import HealthOut

# A response that does not match its model is our bug: 500, never a 4xx blaming the client.
app = APIGatewayHttpResolver(enable_validation=True, response_validation_error_http_code=500)
app.include_router(auth.router)
app.include_router(files.router)
app.include_router(tasks.router)
app.include_router(archives.router)
app.include_router(webhooks.router)
app.include_router(inference_models.router)
app.include_router(signing_keys.router)
app.include_router(events.router)
app.include_router(admin.router)
app.include_router(usage.router)


@app.get(
    "/health",
    summary="Liveness",
    operation_id="health",
    tags=["service"],
    responses=ok_response(200, HealthOut, "The service is up"),
)
@policy(public=True)
def health() -> Response[HealthOut]:
    return json_response(200, HealthOut(status="ok", version=imgtasks.__version__))


@app.get("/openapi.json", summary="This document (OpenAPI 3.1)", operation_id="openapi_document", tags=["service"])
@policy(public=True)
def openapi_document() -> Response[Any]:
    from . import openapi  # only this route and /docs need the OpenAPI models: not at cold start

    return Response(status_code=200, content_type="application/json", body=openapi.document_json(app))


@app.get("/docs", summary="Swagger UI", tags=["service"], include_in_schema=False)
@policy(public=True)
def swagger_ui() -> Response[Any]:
    from . import openapi

    # Powertools' own Swagger route answers ?format=json with the document; clients rely on it.
    if app.current_event.get_query_string_value("format") == "json":
        return Response(status_code=200, content_type="application/json", body=openapi.document_json(app))
    return Response(status_code=200, content_type="text/html", body=openapi.swagger_page(app))


@app.get("/favicon.ico", include_in_schema=False)
@policy(public=True)
def favicon() -> Response[Any]:
    # Browsers ask for it on every page of the API (/docs): no icon, no 401 in their console.
    return Response(status_code=204, content_type="image/x-icon", body="", headers={"Cache-Control": "max-age=86400"})


@app.exception_handler(DomainError)  # type: ignore[untyped-decorator]  # Powertools' decorator is untyped
def domain_error(error: DomainError) -> Response[str]:
    return from_domain_error(error)


@app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]  # Powertools' decorator is untyped
def unsupported_content_type(_: RequestUnsupportedContentType) -> Response[str]:
    return problem(415, "this endpoint takes application/json")


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]  # Powertools' decorator is untyped
def request_validation_error(error: RequestValidationError) -> Response[str]:
    entries = validation_errors(error.errors())
    return problem(400, summary(entries), errors=entries)


def _routes_by_precedence() -> tuple[list[Route], list[Route]]:
    """The routes as Powertools tries them: a static path (/files/presigned) wins over a pattern
    that also matches it (/files/<file_id>). Powertools keeps them in these two lists and has no
    public accessor for them."""
    return app._static_routes, app._dynamic_routes


def matched_route(method: str, path: str) -> Route | None:
    """The route a request goes to, or None (a 404 or 405)."""
    for routes in _routes_by_precedence():
        for route in routes:
            if route.method == method and route.rule.match(path):
                return route
    return None


def all_routes() -> list[Route]:
    static, dynamic = _routes_by_precedence()
    return [*static, *dynamic]


def takes_json_body(route: Route) -> bool:
    """Whether Powertools parses the route's body into a model: it reads only JSON (any other
    media type it would try to read itself, and fail on with a 500)."""
    return bool(route.dependant.body_params)


def allowed_methods(path: str) -> list[str]:
    """The methods the API serves on a path."""
    for routes in _routes_by_precedence():
        methods = {route.method for route in routes if route.rule.match(path)}
        if methods:
            return sorted(methods)
    return []


@app.not_found
def route_not_found(_: Exception) -> Response[str]:
    event = app.current_event
    method, path = event.request_context.http.method, event.raw_path
    allowed = allowed_methods(path)
    if allowed:
        return problem(
            405, f"{method} is not allowed on {path}; use {', '.join(allowed)}", headers={"Allow": ", ".join(allowed)}
        )
    return problem(404, f"no such endpoint: {method} {path}")


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools' decorator is untyped
def unexpected_error(error: Exception) -> Response[str]:
    # The trace goes to the log with the request's correlation id; the client gets none of it.
    logger.exception("unhandled error")
    return problem(500, "an internal error occurred; it has been logged")
