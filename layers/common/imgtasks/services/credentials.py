"""Passwords (argon2id) and access tokens (JWT, HS256, with issuer, audience and expiry)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

import jwt
from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from imgtasks.domain.errors import Unauthorized
from imgtasks.domain.ids import new_id

TOKEN_AUDIENCE = "imgtasks-api"  # noqa: S105 - a name, not a secret
# A ticket for the WebSocket API's $connect (POST /events/tickets): short-lived, and good for
# nothing else (the API refuses it as a bearer token).
EVENTS_AUDIENCE = "imgtasks-events"
TICKET_SECONDS = 60
_ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32


# argon2id with RFC 9106's second recommended profile (64 MiB, 3 passes), argon2-cffi's default.
PASSWORD_PARAMETERS: Parameters = profiles.RFC_9106_LOW_MEMORY


class Passwords:
    """argon2id (PASSWORD_PARAMETERS); a hash made with other parameters still verifies."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher.from_parameters(PASSWORD_PARAMETERS)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash("imgtasks-dummy-password")

    def burn_time(self, password: str) -> None:
        """Spends what a verification costs, so an unknown username takes as long as a wrong
        password and the two cannot be told apart by timing."""
        self.verify(self._dummy_hash, password)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class Identity:
    user_id: str
    username: str
    # A guest's data expires then (epoch seconds): everything the guest makes carries it as its
    # DynamoDB TTL. None for an account with a password.
    guest_until: int | None = None


class TokenSigner:
    def __init__(self, secret: str, issuer: str, ttl_seconds: int) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"the token signing secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._issuer = issuer
        self._ttl = ttl_seconds

    def issue(
        self,
        user_id: str,
        username: str,
        *,
        guest_until: int | None = None,
        ttl_seconds: int | None = None,
        audience: str = TOKEN_AUDIENCE,
    ) -> IssuedToken:
        """A token for the account; a guest's carries when its data expires (`guest_until`), and
        may live longer than a session (a guest has no password to sign in again with)."""
        now = int(time.time())
        ttl = ttl_seconds or self._ttl
        claims: dict[str, object] = {
            "iss": self._issuer,
            "aud": audience,
            "sub": user_id,
            "preferred_username": username,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": new_id(),
        }
        if guest_until is not None:
            claims["guest_until"] = guest_until
        token = jwt.encode(claims, self._secret, algorithm=_ALGORITHM)
        return IssuedToken(access_token=token, expires_in=ttl)

    def verify(self, token: str, audience: str = TOKEN_AUDIENCE) -> Identity:
        """Only HS256 with our key, issuer and audience, unexpired; anything else is Unauthorized."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=audience,
                issuer=self._issuer,
                leeway=5,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthorized("the access token has expired") from error
        except jwt.InvalidTokenError as error:
            raise Unauthorized("the access token is not valid") from error
        subject, username = claims.get("sub"), claims.get("preferred_username")
        guest_until = claims.get("guest_until")
        if not isinstance(subject, str) or not isinstance(username, str):
            raise Unauthorized("the access token is not valid")
        if guest_until is not None and not isinstance(guest_until, int):
            raise Unauthorized("the access token is not valid")
        return Identity(user_id=subject, username=username, guest_until=guest_until)
