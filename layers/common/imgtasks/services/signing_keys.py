"""A user's signing keys: made (the secret shown once), listed, revoked; and the newest one, which
the stable URLs of task outputs (`cdn_url`) are signed with, made on first use."""

from __future__ import annotations

from imgtasks.adapters.repositories.signing_keys import SigningKeyRepository
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.errors import Conflict, Forbidden, NotFound
from imgtasks.domain.ids import new_id
from imgtasks.domain.signing_keys import MAX_SIGNING_KEYS, SigningKey, first_key_id, new_secret


class SigningKeys:
    def __init__(self, keys: SigningKeyRepository) -> None:
        self._keys = keys

    def create(self, owner_id: str, *, guest: bool) -> SigningKey:
        if guest:
            raise Forbidden("guest accounts cannot make signing keys: keep the account first (POST /auth/claim)")
        if len(self._keys.list_owned(owner_id)) >= MAX_SIGNING_KEYS:
            raise Conflict(f"you have {MAX_SIGNING_KEYS} signing keys, the most one may hold: revoke one first")
        return self._make(owner_id)

    def _make(self, owner_id: str) -> SigningKey:
        key = SigningKey(id=new_id(), owner_id=owner_id, secret=new_secret(), created_at=now_rfc3339())
        self._keys.put(key)
        return key

    def list(self, owner_id: str) -> list[SigningKey]:
        return self._keys.list_owned(owner_id)

    def revoke(self, owner_id: str, key_id: str) -> None:
        key = self._keys.get(key_id)
        if key is None or key.owner_id != owner_id or not self._keys.delete(key_id):
            raise NotFound(f"signing key '{key_id}' does not exist")

    def newest(self, owner_id: str) -> SigningKey:
        """The key stable URLs are signed with: the newest, or the owner's first key, made now.
        The first key's id is the owner's own (first_key_id), written only if absent: two first
        uses at once (a read of a task beside its webhook event) make one key, and both sign
        with it, so an output's `cdn_url` reads the same every time."""
        keys = self._keys.list_owned(owner_id)
        if keys:
            return keys[0]
        first = SigningKey(id=first_key_id(owner_id), owner_id=owner_id, secret=new_secret(), created_at=now_rfc3339())
        if self._keys.put_if_absent(first):
            return first
        made = self._keys.get(first.id)
        if made is None:  # made by the other first use, and revoked since: try again, once
            raise Conflict("the first signing key was revoked while it was made; try again")
        return made

    def get(self, key_id: str) -> SigningKey | None:
        return self._keys.get(key_id)

    def take_render(self, key_id: str, minute: int, per_minute: int) -> bool:
        return self._keys.take_render(key_id, minute, per_minute)
