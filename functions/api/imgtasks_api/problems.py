"""RFC 9457 problem details: the one place where errors become HTTP responses."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response

from imgtasks.domain.errors import PROBLEM_CONTENT_TYPE, DomainError, TooManyRequests, http_status, problem_document


def problem(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body = problem_document(status, detail)
    if errors:
        body["errors"] = errors
    all_headers = {"Cache-Control": "no-store", **(headers or {})}
    if status == 401:
        all_headers["WWW-Authenticate"] = 'Bearer realm="imgtasks"'
    return Response(status_code=status, content_type=PROBLEM_CONTENT_TYPE, body=json.dumps(body), headers=all_headers)


def problem_answer(
    status: int, detail: str, *, errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Problem details in the shape API Gateway takes from Lambda: for answers given outside the
    resolver (before routing, the web app's files, a remembered create)."""
    made = problem(status, detail, errors=errors, headers=headers)
    return {"statusCode": status, "headers": made.headers, "body": made.body, "isBase64Encoded": False}


def from_domain_error(error: DomainError) -> Response[str]:
    status = http_status(error)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, TooManyRequests) else None
    return problem(status, error.detail, errors=error.errors or None, headers=headers)


def validation_errors(raw_errors: Any, *, drop_loc_prefix: bool = False) -> list[dict[str, Any]]:
    """pydantic's error list as `errors` entries: one per bad field, with where and what."""
    entries = []
    for raw in raw_errors:
        loc = [part for part in raw.get("loc", ()) if not isinstance(part, str) or not part.startswith("function-")]
        # Tagged unions add the tag to the location ("body", "process", "file_ids"); drop it.
        loc = [part for part in loc if part not in ("process", "infer") or loc.index(part) != 1]
        message = raw.get("msg", "is not valid")
        if raw.get("type") == "extra_forbidden":
            message = "unknown field"
        entries.append({"loc": loc, "msg": message, "type": raw.get("type", "value_error")})
    return entries


def summary(entries: list[dict[str, Any]]) -> str:
    parts = []
    for entry in entries[:5]:
        where = ".".join(str(part) for part in entry["loc"][1:]) or str(entry["loc"][0] if entry["loc"] else "request")
        parts.append(f"{where}: {entry['msg']}")
    more = f" (and {len(entries) - 5} more)" if len(entries) > 5 else ""
    return "the request is not valid: " + "; ".join(parts) + more
