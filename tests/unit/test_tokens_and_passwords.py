from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import jwt
import pytest

from imgtasks.domain.errors import TooManyRequests, Unauthorized
from imgtasks.services.credentials import TOKEN_AUDIENCE, Passwords, TokenSigner

SECRET = "s" * 48


def signer(issuer: str = "imgtasks-test", ttl: int = 60) -> TokenSigner:
    return TokenSigner(SECRET, issuer, ttl)


def claims(**changes: object) -> dict[str, object]:
    """Claims our signer would accept, with `changes` applied (None removes a claim)."""
    now = int(time.time())
    base: dict[str, object] = {
        "iss": "imgtasks-test",
        "aud": TOKEN_AUDIENCE,
        "sub": "u",
        "preferred_username": "a",
        "iat": now,
        "exp": now + 60,
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def test_an_issued_token_verifies_to_its_user() -> None:
    token = signer().issue("01JUSER", "alice")
    identity = signer().verify(token.access_token)
    assert (identity.user_id, identity.username) == ("01JUSER", "alice")
    assert token.expires_in == 60


def encode(payload: dict[str, object], algorithm: str = "HS256") -> str:
    return jwt.encode(payload, SECRET, algorithm=algorithm)


def test_the_claims_the_refusal_tests_start_from_are_accepted() -> None:
    # The control for every test below: each changes one thing from this accepted token.
    assert signer().verify(encode(claims())).user_id == "u"


def test_an_expired_token_is_refused() -> None:
    now = int(time.time())
    with pytest.raises(Unauthorized, match="expired"):
        signer().verify(encode(claims(iat=now - 120, exp=now - 60)))


def test_a_token_signed_with_another_key_is_refused() -> None:
    forged = TokenSigner("x" * 48, "imgtasks-test", 60).issue("u", "a").access_token
    with pytest.raises(Unauthorized):
        signer().verify(forged)


def test_an_unsigned_token_with_alg_none_is_refused() -> None:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims())}."
    with pytest.raises(Unauthorized):
        signer().verify(token)


def test_a_token_with_another_algorithm_is_refused() -> None:
    with pytest.raises(Unauthorized):
        signer().verify(encode(claims(), algorithm="HS512"))


def test_a_token_for_another_issuer_or_audience_is_refused() -> None:
    with pytest.raises(Unauthorized):
        signer().verify(signer(issuer="someone-else").issue("u", "a").access_token)
    with pytest.raises(Unauthorized):
        signer().verify(encode(claims(aud="another-api")))


def test_a_token_without_expiry_is_refused() -> None:
    with pytest.raises(Unauthorized):
        signer().verify(encode(claims(exp=None)))


def test_garbage_is_refused() -> None:
    with pytest.raises(Unauthorized):
        signer().verify("not-a-token")


def test_a_short_signing_secret_is_rejected_at_start() -> None:
    with pytest.raises(ValueError, match="at least"):
        TokenSigner("short", "i", 60)


def test_passwords_are_hashed_with_argon2id_and_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the service's own parameters, not the unit tests' cheap ones
    passwords = Passwords()
    hashed = passwords.hash("correct-horse")
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct-horse" not in hashed
    assert passwords.verify(hashed, "correct-horse")
    assert not passwords.verify(hashed, "wrong-horse")
    assert not passwords.verify("not-a-hash", "correct-horse")


def test_a_username_is_locked_out_after_repeated_failed_sign_ins_then_let_in_after_the_window(api: Any) -> None:
    api.sign_up("victim", "correct-horse")
    api.sign_up("bystander", "correct-horse")

    def sign_in(username: str, password: str) -> Any:
        return api.call(
            "POST", "/auth/token", form={"grant_type": "password", "username": username, "password": password}
        )

    for _ in range(10):
        assert sign_in("victim", "wrong-password").body["error"] == "invalid_grant"
    locked = sign_in("victim", "correct-horse")
    assert (locked.status, locked.body["error"]) == (429, "temporarily_unavailable")
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    assert sign_in("bystander", "correct-horse").status == 200  # only that name is locked
    for _ in range(3):
        assert sign_in("nobody-here", "whatever1").status == 400  # unknown names count the same way
    # The window ends (as if 15 minutes passed): the right password works and clears the count.
    table = api.services.task_records._table
    table.update_item(
        Key={"PK": "LOGIN#victim", "SK": "FAILURES"},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": 1},
    )
    assert sign_in("victim", "correct-horse").status == 200
    assert "Item" not in table.get_item(Key={"PK": "LOGIN#victim", "SK": "FAILURES"})


def test_sign_in_attempts_sent_at_once_are_counted_before_any_password_is_checked(api: Any) -> None:
    """40 wrong passwords sent 8 at a time once had 15 checked against a limit of 10: each request
    checked the count before any had added to it. Here every attempt is held inside its password
    check while the next one arrives: only the limit's worth may get that far."""
    from imgtasks.services.accounts import Accounts, SignInLimit

    api.sign_up("victim", "correct-horse")
    held, release = threading.Semaphore(0), threading.Event()

    class HeldPasswords(Passwords):
        def verify(self, password_hash: str, password: str) -> bool:
            held.release()  # this attempt reached the password check
            release.wait(timeout=30)
            return False

    accounts = Accounts(
        api.services.user_records,
        HeldPasswords(),
        registration_open=True,
        sign_in_limit=SignInLimit(attempts=3, window_seconds=900),
        guests=api.services.accounts._guests,
    )
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            accounts.authenticate("victim", "wrong-password")
            outcomes.append("checked")
        except TooManyRequests:
            outcomes.append("refused")

    threads = []
    for _ in range(8):
        before = len(outcomes)
        thread = threading.Thread(target=attempt)
        thread.start()
        threads.append(thread)
        # The next attempt starts once this one is held in its password check, or was refused.
        deadline = time.monotonic() + 10
        while not held.acquire(timeout=0.05) and len(outcomes) == before:
            assert time.monotonic() < deadline, "an attempt neither reached the password check nor was refused"
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["checked"] * 3 + ["refused"] * 5
