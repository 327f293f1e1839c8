"""Drives the API function's handler with real HTTP API v2 events, as API Gateway would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from imgtasks_api.handler import handle
from imgtasks_api.wiring import ApiWiring
from tests.helpers import FakeLambdaContext, http_event, multipart


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def problem(self) -> dict[str, Any]:
        assert self.headers.get("Content-Type") == "application/problem+json", self.headers
        assert isinstance(self.body, dict)
        return self.body


class ApiClient:
    def __init__(self, services: ApiWiring) -> None:
        self.services = services
        self.token: str | None = None

    def call(
        self, method: str, path: str, *, token: str | None = None, anonymous: bool = False, **kwargs: Any
    ) -> Answer:
        chosen = None if anonymous else (token or self.token)
        response = handle(http_event(method, path, token=chosen, **kwargs), FakeLambdaContext(), self.services)  # type: ignore[arg-type]
        raw = response.get("body") or ""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers[name] = str(values[0])
        return Answer(response["statusCode"], headers, body)

    def sign_up(self, username: str = "alice", password: str = "correct-horse") -> str:
        assert self.call("POST", "/auth/register", json_body={"username": username, "password": password}).status == 201
        answer = self.call(
            "POST", "/auth/token", form={"grant_type": "password", "username": username, "password": password}
        )
        assert answer.status == 200, answer.body
        self.token = answer.body["access_token"]
        return str(self.token)

    def upload(
        self, data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg", **kwargs: Any
    ) -> Answer:
        body, header = multipart({}, {"file": (filename, data, content_type)})
        return self.call("POST", "/files", body=body, headers={"content-type": header}, **kwargs)
