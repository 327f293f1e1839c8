"""Task records: by id, by owner (GSI1) and by owner and status (GSI2), every status change one
conditional write (which moves are allowed is imgtasks.services.lifecycle's to say); and the
archive task of each set of task ids (GET /tasks/batch-download reuses it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from imgtasks.domain.errors import NotFound
from imgtasks.domain.ids import is_valid_id
from imgtasks.domain.records import TaskBase, TaskStatus
from imgtasks.kinds import Task, task_from_item

from .cursors import Page, decode_cursor, encode_cursor
from .items import BATCH_WRITE_LIMIT, Item, batch_write, is_condition_failure, owned_items, stop_expiring

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


class TaskRepository:
    def __init__(self, table: Table) -> None:
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

    def _item(self, task: TaskBase) -> Item:
        return {
            **self._key(task.id),
            "GSI1PK": self._owner_partition(task.owner_id),
            "GSI1SK": task.id,
            "GSI2PK": self._status_partition(task.owner_id, task.status),
            "GSI2SK": task.id,
            **task.to_item(),
        }

    def put_new(self, task: TaskBase) -> None:
        self._table.put_item(Item=self._item(task), ConditionExpression="attribute_not_exists(PK)")

    def put_new_many(self, tasks: Sequence[TaskBase]) -> None:
        """Writes new tasks with BatchWriteItem, 25 a call, asking again for what DynamoDB left
        unprocessed. Unlike put_new there is no condition (BatchWriteItem takes none): the ids
        are fresh ULIDs. (TransactWriteItems would add one, but moto copies the whole table for
        every transaction, which made a 50-file POST take seconds on a busy local stack.)"""
        client = self._table.meta.client
        for start in range(0, len(tasks), BATCH_WRITE_LIMIT):
            requests = [{"PutRequest": {"Item": self._item(task)}} for task in tasks[start : start + BATCH_WRITE_LIMIT]]
            batch_write(client, self._table.name, requests)

    def get(self, task_id: str) -> Task | None:
        if not is_valid_id(task_id):
            return None
        item = self._table.get_item(Key=self._key(task_id), ConsistentRead=True).get("Item")
        return task_from_item(item) if item else None

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
        item: Item = {**self._archive_set_key(owner_id, digest), "task_id": task_id}
        if expires_at is not None:
            item["expires_at"] = expires_at
        try:
            if replacing is None:
                self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(PK)")
            else:
                self._table.put_item(
                    Item=item, ConditionExpression="task_id = :old", ExpressionAttributeValues={":old": replacing}
                )
        except ClientError as error:
            if is_condition_failure(error):
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
            batch = [task_from_item(item) for item in response["Items"]]
            room = limit - len(tasks)
            tasks.extend(batch[:room])
            evaluated = response.get("LastEvaluatedKey")
            if len(batch) > room:
                return Page(tasks, encode_cursor(tasks[-1].id))
            if not evaluated:
                return Page(tasks, None)
            after = str(evaluated[sk_name])

    def delete(self, task_id: str) -> None:
        self._table.delete_item(Key=self._key(task_id))

    def keep_all(self, owner_id: str) -> int:
        """A claimed guest's tasks stop expiring; how many."""
        count = 0
        for item in owned_items(self._table, self._owner_partition(owner_id)):
            stop_expiring(self._table, self._key(str(item["id"])))
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
            if is_condition_failure(error):
                return None
            raise
        return task_from_item(response["Attributes"])
