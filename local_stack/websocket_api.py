"""The WebSocket API's local stand-in, on the API's port: `ws://127.0.0.1:3000/<stage>` (the stage
the template names, `ws`), the protocol spoken by the `websockets` package (sans-I/O: this module
only moves bytes). As API Gateway does, it turns a handshake into the $connect event for the
integration's function (a refusal there refuses the handshake with its status), each message
into a $default event and the close into $disconnect; and it serves the management API the
functions post to (`POST|GET|DELETE /<stage>/@connections/{id}`, 410 for a connection that is
gone). What it does not do: check the management calls' signatures (the port is loopback only),
close a connection after API Gateway's 2 hours or 10 idle minutes."""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from .runtime import FunctionPool
from .template import Stack

log = logging.getLogger("local_stack.websocket")

Answer = tuple[int, list[tuple[str, str]], bytes]
_FUNCTION_ARN = re.compile(r"\$\{(\w+)\.Arn\}")


@dataclass(frozen=True)
class WebSocketConfig:
    stage: str
    function: str  # the integration's function (logical id)


def websocket_config(stack: Stack) -> WebSocketConfig | None:
    """The template's WebSocket API: its stage's name and the function its integration invokes."""
    resources = stack.resources
    stages = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    integrations = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Integration"]
    if not stages or not integrations:
        return None
    uri = integrations[0]["Properties"]["IntegrationUri"]
    text = uri.get("Fn::Sub", "") if isinstance(uri, dict) else str(uri)
    found = _FUNCTION_ARN.search(text if isinstance(text, str) else text[0])
    if found is None:
        raise ValueError("the WebSocket integration's IntegrationUri names no function")
    return WebSocketConfig(stage=str(stages[0]["Properties"]["StageName"]), function=found.group(1))


class Connection:
    def __init__(self, connection_id: str, handler: BaseHTTPRequestHandler, protocol: ServerProtocol) -> None:
        self.id = connection_id
        self.handler = handler
        self.protocol = protocol
        self.connected_at = time.time()
        self.last_active = self.connected_at
        self.source_ip = handler.client_address[0]
        self._lock = threading.Lock()

    def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.handler.wfile.write(data)
        self.handler.wfile.flush()

    def send_text(self, text: str) -> None:
        with self._lock:
            self.protocol.send_text(text.encode())
            self.flush()

    def close(self) -> None:
        with self._lock:
            if self.protocol.state is State.OPEN:
                self.protocol.send_close(1000, "closed by the server")
                self.flush()


class WebSocketApi:
    def __init__(self, config: WebSocketConfig, function: FunctionPool) -> None:
        self.config = config
        self._function = function
        self._connections: dict[str, Connection] = {}
        self._lock = threading.Lock()

    def serves(self, path: str) -> bool:
        return path == f"/{self.config.stage}" or path.startswith(f"/{self.config.stage}/@connections/")

    def is_handshake(self, path: str) -> bool:
        return path == f"/{self.config.stage}"

    # ------------------------------------------------------------ the management API
    def manage(self, method: str, path: str, body: bytes) -> Answer:
        connection_id = unquote(path.rsplit("/@connections/", 1)[-1])
        with self._lock:
            connection = self._connections.get(connection_id)
        if connection is None:
            return _json(410, {"message": "GoneException"}, [("x-amzn-ErrorType", "GoneException")])
        if method == "POST":
            try:
                connection.send_text(body.decode())
            except OSError:
                return _json(410, {"message": "GoneException"}, [("x-amzn-ErrorType", "GoneException")])
            return 200, [], b""
        if method == "DELETE":
            connection.close()
            return 204, [], b""
        if method == "GET":
            return _json(
                200,
                {
                    "ConnectedAt": _iso(connection.connected_at),
                    "LastActiveAt": _iso(connection.last_active),
                    "Identity": {"SourceIp": connection.source_ip},
                },
            )
        return _json(405, {"message": "Method Not Allowed"})

    # ------------------------------------------------------------ a connection
    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        """The handshake, then the connection, in the request's thread until it closes."""
        protocol = ServerProtocol()
        # The handler has read the request already; the protocol parses it again from its bytes,
        # as it must see the handshake before it reads frames.
        head = handler.requestline + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in handler.headers.items()) + "\r\n"
        protocol.receive_data(head.encode("latin-1"))
        parsed = protocol.events_received()
        request = parsed[0] if parsed and isinstance(parsed[0], Request) else None
        if request is None:
            handler.close_connection = True
            handler.send_error(400, "not a WebSocket handshake")
            return
        connection_id = base64.b64encode(secrets.token_bytes(12)).decode()
        handler.close_connection = True
        accepted = protocol.accept(request)
        if accepted.status_code != 101:  # not a WebSocket handshake at all
            protocol.send_response(accepted)
            _write(handler, protocol)
            return
        answer = self._invoke("$connect", "CONNECT", connection_id, handler, request)
        status = int(answer.get("statusCode", 500)) if isinstance(answer, dict) else 500
        if status != 200:
            refused = protocol.reject(
                status, str(answer.get("body") or "Forbidden") if isinstance(answer, dict) else ""
            )
            protocol.send_response(refused)
            _write(handler, protocol)
            return
        protocol.send_response(accepted)
        connection = Connection(connection_id, handler, protocol)
        with self._lock:
            self._connections[connection_id] = connection
        try:
            _write(handler, protocol)
            self._read(connection, request)
        finally:
            with self._lock:
                self._connections.pop(connection_id, None)
            self._invoke("$disconnect", "DISCONNECT", connection_id, handler, request)

    def _read(self, connection: Connection, request: Request) -> None:
        reader = connection.handler.rfile
        protocol = connection.protocol
        while protocol.state is not State.CLOSED:
            try:
                data = reader.read1(65536)
            except OSError:
                data = b""
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            connection.last_active = time.time()
            for event in protocol.events_received():
                if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY):
                    self._invoke("$default", "MESSAGE", connection.id, connection.handler, request, bytes(event.data))
            try:
                with connection._lock:
                    connection.flush()
            except OSError:
                return
            if not data:
                return

    def _invoke(
        self,
        route: str,
        event_type: str,
        connection_id: str,
        handler: BaseHTTPRequestHandler,
        request: Request,
        body: bytes | None = None,
    ) -> Any:
        now = time.time()
        headers = dict(request.headers.raw_items())
        query = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
        event: dict[str, Any] = {
            "requestContext": {
                "routeKey": route,
                "eventType": event_type,
                "messageDirection": "IN",
                "stage": self.config.stage,
                "connectionId": connection_id,
                "connectedAt": int(now * 1000),
                "requestTimeEpoch": int(now * 1000),
                "requestId": uuid.uuid4().hex[:16],
                "domainName": headers.get("Host", "127.0.0.1"),
                "apiId": "local-websocket",
                "identity": {"sourceIp": handler.client_address[0], "userAgent": headers.get("User-Agent", "")},
            },
            "isBase64Encoded": False,
        }
        if event_type == "CONNECT":
            event["headers"] = headers
            event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
            event["queryStringParameters"] = query or None
        if body is not None:
            event["body"] = body.decode(errors="replace")
        result = self._function.invoke(event)
        if not result.ok:
            log.error("the WebSocket function failed on %s: %s", route, result.error)
            return {"statusCode": 500}
        return result.payload


def _write(handler: BaseHTTPRequestHandler, protocol: ServerProtocol) -> None:
    for data in protocol.data_to_send():
        if data:
            handler.wfile.write(data)
    handler.wfile.flush()


def _json(status: int, body: dict[str, Any], headers: list[tuple[str, str]] | None = None) -> Answer:
    return status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(body).encode()


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(moment))
