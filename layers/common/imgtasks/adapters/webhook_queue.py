"""The webhook queue on SQS: delivery messages, each with the delay before its attempt."""

from __future__ import annotations

from typing import Any

from imgtasks.domain.webhooks import DeliveryMessage

SQS_BATCH_LIMIT = 10
MAX_DELAY_SECONDS = 900  # SQS's limit: longer waits are chained (DeliveryMessage.not_before)


class WebhookQueue:
    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = sqs_client
        self._url = queue_url

    def send(self, messages: list[DeliveryMessage], delay_seconds: int) -> None:
        """Raises when SQS refuses any: the caller's input is delivered again (same webhook-ids)."""
        delay = max(0, min(MAX_DELAY_SECONDS, delay_seconds))
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = messages[start : start + SQS_BATCH_LIMIT]
            entries = [
                {"Id": str(index), "MessageBody": message.model_dump_json(), "DelaySeconds": delay}
                for index, message in enumerate(chunk)
            ]
            response = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"SQS refused {len(response['Failed'])} webhook messages")
