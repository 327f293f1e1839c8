"""The usage sums behind GET /usage (imgtasks.domain.usage_totals): one item per user and day,
`USAGE#<user>` / `<day>`, and the same sums once more per day and user, `USAGEDAY#<day>` /
`<user>`, for the operators' view of everyone's; a number attribute per `<type>|<measure>`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from .items import Item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class UsageRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def add(self, owner_id: str, day: str, deltas: dict[str, int]) -> None:
        """Two UpdateItems adding every delta (ADD creates what is missing): the user's day and
        the day's user."""
        names = {f"#c{index}": name for index, name in enumerate(deltas)}
        values: Item = {f":d{index}": delta for index, delta in enumerate(deltas.values())}
        expression = "ADD " + ", ".join(f"#c{index} :d{index}" for index in range(len(deltas)))
        for key in ({"PK": f"USAGE#{owner_id}", "SK": day}, {"PK": f"USAGEDAY#{day}", "SK": owner_id}):
            self._table.update_item(
                Key=key, UpdateExpression=expression, ExpressionAttributeNames=names, ExpressionAttributeValues=values
            )

    def _query(self, partition: str, condition: Any = None) -> list[dict[str, Any]]:
        key = Key("PK").eq(partition)
        query: Item = {"KeyConditionExpression": key & condition if condition is not None else key}
        items: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**query)
            items.extend(response["Items"])
            if "LastEvaluatedKey" not in response:
                return items
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def days(self, owner_id: str, first: str, last: str) -> dict[str, dict[str, Any]]:
        """The user's days from `first` to `last` (YYYY-MM-DD, inclusive) that have sums."""
        items = self._query(f"USAGE#{owner_id}", Key("SK").between(first, last))
        return {str(item["SK"]): item for item in items}

    def users(self, day: str) -> dict[str, dict[str, Any]]:
        """Every user's sums on `day`, by user id."""
        return {str(item["SK"]): item for item in self._query(f"USAGEDAY#{day}")}
