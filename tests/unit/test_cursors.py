from __future__ import annotations

import base64
import json
import time

import pytest

from imgtasks.adapters.repositories.cursors import Position, decode_cursor, encode_cursor
from imgtasks.domain.errors import InvalidInput
from imgtasks.domain.ids import new_id


def test_a_cursor_round_trips_its_position() -> None:
    last = new_id()
    simple = Position("-created_at", "", last, last)
    assert decode_cursor(encode_cursor(simple), "-created_at") == simple
    timed = Position("updated_at", "", last, f"2026-12-03T09:00:00.123Z#{last}")
    assert decode_cursor(encode_cursor(timed), "updated_at") == timed
    by_status = Position("status", "done", last, last)
    assert decode_cursor(encode_cursor(by_status), "status", ["cancelled", "done"]) == by_status


def test_a_cursor_made_before_orders_reads_as_newest_first() -> None:
    last = new_id()
    old = base64.urlsafe_b64encode(json.dumps({"v": 1, "after": last}).encode()).decode().rstrip("=")
    assert decode_cursor(old, "-created_at").last_id == last
    with pytest.raises(InvalidInput, match="made for order=-created_at"):
        decode_cursor(old, "created_at")


def _forged(**data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps({"v": 1, **data}).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "order"),
    [
        ("", "-created_at"),
        ("abc", "-created_at"),
        ("e30", "-created_at"),
        ("!!!", "-created_at"),
        (encode_cursor(Position("-created_at", "", "x" * 26, "x" * 26))[:-2] + "zz", "-created_at"),
        (_forged(after="01JD0000000000000000000000", o="updated_at", s="OWNER#someone-else"), "updated_at"),
        (_forged(after="01JD0000000000000000000000", o="status", g="nonsense"), "status"),
        (_forged(after="01JD0000000000000000000000", o="-created_at", s=5), "-created_at"),
    ],
)
def test_a_cursor_the_api_did_not_issue_is_a_400(cursor: str, order: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        decode_cursor(cursor, order, ["", "done"])


def test_ids_sort_by_creation_time() -> None:
    first = new_id()
    time.sleep(0.002)  # ULIDs order by millisecond; within one millisecond they are random
    assert new_id() > first
