"""The domain's exceptions. The API maps each to one HTTP status in one place (problem details);
the workers map `PermanentTaskError` to a failed task and let everything else be retried."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidInput(DomainError):
    """The caller sent something that can never work (400)."""


class Unauthorized(DomainError):
    """Missing, malformed, expired or forged credentials (401)."""


class Forbidden(DomainError):
    """Understood but not allowed, e.g. registration switched off (403)."""


class NotFound(DomainError):
    """No such resource for this caller; another user's resource is reported the same way (404)."""


class Conflict(DomainError):
    """The resource is in a state that does not allow this (409)."""


class PayloadTooLarge(DomainError):
    """The body or file is over a configured limit (413)."""


class UnsupportedMediaType(DomainError):
    """The request body has a content type this endpoint does not take (415)."""


class PermanentTaskError(Exception):
    """A task can never succeed (corrupt image, limits exceeded): mark it failed, do not retry."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
