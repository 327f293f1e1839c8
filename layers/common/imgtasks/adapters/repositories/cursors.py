"""Keyset pagination: a page of items and the opaque cursor that names where the next one starts.

A list in some order is one Query on an index partition, or several in turn (a segment each: the
tasks by status read one status partition after another). The cursor names the order it was made
for, the segment, the last item's id and, where the index does not sort by id, the last item's
sort key; never a partition, which comes from the caller's identity, so a cursor can never reach
into another user's items."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from imgtasks.domain.errors import InvalidInput
from imgtasks.domain.ids import is_valid_id

if TYPE_CHECKING:
    from boto3.dynamodb.conditions import ConditionBase
    from mypy_boto3_dynamodb.service_resource import Table

    from .items import Item

# A sort key that is not an id: an RFC 3339 time, `#`, the id (GSI3, tasks by updated_at).
_TIMED_SORT_KEY = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z#[0-9A-Za-z]{1,64}")


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None
    # How many items the list has in all (its filters' counter), where the caller asked.
    total: int | None = None


@dataclass(frozen=True)
class Segment:
    """One index partition read in one direction."""

    index: str
    partition: str
    forward: bool
    # Which segment of its order a cursor resumes in ("" when the order has one).
    name: str = ""


@dataclass(frozen=True)
class Position:
    """Where a page ended: the segment, the last item's id and its sort key on the segment's index."""

    order: str
    segment: str
    last_id: str
    sort_key: str


def encode_cursor(position: Position) -> str:
    data: dict[str, str | int] = {"v": 1, "after": position.last_id, "o": position.order}
    if position.segment:
        data["g"] = position.segment
    if position.sort_key != position.last_id:
        data["s"] = position.sort_key
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _refused(error: Exception | None = None, why: str = "not a cursor this API issued") -> InvalidInput:
    problem = InvalidInput(
        f"cursor is not valid: pass next_cursor from a previous page unchanged ({why})",
        errors=[{"loc": ["query", "cursor"], "msg": why}],
    )
    if error is not None:
        problem.__cause__ = error
    return problem


def decode_cursor(cursor: str, order: str, segments: Sequence[str] = ("",)) -> Position:
    """The position a cursor names, for a list in `order` whose segments are named `segments`. A
    cursor made for another order (or an older cursor, which names only the id, for another
    order than newest first) is refused: the same id is elsewhere in another order."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        last_id = data["after"]
        if data.get("v") != 1 or not isinstance(last_id, str) or not is_valid_id(last_id):
            raise ValueError(last_id)
        made_for = data.get("o", "-created_at")
        segment = data.get("g", "")
        sort_key = data.get("s", last_id)
        if not all(isinstance(value, str) for value in (made_for, segment, sort_key)):
            raise ValueError(data)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, UnicodeDecodeError) as error:
        raise _refused(error) from error
    if made_for != order:
        raise _refused(why=f"it was made for order={made_for}, this page is order={order}")
    if segment not in segments:
        raise _refused()
    if sort_key != last_id and not (_TIMED_SORT_KEY.fullmatch(sort_key) and sort_key.endswith("#" + last_id)):
        raise _refused()
    return Position(order, segment, last_id, sort_key)


def all_of(conditions: Sequence[ConditionBase]) -> ConditionBase | None:
    """The filters of a list as one FilterExpression; None without any."""
    combined: ConditionBase | None = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def read_page(
    table: Table,
    segments: Sequence[Segment],
    *,
    order: str,
    limit: int,
    cursor: str | None,
    item_key: Callable[[str], Item],
    filters: ConditionBase | None = None,
) -> Page:
    """A page of raw items: Queries on the segments in turn from where the cursor left off, with
    `filters` applied by DynamoDB after each read (so a filtered page may take several reads)."""
    names = [segment.name for segment in segments]
    start = decode_cursor(cursor, order, names) if cursor else None
    first = names.index(start.segment) if start else 0
    # One more than a page, so a full last page does not leave a cursor to nothing; a filtered
    # read keeps going until the page is full, so read more at a time.
    read_size = limit + 1 if filters is None else max(2 * limit, 25)
    items: list[Item] = []
    last: Position | None = None
    for segment in segments[first:]:
        pk_name, sk_name = f"{segment.index}PK", f"{segment.index}SK"
        query: Item = {
            "IndexName": segment.index,
            "KeyConditionExpression": Key(pk_name).eq(segment.partition),
            "ScanIndexForward": segment.forward,
            "Limit": read_size,
        }
        if start is not None and start.segment == segment.name:
            query["ExclusiveStartKey"] = {
                **item_key(start.last_id),
                pk_name: segment.partition,
                sk_name: start.sort_key,
            }
        while True:
            if filters is not None:
                query["FilterExpression"] = filters
            found = table.query(**query)
            for item in found["Items"]:
                if len(items) == limit:
                    return Page(items, encode_cursor(last) if last else None)
                items.append(item)
                last = Position(order, segment.name, str(item["id"]), str(item[sk_name]))
            evaluated = found.get("LastEvaluatedKey")
            if not evaluated:
                break
            query["ExclusiveStartKey"] = evaluated
    return Page(items, None)
