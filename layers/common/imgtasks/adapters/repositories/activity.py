"""What happened to tasks minute by minute, for the operators (GET /admin/stats): one item per
minute, `ACTIVITY#<day>` / `<HH:MM>`, a number attribute per `<status>|<type>` and `code|<code>`
(imgtasks.domain.counts), kept 8 days (DynamoDB TTL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key

from .items import Item, as_int

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class ActivityRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, day: str, minute: str, deltas: dict[str, int], expires_at: int) -> None:
        names = {f"#c{index}": name for index, name in enumerate(deltas)}
        values: Item = {f":d{index}": delta for index, delta in enumerate(deltas.values())}
        values[":expires"] = expires_at
        self._table.update_item(
            Key={"PK": f"ACTIVITY#{day}", "SK": minute},
            UpdateExpression="ADD "
            + ", ".join(f"#c{index} :d{index}" for index in range(len(deltas)))
            + " SET expires_at = :expires",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def minutes(self, day: str, first: str, last: str) -> dict[str, dict[str, int]]:
        """The minutes of `day` from `first` to `last` (HH:MM, inclusive) that had activity."""
        query: Item = {"KeyConditionExpression": Key("PK").eq(f"ACTIVITY#{day}") & Key("SK").between(first, last)}
        found: dict[str, dict[str, int]] = {}
        while True:
            response = self._table.query(**query)
            for item in response["Items"]:
                found[f"{day}T{item['SK']!s}"] = {
                    str(name): as_int(value) for name, value in item.items() if "|" in str(name)
                }
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
