"""The message on a task queue. It names a task and the run it was sent for; the worker reads the
task record for everything else, so a message never carries stale state."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from imgtasks.domain.base import Model


class TaskMessage(Model):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["task"] = "task"
    task_id: str
    owner_id: str
    run: int
