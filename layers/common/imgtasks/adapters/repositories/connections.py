"""WebSocket connections: `WSCONN#<connection id>`, listed by owner on GSI1, each expiring (DynamoDB
TTL) when API Gateway would have closed it (2 hours), in case $disconnect never came."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Attr, Key

from .items import Item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# API Gateway closes a WebSocket connection after 2 hours.
CONNECTION_SECONDS = 2 * 3600


class ConnectionRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def item_key(connection_id: str) -> Item:
        return {"PK": f"WSCONN#{connection_id}", "SK": "WSCONN"}

    @staticmethod
    def _owner_partition(owner_id: str) -> str:
        return f"OWNER#{owner_id}#WSCONN"

    def put(self, connection_id: str, owner_id: str, connected_at: int) -> None:
        self._table.put_item(
            Item={
                **self.item_key(connection_id),
                "GSI1PK": self._owner_partition(owner_id),
                "GSI1SK": connection_id,
                "owner_id": owner_id,
                "connected_at": connected_at,
                "expires_at": connected_at + CONNECTION_SECONDS,
            }
        )

    def delete(self, connection_id: str) -> None:
        self._table.delete_item(Key=self.item_key(connection_id))

    def of_owner(self, owner_id: str) -> list[str]:
        """The owner's connection ids (a TTL deletes within days, so ones past their expiry are
        left out here)."""
        query: Item = {
            "IndexName": "GSI1",
            "KeyConditionExpression": Key("GSI1PK").eq(self._owner_partition(owner_id)),
            "FilterExpression": Attr("expires_at").gt(int(time.time())),
        }
        found: list[str] = []
        while True:
            response = self._table.query(**query)
            found.extend(str(item["GSI1SK"]) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
