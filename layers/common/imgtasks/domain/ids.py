"""Identifiers: ULIDs, so that sorting by id sorts by creation time."""

from __future__ import annotations

import re

from ulid import ULID

_ULID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def new_id() -> str:
    return str(ULID())


def is_valid_id(value: str) -> bool:
    """Cheap syntactic check, so a malformed id is a plain 404 without a database round trip."""
    return bool(_ULID_PATTERN.match(value))
