"""Lambda entry point of the HTTP API."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from imgtasks.adapters import metering
from imgtasks.domain.errors import InvalidInput, Unauthorized
from imgtasks.observability import logger, metrics
from imgtasks.services.credentials import Identity, TokenSigner

from .app import app, matched_route, takes_json_body
from .bodies import header, media_type, require_readable_json
from .idempotency import idempotency_key
from .policy import policy_of
from .problems import problem_answer
from .sessions import cross_origin_reason, session_token
from .web_app import is_app_path, serve_app
from .wiring import ApiWiring, api_wiring


def authenticate(event: dict[str, Any], signer: TokenSigner) -> tuple[Identity, bool]:
    """The caller, and whether the session cookie (not a bearer token) said who it is. A bearer
    token wins over a cookie."""
    authorization = header(event.get("headers") or {}, "authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <access_token>'")
        return signer.verify(token.strip()), False
    cookie = session_token(event)
    if cookie is None:
        raise Unauthorized("this endpoint needs an Authorization: Bearer <access_token> header or a session cookie")
    try:
        return signer.verify(cookie), True
    except Unauthorized as error:
        raise Unauthorized("the session has ended; sign in again") from error


def answered(status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A problem answered before routing."""
    app.clear_context()  # type: ignore[no-untyped-call]
    return problem_answer(status, detail, errors=errors)


_ENCODED_UNRESERVED = re.compile(r"%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[Dd]|2[Ee]|5[Ff]|7[Ee])")


def normalized_path(raw_path: str) -> str:
    """RFC 3986 section 6.2.2.2: a percent-encoded unreserved character (letters, digits, - . _ ~)
    is that character, so /tasks/%30%31... names the same task as /tasks/01...; anything else
    stays encoded, so an encoded slash never changes the route."""
    return _ENCODED_UNRESERVED.sub(lambda match: unquote(match.group(0)), raw_path)


def handle(event: dict[str, Any], context: LambdaContext, found: ApiWiring) -> dict[str, Any]:
    event = {**event, "rawPath": normalized_path(event.get("rawPath", ""))}
    app.append_context(wiring=found)  # type: ignore[no-untyped-call]
    method = event.get("requestContext", {}).get("http", {}).get("method", "")
    path = event.get("rawPath", "")
    if method in ("GET", "HEAD") and is_app_path(path):
        app.clear_context()  # type: ignore[no-untyped-call]
        return serve_app(path, found.media_origins)
    route = matched_route(method, path)
    policy = policy_of(route.func if route is not None else None)
    json_only = route is not None and takes_json_body(route)
    if policy.same_origin and (reason := cross_origin_reason(event, required=False)):
        return answered(403, reason)
    if not policy.public:
        try:
            identity, by_cookie = authenticate(event, found.signer)
        except Unauthorized as error:
            return answered(401, error.detail)
        if by_cookie and policy.changes(method) and (reason := cross_origin_reason(event, required=True)):
            return answered(403, reason)
        app.append_context(identity=identity)  # type: ignore[no-untyped-call]
        logger.append_keys(user_id=identity.user_id)
        key = idempotency_key(event.get("headers") or {}) if policy.idempotent else None
        if key is not None:
            found.idempotency.register_lambda_context(context)
            return found.idempotency.answer(event, identity.user_id, key, lambda: resolve(event, context, json_only))
    return resolve(event, context, json_only)


def resolve(event: dict[str, Any], context: LambdaContext, json_only: bool) -> dict[str, Any]:
    """The request's answer, past authentication: its media type and JSON checked, then routed."""
    request = APIGatewayProxyEventV2(event)
    if json_only and media_type(request) != "application/json":
        return answered(415, f"send the body as application/json (got {media_type(request) or 'none'})")
    try:
        # Before routing: Powertools' own body validation would answer JSON it cannot parse
        # (too deep, not UTF-8) with a 500.
        require_readable_json(request)
    except InvalidInput as error:
        return answered(400, error.detail, errors=error.errors)
    return app.resolve(event, context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@metering.invocation("api")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, context, api_wiring())
