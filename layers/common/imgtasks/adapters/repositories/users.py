"""Users by username, and the counted windows of the sign-in lockout and the guest limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from imgtasks.domain.errors import Conflict
from imgtasks.domain.records import User

from .items import Item, as_int, is_condition_failure, plain_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class UserRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def _key(username: str) -> Item:
        return {"PK": f"USER#{username.lower()}", "SK": "USER"}

    def create(self, user: User) -> None:
        try:
            self._table.put_item(
                Item={**self._key(user.username), **user.model_dump(exclude_none=True)},
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise Conflict(f"username '{user.username}' is taken") from error
            raise

    def get_by_username(self, username: str) -> User | None:
        item = self._table.get_item(Key=self._key(username), ConsistentRead=True).get("Item")
        return User.model_validate(plain_item(item)) if item else None

    def replace_username(self, user: User, claimed: User) -> None:
        """A guest account claimed under a username: the new name's record is written (409 when
        taken), then the guest name's removed. Same id, so everything the user owns stays theirs."""
        self.create(claimed)
        self._table.delete_item(Key=self._key(user.username))

    # Counters in a window that starts at the first count (failed sign-ins per username, guest
    # accounts per source address). The item carries expires_at, so DynamoDB's TTL removes windows
    # nobody clears.
    @staticmethod
    def _failures_key(username: str) -> Item:
        return {"PK": f"LOGIN#{username.lower()}", "SK": "FAILURES"}

    @staticmethod
    def _guests_key(address: str) -> Item:
        return {"PK": f"GUESTS#{address}", "SK": "COUNT"}

    def _window_count(self, key: Item, now: int) -> tuple[int, int]:
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        if not item or as_int(item["expires_at"]) <= now:
            return 0, now
        return as_int(item["count"]), as_int(item["expires_at"])

    def _window_add(self, key: Item, now: int, window_seconds: int) -> None:
        """One more: a new window when the last one ended, else counted in it (one write)."""
        try:
            self._table.update_item(
                Key=key,
                UpdateExpression="ADD #count :one",
                ConditionExpression="attribute_exists(PK) AND expires_at > :now",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={":one": 1, ":now": now},
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            self._table.put_item(Item={**key, "count": 1, "expires_at": now + window_seconds})

    def failed_sign_ins(self, username: str, now: int) -> tuple[int, int]:
        """The failures in the current window and when it ends (epoch seconds); (0, now) if none."""
        return self._window_count(self._failures_key(username), now)

    def add_failed_sign_in(self, username: str, now: int, window_seconds: int) -> None:
        self._window_add(self._failures_key(username), now, window_seconds)

    def clear_failed_sign_ins(self, username: str) -> None:
        self._table.delete_item(Key=self._failures_key(username))

    def guests_from(self, address: str, now: int) -> tuple[int, int]:
        """Guest accounts made from this address in the current window, and when it ends."""
        return self._window_count(self._guests_key(address), now)

    def add_guest_from(self, address: str, now: int, window_seconds: int) -> None:
        self._window_add(self._guests_key(address), now, window_seconds)
