"""Sending messages to SQS: one sender for every queue (tasks, fetches, webhook deliveries), ten
messages to a SendMessageBatch call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from imgtasks.domain.base import Model

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SQS_BATCH_LIMIT = 10
MAX_DELAY_SECONDS = 900  # SQS's limit


class MessageQueue:
    """One queue: messages (pydantic models) sent as their JSON."""

    def __init__(self, sqs: SQSClient, url: str) -> None:
        self._sqs = sqs
        self.url = url

    def send(
        self, messages: Sequence[Model], *, delay_seconds: int = 0, attributes: Sequence[dict[str, str]] | None = None
    ) -> list[int]:
        """Sends the messages in SendMessageBatch calls of ten; returns the indexes of those SQS
        refused (a call that fails as a whole raises). `attributes`: each message's string
        message attributes (beside the body, so a reader that does not know them reads on)."""
        delay = max(0, min(MAX_DELAY_SECONDS, delay_seconds))
        refused: list[int] = []
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = messages[start : start + SQS_BATCH_LIMIT]
            entries: list[SendMessageBatchRequestEntryTypeDef] = []
            for index, message in enumerate(chunk):
                entry: SendMessageBatchRequestEntryTypeDef = {
                    "Id": str(index),
                    "MessageBody": message.model_dump_json(),
                    "DelaySeconds": delay,
                }
                named = attributes[start + index] if attributes is not None else {}
                if named:
                    entry["MessageAttributes"] = {
                        name: {"DataType": "String", "StringValue": value} for name, value in named.items()
                    }
                entries.append(entry)
            response = self._sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            refused.extend(start + int(failure["Id"]) for failure in response.get("Failed", []))
        return refused
