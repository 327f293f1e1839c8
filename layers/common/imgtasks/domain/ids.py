"""Identifiers: ULIDs, so that sorting by id sorts by creation time."""

from __future__ import annotations

import hashlib
import re

from ulid import ULID

_ULID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


# What an id in a path may be, as the OpenAPI document states it: ids are ULIDs; any other id of
# letters, digits, - and _ is looked up (and is a 404), anything else is refused before.
ID_PATTERN = r"^[0-9A-Za-z_-]{1,64}$"


def new_id() -> str:
    return str(ULID())


def output_file_id(task_id: str, run: int, name: str) -> str:
    """The same id for the same output of the same run of a task, so a repeated delivery
    overwrites its own outputs instead of adding new ones; it sorts with the task's creation time."""
    digest = hashlib.sha256(f"{task_id}:{run}:{name}".encode()).digest()
    return str(ULID.from_bytes(ULID.from_str(task_id).bytes[:6] + digest[:10]))


def is_valid_id(value: str) -> bool:
    """Cheap syntactic check, so a malformed id is a plain 404 without a database round trip."""
    return bool(_ULID_PATTERN.match(value))
