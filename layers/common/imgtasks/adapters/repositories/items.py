"""The single DynamoDB table's items (key layout in infra/template.yaml): what every repository
shares. Each repository takes the table (a boto3 Table resource); none creates a client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table

Item = dict[str, Any]


def is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _without_keys(item: Item) -> Item:
    return {k: v for k, v in item.items() if k not in ("PK", "SK") and not k.startswith("GSI")}


def plain_item(item: Item) -> Item:
    """DynamoDB returns every number as Decimal; the records hold ints."""
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in _without_keys(item).items()}


def as_int(value: Any) -> int:
    """A number attribute (a Decimal, as DynamoDB gives every number) as an int."""
    return int(value)


BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
_UNPROCESSED_RETRIES = 5


def batch_get(table: Table, keys: list[Item]) -> list[Item]:
    """One BatchGetItem of at most 100 keys, asking again for what DynamoDB left unprocessed
    (throttling) with a short back-off."""
    client = table.meta.client
    request: dict[str, Any] = {table.name: {"Keys": keys, "ConsistentRead": True}}
    items: list[Item] = []
    for attempt in range(_UNPROCESSED_RETRIES + 1):
        response = client.batch_get_item(RequestItems=request)
        items.extend(response.get("Responses", {}).get(table.name, []))
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return items
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError(f"DynamoDB left {len(request[table.name]['Keys'])} keys unprocessed after retries")


def batch_write(client: DynamoDBClient, table_name: str, requests: list[Item]) -> None:
    """One BatchWriteItem of at most 25 requests, asking again for the unprocessed ones."""
    pending: dict[str, Any] = {table_name: requests}
    for attempt in range(_UNPROCESSED_RETRIES + 1):
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError(f"DynamoDB left {len(pending[table_name])} writes unprocessed after retries")


def owned_items(table: Table, partition: str) -> Iterator[Item]:
    """Every item of an owner partition of GSI1, page after page."""
    query: Item = {"IndexName": "GSI1", "KeyConditionExpression": Key("GSI1PK").eq(partition)}
    while True:
        response = table.query(**query)
        yield from response["Items"]
        if "LastEvaluatedKey" not in response:
            return
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def stop_expiring(table: Table, key: Item, *, keep_pending_expiry: bool = False) -> None:
    """A claimed guest's record is kept: its TTL goes (a pending upload keeps its own, which only
    ends an abandoned upload). Nothing happens to a record deleted meanwhile."""
    expression = "REMOVE retain_until" if keep_pending_expiry else "REMOVE expires_at, retain_until"
    try:
        table.update_item(Key=key, UpdateExpression=expression, ConditionExpression="attribute_exists(PK)")
    except ClientError as error:
        if not is_condition_failure(error):
            raise
