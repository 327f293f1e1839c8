"""Registration and password login."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from pydantic import ConfigDict, Field

from imgtasks.adapters.repositories import UserRepository
from imgtasks.domain.base import Model
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.errors import Forbidden, TooManyRequests
from imgtasks.domain.ids import new_id
from imgtasks.domain.records import User
from imgtasks.services.credentials import Passwords

USERNAME_REGEX = r"^[A-Za-z0-9_.-]{3,64}$"
USERNAME_PATTERN = re.compile(USERNAME_REGEX)


class Registration(Model):
    """POST /auth/register's body: the rules for a new account."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_REGEX, description="3-64 of A-Z a-z 0-9 _ . -")
    password: str = Field(min_length=8, max_length=256)


@dataclass(frozen=True)
class SignInLimit:
    """At most `attempts` failed sign-ins per username in `window_seconds`; past that, every
    sign-in of that name is refused until the window ends, the right password included."""

    attempts: int
    window_seconds: int


class Accounts:
    def __init__(
        self, users: UserRepository, passwords: Passwords, *, registration_open: bool, sign_in_limit: SignInLimit
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._registration_open = registration_open
        self._limit = sign_in_limit

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
            failures, window_ends = self._users.failed_sign_ins(username, now)
            if failures >= self._limit.attempts:
                raise TooManyRequests(
                    f"too many failed sign-ins for this username; try again in {window_ends - now} seconds",
                    retry_after=window_ends - now,
                )
        user = self._users.get_by_username(username) if USERNAME_PATTERN.match(username) else None
        if user is None:
            self._passwords.burn_time(password)
        elif self._passwords.verify(user.password_hash, password):
            self._users.clear_failed_sign_ins(username)
            return user
        if USERNAME_PATTERN.match(username):
            self._users.add_failed_sign_in(username, now, self._limit.window_seconds)
        return None

    def find(self, username: str) -> User | None:
        return self._users.get_by_username(username) if USERNAME_PATTERN.match(username) else None
