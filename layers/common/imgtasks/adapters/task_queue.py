"""The task queues on SQS: sending task messages. (The workers parse them with
imgtasks.adapters.task_records.)"""

from __future__ import annotations

from typing import Any

from imgtasks.domain.messages import TaskMessage
from imgtasks.domain.records import Task, TaskType, Worker

SQS_BATCH_LIMIT = 10


class TaskQueue:
    def __init__(
        self,
        sqs_client: Any,
        *,
        process_queue_url: str,
        infer_queue_url: str,
        video_queue_url: str,
        archive_queue_url: str,
    ) -> None:
        self._sqs = sqs_client
        self._urls = {
            TaskType.PROCESS.value: process_queue_url,
            TaskType.INFER.value: infer_queue_url,
            TaskType.ARCHIVE.value: archive_queue_url,
        }
        self._video_url = video_queue_url

    def url_for(self, task: Task) -> str:
        """Video work has a queue (and a bigger, longer-running function) of its own."""
        return self._video_url if task.worker == Worker.VIDEO else self._urls[task.type]

    def send(self, tasks: list[Task]) -> list[Task]:
        """Sends the tasks' messages in SendMessageBatch calls of ten; returns the tasks whose
        messages SQS refused (a call that fails as a whole raises)."""
        refused: list[Task] = []
        by_queue: dict[str, list[Task]] = {}
        for task in tasks:
            by_queue.setdefault(self.url_for(task), []).append(task)
        for url, queued in by_queue.items():
            for start in range(0, len(queued), SQS_BATCH_LIMIT):
                chunk = queued[start : start + SQS_BATCH_LIMIT]
                entries = [
                    {
                        "Id": str(index),
                        "MessageBody": TaskMessage(task_id=t.id, owner_id=t.owner_id, run=t.run).model_dump_json(),
                    }
                    for index, t in enumerate(chunk)
                ]
                response = self._sqs.send_message_batch(QueueUrl=url, Entries=entries)
                refused.extend(chunk[int(failure["Id"])] for failure in response.get("Failed", []))
        return refused
