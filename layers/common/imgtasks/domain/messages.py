"""The message on a task queue. It names a task and the run it was sent for; the worker reads the
task record for everything else, so a message never carries stale state. (What the dispatcher
used for the task travels beside the body, as the message attribute DISPATCH_USAGE_ATTRIBUTE:
a worker that does not know it still reads the body.)"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from imgtasks.domain.base import Model

DISPATCH_USAGE_ATTRIBUTE = "dispatch_usage"


class TaskMessage(Model):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["task"] = "task"
    task_id: str
    owner_id: str
    run: int


class FetchMessage(Model):
    """The message on the fetch queue: a file to fetch from its URL (the record holds the URL)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["fetch"] = "fetch"
    file_id: str
