"""The fetch queue on SQS: which files to fetch from their URLs (URL ingest)."""

from __future__ import annotations

from typing import Any

from imgtasks.domain.messages import FetchMessage

SQS_BATCH_LIMIT = 10


class FetchQueue:
    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = sqs_client
        self._url = queue_url

    def send(self, file_ids: list[str]) -> list[str]:
        """Sends one message per file in SendMessageBatch calls of ten; returns the ids SQS refused
        (a call that fails as a whole raises)."""
        refused: list[str] = []
        for start in range(0, len(file_ids), SQS_BATCH_LIMIT):
            chunk = file_ids[start : start + SQS_BATCH_LIMIT]
            entries = [
                {"Id": str(index), "MessageBody": FetchMessage(file_id=file_id).model_dump_json()}
                for index, file_id in enumerate(chunk)
            ]
            response = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            refused.extend(chunk[int(failure["Id"])] for failure in response.get("Failed", []))
        return refused
