"""Task messages onto their kinds' queues (imgtasks.kinds): each task's message goes to the queue
of its kind, so video work reaches the video function and inference the infer function."""

from __future__ import annotations

import math

from imgtasks.adapters.queues import SQS_BATCH_LIMIT, MessageQueue
from imgtasks.domain.messages import DISPATCH_USAGE_ATTRIBUTE, TaskMessage
from imgtasks.domain.usage import Requests, Usage, with_call
from imgtasks.kinds import Task


class TaskQueues:
    def __init__(self, by_kind: dict[str, MessageQueue]) -> None:
        self._by_kind = by_kind

    def send(self, tasks: list[Task], dispatch_usage: Usage | None = None) -> list[Task]:
        """Sends the tasks' messages; returns the tasks whose messages SQS refused (a call that
        fails as a whole raises). Each message carries `dispatch_usage` (the dispatcher's share
        of its invocation per task) with its share of the SendMessageBatch calls."""
        by_kind: dict[str, list[Task]] = {}
        for task in tasks:
            by_kind.setdefault(task.kind, []).append(task)
        refused: list[Task] = []
        for kind, queued in by_kind.items():
            carried = None
            if dispatch_usage is not None:
                calls = math.ceil(len(queued) / SQS_BATCH_LIMIT) / len(queued)
                carried = with_call(dispatch_usage, "sqs SendMessageBatch", calls, Requests(sqs=calls))
            messages = [TaskMessage(task_id=task.id, owner_id=task.owner_id, run=task.run) for task in queued]
            attributes = [{DISPATCH_USAGE_ATTRIBUTE: carried.model_dump_json()} if carried else {} for _ in queued]
            refused.extend(queued[index] for index in self._by_kind[kind].send(messages, attributes=attributes))
        return refused
