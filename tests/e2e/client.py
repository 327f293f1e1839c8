"""A small HTTP client for the e2e tests: what a user's code would do with requests."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests


class Client:
    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.token: str | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        kwargs.setdefault("allow_redirects", False)
        return self.http.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)

    def sign_up(self, username: str | None = None, password: str = "correct-horse") -> str:
        name = username or f"user-{uuid.uuid4().hex[:10]}"
        assert self.request("POST", "/auth/register", json={"username": name, "password": password}).status_code == 201
        token = self.request(
            "POST", "/auth/token", data={"grant_type": "password", "username": name, "password": password}
        )
        assert token.status_code == 200, token.text
        self.token = token.json()["access_token"]
        return name

    def upload(self, data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg") -> requests.Response:
        return self.request("POST", "/files", files={"file": (filename, data, content_type)})

    def wait_for(
        self, task_id: str, statuses: tuple[str, ...] = ("done", "failed", "cancelled"), seconds: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            task: dict[str, Any] = self.request("GET", f"/tasks/{task_id}").json()
            if task["status"] in statuses:
                return task
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_id} still {task['status']} after {seconds}s: {task}")
            time.sleep(0.1)
