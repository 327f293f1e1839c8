"""The OpenAPI document, generated from the routes, and Swagger UI showing it.

Powertools documents a 422 for every validated route; this API answers validation failures with
400 problem details instead, so the 422 entries are dropped from the document."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import aws_lambda_powertools.event_handler as event_handler
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer
from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

import imgtasks
from imgtasks.domain.errors import PROBLEM_CONTENT_TYPE

from .app import all_routes
from .policy import policy_of
from .routes.tasks import create_tasks_adapter
from .sessions import SESSION_COOKIE

TITLE = "imgtasks"
DESCRIPTION = (
    "Asynchronous image tasks: upload images, queue process (resize, rotate, convert, thumbnails, "
    "animation) or inference tasks, follow their status and download the results. Errors are RFC 9457 "
    "problem details; validation failures are 400 with one `errors` entry per bad field. Every endpoint "
    "but /health, /openapi.json, /docs, /auth/register, /auth/token, /auth/guest and signing in and out "
    "(/auth/session) needs `Authorization: Bearer <token>` or the browser session cookie."
)


IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any 1-255 printable ASCII characters (a UUID will do). The same key from the same user within 24 "
    "hours answers the first answer again (with `Idempotent-Replayed: true`) and creates nothing new; the same key "
    "with a different request is a 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}


IDEMPOTENCY_ANSWERS = {
    "409": "A request with this Idempotency-Key is still being answered (Retry-After: 1)",
    "422": "This Idempotency-Key was used for a different request",
}


def problem_answer_document(description: str) -> dict[str, Any]:
    return {
        "description": f"{description}: problem details (RFC 9457)",
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    schema = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=imgtasks.__version__,
            description=DESCRIPTION,
            security_schemes={
                "bearerAuth": HTTPBearer(bearerFormat="JWT"),
                "sessionCookie": APIKey.model_validate({"name": SESSION_COOKIE, "in": APIKeyIn.cookie}),
            },
            security=[{"bearerAuth": []}, {"sessionCookie": []}],
        )
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    internal_error = {
        "description": "Problem details (RFC 9457); the trace is in the log, never in the answer",
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    policies = {(route.method, route.openapi_path): policy_of(route.func) for route in all_routes()}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            operation.get("responses", {}).pop("422", None)
            operation["responses"]["500"] = internal_error
            for status in ("204", "302"):  # no body: Powertools would give them an empty JSON one
                operation["responses"].get(status, {}).pop("content", None)
            policy = policies[(method.upper(), path)]
            if policy.public:
                operation["security"] = []
            if policy.idempotent:
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
                for status, description in IDEMPOTENCY_ANSWERS.items():
                    operation["responses"].setdefault(status, problem_answer_document(description))
            # Request bodies documented by hand (JSON or multipart on one path) bring their own
            # definitions; their $refs point at the components, so put the definitions there.
            for media in operation.get("requestBody", {}).get("content", {}).values():
                components.update(media.get("schema", {}).pop("$defs", {}))
    create_tasks = create_tasks_adapter().json_schema(ref_template="#/components/schemas/{model}")
    components.update(create_tasks.pop("$defs", {}))
    components["CreateTasks"] = create_tasks
    components.pop("HTTPValidationError", None)
    components.pop("ResponseValidationError", None)
    built: dict[str, Any] = schema
    return built


@cache
def document_json(app: APIGatewayHttpResolver) -> str:
    """Built once per container: the routes do not change while it runs."""
    return json.dumps(document(app), separators=(",", ":"))


@cache
def swagger_page(app: APIGatewayHttpResolver) -> str:
    assets = Path(event_handler.__file__).parent / "openapi" / "swagger_ui"
    return generate_swagger_html(
        document_json(app).replace("</", "<\\/"),
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
    )
