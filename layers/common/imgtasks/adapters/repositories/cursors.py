"""Keyset pagination: a page of items and the opaque cursor that names where the next one starts."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from imgtasks.domain.errors import InvalidInput
from imgtasks.domain.ids import is_valid_id


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
