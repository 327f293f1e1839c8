"""Where a file's renders are cached: one item per cached object (`FILE#<file id>` /
`RENDER#<object key>`, beside the file's own item), so that deleting the file deletes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key

from imgtasks.domain.ids import is_valid_id
from imgtasks.domain.records import FileRecord
from imgtasks.domain.signing_keys import SigningKey

from .files import FileRepository
from .items import BATCH_WRITE_LIMIT, batch_get, batch_write, plain_item
from .signing_keys import SigningKeyRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

RENDER_PREFIX = "RENDER#"


class RenderRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def lookup(self, key_id: str, file_id: str) -> tuple[SigningKey | None, FileRecord | None]:
        """A render's signing key and file, in one consistent batch read (None for either that
        does not exist)."""
        signing_key, file = SigningKeyRepository.item_key(key_id), FileRepository.item_key(file_id)
        keys = [key for key, valid in ((signing_key, is_valid_id(key_id)), (file, is_valid_id(file_id))) if valid]
        found = {(item["PK"], item["SK"]): item for item in batch_get(self._table, keys)} if keys else {}
        key_item = found.get((signing_key["PK"], signing_key["SK"]))
        file_item = found.get((file["PK"], file["SK"]))
        return (
            SigningKey.model_validate(plain_item(key_item)) if key_item else None,
            FileRecord.model_validate(plain_item(file_item)) if file_item else None,
        )

    def record(self, file_id: str, object_key: str) -> None:
        self._table.put_item(Item={"PK": f"FILE#{file_id}", "SK": f"{RENDER_PREFIX}{object_key}"})

    def of_file(self, file_id: str) -> list[str]:
        """The object keys of a file's cached renders, page after page."""
        query = {
            "KeyConditionExpression": Key("PK").eq(f"FILE#{file_id}") & Key("SK").begins_with(RENDER_PREFIX),
            "ProjectionExpression": "SK",
        }
        keys: list[str] = []
        while True:
            response = self._table.query(**query)  # type: ignore[arg-type]
            keys.extend(str(item["SK"])[len(RENDER_PREFIX) :] for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return keys
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def forget(self, file_id: str, object_keys: list[str]) -> None:
        requests = [
            {"DeleteRequest": {"Key": {"PK": f"FILE#{file_id}", "SK": f"{RENDER_PREFIX}{key}"}}} for key in object_keys
        ]
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            batch_write(self._table.meta.client, self._table.name, requests[start : start + BATCH_WRITE_LIMIT])
