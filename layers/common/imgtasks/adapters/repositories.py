"""Users, files and tasks in the single DynamoDB table (key layout in infra/template.yaml).

Each repository takes a boto3 `Table` resource; none creates a client of its own."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from imgtasks.domain.errors import Conflict, InvalidInput, NotFound
from imgtasks.domain.ids import is_valid_id
from imgtasks.domain.records import FileRecord, FileStatus, Task, TaskStatus, User
from imgtasks.domain.webhooks import DeliveryAttempt, WebhookEndpoint

Item = dict[str, Any]


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _without_keys(item: Item) -> Item:
    return {k: v for k, v in item.items() if k not in ("PK", "SK") and not k.startswith("GSI")}


def plain_item(item: Item) -> Item:
    """DynamoDB returns every number as Decimal; the records hold ints."""
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in _without_keys(item).items()}


BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
_UNPROCESSED_RETRIES = 5


def _batch_get(table: Any, keys: list[Item]) -> list[Item]:
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


def _batch_write(client: Any, table_name: str, requests: list[Item]) -> None:
    """One BatchWriteItem of at most 25 requests, asking again for the unprocessed ones."""
    pending: dict[str, Any] = {table_name: requests}
    for attempt in range(_UNPROCESSED_RETRIES + 1):
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(0.05 * 2**attempt)
    raise RuntimeError(f"DynamoDB left {len(pending[table_name])} writes unprocessed after retries")


# ------------------------------------------------------------------ pagination cursors
@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: str) -> str:
    raw = json.dumps({"v": 1, "after": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The cursor names only the last id seen; the partition comes from the caller's identity, so a
    cursor can never reach into another user's items."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        last_id = data["after"]
        if data.get("v") != 1 or not isinstance(last_id, str) or not is_valid_id(last_id):
            raise ValueError(last_id)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInput(
            "cursor is not valid: pass next_cursor from a previous page unchanged",
            errors=[{"loc": ["query", "cursor"], "msg": "not a cursor this API issued"}],
        ) from error
    return last_id


def _owned_items(table: Any, partition: str) -> Iterator[Item]:
    """Every item of an owner partition of GSI1, page after page."""
    query: Item = {"IndexName": "GSI1", "KeyConditionExpression": Key("GSI1PK").eq(partition)}
    while True:
        response = table.query(**query)
        yield from response["Items"]
        if "LastEvaluatedKey" not in response:
            return
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _stop_expiring(table: Any, key: Item, *, keep_pending_expiry: bool = False) -> None:
    """A claimed guest's record is kept: its TTL goes (a pending upload keeps its own, which only
    ends an abandoned upload). Nothing happens to a record deleted meanwhile."""
    expression = "REMOVE retain_until" if keep_pending_expiry else "REMOVE expires_at, retain_until"
    try:
        table.update_item(Key=key, UpdateExpression=expression, ConditionExpression="attribute_exists(PK)")
    except ClientError as error:
        if not _is_condition_failure(error):
            raise


# ------------------------------------------------------------------ users
class UserRepository:
    def __init__(self, table: Any) -> None:
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
            if _is_condition_failure(error):
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
        if not item or int(item["expires_at"]) <= now:
            return 0, now
        return int(item["count"]), int(item["expires_at"])

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
            if not _is_condition_failure(error):
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


# ------------------------------------------------------------------ files
class FileRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(file_id: str) -> Item:
        return {"PK": f"FILE#{file_id}", "SK": "FILE"}

    @staticmethod
    def _owner_partition(owner_id: str) -> str:
        return f"OWNER#{owner_id}#FILE"

    def put(self, record: FileRecord, *, only_if_new: bool = False) -> bool:
        """Stores the record; with only_if_new, False (and nothing written) when it exists."""
        item = {
            **self._key(record.id),
            "GSI1PK": self._owner_partition(record.owner_id),
            "GSI1SK": record.id,
            **record.model_dump(exclude_none=True),
        }
        if not only_if_new:
            self._table.put_item(Item=item)
            return True
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(PK)")
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def get(self, file_id: str) -> FileRecord | None:
        if not is_valid_id(file_id):
            return None
        item = self._table.get_item(Key=self._key(file_id), ConsistentRead=True).get("Item")
        return FileRecord.model_validate(plain_item(item)) if item else None

    def get_many(self, file_ids: list[str]) -> dict[str, FileRecord]:
        """The records of these ids that exist, by id: BatchGetItem, 100 keys a call, consistent
        reads, unprocessed keys asked again."""
        wanted = list(dict.fromkeys(file_id for file_id in file_ids if is_valid_id(file_id)))
        found: dict[str, FileRecord] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            keys = [self._key(file_id) for file_id in wanted[start : start + BATCH_GET_LIMIT]]
            for item in _batch_get(self._table, keys):
                record = FileRecord.model_validate(plain_item(item))
                found[record.id] = record
        return found

    def get_owned(self, owner_id: str, file_id: str) -> FileRecord:
        record = self.get(file_id)
        if record is None or record.owner_id != owner_id:
            raise NotFound(f"file '{file_id}' does not exist")
        return record

    def list_owned(self, owner_id: str, limit: int, cursor: str | None) -> Page:
        query: Item = {
            "IndexName": "GSI1",
            "KeyConditionExpression": Key("GSI1PK").eq(self._owner_partition(owner_id)),
            "ScanIndexForward": False,
            "Limit": limit + 1,  # one more than a page tells whether another page exists
        }
        if cursor:
            after = decode_cursor(cursor)
            query["ExclusiveStartKey"] = {
                **self._key(after),
                "GSI1PK": self._owner_partition(owner_id),
                "GSI1SK": after,
            }
        response = self._table.query(**query)
        records = [FileRecord.model_validate(plain_item(item)) for item in response["Items"]]
        if len(records) > limit:
            return Page(records[:limit], encode_cursor(records[limit - 1].id))
        return Page(records, None)

    def keep_all(self, owner_id: str) -> list[FileRecord]:
        """A claimed guest's files stop expiring; returns them (their objects lose the guest tag)."""
        kept = []
        for item in _owned_items(self._table, self._owner_partition(owner_id)):
            record = FileRecord.model_validate(plain_item(item))
            _stop_expiring(self._table, self._key(record.id), keep_pending_expiry=record.status == FileStatus.PENDING)
            kept.append(record)
        return kept

    def add_waiting_task(self, file_id: str, task_id: str) -> bool:
        """Registers a task to start when the file becomes ready. False when the file is no longer
        pending, in which case the caller starts (or fails) the task itself. One conditional
        update on one item, so a task is never missed by a concurrent `finish_inspection`."""
        try:
            self._table.update_item(
                Key=self._key(file_id),
                UpdateExpression="SET waiting_task_ids = list_append(if_not_exists(waiting_task_ids, :empty), :task)",
                ConditionExpression=Attr("status").eq(FileStatus.PENDING.value),
                ExpressionAttributeValues={":empty": [], ":task": [task_id]},
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def finish_inspection(self, file_id: str, changes: Item) -> FileRecord | None:
        """pending -> ready | rejected, once, and no longer expiring (unless `changes` sets a guest's
        expires_at). Returns the record (with the waiting task ids) to the one caller that made the
        change, None to a duplicate."""
        names = {f"#{k}": k for k in changes}
        values = {f":{k}": v for k, v in changes.items()}
        values[":pending"] = FileStatus.PENDING.value
        names["#status_now"] = "status"
        try:
            response = self._table.update_item(
                Key=self._key(file_id),
                UpdateExpression="SET "
                + ", ".join(f"#{k} = :{k}" for k in changes)
                + ("" if "expires_at" in changes else " REMOVE expires_at"),
                ConditionExpression="#status_now = :pending",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return None
            raise
        return FileRecord.model_validate(plain_item(response["Attributes"]))

    def delete(self, file_id: str) -> None:
        self._table.delete_item(Key=self._key(file_id))


# ------------------------------------------------------------------ tasks
class TaskRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(task_id: str) -> Item:
        return {"PK": f"TASK#{task_id}", "SK": "TASK"}

    @staticmethod
    def _owner_partition(owner_id: str) -> str:
        return f"OWNER#{owner_id}#TASK"

    @classmethod
    def _status_partition(cls, owner_id: str, status: str) -> str:
        return f"{cls._owner_partition(owner_id)}#{status}"

    def _item(self, task: Task) -> Item:
        return {
            **self._key(task.id),
            "GSI1PK": self._owner_partition(task.owner_id),
            "GSI1SK": task.id,
            "GSI2PK": self._status_partition(task.owner_id, task.status),
            "GSI2SK": task.id,
            **task.to_item(),
        }

    def put_new(self, task: Task) -> None:
        self._table.put_item(Item=self._item(task), ConditionExpression="attribute_not_exists(PK)")

    def put_new_many(self, tasks: list[Task]) -> None:
        """Writes new tasks with BatchWriteItem, 25 a call, asking again for what DynamoDB left
        unprocessed. Unlike put_new there is no condition (BatchWriteItem takes none): the ids
        are fresh ULIDs. (TransactWriteItems would add one, but moto copies the whole table for
        every transaction, which made a 50-file POST take seconds on a busy local stack.)"""
        client = self._table.meta.client
        for start in range(0, len(tasks), BATCH_WRITE_LIMIT):
            requests = [{"PutRequest": {"Item": self._item(task)}} for task in tasks[start : start + BATCH_WRITE_LIMIT]]
            _batch_write(client, self._table.name, requests)

    def get(self, task_id: str) -> Task | None:
        if not is_valid_id(task_id):
            return None
        item = self._table.get_item(Key=self._key(task_id), ConsistentRead=True).get("Item")
        return Task.from_item(item) if item else None

    def get_owned(self, owner_id: str, task_id: str) -> Task:
        task = self.get(task_id)
        if task is None or task.owner_id != owner_id:
            raise NotFound(f"task '{task_id}' does not exist")
        return task

    @staticmethod
    def _archive_set_key(owner_id: str, digest: str) -> Item:
        return {"PK": f"ARCHIVESET#{owner_id}#{digest}", "SK": "ARCHIVESET"}

    def archive_for(self, owner_id: str, digest: str) -> str | None:
        """The archive task made for this set of task ids (GET /tasks/batch-download), if any."""
        item = self._table.get_item(Key=self._archive_set_key(owner_id, digest), ConsistentRead=True).get("Item")
        return str(item["task_id"]) if item else None

    def remember_archive(
        self, owner_id: str, digest: str, task_id: str, *, replacing: str | None, expires_at: int | None = None
    ) -> bool:
        """Records the archive task of a set, if none is recorded (or `replacing` is, a task that
        is gone); False when a concurrent request recorded another first."""
        condition = "attribute_not_exists(PK)" if replacing is None else "task_id = :old"
        values = {} if replacing is None else {":old": replacing}
        try:
            self._table.put_item(
                Item={
                    **self._archive_set_key(owner_id, digest),
                    "task_id": task_id,
                    **({"expires_at": expires_at} if expires_at is not None else {}),
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return False
            raise
        return True

    def status_of(self, task_id: str) -> str | None:
        """Only the status (a long-poll's cheap read); None once the task is gone."""
        item = self._table.get_item(
            Key=self._key(task_id),
            ConsistentRead=True,
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "status"},
        ).get("Item")
        return str(item["status"]) if item else None

    def list_owned(
        self,
        owner_id: str,
        *,
        limit: int,
        cursor: str | None,
        status: str | None = None,
        task_type: str | None = None,
        newest_first: bool = True,
    ) -> Page:
        if status:
            index, pk_name, sk_name = "GSI2", "GSI2PK", "GSI2SK"
            partition = self._status_partition(owner_id, status)
        else:
            index, pk_name, sk_name = "GSI1", "GSI1PK", "GSI1SK"
            partition = self._owner_partition(owner_id)
        query: Item = {
            "IndexName": index,
            "KeyConditionExpression": Key(pk_name).eq(partition),
            "ScanIndexForward": not newest_first,
        }
        if task_type:
            query["FilterExpression"] = Attr("type").eq(task_type)
        after = decode_cursor(cursor) if cursor else None
        # Read one more than a page, so a full last page does not leave a cursor to nothing. A type
        # filter is applied after the read, so keep reading until the page is full.
        read_size = limit + 1 if not task_type else max(2 * limit, 25)
        tasks: list[Task] = []
        while True:
            if after:
                query["ExclusiveStartKey"] = {**self._key(after), pk_name: partition, sk_name: after}
            response = self._table.query(**query, Limit=read_size)
            batch = [Task.from_item(item) for item in response["Items"]]
            room = limit - len(tasks)
            tasks.extend(batch[:room])
            evaluated = response.get("LastEvaluatedKey")
            if len(batch) > room:
                return Page(tasks, encode_cursor(tasks[-1].id))
            if not evaluated:
                return Page(tasks, None)
            after = evaluated[sk_name]

    def delete(self, task_id: str) -> None:
        self._table.delete_item(Key=self._key(task_id))

    def keep_all(self, owner_id: str) -> int:
        """A claimed guest's tasks stop expiring; how many."""
        count = 0
        for item in _owned_items(self._table, self._owner_partition(owner_id)):
            _stop_expiring(self._table, self._key(str(item["id"])))
            count += 1
        return count

    def update_if(
        self,
        owner_id: str,
        task_id: str,
        changes: Item,
        *,
        sources: frozenset[TaskStatus],
        run: int | None = None,
        claimed_at: str | None = None,
    ) -> Task | None:
        """One conditional write: applies `changes` (None removes an attribute) if the task exists,
        is the owner's, has one of the `sources` statuses and, when given, is on `run`; with
        `claimed_at`, also counts an attempt, sets started_at once and attempt_started_at every
        time. The task as written, or None when the condition failed. Which moves are allowed is
        imgtasks.services.lifecycle's to say."""
        names: dict[str, str] = {"#status": "status", "#owner": "owner_id"}
        values: Item = {":owner": owner_id}
        sets: list[str] = []
        removes: list[str] = []
        for index, (name, value) in enumerate(changes.items()):
            names[f"#f{index}"] = name
            if value is None:
                removes.append(f"#f{index}")
            else:
                values[f":v{index}"] = value
                sets.append(f"#f{index} = :v{index}")
        if "status" in changes:
            # Keep the per-status index in step with the status, in the same write.
            names["#gsi2pk"] = "GSI2PK"
            values[":gsi2pk"] = self._status_partition(owner_id, changes["status"])
            sets.append("#gsi2pk = :gsi2pk")
        if claimed_at is not None:
            names["#attempts"] = "attempts"
            names["#started"] = "started_at"
            values[":one"] = 1
            values[":started"] = claimed_at
            sets.append("#attempts = #attempts + :one")
            sets.append("#started = if_not_exists(#started, :started)")
            names["#attempt_started"] = "attempt_started_at"
            sets.append("#attempt_started = :started")
        conditions = ["attribute_exists(PK)", "#owner = :owner"]
        if sources:
            placeholders: list[str] = []
            for index, source in enumerate(sorted(sources)):
                values[f":s{index}"] = source.value
                placeholders.append(f":s{index}")
            conditions.append(f"#status IN ({', '.join(placeholders)})")
        if run is not None:
            names["#run"] = "run"
            values[":run"] = run
            conditions.append("#run = :run")
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        try:
            response = self._table.update_item(
                Key=self._key(task_id),
                UpdateExpression=expression,
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                return None
            raise
        return Task.from_item(response["Attributes"])


class WebhookRepository:
    """Webhook endpoints (`WEBHOOK#<id>` / `WEBHOOK`, listed by owner on GSI1), their delivery
    attempts (`WEBHOOK#<id>` / `DELIVERY#<time>#...`, expiring), and each user's signing secret
    (`WEBHOOKSECRET#<owner>` / `SECRET`)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(endpoint_id: str) -> Item:
        return {"PK": f"WEBHOOK#{endpoint_id}", "SK": "WEBHOOK"}

    @staticmethod
    def _owner_partition(owner_id: str) -> str:
        return f"OWNER#{owner_id}#WEBHOOK"

    def put(self, endpoint: WebhookEndpoint) -> None:
        item = {
            **self._key(endpoint.id),
            "GSI1PK": self._owner_partition(endpoint.owner_id),
            "GSI1SK": endpoint.id,
            **endpoint.model_dump(exclude_none=True),
        }
        self._table.put_item(Item=item)

    def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        if not is_valid_id(endpoint_id):
            return None
        item = self._table.get_item(Key=self._key(endpoint_id), ConsistentRead=True).get("Item")
        return WebhookEndpoint.model_validate(plain_item(item)) if item else None

    def get_owned(self, owner_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.get(endpoint_id)
        if endpoint is None or endpoint.owner_id != owner_id:
            raise NotFound(f"webhook '{endpoint_id}' does not exist")
        return endpoint

    def list_owned(self, owner_id: str) -> list[WebhookEndpoint]:
        response = self._table.query(
            IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq(self._owner_partition(owner_id))
        )
        return [WebhookEndpoint.model_validate(plain_item(item)) for item in response["Items"]]

    def delete(self, endpoint_id: str) -> None:
        self._table.delete_item(Key=self._key(endpoint_id))

    def disable(self, endpoint_id: str, reason: str) -> None:
        try:
            self._table.update_item(
                Key=self._key(endpoint_id),
                UpdateExpression="SET disabled = :yes, disabled_reason = :why",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":yes": True, ":why": reason},
            )
        except ClientError as error:
            if not _is_condition_failure(error):  # deleted meanwhile: nothing to disable
                raise

    def add_attempt(self, endpoint_id: str, attempt: DeliveryAttempt, expires_at: int) -> None:
        sort_key = f"DELIVERY#{attempt.time}#{attempt.webhook_id}#{attempt.attempt:03d}"
        item = {"PK": f"WEBHOOK#{endpoint_id}", "SK": sort_key, "expires_at": expires_at}
        self._table.put_item(Item={**item, **attempt.model_dump(mode="json")})

    def attempts(self, endpoint_id: str, limit: int) -> list[DeliveryAttempt]:
        """The newest attempts first."""
        response = self._table.query(
            KeyConditionExpression=Key("PK").eq(f"WEBHOOK#{endpoint_id}") & Key("SK").begins_with("DELIVERY#"),
            ScanIndexForward=False,
            Limit=limit,
        )
        fields = set(DeliveryAttempt.model_fields)
        return [
            DeliveryAttempt.model_validate({k: v for k, v in plain_item(item).items() if k in fields})
            for item in response["Items"]
        ]

    @staticmethod
    def _secret_key(owner_id: str) -> Item:
        return {"PK": f"WEBHOOKSECRET#{owner_id}", "SK": "SECRET"}

    def secret(self, owner_id: str) -> str | None:
        item = self._table.get_item(Key=self._secret_key(owner_id), ConsistentRead=True).get("Item")
        return str(item["secret"]) if item else None

    def set_secret(self, owner_id: str, secret: str) -> None:
        self._table.put_item(Item={**self._secret_key(owner_id), "secret": secret})
