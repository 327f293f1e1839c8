"""The push channel: each change of your tasks and files as it happens (a WebSocket the service
keeps open), for `client.events()` (sync and async) and `imgtasks watch`."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .models import File, Task


class Change(BaseModel):
    """One change: `type` task or file, `change` created, updated or deleted; `task` or `file` as
    the API shows it (None when deleted: only `id` is known then)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["task", "file"]
    change: Literal["created", "updated", "deleted"]
    id: str
    task: Task | None = None
    file: File | None = None

    @classmethod
    def parse(cls, message: str | bytes) -> Change:
        body: dict[str, Any] = json.loads(message)
        data = body.get("data") or {}
        kind, change = body["type"], body["change"]
        found: dict[str, Any] = {"type": kind, "change": change, "id": data["id"]}
        if change != "deleted":
            found[kind] = Task.model_validate(data) if kind == "task" else File.model_validate(data)
        return cls.model_validate(found)


def connect_url(ticket: dict[str, Any]) -> str:
    """The WebSocket URL with its ticket (POST /events/tickets)."""
    separator = "&" if "?" in ticket["url"] else "?"
    return f"{ticket['url']}{separator}ticket={ticket['ticket']}"
