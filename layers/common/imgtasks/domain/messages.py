"""The message on a task queue. It names a task and the run it was sent for; the worker reads the
task record for everything else, so a message never carries stale state. It also carries what the
dispatcher used for it (the worker adds that to the task's usage with its own)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from imgtasks.domain.base import Model
from imgtasks.domain.usage import Usage


class TaskMessage(Model):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["task"] = "task"
    task_id: str
    owner_id: str
    run: int
    # The dispatcher's share: one stream record of its invocation, and the message's send.
    dispatch_usage: Usage | None = None


class FetchMessage(Model):
    """The message on the fetch queue: a file to fetch from its URL (the record holds the URL)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["fetch"] = "fetch"
    file_id: str
