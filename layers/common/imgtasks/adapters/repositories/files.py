"""File records: by id, and by owner (GSI1) in order of creation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import ClientError

from imgtasks.domain.errors import NotFound
from imgtasks.domain.ids import is_valid_id
from imgtasks.domain.records import FileRecord, FileStatus

from .cursors import Page, Segment, all_of, read_page
from .items import BATCH_GET_LIMIT, Item, batch_get, is_condition_failure, owned_items, plain_item, stop_expiring

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

FileOrder = Literal["created_at", "-created_at"]


class FileRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    @staticmethod
    def item_key(file_id: str) -> Item:
        return {"PK": f"FILE#{file_id}", "SK": "FILE"}

    @staticmethod
    def _owner_partition(owner_id: str) -> str:
        return f"OWNER#{owner_id}#FILE"

    def put(self, record: FileRecord, *, only_if_new: bool = False) -> bool:
        """Stores the record; with only_if_new, False (and nothing written) when it exists."""
        item = {
            **self.item_key(record.id),
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
            if is_condition_failure(error):
                return False
            raise
        return True

    def get(self, file_id: str) -> FileRecord | None:
        if not is_valid_id(file_id):
            return None
        item = self._table.get_item(Key=self.item_key(file_id), ConsistentRead=True).get("Item")
        return FileRecord.model_validate(plain_item(item)) if item else None

    def get_many(self, file_ids: list[str]) -> dict[str, FileRecord]:
        """The records of these ids that exist, by id: BatchGetItem, 100 keys a call, consistent
        reads, unprocessed keys asked again."""
        wanted = list(dict.fromkeys(file_id for file_id in file_ids if is_valid_id(file_id)))
        found: dict[str, FileRecord] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            keys = [self.item_key(file_id) for file_id in wanted[start : start + BATCH_GET_LIMIT]]
            for item in batch_get(self._table, keys):
                record = FileRecord.model_validate(plain_item(item))
                found[record.id] = record
        return found

    def get_owned(self, owner_id: str, file_id: str) -> FileRecord:
        record = self.get(file_id)
        if record is None or record.owner_id != owner_id:
            raise NotFound(f"file '{file_id}' does not exist")
        return record

    def list_owned(
        self,
        owner_id: str,
        *,
        limit: int,
        cursor: str | None,
        order: FileOrder = "-created_at",
        status: str | None = None,
        file_format: str | None = None,
    ) -> Page:
        """A page of the owner's files by creation (GSI1: ULIDs sort by creation time), the
        status and format filters applied by DynamoDB after the read."""
        conditions: list[ConditionBase] = []
        if status:
            conditions.append(Attr("status").eq(status))
        if file_format:
            conditions.append(Attr("format").eq(file_format))
        filters = all_of(conditions)
        segments = [Segment("GSI1", self._owner_partition(owner_id), forward=order == "created_at")]
        page = read_page(
            self._table, segments, order=order, limit=limit, cursor=cursor, item_key=self.item_key, filters=filters
        )
        return Page([FileRecord.model_validate(plain_item(item)) for item in page.items], page.next_cursor)

    def keep_all(self, owner_id: str) -> list[FileRecord]:
        """A claimed guest's files stop expiring; returns them (their objects lose the guest tag)."""
        kept = []
        for item in owned_items(self._table, self._owner_partition(owner_id)):
            record = FileRecord.model_validate(plain_item(item))
            stop_expiring(
                self._table, self.item_key(record.id), keep_pending_expiry=record.status == FileStatus.PENDING
            )
            kept.append(record)
        return kept

    def add_waiting_task(self, file_id: str, task_id: str) -> bool:
        """Registers a task to start when the file becomes ready. False when the file is no longer
        pending, in which case the caller starts (or fails) the task itself. One conditional
        update on one item, so a task is never missed by a concurrent `finish_inspection`."""
        try:
            self._table.update_item(
                Key=self.item_key(file_id),
                UpdateExpression="SET waiting_task_ids = list_append(if_not_exists(waiting_task_ids, :empty), :task)",
                ConditionExpression=Attr("status").eq(FileStatus.PENDING.value),
                ExpressionAttributeValues={":empty": [], ":task": [task_id]},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def note_fetch_failure(self, file_id: str, attempt: int, error: str) -> None:
        """A fetch attempt that failed and will be retried, shown on the still pending file."""
        try:
            self._table.update_item(
                Key=self.item_key(file_id),
                UpdateExpression="SET fetch_attempts = :attempt, fetch_error = :error",
                ConditionExpression=Attr("status").eq(FileStatus.PENDING.value),
                ExpressionAttributeValues={":attempt": attempt, ":error": error},
            )
        except ClientError as error_:
            if not is_condition_failure(error_):
                raise

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
                Key=self.item_key(file_id),
                UpdateExpression="SET "
                + ", ".join(f"#{k} = :{k}" for k in changes)
                + ("" if "expires_at" in changes else " REMOVE expires_at"),
                ConditionExpression="#status_now = :pending",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return FileRecord.model_validate(plain_item(response["Attributes"]))

    def delete(self, file_id: str) -> None:
        self._table.delete_item(Key=self.item_key(file_id))
