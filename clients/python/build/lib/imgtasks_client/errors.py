"""Problem details (RFC 9457) as exceptions: one class per kind of failure a caller handles."""

from __future__ import annotations

from typing import Any

import httpx


class ImgtasksError(Exception):
    """Any failure the service answered with; `detail` is its sentence for a person."""

    status: int = 0

    def __init__(self, status: int, detail: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status}: {detail}" if status else detail)
        self.status = status
        self.detail = detail
        self.problem = problem or {}
        self.errors: list[dict[str, Any]] = list(self.problem.get("errors") or [])


class InvalidInput(ImgtasksError):
    """400 (and 422): the request was wrong; `errors` lists each bad field."""


class AuthenticationError(ImgtasksError):
    """401: no credentials, or a token that expired or was never ours."""


class PermissionDenied(ImgtasksError):
    """403."""


class NotFound(ImgtasksError):
    """404."""


class Conflict(ImgtasksError):
    """409: the thing is not in a state that allows it (a task not done, a name taken)."""


class PayloadTooLarge(ImgtasksError):
    """413."""


class UnsupportedMediaType(ImgtasksError):
    """415."""


class RateLimited(ImgtasksError):
    """429; `retry_after` seconds, when the service said."""

    @property
    def retry_after(self) -> float | None:
        value = self.problem.get("_retry_after")
        return float(value) if value is not None else None


class ServerError(ImgtasksError):
    """5xx, after the retries an idempotent call gets."""


class TaskFailed(ImgtasksError):
    """A task ended failed or cancelled where done was awaited (`Task.wait(raise_on_failure=True)`)."""


class WaitTimeout(ImgtasksError):
    """A task did not end within the time given to `wait`."""


_BY_STATUS: dict[int, type[ImgtasksError]] = {
    400: InvalidInput,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: InvalidInput,
    429: RateLimited,
}


def error_from(response: httpx.Response) -> ImgtasksError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    # The token endpoint answers RFC 6749's {error, error_description}.
    detail = body.get("detail") or body.get("error_description") or body.get("title") or response.reason_phrase
    if "Retry-After" in response.headers:
        body["_retry_after"] = response.headers["Retry-After"]
    kind = _BY_STATUS.get(response.status_code, ServerError if response.status_code >= 500 else ImgtasksError)
    return kind(response.status_code, str(detail), body)
