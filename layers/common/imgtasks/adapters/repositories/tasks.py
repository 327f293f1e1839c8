"""Task records: by id, by owner (GSI1), by owner and status (GSI2) and by owner and updated_at
(GSI3), every status change one
conditional write (which moves are allowed is imgtasks.services.lifecycle's to say); and the
archive task of each set of task ids (GET /tasks/batch-download reuses it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import ClientError

from imgtasks.domain.errors import NotFound
from imgtasks.domain.ids import is_valid_id
from imgtasks.domain.records import TaskBase, TaskStatus
from imgtasks.kinds import Task, task_from_item

from .cursors import Page, Segment, all_of, read_page
from .items import BATCH_WRITE_LIMIT, Item, as_int, batch_write, is_condition_failure, owned_items, stop_expiring

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TaskOrder = Literal["created_at", "-created_at", "updated_at", "-updated_at", "status", "-status"]


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
            "GSI3PK": self._owner_partition(task.owner_id),
            "GSI3SK": self.updated_sort_key(task.updated_at, task.id),
            **task.to_item(),
        }

    @staticmethod
    def updated_sort_key(updated_at: str, task_id: str) -> str:
        """The sort key of GSI3 (tasks by updated_at): the time, then the id for ties."""
        return f"{updated_at}#{task_id}"

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

    def state_of(self, task_id: str) -> tuple[str, int] | None:
        """Only the status and how many outputs the result holds (a long-poll's cheap read); None
        once the task is gone."""
        item = self._table.get_item(
            Key=self._key(task_id),
            ConsistentRead=True,
            ProjectionExpression="#s, #o",
            ExpressionAttributeNames={"#s": "status", "#o": "outputs_ready"},
        ).get("Item")
        return (str(item["status"]), as_int(item.get("outputs_ready", 0))) if item else None

    def list_owned(
        self,
        owner_id: str,
        *,
        limit: int,
        cursor: str | None,
        order: TaskOrder = "-created_at",
        status: str | None = None,
        task_type: str | None = None,
        output_format: str | None = None,
    ) -> Page:
        """A page of the owner's tasks in `order`, each order a Query on an index (LIST_INDEXES);
        the type and format filters (and the status, ordered by updated_at) are applied by
        DynamoDB after the read."""
        field = order.removeprefix("-")
        forward = not order.startswith("-")
        conditions: list[ConditionBase] = []
        if field == "created_at":
            # ULIDs sort by creation time.
            if status:
                segments = [Segment("GSI2", self._status_partition(owner_id, status), forward)]
            else:
                segments = [Segment("GSI1", self._owner_partition(owner_id), forward)]
        elif field == "updated_at":
            segments = [Segment("GSI3", self._owner_partition(owner_id), forward)]
            if status:
                conditions.append(Attr("status").eq(status))
        else:
            # One status partition after another, in the statuses' alphabetical order (or its
            # reverse); within a status, newest first.
            statuses = sorted(s.value for s in TaskStatus if not status or s.value == status)
            segments = [
                Segment("GSI2", self._status_partition(owner_id, name), False, name)
                for name in (statuses if forward else reversed(statuses))
            ]
        if task_type:
            conditions.append(Attr("type").eq(task_type))
        if output_format:
            conditions.append(Attr("formats").contains(output_format))
        filters = all_of(conditions)
        page = read_page(
            self._table, segments, order=order, limit=limit, cursor=cursor, item_key=self._key, filters=filters
        )
        return Page([task_from_item(item) for item in page.items], page.next_cursor)

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
        if "updated_at" in changes:
            names["#gsi3sk"] = "GSI3SK"
            values[":gsi3sk"] = self.updated_sort_key(changes["updated_at"], task_id)
            sets.append("#gsi3sk = :gsi3sk")
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
