"""Signing keys: the secrets render URLs are signed with. Each belongs to one user; several may be
live at once, so a key is rotated by making a new one, moving to it, then revoking the old."""

from __future__ import annotations

import secrets

from pydantic import Field

from imgtasks.domain.base import Model

# Live keys a user may hold at once: enough to rotate with room to spare.
MAX_SIGNING_KEYS = 10
SECRET_PREFIX = "isk_"  # noqa: S105 - tells a secret apart; not a secret


def new_secret() -> str:
    """32 random bytes, base64url: the HMAC key is this text's ASCII bytes."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class SigningKey(Model):
    id: str
    owner_id: str
    secret: str = Field(repr=False)
    created_at: str
