"""Push: each change of a user's tasks and files, posted to the user's WebSocket connections
(API Gateway's management API). Best effort by design: a change that cannot be posted is not
retried (a client that reconnects reads the state again with GET), and a connection API Gateway
says is gone is forgotten."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from imgtasks.adapters.repositories.connections import ConnectionRepository
from imgtasks.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

# API Gateway's limit on one WebSocket message is 128 KB; a change over it goes without its
# result (the client reads it with GET /tasks/{id}).
MAX_MESSAGE_BYTES = 120_000


@dataclass(frozen=True)
class Change:
    """One change of a task or a file, as pushed: `{"type", "change", "data"}`."""

    owner_id: str
    # "task" or "file"
    kind: str
    # "created", "updated" or "deleted"
    change: str
    # The task or file as the API shows it; only `id` for a deleted one.
    data: dict[str, Any]

    def message(self) -> str:
        body = {"type": self.kind, "change": self.change, "data": self.data}
        text = json.dumps(body, separators=(",", ":"))
        if len(text.encode()) > MAX_MESSAGE_BYTES and "result" in self.data:
            trimmed = {**self.data, "result": None, "result_omitted": f"/tasks/{self.data['id']}/result"}
            text = json.dumps({**body, "data": trimmed}, separators=(",", ":"))
        return text


class Pusher:
    def __init__(self, connections: ConnectionRepository, client: ApiGatewayManagementApiClient) -> None:
        self._connections = connections
        self._client = client

    def connections_of(self, owner_id: str) -> list[str]:
        return self._connections.of_owner(owner_id)

    def push(self, changes: Sequence[Change], connections: dict[str, list[str]]) -> int:
        """Posts each change to its owner's connections (`connections`, by owner, as
        connections_of read them), in order; how many messages went."""
        by_owner: dict[str, list[str]] = {}
        for change in changes:
            by_owner.setdefault(change.owner_id, []).append(change.message())
        sent = 0
        for owner_id, messages in by_owner.items():
            for connection_id in connections.get(owner_id, []):
                sent += self._post_all(connection_id, messages)
        return sent

    def _post_all(self, connection_id: str, messages: list[str]) -> int:
        for index, message in enumerate(messages):
            try:
                self._client.post_to_connection(ConnectionId=connection_id, Data=message.encode())
            except self._client.exceptions.GoneException:
                logger.info("connection gone; forgotten", extra={"connection_id": connection_id})
                self._connections.delete(connection_id)
                return index
            except (ClientError, BotoCoreError):
                logger.exception("push to a connection failed; its next changes still go")
                return index
        return len(messages)
