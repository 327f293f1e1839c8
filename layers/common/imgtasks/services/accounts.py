"""Registration and password login."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from pydantic import ConfigDict, Field, field_validator

from imgtasks.adapters.repositories.users import UserRepository
from imgtasks.domain.base import Model
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.errors import Conflict, Forbidden, TooManyRequests
from imgtasks.domain.ids import new_id
from imgtasks.domain.records import User
from imgtasks.services.credentials import Passwords

USERNAME_REGEX = r"^[A-Za-z0-9_.-]{3,64}$"
USERNAME_PATTERN = re.compile(USERNAME_REGEX)
GUEST_PREFIX = "guest-"
# The prefix in any case, as the document states it (the validator compares lower-cased).
GUEST_PREFIX_PATTERN = "^" + "".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in GUEST_PREFIX)


class Registration(Model):
    """POST /auth/register's body: the rules for a new account."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(
        pattern=USERNAME_REGEX,
        description="3-64 of A-Z a-z 0-9 _ . -, not starting with guest- (kept for guest accounts)",
        json_schema_extra={"not": {"pattern": GUEST_PREFIX_PATTERN}},
    )
    password: str = Field(min_length=8, max_length=256)

    @field_validator("username")
    @classmethod
    def _not_a_guest_name(cls, username: str) -> str:
        if username.lower().startswith(GUEST_PREFIX):
            raise ValueError(f"names starting with '{GUEST_PREFIX}' are kept for guest accounts")
        return username


@dataclass(frozen=True)
class GuestPolicy:
    """Guest accounts (POST /auth/guest): at most `per_address` new ones from one source address
    in `window_seconds`; a guest's data expires `days` after the account was made."""

    enabled: bool
    days: int
    per_address: int
    window_seconds: int


@dataclass(frozen=True)
class SignInLimit:
    """At most `attempts` failed sign-ins per username in `window_seconds`; past that, every
    sign-in of that name is refused until the window ends, the right password included."""

    attempts: int
    window_seconds: int


class Accounts:
    def __init__(
        self,
        users: UserRepository,
        passwords: Passwords,
        *,
        registration_open: bool,
        sign_in_limit: SignInLimit,
        guests: GuestPolicy,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._registration_open = registration_open
        self._limit = sign_in_limit
        self._guests = guests

    def create_guest(self, address: str) -> User:
        """A guest account with no password, whose data expires after the policy's days."""
        if not self._guests.enabled:
            raise Forbidden("guest accounts are switched off on this deployment")
        now = int(time.time())
        taken, window_ends = self._users.take_guest_slot(
            address, now, self._guests.window_seconds, self._guests.per_address
        )
        if not taken:
            raise TooManyRequests(
                f"too many guest accounts from this address; try again in {window_ends - now} seconds, or sign up",
                retry_after=window_ends - now,
            )
        user_id = new_id()
        user = User(
            id=user_id,
            username=f"{GUEST_PREFIX}{user_id.lower()}",
            password_hash="",
            created_at=now_rfc3339(),
            guest=True,
            expires_at=now + self._guests.days * 86400,
        )
        self._users.create(user)
        return user

    def claim(self, guest_username: str, registration: Registration) -> User:
        """A guest keeps the account under a username and password: the account stops expiring
        (the caller then stops the expiry of everything it owns)."""
        guest = self.find(guest_username)
        if guest is None or not guest.guest:
            raise Conflict("only a guest account can be claimed; this one has a username and password already")
        claimed = User(
            id=guest.id,
            username=registration.username,
            password_hash=self._passwords.hash(registration.password),
            created_at=guest.created_at,
        )
        self._users.replace_username(guest, claimed)
        return claimed

    def register(self, registration: Registration) -> User:
        if not self._registration_open:
            raise Forbidden("registration is switched off on this deployment")
        user = User(
            id=new_id(),
            username=registration.username,
            password_hash=self._passwords.hash(registration.password),
            created_at=now_rfc3339(),
        )
        self._users.create(user)
        return user

    def authenticate(self, username: str, password: str) -> User | None:
        """The user, or None; an unknown name and a wrong password cost the same time and count
        the same. Raises TooManyRequests while the name is locked out."""
        now = int(time.time())
        if USERNAME_PATTERN.match(username):
            # Counted before the password is checked, in one conditional write: attempts sent at
            # once cannot all be checked before any is counted. A success clears the count.
            taken, window_ends = self._users.take_sign_in_attempt(
                username, now, self._limit.window_seconds, self._limit.attempts
            )
            if not taken:
                raise TooManyRequests(
                    f"too many failed sign-ins for this username; try again in {window_ends - now} seconds",
                    retry_after=window_ends - now,
                )
        user = self._users.get_by_username(username) if USERNAME_PATTERN.match(username) else None
        if user is None:
            self._passwords.burn_time(password)
        elif user.guest:
            self._passwords.burn_time(password)  # no password: a guest signs in by its session only
        elif self._passwords.verify(user.password_hash, password):
            self._users.clear_failed_sign_ins(username)
            return user
        return None

    def find(self, username: str) -> User | None:
        return self._users.get_by_username(username) if USERNAME_PATTERN.match(username) else None
