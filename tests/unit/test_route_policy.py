"""Route policies are declared on the routes (imgtasks_api.policy): every route the API serves
answers a caller who says nothing about who it is with 401 unless it declares itself public, the
document marks the same routes public, idempotent routes document their header, and a GET that
creates something refuses a cookie from another site."""

from __future__ import annotations

import re
from typing import Any

import pytest

from imgtasks_api import openapi
from imgtasks_api.app import all_routes, app
from imgtasks_api.policy import policy_of
from tests.unit.test_sessions import Browser, sign_up

PUBLIC = {
    ("POST", "/auth/register"),
    ("POST", "/auth/token"),
    ("POST", "/auth/session"),
    ("DELETE", "/auth/session"),
    ("GET", "/auth/state"),
    ("POST", "/auth/guest"),
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/favicon.ico"),
}
IDEMPOTENT = {
    ("POST", "/files"),
    ("POST", "/files/presigned"),
    ("POST", "/files/from-url"),
    ("POST", "/tasks"),
    ("POST", "/tasks/upload"),
    ("POST", "/archives"),
}


def concrete(path: str) -> str:
    """A path that the route matches, with a well-formed id for each of its parameters."""
    return re.sub(r"<[^>]+>", "01JAAAAAAAAAAAAAAAAAAAAAAA", path)


def test_the_routes_declare_the_public_and_idempotent_sets_the_contract_names() -> None:
    routes = {(route.method, route.path): policy_of(route.func) for route in all_routes()}
    assert {key for key, policy in routes.items() if policy.public} == PUBLIC
    assert {key for key, policy in routes.items() if policy.idempotent} == IDEMPOTENT


def test_every_route_that_is_not_public_answers_an_anonymous_caller_with_401(api: Any) -> None:
    checked = 0
    for route in all_routes():
        if policy_of(route.func).public:
            continue
        answer = api.call(route.method, concrete(route.path), anonymous=True)
        assert answer.status == 401, (route.method, route.path, answer.body)
        checked += 1
    assert checked >= 25


def test_the_document_marks_public_routes_and_documents_idempotency_keys() -> None:
    document = openapi.document(app)
    for route in all_routes():
        operation = document["paths"].get(route.openapi_path, {}).get(route.method.lower())
        if operation is None:  # left out of the document on purpose (Swagger UI's page)
            continue
        policy = policy_of(route.func)
        assert (operation.get("security") == []) == policy.public, route.path
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert ("Idempotency-Key" in headers) == policy.idempotent, route.path


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({}, True),
        ({"sec-fetch-site": "cross-site", "origin": "https://evil.example"}, False),
        ({"sec-fetch-site": None, "origin": None}, False),
    ],
)
def test_batch_download_creates_an_archive_only_for_a_same_origin_cookie_caller(
    api: Any, headers: dict[str, Any], allowed: bool
) -> None:
    browser = Browser(api)
    sign_up(browser)
    answer = browser.call("GET", "/tasks/batch-download?task_ids=01JAAAAAAAAAAAAAAAAAAAAAAA", headers=headers)
    assert answer["statusCode"] == (202 if allowed else 403), answer
    listed = browser.call("GET", "/tasks?type=archive")["json"]["items"]
    assert len(listed) == (1 if allowed else 0)
