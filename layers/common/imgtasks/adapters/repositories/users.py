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

    def _take_slot(self, key: Item, now: int, window_seconds: int, limit: int) -> tuple[bool, int]:
        """One more in the key's window if it holds fewer than `limit`: counted and checked in one
        conditional write, so requests at the same moment cannot all pass a check made before
        any of them counted. Returns whether a slot was taken, and when the window ends."""
        for _ in range(3):  # a window made or ended by another request between the two writes
            try:
                answer = self._table.update_item(
                    Key=key,
                    UpdateExpression="ADD #count :one",
                    ConditionExpression="attribute_exists(PK) AND expires_at > :now AND #count < :limit",
                    ExpressionAttributeNames={"#count": "count"},
                    ExpressionAttributeValues={":one": 1, ":now": now, ":limit": limit},
                    ReturnValues="ALL_NEW",
                )
                return True, as_int(answer["Attributes"]["expires_at"])
            except ClientError as error:
                if not is_condition_failure(error):
                    raise
            try:  # no window, or an ended one: a new window, with this one counted
                self._table.put_item(
                    Item={**key, "count": 1, "expires_at": now + window_seconds},
                    ConditionExpression="attribute_not_exists(PK) OR expires_at <= :now",
                    ExpressionAttributeValues={":now": now},
                )
                return limit >= 1, now + window_seconds
            except ClientError as error:
                if not is_condition_failure(error):
                    raise
            item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
            if item and as_int(item["expires_at"]) > now and as_int(item["count"]) >= limit:
                return False, as_int(item["expires_at"])
        return False, now + window_seconds

    def take_sign_in_attempt(self, username: str, now: int, window_seconds: int, limit: int) -> tuple[bool, int]:
        """A sign-in attempt for the name counted, unless `limit` are already counted in the window
        (a success clears them)."""
        return self._take_slot(self._failures_key(username), now, window_seconds, limit)

    def clear_failed_sign_ins(self, username: str) -> None:
        self._table.delete_item(Key=self._failures_key(username))

    def take_guest_slot(self, address: str, now: int, window_seconds: int, limit: int) -> tuple[bool, int]:
        """A guest account from this address counted, unless `limit` were made in the window."""
        return self._take_slot(self._guests_key(address), now, window_seconds, limit)
