"""The render function, behind a Lambda function URL that only the distribution may call (origin
access control): a GET of a render URL the bucket had no object for. The answer is the image
(base64, as a function URL takes binary bodies), a redirect to the same URL when the image is over
Lambda's 6 MB response limit, or RFC 9457 problem details."""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

import imgtasks_imaging as imaging
from imgtasks.domain.errors import (
    PROBLEM_CONTENT_TYPE,
    DomainError,
    PermanentTaskError,
    TooManyRequests,
    http_status,
    problem_document,
)
from imgtasks.observability import logger, metrics
from imgtasks.services.renders import RenderAnswer, RenderService
from imgtasks.settings import RenderSettings
from imgtasks.wiring import Wiring

from .pictures import Pictures


@cache
def service() -> RenderService:
    """Built on the first request of a container (cold start) and kept for the next ones."""
    settings = RenderSettings()  # type: ignore[call-arg]
    wiring = Wiring(settings)
    limits = imaging.DecodeLimits(max_pixels=settings.max_image_pixels, max_frames=settings.max_image_frames)
    return wiring.render_service(Pictures(wiring.store, limits, wiring.limits.video), settings.renders_per_minute)


def problem(
    status: int, detail: str, *, code: str | None = None, headers: dict[str, str] | None = None
) -> RenderAnswer:
    body = problem_document(status, detail)
    if code is not None:
        body["code"] = code
    # A refusal is not cached for long: a key made or a file uploaded a moment later should work.
    all_headers = {"Content-Type": PROBLEM_CONTENT_TYPE, "Cache-Control": "no-store", **(headers or {})}
    return RenderAnswer(status, all_headers, json.dumps(body).encode())


def answer(method: str, path: str) -> RenderAnswer:
    if method not in ("GET", "HEAD"):
        return problem(405, "render URLs are read with GET or HEAD", headers={"Allow": "GET, HEAD"})
    try:
        return service().serve(path)
    except TooManyRequests as error:
        return problem(429, error.detail, headers={"Retry-After": str(error.retry_after)})
    except DomainError as error:
        return problem(http_status(error), error.detail)
    except PermanentTaskError as error:
        # The file is there and readable by tasks, but this render of it cannot be made.
        return problem(422, error.message, code=error.code.value)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    http = event.get("requestContext", {}).get("http", {})
    made = answer(str(http.get("method", "GET")), str(event.get("rawPath") or "/"))
    logger.info("render answered", extra={"path": event.get("rawPath"), "status": made.status})
    metrics.add_metric(name=f"Render{made.status}", unit="Count", value=1)
    return {
        "statusCode": made.status,
        "headers": made.headers,
        "body": base64.b64encode(made.body).decode("ascii"),
        "isBase64Encoded": True,
    }
