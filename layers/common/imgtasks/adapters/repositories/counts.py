"""The counters behind the list endpoints' totals (imgtasks.domain.counts): one item per user and
kind of record, `COUNTS#<user>` / `TASKCOUNTS` or `FILECOUNTS`, a number attribute per counter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .items import Item, as_int

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class CountRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def item_key(owner_id: str, counters: str) -> Item:
        return {"PK": f"COUNTS#{owner_id}", "SK": counters}

    def add(self, owner_id: str, counters: str, deltas: dict[str, int]) -> None:
        """One UpdateItem adding every delta (ADD creates what is missing)."""
        names = {f"#c{index}": name for index, name in enumerate(deltas)}
        values = {f":d{index}": delta for index, delta in enumerate(deltas.values())}
        self._table.update_item(
            Key=self.item_key(owner_id, counters),
            UpdateExpression="ADD " + ", ".join(f"#c{index} :d{index}" for index in range(len(deltas))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def total(self, owner_id: str, counters: str, name: str) -> int:
        """One counter; 0 when nothing was ever counted in it."""
        item = self._table.get_item(
            Key=self.item_key(owner_id, counters),
            ProjectionExpression="#c",
            ExpressionAttributeNames={"#c": name},
        ).get("Item")
        return max(0, as_int(item[name])) if item and name in item else 0
