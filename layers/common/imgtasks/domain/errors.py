"""The domain's exceptions and the catalog of error codes.

The API maps each `DomainError` to one HTTP status in one place (problem details). A task that
fails, or a file that is rejected, carries an `ErrorCode` from the catalog below: the one list of
codes clients can see, documented in docs/api-v1.md and in the OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Any


class ErrorCode(StrEnum):
    INVALID_IMAGE = "invalid_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    IMAGE_TOO_LARGE = "image_too_large"
    FILE_TOO_LARGE = "file_too_large"
    INVALID_OPERATION = "invalid_operation"
    INVALID_OUTPUT = "invalid_output"
    FILE_MISSING = "file_missing"
    FILE_REJECTED = "file_rejected"
    MODEL_UNAVAILABLE = "model_unavailable"
    INFERENCE_FAILED = "inference_failed"
    INVALID_VIDEO = "invalid_video"
    NO_VIDEO_STREAM = "no_video_stream"
    UNSUPPORTED_CODEC = "unsupported_codec"
    VIDEO_TOO_LONG = "video_too_long"
    OUTPUT_TOO_LARGE = "output_too_large"
    PROCESSING_TIMEOUT = "processing_timeout"
    URL_REFUSED = "url_refused"
    URL_UNREACHABLE = "url_unreachable"
    RETRIES_EXHAUSTED = "retries_exhausted"


@dataclass(frozen=True)
class ErrorCodeInfo:
    meaning: str
    # True: the service retried the work (SQS redelivery) before settling on this code. False: the
    # code is permanent, the work fails on its first attempt and a retry could not change it.
    retried: bool


CATALOG: dict[ErrorCode, ErrorCodeInfo] = {
    ErrorCode.INVALID_IMAGE: ErrorCodeInfo("the bytes are not a readable image, or are truncated or corrupt", False),
    ErrorCode.UNSUPPORTED_FORMAT: ErrorCodeInfo(
        "an image format the service does not read, or not the content type announced for the upload", False
    ),
    ErrorCode.IMAGE_TOO_LARGE: ErrorCodeInfo(
        "more pixels or frames than the configured limits, in the input or the output", False
    ),
    ErrorCode.FILE_TOO_LARGE: ErrorCodeInfo("more bytes than announced, or than the configured upload limit", False),
    ErrorCode.INVALID_OPERATION: ErrorCodeInfo(
        "an operation that cannot apply to this image (a crop outside it, a frame window after its end)", False
    ),
    ErrorCode.INVALID_OUTPUT: ErrorCodeInfo("an output format the engine cannot write for this image", False),
    ErrorCode.FILE_MISSING: ErrorCodeInfo("the input file was deleted, or is not ready, when the task ran", False),
    ErrorCode.FILE_REJECTED: ErrorCodeInfo(
        "the input file was rejected for a reason with no code of its own (a rejected file's own code is used "
        "when it has one)",
        False,
    ),
    ErrorCode.MODEL_UNAVAILABLE: ErrorCodeInfo(
        "the model is not in the registry, its weights do not match their checksum, or they cannot be loaded", False
    ),
    ErrorCode.INFERENCE_FAILED: ErrorCodeInfo("the model failed while running on this image", False),
    ErrorCode.INVALID_VIDEO: ErrorCodeInfo(
        "the bytes are not a readable video (truncated, damaged, or a frame rate or size no camera makes)", False
    ),
    ErrorCode.NO_VIDEO_STREAM: ErrorCodeInfo("the file is a container with no picture in it (audio only)", False),
    ErrorCode.UNSUPPORTED_CODEC: ErrorCodeInfo("the video is in a codec the service cannot decode", False),
    ErrorCode.VIDEO_TOO_LONG: ErrorCodeInfo(
        "the source video, or the output asked of it, is longer than the configured limits", False
    ),
    ErrorCode.OUTPUT_TOO_LARGE: ErrorCodeInfo(
        "the output of a video task would have more frames, or pixels x frames, than the configured limits", False
    ),
    ErrorCode.PROCESSING_TIMEOUT: ErrorCodeInfo(
        "the work would not finish within the time a worker may run; ask for less (a shorter window, fewer "
        "frames per second, a smaller size)",
        False,
    ),
    ErrorCode.URL_REFUSED: ErrorCodeInfo(
        "a URL the service may not fetch: not http(s), or a name or redirect that leads to a loopback, private, "
        "link-local, metadata or reserved address, or more than 3 redirects",
        False,
    ),
    ErrorCode.URL_UNREACHABLE: ErrorCodeInfo(
        "the URL's server could not be reached or did not answer with the file (an error status, a timeout); "
        "network failures are retried first",
        True,
    ),
    ErrorCode.RETRIES_EXHAUSTED: ErrorCodeInfo(
        "the work failed on every delivery (MaxReceiveCount, default 3) for a transient reason, or its worker died; "
        "restarting the task may succeed",
        True,
    ),
}


def catalog_markdown() -> str:
    """The catalog as a list, for the OpenAPI document's description of the code."""
    return "\n".join(
        f"- `{code.value}`: {info.meaning} ({'retried first' if info.retried else 'not retried'})"
        for code, info in CATALOG.items()
    )


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


class TooManyRequests(DomainError):
    """Refused for now: try again after `retry_after` seconds (429)."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


# The HTTP status each domain error is answered with (RFC 9457 problem details).
HTTP_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    TooManyRequests: 429,
}


def http_status(error: DomainError) -> int:
    return next((code for kind, code in HTTP_STATUS.items() if isinstance(error, kind)), 400)


PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_document(status: int, detail: str) -> dict[str, Any]:
    """RFC 9457 problem details: the body of every refusal the service answers with."""
    phrase = HTTPStatus(status).phrase
    return {
        "type": f"https://imgtasks.dev/problems/{phrase.lower().replace(' ', '-')}",
        "title": phrase,
        "status": status,
        "detail": detail,
    }


class PermanentTaskError(Exception):
    """A task can never succeed (corrupt image, limits exceeded): mark it failed, do not retry."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
