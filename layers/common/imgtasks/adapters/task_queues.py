"""Task messages onto their kinds' queues (imgtasks.kinds): each task's message goes to the queue
of its kind, so video work reaches the video function and inference the infer function."""

from __future__ import annotations

from imgtasks.adapters.queues import MessageQueue
from imgtasks.domain.messages import TaskMessage
from imgtasks.kinds import Task


class TaskQueues:
    def __init__(self, by_kind: dict[str, MessageQueue]) -> None:
        self._by_kind = by_kind

    def send(self, tasks: list[Task]) -> list[Task]:
        """Sends the tasks' messages; returns the tasks whose messages SQS refused (a call that
        fails as a whole raises)."""
        by_kind: dict[str, list[Task]] = {}
        for task in tasks:
            by_kind.setdefault(task.kind, []).append(task)
        refused: list[Task] = []
        for kind, queued in by_kind.items():
            messages = [TaskMessage(task_id=task.id, owner_id=task.owner_id, run=task.run) for task in queued]
            refused.extend(queued[index] for index in self._by_kind[kind].send(messages))
        return refused
