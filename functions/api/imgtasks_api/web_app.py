"""The web app's files (GET /app/...), served by the API itself: same origin as the API, so the
session cookie works and no CORS is needed. `make web` builds them into imgtasks_api/webapp/."""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .problems import problem_answer

APP_ROOT = Path(__file__).parent / "webapp"
APP_PREFIX = "/app"


def content_security_policy(media_origins: Sequence[str]) -> str:
    """Scripts, styles and fonts only from us (no inline script, no CDN). Pictures, videos and
    animations also come from `media_origins`: the buckets' presigned URLs and the render URLs,
    whose hosts depend on the deployment. Uploads go to the bucket by presigned POST and the push
    channel is another host (API Gateway's WebSocket API), so connections may go to any host."""
    media = " ".join(["'self'", *dict.fromkeys(media_origins)])
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {media} blob: data:; "
        f"media-src {media} blob:; connect-src 'self' https: http: wss: ws:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


_TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")


def is_app_path(path: str) -> bool:
    return path == APP_PREFIX or path.startswith(APP_PREFIX + "/")


def _answer(
    status: int, headers: dict[str, str], body: bytes, content_type: str, media_origins: Sequence[str]
) -> dict[str, Any]:
    text = content_type.startswith(_TEXT_TYPES)
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": f"{content_type}; charset=utf-8" if text else content_type,
            "Content-Security-Policy": content_security_policy(media_origins),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            **headers,
        },
        "body": body.decode() if text else base64.b64encode(body).decode(),
        "isBase64Encoded": not text,
    }


def serve_app(path: str, media_origins: Sequence[str]) -> dict[str, Any]:
    """`media_origins`: where the page's pictures and videos may come from besides the API."""
    if path == APP_PREFIX:
        return {"statusCode": 308, "headers": {"Location": APP_PREFIX + "/"}, "body": "", "isBase64Encoded": False}
    if not (APP_ROOT / "index.html").is_file():
        return problem_answer(503, "the web app is not built on this deployment: run `make web` before deploying")
    relative = path[len(APP_PREFIX) + 1 :] or "index.html"
    wanted = (APP_ROOT / relative).resolve()
    if not wanted.is_relative_to(APP_ROOT.resolve()) or not wanted.is_file():
        return problem_answer(404, f"{path} is not a file of the web app")
    content_type = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
    # Built assets have a content hash in their names: cached for good. The page itself is
    # revalidated, so a deployment shows at once.
    immutable = relative.startswith("assets/")
    cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
    return _answer(200, {"Cache-Control": cache}, wanted.read_bytes(), content_type, media_origins)
