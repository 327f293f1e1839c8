"""A user's signing keys: made (the secret shown once), listed, revoked; and the newest one, which
the stable URLs of task outputs (`cdn_url`) are signed with, made on first use."""

from __future__ import annotations

from imgtasks.adapters.repositories.signing_keys import SigningKeyRepository
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.errors import Conflict, Forbidden, NotFound
from imgtasks.domain.ids import new_id
from imgtasks.domain.signing_keys import MAX_SIGNING_KEYS, SigningKey, new_secret


class SigningKeys:
    def __init__(self, keys: SigningKeyRepository) -> None:
        self._keys = keys

    def create(self, owner_id: str, *, guest: bool) -> SigningKey:
        if guest:
            raise Forbidden("guest accounts cannot make signing keys: keep the account first (POST /auth/claim)")
        if len(self._keys.list_owned(owner_id)) >= MAX_SIGNING_KEYS:
            raise Conflict(f"you have {MAX_SIGNING_KEYS} signing keys, the most one may hold: revoke one first")
        return self._make(owner_id)

    def _make(self, owner_id: str, *, listed: bool = True) -> SigningKey:
        key = SigningKey(id=new_id(), owner_id=owner_id, secret=new_secret(), created_at=now_rfc3339())
        self._keys.put(key, listed=listed)
        return key

    def list(self, owner_id: str) -> list[SigningKey]:
        return self._keys.list_owned(owner_id)

    def revoke(self, owner_id: str, key_id: str) -> None:
        key = self._keys.get(key_id)
        if key is None or key.owner_id != owner_id or not self._keys.delete(key_id):
            raise NotFound(f"signing key '{key_id}' does not exist")

    def newest(self, owner_id: str) -> SigningKey:
        """The key stable URLs are signed with: the newest, or one made now (first use, or all
        revoked). Two first uses at once (a read of a task beside its webhook event) end with one
        key, so an output's `cdn_url` reads the same every time: each writes its key, then claims
        the owner's first-use marker on the condition that it still names the key it named when
        this one looked; the one that loses deletes its key and takes the winner's (written before
        the winner's claim)."""
        keys = self._keys.list_owned(owner_id)
        if keys:
            return keys[0]
        previous = self._keys.first_made(owner_id)
        live = self._keys.get(previous) if previous is not None else None
        if live is not None:  # made by another first use since the list was read
            return live
        # Off the list until it wins: a reader listing meanwhile must not take a loser's key (a
        # page asking for ten previews at once signed some with a key deleted a moment later).
        made = self._make(owner_id, listed=False)
        if self._keys.claim_first(owner_id, made.id, previous):
            self._keys.list_key(made)  # False if revoked meanwhile: the claim stands, the key is gone
            return made
        self._keys.delete(made.id)
        winner = self._keys.first_made(owner_id)
        found = self._keys.get(winner) if winner is not None else None
        if found is None:  # the winner's key, revoked at once: nothing to sign with now
            raise Conflict("your signing key was revoked while it was being made; ask again")
        return found

    def get(self, key_id: str) -> SigningKey | None:
        return self._keys.get(key_id)

    def take_render(self, key_id: str, minute: int, per_minute: int) -> bool:
        return self._keys.take_render(key_id, minute, per_minute)
