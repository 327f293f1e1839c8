"""The routes anyone may call, without a bearer token or a session cookie (the handler lets them
through; the OpenAPI document marks them so)."""

from __future__ import annotations

PUBLIC_ROUTES = frozenset(
    {
        ("POST", "/auth/register"),
        ("POST", "/auth/token"),
        ("POST", "/auth/session"),
        ("DELETE", "/auth/session"),
        ("POST", "/auth/guest"),
        ("GET", "/health"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/favicon.ico"),
    }
)
