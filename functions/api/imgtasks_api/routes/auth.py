"""Accounts and sign-in: POST /auth/register, the OAuth 2.0 password-grant token endpoint, browser
sessions by cookie (/auth/session), guest accounts (POST /auth/guest) and their claim."""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response

from imgtasks.domain.clock import to_rfc3339
from imgtasks.domain.errors import Conflict, InvalidInput, TooManyRequests, Unauthorized
from imgtasks.domain.records import User
from imgtasks.observability import logger
from imgtasks.services.accounts import Registration
from imgtasks.services.credentials import Identity

from ..bodies import media_type, parse_form
from ..context import caller, json_response, new_router, ok_response, problem_responses, request, wiring_of
from ..policy import policy
from ..schemas import OAuthError, SessionOut, SessionState, TokenOut, UserOut
from ..sessions import cleared_cookie, session_cookie, session_token

router = new_router()

FORM = "application/x-www-form-urlencoded"


def credentials_form(**fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of a form with username and password (and `fields` first)."""
    # Empty values are refused (invalid_request): the document says so.
    properties = {
        **fields,
        "username": {"type": "string", "minLength": 1},
        "password": {"type": "string", "format": "password", "minLength": 1},
    }
    schema = {"type": "object", "required": list(properties), "properties": properties}
    return {"requestBody": {"required": True, "content": {FORM: {"schema": schema}}}}


@router.post(
    "/auth/register",
    summary="Create an account",
    operation_id="register",
    tags=["auth"],
    responses={**ok_response(201, UserOut, "The new user"), **problem_responses(400, 403, 409, 415)},
)
@policy(public=True)
def register(registration: Registration) -> Response[UserOut]:
    user = wiring_of(router).accounts.register(registration)
    logger.info("user registered", extra={"user_id": user.id})
    return json_response(201, UserOut.model_validate(user, from_attributes=True))


def oauth_error(error: str, description: str, status: int = 400) -> Response[Any]:
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
    openapi_extensions=credentials_form(grant_type={"type": "string", "enum": ["password"]}),
)
@policy(public=True)
def token() -> Response[Any]:
    event = request(router)
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
    found = wiring_of(router)
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


# ---------------------------------------------------------------- browser sessions
def _session_out(user_id: str, username: str, guest_until: int | None) -> SessionOut:
    expires = to_rfc3339(datetime.fromtimestamp(guest_until, UTC)) if guest_until is not None else None
    admin = guest_until is None and username in wiring_of(router).admins
    return SessionOut(
        user_id=user_id, username=username, guest=guest_until is not None, expires_at=expires, admin=admin
    )


def _signed_in(user: User, status: int, body: SessionOut | None) -> Response[Any]:
    """The answer that starts a session: the signed token in the session cookie. A guest's session
    lasts as long as its data (it has no password to sign in again with)."""
    found = wiring_of(router)
    guest_until = user.expires_at if user.guest else None
    ttl = max(60, guest_until - int(datetime.now(UTC).timestamp())) if guest_until is not None else None
    issued = found.signer.issue(user.id, user.username, guest_until=guest_until, ttl_seconds=ttl)
    cookie = session_cookie(request(router), issued.access_token, issued.expires_in)
    return Response(
        status_code=status,
        content_type="application/json" if body is not None else None,
        body=body.model_dump_json() if body is not None else None,
        cookies=[cookie],
        headers={"Cache-Control": "no-store"},
    )


@router.post(
    "/auth/session",
    summary="Sign in a browser: sets the session cookie (form-encoded username and password)",
    operation_id="create_session",
    tags=["auth"],
    responses={
        204: {"description": "Signed in: `Set-Cookie: imgtasks_session=...; HttpOnly; SameSite=Strict; Secure`"},
        **problem_responses(400, 401, 403, 415, 429),
    },
    openapi_extensions=credentials_form(),
)
@policy(public=True, same_origin=True)
def create_session() -> Response[Any]:
    event = request(router)
    if media_type(event) != FORM:
        raise InvalidInput(f"send username and password as {FORM}")
    try:
        form = parse_form(event)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(f"the form could not be read: {error}") from error
    username, password = form.get("username"), form.get("password")
    if not username or not password:
        raise InvalidInput("username and password are required")
    user = wiring_of(router).accounts.authenticate(username, password)  # TooManyRequests: a 429
    if user is None:
        raise Unauthorized("the username or password is wrong")
    logger.info("session started", extra={"user_id": user.id})
    return _signed_in(user, 204, None)


@router.get(
    "/auth/session",
    summary="Who the session (or bearer token) belongs to",
    operation_id="get_session",
    tags=["auth"],
    responses={**ok_response(200, SessionOut, "The signed-in account"), **problem_responses(401)},
)
def get_session() -> Response[SessionOut]:
    identity: Identity = caller(router)
    return json_response(200, _session_out(identity.user_id, identity.username, identity.guest_until))


@router.get(
    "/auth/state",
    summary="Whether this browser has a session, and whose: 200 either way",
    description="For a page that asks on load: `GET /auth/session` answers 401 when nobody is signed in, which "
    "browsers log as an error. Reads the session cookie only; an expired or forged one counts as none.",
    operation_id="get_session_state",
    tags=["auth"],
    responses={**ok_response(200, SessionState, "Signed in or not")},
)
@policy(public=True)
def get_session_state() -> Response[SessionState]:
    token = session_token(request(router).raw_event)
    identity: Identity | None = None
    if token is not None:
        with suppress(Unauthorized):
            identity = wiring_of(router).signer.verify(token)
    if identity is None:
        return json_response(200, SessionState(signed_in=False), headers={"Cache-Control": "no-store"})
    session = _session_out(identity.user_id, identity.username, identity.guest_until)
    return json_response(200, SessionState(signed_in=True, session=session), headers={"Cache-Control": "no-store"})


@router.delete(
    "/auth/session",
    summary="Sign out a browser: clears the session cookie",
    operation_id="delete_session",
    tags=["auth"],
    responses={204: {"description": "Signed out (also when no session was open)"}, **problem_responses(403)},
)
@policy(public=True, same_origin=True)
def delete_session() -> Response[Any]:
    cleared = cleared_cookie(request(router))
    return Response(status_code=204, cookies=[cleared], headers={"Cache-Control": "no-store"})


@router.post(
    "/auth/guest",
    summary="Start as a guest: a new account with no password, and its session cookie",
    operation_id="create_guest",
    tags=["auth"],
    responses={
        **ok_response(201, SessionOut, "The guest account; its data expire at `expires_at` unless claimed"),
        **problem_responses(403, 429),
    },
)
@policy(public=True, same_origin=True)
def create_guest() -> Response[Any]:
    address = request(router).request_context.http.source_ip
    user = wiring_of(router).accounts.create_guest(address)
    logger.info("guest account made", extra={"user_id": user.id})
    return _signed_in(user, 201, _session_out(user.id, user.username, user.expires_at))


@router.post(
    "/auth/claim",
    summary="Keep a guest account: give it a username and password; nothing it made expires any more",
    operation_id="claim_guest",
    tags=["auth"],
    responses={
        **ok_response(200, SessionOut, "The account, no longer a guest"),
        **problem_responses(400, 401, 403, 409, 415),
    },
)
def claim_guest(registration: Registration) -> Response[Any]:
    identity: Identity = caller(router)
    found = wiring_of(router)
    if identity.guest_until is None:
        raise Conflict("only a guest account can be claimed; this one has a username and password already")
    user = found.accounts.claim(identity.username, registration)
    kept = found.guest_data.keep(user.id)
    logger.info("guest account claimed", extra={"user_id": user.id, "files": kept.files, "tasks": kept.tasks})
    return _signed_in(user, 200, _session_out(user.id, user.username, None))
