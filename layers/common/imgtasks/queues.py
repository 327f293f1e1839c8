"""Task messages on SQS. A message names a task and the run it was sent for; the worker reads the
task record for everything else, so a message never carries stale state."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from .models import Task, TaskType


class TaskMessage(BaseModel):
    kind: str = "task"
    task_id: str
    owner_id: str
    run: int


class TaskQueue:
    def __init__(self, sqs_client: Any, process_queue_url: str, infer_queue_url: str) -> None:
        self._sqs = sqs_client
        self._urls = {TaskType.PROCESS.value: process_queue_url, TaskType.INFER.value: infer_queue_url}

    def send(self, tasks: list[Task]) -> None:
        by_queue: dict[str, list[Task]] = {}
        for task in tasks:
            by_queue.setdefault(self._urls[task.type], []).append(task)
        for url, queued in by_queue.items():
            for start in range(0, len(queued), 10):
                chunk = queued[start : start + 10]
                entries = [
                    {
                        "Id": str(index),
                        "MessageBody": TaskMessage(task_id=t.id, owner_id=t.owner_id, run=t.run).model_dump_json(),
                    }
                    for index, t in enumerate(chunk)
                ]
                response = self._sqs.send_message_batch(QueueUrl=url, Entries=entries)
                if response.get("Failed"):
                    failed = ", ".join(f"{f['Id']}: {f.get('Message', f.get('Code'))}" for f in response["Failed"])
                    raise RuntimeError(f"SQS refused task messages ({failed})")


def parse_task_message(body: str) -> TaskMessage | None:
    """The message if the body is a task message, None for anything else."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") != "task":
        return None
    try:
        return TaskMessage.model_validate(data)
    except ValidationError:
        return None
