from __future__ import annotations

import time

import pytest

from imgtasks.adapters.repositories.cursors import decode_cursor, encode_cursor
from imgtasks.domain.errors import InvalidInput
from imgtasks.domain.ids import new_id


def test_a_cursor_round_trips_the_last_id() -> None:
    last = new_id()
    assert decode_cursor(encode_cursor(last)) == last


@pytest.mark.parametrize("cursor", ["", "abc", "e30", "!!!", encode_cursor("x" * 26)[:-2] + "zz"])
def test_a_cursor_the_api_did_not_issue_is_a_400(cursor: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        decode_cursor(cursor)


def test_ids_sort_by_creation_time() -> None:
    first = new_id()
    time.sleep(0.002)  # ULIDs order by millisecond; within one millisecond they are random
    assert new_id() > first
