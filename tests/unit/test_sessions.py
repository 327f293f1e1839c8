"""Browser sessions: the session cookie (its flags, where it is accepted), the same-origin rule
for changes it authenticates, guest accounts whose data expire (DynamoDB TTL, tagged objects) and
their claim, and the web app's files served by the API."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from imgtasks_api import web_app
from imgtasks_api.handler import handle
from tests.helpers import FakeLambdaContext, http_event, image_bytes, multipart
from tests.unit.test_api_files import post_to_s3

OWN = {"host": "127.0.0.1:3000", "origin": "http://127.0.0.1:3000", "sec-fetch-site": "same-origin"}


class Browser:
    """Calls the API as a page would: the cookie jar is the session cookie, and every request
    carries the headers a browser sends on a same-origin fetch unless told otherwise."""

    def __init__(self, api: Any) -> None:
        self.services = api.services
        self.cookie: str | None = None
        self.set_cookies: list[str] = []

    def call(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        sent = {**OWN, **(headers or {})}
        sent = {k: v for k, v in sent.items() if v is not None}
        if self.cookie:
            sent["cookie"] = f"imgtasks_session={self.cookie}"
        answer = handle(http_event(method, path, headers=sent, **kwargs), FakeLambdaContext(), self.services)  # type: ignore[arg-type]
        self.set_cookies = list(answer.get("cookies") or [])
        for cookie in self.set_cookies:
            name, _, rest = cookie.partition("=")
            if name == "imgtasks_session":
                self.cookie = rest.split(";", 1)[0] or None
        body = answer.get("body") or ""
        answer["json"] = json.loads(body) if body and not answer.get("isBase64Encoded") and body[0] in "{[" else None
        return answer


@pytest.fixture
def browser(api: Any) -> Browser:
    return Browser(api)


def item(mocked_stack: Any, pk: str, sk: str) -> dict[str, Any] | None:
    found = mocked_stack.client("dynamodb").get_item(
        TableName=mocked_stack.outputs["TableName"], Key={"PK": {"S": pk}, "SK": {"S": sk}}
    )
    return found.get("Item")


def tags(mocked_stack: Any, bucket: str, key: str) -> list[dict[str, str]]:
    return list(mocked_stack.client("s3").get_object_tagging(Bucket=bucket, Key=key)["TagSet"])


def sign_up(browser: Browser, username: str = "alice", password: str = "correct-horse") -> Any:
    created = browser.call("POST", "/auth/register", json_body={"username": username, "password": password})
    assert created["statusCode"] == 201, created
    return browser.call("POST", "/auth/session", form={"username": username, "password": password})


def test_signing_in_sets_an_http_only_strict_cookie_that_the_api_accepts_like_a_token(browser: Browser) -> None:
    answer = sign_up(browser)
    assert answer["statusCode"] == 204
    (cookie,) = browser.set_cookies
    flags = [part.strip() for part in cookie.split(";")]
    assert {"HttpOnly", "SameSite=Strict", "Path=/"} <= set(flags)
    assert "Secure" not in flags  # plain http on loopback: a Secure cookie would never come back
    assert browser.call("GET", "/files")["statusCode"] == 200
    me = browser.call("GET", "/auth/session")["json"]
    assert (me["username"], me["guest"], me["expires_at"]) == ("alice", False, None)


def test_the_cookie_is_secure_everywhere_but_plain_http_loopback(browser: Browser) -> None:
    browser.call("POST", "/auth/register", json_body={"username": "alice", "password": "correct-horse"})
    headers = {"host": "imgtasks.example.com", "origin": "https://imgtasks.example.com"}
    answer = browser.call(
        "POST", "/auth/session", headers=headers, form={"username": "alice", "password": "correct-horse"}
    )
    assert answer["statusCode"] == 204
    assert "Secure" in [part.strip() for part in browser.set_cookies[0].split(";")]


def test_a_wrong_password_is_a_401_problem_and_sets_no_cookie(browser: Browser) -> None:
    browser.call("POST", "/auth/register", json_body={"username": "alice", "password": "correct-horse"})
    answer = browser.call("POST", "/auth/session", form={"username": "alice", "password": "wrong-horse"})
    assert answer["statusCode"] == 401
    assert answer["json"]["detail"] == "the username or password is wrong"
    assert browser.cookie is None and browser.set_cookies == []


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"sec-fetch-site": "same-origin"}, True),
        ({"sec-fetch-site": None, "origin": "http://127.0.0.1:3000"}, True),
        ({"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, False),
        ({"sec-fetch-site": "same-site", "origin": "http://127.0.0.1:3000"}, False),
        ({"sec-fetch-site": None, "origin": "https://evil.example"}, False),
        ({"sec-fetch-site": None, "origin": "null"}, False),
        ({"sec-fetch-site": None, "origin": "https://127.0.0.1:3000"}, False),  # another scheme
        ({"sec-fetch-site": None, "origin": None}, False),
    ],
)
def test_a_change_authenticated_by_cookie_must_come_from_our_own_origin(
    browser: Browser, headers: dict[str, Any], allowed: bool
) -> None:
    sign_up(browser)
    answer = browser.call("POST", "/files", headers=headers, json_body={"url": "http://example.com/a.jpg"})
    if allowed:
        assert answer["statusCode"] == 201, answer
    else:
        assert answer["statusCode"] == 403
        assert "session cookie" in answer["json"]["detail"]
    assert browser.call("GET", "/files", headers=headers)["statusCode"] == 200  # reads are not changes


def test_a_bearer_client_is_unaffected_by_the_origin_rule(api: Any) -> None:
    api.sign_up()
    answer = api.call("POST", "/files", json_body={"url": "http://example.com/a.jpg"})
    assert answer.status == 201


def test_signing_in_from_another_origin_is_refused(browser: Browser) -> None:
    browser.call("POST", "/auth/register", json_body={"username": "alice", "password": "correct-horse"})
    hostile = {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}
    answer = browser.call(
        "POST", "/auth/session", headers=hostile, form={"username": "alice", "password": "correct-horse"}
    )
    assert answer["statusCode"] == 403 and browser.cookie is None
    assert browser.call("POST", "/auth/guest", headers=hostile)["statusCode"] == 403


def test_signing_out_clears_the_cookie(browser: Browser) -> None:
    sign_up(browser)
    answer = browser.call("DELETE", "/auth/session")
    assert answer["statusCode"] == 204
    assert browser.set_cookies[0].startswith("imgtasks_session=;") and "Max-Age=0" in browser.set_cookies[0]
    assert browser.cookie is None
    assert browser.call("GET", "/files")["statusCode"] == 401


def test_an_expired_or_forged_cookie_is_a_401_that_says_to_sign_in_again(browser: Browser) -> None:
    browser.cookie = "not.a.token"
    answer = browser.call("GET", "/files")
    assert answer["statusCode"] == 401
    assert answer["json"]["detail"] == "the session has ended; sign in again"


def test_a_guest_gets_an_account_and_session_and_everything_it_makes_expires_with_it(
    browser: Browser, process: Any, mocked_stack: Any
) -> None:
    before = int(time.time())
    answer = browser.call("POST", "/auth/guest")
    assert answer["statusCode"] == 201
    guest = answer["json"]
    assert guest["guest"] is True and guest["username"].startswith("guest-")
    user = item(mocked_stack, f"USER#{guest['username']}", "USER")
    assert user is not None
    expires = int(user["expires_at"]["N"])
    assert before + 7 * 86400 <= expires <= int(time.time()) + 7 * 86400

    data = image_bytes((120, 80), fmt="PNG")
    started = browser.call(
        "POST", "/files", json_body={"filename": "big.png", "content_type": "image/png", "size": len(data)}
    )["json"]
    post_to_s3(mocked_stack, started["upload"], data)
    process.drain()
    file_id = started["file"]["id"]
    created = browser.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "preset": "web"})
    assert created["statusCode"] == 202, created
    task_id = created["json"]["tasks"][0]["id"]
    process.drain()
    task = browser.call("GET", f"/tasks/{task_id}")["json"]
    assert task["status"] == "done", task

    file_item = item(mocked_stack, f"FILE#{file_id}", "FILE")
    task_item = item(mocked_stack, f"TASK#{task_id}", "TASK")
    assert file_item is not None and task_item is not None
    assert int(file_item["expires_at"]["N"]) == expires
    assert int(task_item["expires_at"]["N"]) == expires
    output = task["result"]["outputs"][0]
    output_item = item(mocked_stack, f"FILE#{output['file_id']}", "FILE")
    assert output_item is not None and int(output_item["expires_at"]["N"]) == expires
    guest_tag = [{"Key": "retention", "Value": "guest"}]
    assert tags(mocked_stack, mocked_stack.outputs["UploadsBucketName"], file_item["key"]["S"]) == guest_tag
    assert tags(mocked_stack, mocked_stack.outputs["ResultsBucketName"], output_item["key"]["S"]) == guest_tag
    rule = mocked_stack.client("s3").get_bucket_lifecycle_configuration(
        Bucket=mocked_stack.outputs["ResultsBucketName"]
    )
    guest_rule = next(r for r in rule["Rules"] if r["ID"] == "guest-data")
    assert guest_rule["Filter"] == {"Tag": {"Key": "retention", "Value": "guest"}}
    assert guest_rule["Expiration"] == {"Days": 7}

    assert (
        browser.call("POST", "/webhooks", json_body={"url": "http://example.com/hook", "events": ["task.completed"]})[
            "statusCode"
        ]
        == 403
    )


def test_a_claimed_guest_keeps_everything_and_signs_in_with_a_password(
    browser: Browser, process: Any, mocked_stack: Any, api: Any
) -> None:
    guest = browser.call("POST", "/auth/guest")["json"]
    body, content_type = multipart({}, {"file": ("cat.jpg", image_bytes((64, 48)), "image/jpeg")})
    uploaded = browser.call("POST", "/files", body=body, headers={"content-type": content_type})
    assert uploaded["statusCode"] == 201, uploaded
    file_id = uploaded["json"]["id"]
    task_id = browser.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file_id]})["json"]["tasks"][0][
        "id"
    ]
    process.drain()
    taken = sign_up(Browser(api), "taken-name")
    assert taken["statusCode"] == 204

    conflict = browser.call("POST", "/auth/claim", json_body={"username": "taken-name", "password": "a-good-password"})
    assert conflict["statusCode"] == 409
    reserved = browser.call("POST", "/auth/claim", json_body={"username": "guest-me", "password": "a-good-password"})
    assert reserved["statusCode"] == 400
    claimed = browser.call("POST", "/auth/claim", json_body={"username": "carol", "password": "a-good-password"})
    assert claimed["statusCode"] == 200, claimed
    assert (claimed["json"]["username"], claimed["json"]["guest"], claimed["json"]["user_id"]) == (
        "carol", False, guest["user_id"]
    )  # fmt: skip
    assert browser.call("GET", "/auth/session")["json"]["guest"] is False  # the new cookie

    file_item = item(mocked_stack, f"FILE#{file_id}", "FILE")
    task_item = item(mocked_stack, f"TASK#{task_id}", "TASK")
    assert file_item is not None and "expires_at" not in file_item and "retain_until" not in file_item
    assert task_item is not None and "expires_at" not in task_item
    assert tags(mocked_stack, mocked_stack.outputs["UploadsBucketName"], file_item["key"]["S"]) == []
    assert item(mocked_stack, f"USER#{guest['username']}", "USER") is None
    user = item(mocked_stack, "USER#carol", "USER")
    assert user is not None and "expires_at" not in user

    assert (
        browser.call("POST", "/auth/claim", json_body={"username": "dave", "password": "a-good-password"})["statusCode"]
        == 409
    )
    fresh = Browser(api)
    assert (
        fresh.call("POST", "/auth/session", form={"username": "carol", "password": "a-good-password"})["statusCode"]
        == 204
    )
    assert fresh.call("GET", f"/tasks/{task_id}")["json"]["status"] == "done"


def test_guests_from_one_address_are_limited_per_hour(browser: Browser) -> None:
    for _ in range(20):
        assert browser.call("POST", "/auth/guest")["statusCode"] == 201
    refused = browser.call("POST", "/auth/guest")
    assert refused["statusCode"] == 429
    assert int(refused["headers"]["Retry-After"]) > 3000
    assert "too many guest accounts" in refused["json"]["detail"]


def test_a_guest_cannot_sign_in_with_a_password(browser: Browser) -> None:
    guest = browser.call("POST", "/auth/guest")["json"]
    other = Browser(browser)
    answer = other.call("POST", "/auth/session", form={"username": guest["username"], "password": "anything-at-all"})
    assert answer["statusCode"] == 401


def test_the_web_app_is_served_under_app_with_a_strict_policy(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>imgtasks</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    monkeypatch.setattr(web_app, "APP_ROOT", tmp_path)
    page = browser.call("GET", "/app/", headers={"sec-fetch-site": None, "origin": None})
    assert page["statusCode"] == 200 and "<title>imgtasks</title>" in page["body"]
    assert page["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert page["headers"]["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in page["headers"]["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page["headers"]["Content-Security-Policy"]
    script = browser.call("GET", "/app/assets/index-abc123.js")
    assert script["headers"]["Content-Type"].startswith(("text/javascript", "application/javascript"))
    assert "immutable" in script["headers"]["Cache-Control"]
    assert browser.call("GET", "/app")["statusCode"] == 308
    assert browser.call("GET", "/app/missing.js")["statusCode"] == 404
    assert browser.call("GET", "/app/%2E%2E/handler.py")["statusCode"] == 404
    assert browser.call("GET", "/app/../handler.py")["statusCode"] == 404


def test_an_unbuilt_web_app_says_how_to_build_it(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_app, "APP_ROOT", tmp_path / "nothing")
    answer = browser.call("GET", "/app/")
    assert answer["statusCode"] == 503 and "make web" in answer["json"]["detail"]
