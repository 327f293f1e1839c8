"""Registration and password login."""

from __future__ import annotations

import re

from pydantic import ConfigDict, Field

from imgtasks.adapters.repositories import UserRepository
from imgtasks.domain.base import Model
from imgtasks.domain.clock import now_rfc3339
from imgtasks.domain.errors import Forbidden
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


class Accounts:
    def __init__(self, users: UserRepository, passwords: Passwords, *, registration_open: bool) -> None:
        self._users = users
        self._passwords = passwords
        self._registration_open = registration_open

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
        """The user, or None; an unknown name and a wrong password cost the same time."""
        user = self._users.get_by_username(username) if USERNAME_PATTERN.match(username) else None
        if user is None:
            self._passwords.burn_time(password)
            return None
        return user if self._passwords.verify(user.password_hash, password) else None

    def find(self, username: str) -> User | None:
        return self._users.get_by_username(username) if USERNAME_PATTERN.match(username) else None
