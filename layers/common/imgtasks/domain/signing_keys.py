"""Signing keys: the secrets render URLs are signed with. Each belongs to one user; several may be
live at once, so a key is rotated by making a new one, moving to it, then revoking the old."""

from __future__ import annotations

import hashlib
import secrets

from pydantic import Field
from ulid import ULID

from imgtasks.domain.base import Model

# Live keys a user may hold at once: enough to rotate with room to spare.
MAX_SIGNING_KEYS = 10
SECRET_PREFIX = "isk_"  # noqa: S105 - tells a secret apart; not a secret


def new_secret() -> str:
    """32 random bytes, base64url: the HMAC key is this text's ASCII bytes."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def first_key_id(owner_id: str) -> str:
    """The id of the key made for an owner on first use (for `cdn_url`s): the same for every
    maker, so concurrent first uses make one key. A ULID with the owner's own time (user ids are
    ULIDs), so it sorts before any key the owner makes."""
    digest = hashlib.sha256(f"first-signing-key:{owner_id}".encode()).digest()
    try:
        moment = ULID.from_str(owner_id).bytes[:6]
    except ValueError:
        moment = bytes(6)
    return str(ULID.from_bytes(moment + digest[:10]))


class SigningKey(Model):
    id: str
    owner_id: str
    secret: str = Field(repr=False)
    created_at: str
