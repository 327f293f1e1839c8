"""The HTTP API on 127.0.0.1:3000 (and the distribution's stand-in, local_stack/edge.py, for
render URLs under /img/, and the WebSocket API's, local_stack/websocket_api.py, under /ws): each
request becomes the payload-format-2.0 event API Gateway
sends to Lambda, and the function's answer becomes the HTTP response. It refuses what AWS refuses:
bodies over 10 MB and events over Lambda's 6 MB invocation limit (413), a function past its
timeout (503), a function error (500)."""

from __future__ import annotations

import base64
import json
import logging
import sys
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from .runtime import FunctionPool

if TYPE_CHECKING:
    from .edge import Edge
    from .websocket_api import WebSocketApi
from .template import ACCOUNT_ID

log = logging.getLogger("local_stack.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_EVENT_BYTES = 6 * 1024 * 1024

# API Gateway answers these itself, with a bare message; locally the answer says what to do instead.
TOO_LARGE_PROBLEM = json.dumps(
    {
        "type": "https://imgtasks.dev/problems/content-too-large",
        "title": "Content Too Large",
        "status": 413,
        "detail": (
            "the request is over the API's size limit (a 6 MB Lambda event; files over 4 MiB do not fit): "
            "upload big files with POST /files/presigned and post the bytes straight to S3"
        ),
    }
).encode()

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def _is_text(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith(_TEXT_TYPES) or media.endswith(("+json", "+xml"))


def build_event(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str, api_id: str = "local"
) -> dict[str, Any]:
    parts = urlsplit(target)
    lowered: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": lowered.get("host", "127.0.0.1").split(".", 1)[0],
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:20],
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body:
        if _is_text(lowered.get("content-type", "")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def translate_response(payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Payload format 2.0: a dict with statusCode, or any JSON value meaning 200 with that body."""
    if not isinstance(payload, dict) or "statusCode" not in payload:
        return 200, [("Content-Type", "application/json")], json.dumps(payload).encode()
    headers: list[tuple[str, str]] = [(k, str(v)) for k, v in (payload.get("headers") or {}).items()]
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    headers.extend(("Set-Cookie", cookie) for cookie in payload.get("cookies") or [])
    body = payload.get("body") or ""
    data = base64.b64decode(body) if payload.get("isBase64Encoded") else str(body).encode("utf-8")
    return int(payload["statusCode"]), headers, data


class _Handler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: with Nagle's algorithm on, the body waits for
    # the client's delayed ACK of the headers, 40 ms on every answer of a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        log.info("%s %s", self.address_string(), format % args)

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        names = {name.lower() for name, _ in headers}
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        if "content-type" not in names and body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("apigw-requestid", uuid.uuid4().hex[:16])
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _message(self, status: int, message: str) -> None:
        self._reply(status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())

    def _too_large(self) -> None:
        self._reply(413, [("Content-Type", "application/problem+json")], TOO_LARGE_PROBLEM)

    def _handle(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            self._message(411, "Length Required")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._too_large()
            return
        body = self.rfile.read(length) if length else b""
        websocket = self.server.websocket
        path = urlsplit(self.path).path
        if websocket is not None and websocket.serves(path):
            if websocket.is_handshake(path):
                websocket.serve(self)
            else:
                self._reply(*websocket.manage(self.command, path, body))
            return
        edge = self.server.edge
        if edge is not None and edge.serves(urlsplit(self.path).path):
            self._reply(*edge.answer(self.command, self.path, list(self.headers.items()), self.client_address[0]))
            return
        event = build_event(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        if len(json.dumps(event)) > MAX_EVENT_BYTES:
            self._too_large()
            return
        started = time.monotonic()
        function = self.server.function
        if function is None:  # only between binding the port and serving, which never answers
            self._message(503, "Service Unavailable")
            return
        result = function.invoke(event)
        elapsed_ms = (time.monotonic() - started) * 1000
        log.debug("%s %s -> invoked in %.0f ms", self.command, self.path, elapsed_ms)
        if result.timed_out or result.stopped:
            self._message(503, "Service Unavailable")
        elif not result.ok:
            log.error("function error: %s", (result.error or {}).get("errorMessage"))
            self._message(500, "Internal Server Error")
        else:
            try:
                self._reply(*translate_response(result.payload))
            except (KeyError, ValueError, TypeError):
                log.exception("malformed function response")
                self._message(500, "Internal Server Error")

    def __getattr__(self, name: str) -> Any:
        """Every method reaches the function (which answers 405 where the API does not serve it),
        as the $default route sends them all, instead of the standard library's HTML 501."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        """Binds the port at once (a busy one is an OSError here); serves once `function` is set."""
        super().__init__(address, _Handler)
        self.function: FunctionPool | None = None
        # The distribution's stand-in: render URLs (/img/...) go to it, the rest to the API.
        self.edge: Edge | None = None
        # The WebSocket API's stand-in: its stage's path (/ws) and the management API under it.
        self.websocket: WebSocketApi | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up before its answer is written is not our error."""
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
            log.debug("%s went away before its answer was written", client_address[0])
            return
        super().handle_error(request, client_address)
