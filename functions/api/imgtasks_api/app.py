"""The resolver: routes, the error mapping and the generated OpenAPI document."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

import imgtasks
from imgtasks.errors import DomainError
from imgtasks.observability import logger

from .context import json_response, ok_response
from .problems import from_domain_error, problem, summary, validation_errors
from .routes import auth, files, tasks
from .schemas import HealthOut

TITLE = "imgtasks"
DESCRIPTION = (
    "Asynchronous image tasks: upload images, queue process (resize, rotate, convert, thumbnails, "
    "animation) or inference tasks, follow their status and download the results. Errors are RFC 9457 "
    "problem details; validation failures are 400 with one `errors` entry per bad field."
)

app = APIGatewayHttpResolver(enable_validation=True)
app.include_router(auth.router)
app.include_router(files.router)
app.include_router(tasks.router)

OPENAPI_SETTINGS = {
    "title": TITLE,
    "version": imgtasks.__version__,
    "description": DESCRIPTION,
    "security_schemes": {"bearerAuth": HTTPBearer(bearerFormat="JWT")},
    "security": [{"bearerAuth": []}],
}
app.enable_swagger(path="/docs", **OPENAPI_SETTINGS)  # type: ignore[arg-type]


@app.get("/health", summary="Liveness", tags=["service"], responses=ok_response(200, HealthOut, "The service is up"))
def health():
    return json_response(200, {"status": "ok", "version": imgtasks.__version__})


@app.get("/openapi.json", summary="This document", tags=["service"])
def openapi_document():
    return Response(
        status_code=200,
        content_type="application/json",
        body=app.get_openapi_json_schema(**OPENAPI_SETTINGS),  # type: ignore[arg-type]
    )


@app.exception_handler(DomainError)
def domain_error(error: DomainError) -> Response:
    return from_domain_error(error)


@app.exception_handler(RequestValidationError)
def request_validation_error(error: RequestValidationError) -> Response:
    entries = validation_errors(error.errors())
    return problem(400, summary(entries), errors=entries)


@app.not_found
def route_not_found(_: Exception) -> Response:
    event = app.current_event
    return problem(404, f"no such endpoint: {event.request_context.http.method} {event.raw_path}")


@app.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response:
    # The trace goes to the log with the request's correlation id; the client gets none of it.
    logger.exception("unhandled error")
    return problem(500, "an internal error occurred; it has been logged")
