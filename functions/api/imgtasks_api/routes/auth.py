"""POST /auth/register and the OAuth 2.0 password-grant token endpoint."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from imgtasks.domain.errors import TooManyRequests
from imgtasks.observability import logger
from imgtasks.services.accounts import Registration

from ..bodies import media_type, parse_form
from ..context import json_response, ok_response, problem_responses, services
from ..schemas import OAuthError, TokenOut, UserOut

router = Router()

FORM = "application/x-www-form-urlencoded"


@router.post(
    "/auth/register",
    summary="Create an account",
    operation_id="register",
    tags=["auth"],
    responses={**ok_response(201, UserOut, "The new user"), **problem_responses(400, 403, 409, 415)},
)
def register(registration: Registration) -> Response[UserOut]:
    user = services(router).accounts.register(registration)
    logger.info("user registered", extra={"user_id": user.id})
    return json_response(201, UserOut.model_validate(user, from_attributes=True))


def oauth_error(error: str, description: str, status: int = 400):
    """RFC 6749 section 5.2: the token endpoint's own error shape."""
    return Response(
        status_code=status,
        content_type="application/json",
        body=json.dumps({"error": error, "error_description": description}),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@router.post(
    "/auth/token",
    summary="Get an access token (OAuth 2.0 password grant, form-encoded)",
    operation_id="issue_token",
    tags=["auth"],
    responses={
        **ok_response(200, TokenOut, "A bearer token"),
        400: {"description": "RFC 6749 error", "content": {"application/json": {"model": OAuthError}}},
        429: {
            "description": "Too many failed sign-ins for this username: `temporarily_unavailable`, with Retry-After",
            "content": {"application/json": {"model": OAuthError}},
        },
    },
    openapi_extensions={
        "requestBody": {
            "required": True,
            "content": {
                FORM: {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type", "username", "password"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["password"]},
                            "username": {"type": "string"},
                            "password": {"type": "string", "format": "password"},
                        },
                    }
                }
            },
        }
    },
)
def token():
    event = router.current_event
    if media_type(event) != FORM:
        return oauth_error("invalid_request", f"send the parameters as {FORM}")
    try:
        form = parse_form(event)
    except (ValueError, UnicodeDecodeError) as error:
        return oauth_error("invalid_request", f"the form could not be read: {error}")
    grant_type = form.get("grant_type")
    if not grant_type:
        return oauth_error("invalid_request", "grant_type is required")
    if grant_type != "password":
        return oauth_error("unsupported_grant_type", "only grant_type=password is supported")
    username, password = form.get("username"), form.get("password")
    if not username or not password:
        return oauth_error("invalid_request", "username and password are required")
    found = services(router)
    try:
        user = found.accounts.authenticate(username, password)
    except TooManyRequests as error:
        answer = oauth_error("temporarily_unavailable", error.detail, status=429)
        answer.headers["Retry-After"] = str(error.retry_after)
        return answer
    if user is None:
        return oauth_error("invalid_grant", "the username or password is wrong")
    issued = found.signer.issue(user.id, user.username)
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps({"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in}),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
