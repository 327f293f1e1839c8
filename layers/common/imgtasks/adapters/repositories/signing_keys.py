"""Signing keys (`SIGNINGKEY#<id>` / `SIGNINGKEY`, listed by owner on GSI1, newest first), which
key was made for an owner on first use (`SIGNINGKEY#OWNER#<owner>` / `FIRST`), and the renders each
key may still make this minute (`RENDERRATE#<key id>#<minute>`, expiring)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from imgtasks.domain.ids import is_valid_id
from imgtasks.domain.signing_keys import SigningKey

from .items import Item, is_condition_failure, plain_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

# A minute's counter outlives its minute by this much (DynamoDB's TTL deletes it within a day or so).
RATE_ITEM_SECONDS = 3600


class SigningKeyRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def item_key(key_id: str) -> Item:
        return {"PK": f"SIGNINGKEY#{key_id}", "SK": "SIGNINGKEY"}

    @staticmethod
    def _owner_partition(owner_id: str) -> str:
        return f"OWNER#{owner_id}#SIGNINGKEY"

    def _item(self, key: SigningKey) -> Item:
        return {
            **self.item_key(key.id),
            "GSI1PK": self._owner_partition(key.owner_id),
            "GSI1SK": key.id,
            **key.model_dump(),
        }

    def put(self, key: SigningKey, *, listed: bool = True) -> None:
        """`listed=False`: a candidate made on first use, kept off the owner's list (GSI1) until
        it wins the first-use claim (`list_key`), so no reader can take a key about to be deleted."""
        item = self._item(key)
        if not listed:
            del item["GSI1PK"], item["GSI1SK"]
        self._table.put_item(Item=item)

    def list_key(self, key: SigningKey) -> bool:
        """Puts a candidate that won its claim on the owner's list; False when it was revoked
        meanwhile (it stays gone)."""
        # The whole item again, not an update of its GSI1 keys: the functions that make keys may
        # only put and delete them (the template's policies), and the key itself never changes.
        try:
            self._table.put_item(Item=self._item(key), ConditionExpression="attribute_exists(PK)")
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    @staticmethod
    def _first_key(owner_id: str) -> Item:
        return {"PK": f"SIGNINGKEY#OWNER#{owner_id}", "SK": "FIRST"}

    def first_made(self, owner_id: str) -> str | None:
        """The id of the key last made for this owner on first use, if any (revoked or not)."""
        item = self._table.get_item(Key=self._first_key(owner_id), ConsistentRead=True).get("Item")
        return str(item["key_id"]) if item else None

    def claim_first(self, owner_id: str, key_id: str, previous: str | None) -> bool:
        """Names `key_id` as the owner's key made on first use, if the marker still names
        `previous` (None: there is none). False (nothing written) when another claimed it first."""
        item = {**self._first_key(owner_id), "key_id": key_id}
        try:
            if previous is None:
                self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(PK)")
            else:
                self._table.put_item(
                    Item=item,
                    ConditionExpression="key_id = :previous",
                    ExpressionAttributeValues={":previous": previous},
                )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def get(self, key_id: str) -> SigningKey | None:
        if not is_valid_id(key_id):
            return None
        item = self._table.get_item(Key=self.item_key(key_id), ConsistentRead=True).get("Item")
        return SigningKey.model_validate(plain_item(item)) if item else None

    def list_owned(self, owner_id: str) -> list[SigningKey]:
        """Newest first (ids are ULIDs). A user holds a handful, so one page holds them all."""
        response = self._table.query(
            IndexName="GSI1",
            KeyConditionExpression=Key("GSI1PK").eq(self._owner_partition(owner_id)),
            ScanIndexForward=False,
        )
        return [SigningKey.model_validate(plain_item(item)) for item in response["Items"]]

    def delete(self, key_id: str) -> bool:
        """False when there was no such key."""
        try:
            self._table.delete_item(Key=self.item_key(key_id), ConditionExpression="attribute_exists(PK)")
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def take_render(self, key_id: str, minute: int, per_minute: int) -> bool:
        """Counts one render against the key's minute; False (nothing counted) when the minute
        already had `per_minute`. One conditional write: concurrent renders cannot both pass."""
        try:
            self._table.update_item(
                Key={"PK": f"RENDERRATE#{key_id}#{minute}", "SK": "RENDERRATE"},
                UpdateExpression="ADD renders :one SET expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(renders) OR renders < :limit",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": per_minute,
                    ":expires": minute * 60 + RATE_ITEM_SECONDS,
                },
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True
