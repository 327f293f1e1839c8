"""Browser sessions: the session cookie, and the same-origin rule for requests it authenticates.

The cookie holds the same signed, expiring token a bearer client sends; it is HttpOnly (no script
reads it), SameSite=Strict (no other site's page sends it) and Secure except on plain-http loopback
(the local stack). Because a cookie rides along by itself, a state-changing request it
authenticates must also come from our own origin: Sec-Fetch-Site, else Origin, must say so."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from .bodies import header

SESSION_COOKIE = "imgtasks_session"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def session_token(event: dict[str, Any]) -> str | None:
    """The session cookie's value, if the request carries one (payload 2.0 puts cookies apart)."""
    for cookie in event.get("cookies") or []:
        name, _, value = cookie.partition("=")
        if name.strip() == SESSION_COOKIE and value.strip():
            return str(value).strip()
    return None


def _is_plain_loopback(event: APIGatewayProxyEventV2) -> bool:
    """The local stack over http: a Secure cookie would never come back, so none is set there.
    API Gateway is https only, so a deployed stack always gets Secure."""
    host = header(event.headers or {}, "host") or event.request_context.domain_name or ""
    return _plain_loopback_host(host, header(event.headers or {}, "x-forwarded-proto"))


def _plain_loopback_host(host: str, forwarded_proto: str) -> bool:
    return urlsplit(f"//{host}").hostname in _LOOPBACK_HOSTS and forwarded_proto != "https"


def session_cookie(event: APIGatewayProxyEventV2, token: str, max_age: int) -> Cookie:
    return Cookie(
        SESSION_COOKIE,
        token,
        path="/",
        secure=not _is_plain_loopback(event),
        http_only=True,
        max_age=max_age,
        same_site=SameSite.STRICT_MODE,
    )


def cleared_cookie(event: APIGatewayProxyEventV2) -> Cookie:
    return session_cookie(event, "", 0)


def cross_origin_reason(event: dict[str, Any], *, required: bool) -> str | None:
    """Why the request is not from our own origin, or None when it is. Browsers send
    Sec-Fetch-Site (all current ones) and Origin (on every POST, PUT, PATCH and DELETE); with
    neither, the request is refused when `required` (a cookie-authenticated change), and allowed
    otherwise (a non-browser client signing in)."""
    headers = event.get("headers") or {}
    fetch_site = header(headers, "sec-fetch-site").lower()
    if fetch_site:
        if fetch_site in ("same-origin", "none"):
            return None
        return f"a request from another site ({fetch_site}) cannot use the session cookie; send a bearer token"
    origin = header(headers, "origin")
    if origin:
        own = header(headers, "host") or event.get("requestContext", {}).get("domainName", "")
        # Scheme, host and port: https://127.0.0.1:3200 is another origin than http://127.0.0.1:3200.
        own_scheme = "http" if _plain_loopback_host(own, header(headers, "x-forwarded-proto")) else "https"
        parts = urlsplit(origin)
        if origin != "null" and (parts.scheme, parts.netloc.lower()) == (own_scheme, own.lower()):
            return None
        return f"a request from the origin {origin} cannot use the session cookie; send a bearer token"
    if required:
        return (
            "a change authenticated by the session cookie must say where it comes from "
            "(Origin or Sec-Fetch-Site); browsers send them, other clients send a bearer token"
        )
    return None
