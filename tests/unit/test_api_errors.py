"""Every input that can be wrong gets a clear 4xx problem; logs carry a correlation id, never a secret."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.helpers import ROOT, FakeLambdaContext, http_event, image_bytes


def test_malformed_json_is_a_400_that_says_so(api: Any) -> None:
    api.sign_up()
    answer = api.call("POST", "/tasks", body=b'{"type": "process",', headers={"content-type": "application/json"})
    assert answer.status == 400
    assert "not valid JSON" in answer.problem["detail"]


def test_a_misspelt_field_is_rejected_with_one_error_per_bad_field(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    answer = api.call(
        "POST",
        "/tasks",
        json_body={
            "type": "process",
            "file_ids": [file_id],
            "operatons": [],
            "output": {"format": "bmp", "quality": 0},
        },
    )
    assert answer.status == 400
    errors = {tuple(e["loc"]): e["msg"] for e in answer.problem["errors"]}
    assert errors[("body", "operatons")] == "unknown field"
    assert ("body", "output", "format") in errors
    assert ("body", "output", "quality") in errors
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.problem
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)
    assert problem["status"] == 400


def test_register_rejects_unknown_fields_bad_names_short_passwords_and_taken_names(api: Any) -> None:
    unknown = api.call(
        "POST", "/auth/register", json_body={"username": "alice", "password": "correct-horse", "admin": True}
    )
    assert (unknown.status, unknown.problem["errors"][0]["loc"]) == (400, ["body", "admin"])
    bad = api.call("POST", "/auth/register", json_body={"username": "a b", "password": "short"})
    assert bad.status == 400
    assert {tuple(e["loc"]) for e in bad.problem["errors"]} == {("body", "username"), ("body", "password")}
    assert (
        api.call("POST", "/auth/register", json_body={"username": "alice", "password": "correct-horse"}).status == 201
    )
    taken = api.call("POST", "/auth/register", json_body={"username": "Alice", "password": "correct-horse"})
    assert taken.status == 409
    assert "taken" in taken.problem["detail"]


def test_registration_can_be_switched_off(mocked_stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from imgtasks.settings import ApiSettings
    from imgtasks_api.wiring import ApiWiring
    from tests.unit.api_client import ApiClient

    mocked_stack.use_environment_of("ApiFunction", monkeypatch)
    monkeypatch.setenv("ALLOW_REGISTRATION", "false")
    api = ApiClient(ApiWiring(ApiSettings()))  # type: ignore[call-arg]
    answer = api.call("POST", "/auth/register", json_body={"username": "alice", "password": "correct-horse"})
    assert answer.status == 403
    assert "switched off" in answer.problem["detail"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
        ("status=sleeping", "status"),
        ("order=name", "order"),
        ("type=video", "type"),
    ],
)
def test_absurd_list_parameters_are_a_400_naming_the_parameter(api: Any, query: str, field: str) -> None:
    api.sign_up()
    answer = api.call("GET", f"/tasks?{query}")
    assert answer.status == 400
    assert answer.problem["errors"][0]["loc"] == ["query", field]


def test_a_cursor_the_api_did_not_issue_is_a_400(api: Any) -> None:
    api.sign_up()
    for path in ("/tasks?cursor=bogus", "/files?cursor=eyJ2IjoxfQ"):
        answer = api.call("GET", path)
        assert answer.status == 400
        assert "cursor" in answer.problem["detail"]


def test_a_body_of_the_wrong_content_type_is_a_415(api: Any) -> None:
    api.sign_up()
    for path in ("/tasks", "/files"):
        answer = api.call("POST", path, body=b"<xml/>", headers={"content-type": "application/xml"})
        assert answer.status == 415
        assert "application/json" in answer.problem["detail"]


def test_an_unknown_route_is_a_404_problem(api: Any) -> None:
    api.sign_up()
    answer = api.call("GET", "/nothing-here")
    assert answer.status == 404
    assert answer.problem["detail"] == "no such endpoint: GET /nothing-here"


def test_an_unexpected_error_is_a_500_without_a_trace(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    api.sign_up()

    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internals at /var/task/x.py line 3")

    monkeypatch.setattr(api.services.files, "list", explode)
    answer = api.call("GET", "/files")
    assert answer.status == 500
    assert "secret internals" not in json.dumps(answer.body)
    assert "Traceback" not in json.dumps(answer.body)


def test_logs_are_json_with_the_request_id_as_correlation_id_and_never_a_token(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imgtasks_api import handler

    monkeypatch.setattr(handler, "api_wiring", lambda: api.services)
    buffer = io.StringIO()
    previous = handler.logger.registered_handler.setStream(buffer)  # type: ignore[attr-defined]
    handler.logger.setLevel("INFO")
    event = http_event("POST", "/auth/register", json_body={"username": "carol", "password": "hunter2-hunter2"})
    assert handler.lambda_handler(event, FakeLambdaContext())["statusCode"] == 201
    token_event = http_event(
        "POST", "/auth/token", form={"grant_type": "password", "username": "carol", "password": "hunter2-hunter2"}
    )
    token = json.loads(handler.lambda_handler(token_event, FakeLambdaContext())["body"])["access_token"]
    upload = http_event("GET", "/files", token=token)
    handler.lambda_handler(upload, FakeLambdaContext())
    handler.logger.setLevel("WARNING")
    handler.logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    registered = next(line for line in lines if line["message"] == "user registered")
    assert registered["correlation_id"] == event["requestContext"]["requestId"]
    everything = json.dumps(lines)
    assert token not in everything
    assert "hunter2" not in everything


DEEP_JSON = b"[" * 10_000 + b"]" * 10_000


@pytest.mark.parametrize(
    ("path", "body", "detail"),
    [
        ("/tasks", DEEP_JSON, "nested too deeply"),
        ("/files", DEEP_JSON, "nested too deeply"),
        ("/files/presigned", DEEP_JSON, "nested too deeply"),
        ("/auth/register", DEEP_JSON, "nested too deeply"),
        ("/auth/register", b'{"username": "\xff\xfe"}', "not UTF-8"),
        ("/tasks", b'{"type": "\xff"}', "not UTF-8"),
    ],
    ids=["tasks-deep", "files-deep", "presigned-deep", "register-deep", "register-latin1", "tasks-latin1"],
)
def test_a_json_body_the_parser_cannot_take_is_a_400_not_a_500(api: Any, path: str, body: bytes, detail: str) -> None:
    api.sign_up("parser")
    answer = api.call("POST", path, body=body, headers={"content-type": "application/json"})
    assert answer.status == 400, answer.body
    assert detail in answer.problem["detail"]


def test_a_multipart_spec_the_parser_cannot_take_is_a_400(api: Any) -> None:
    from tests.helpers import multipart

    api.sign_up()
    body, header = multipart({"spec": ("[" * 10_000)}, {"file": ("a.jpg", image_bytes(), "image/jpeg")})
    answer = api.call("POST", "/tasks", body=body, headers={"content-type": header})
    assert answer.status == 400
    assert answer.problem["errors"][0]["loc"] == ["body", "spec"]


@pytest.mark.parametrize(
    ("path", "fields"),
    [("/files", {}), ("/tasks", {"spec": '{"type": "process"}'}), ("/tasks/upload", {"spec": '{"type": "process"}'})],
)
def test_unknown_multipart_parts_are_refused_like_unknown_json_fields(
    api: Any, path: str, fields: dict[str, str]
) -> None:
    from tests.helpers import multipart

    api.sign_up()
    body, header = multipart({**fields, "admin": "true"}, {"file": ("a.jpg", image_bytes(), "image/jpeg")})
    answer = api.call("POST", path, body=body, headers={"content-type": header})
    assert answer.status == 400
    assert answer.problem["errors"] == [{"loc": ["body", "admin"], "msg": "unknown field", "type": "extra_forbidden"}]
    assert api.call("GET", "/files").body["items"] == []  # nothing was stored


def test_percent_encoded_letters_and_digits_in_a_path_name_the_same_resource(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    encoded = "".join(f"%{ord(char):02X}" for char in file_id)
    assert api.call("GET", f"/files/{encoded}").body["id"] == file_id
    # An encoded slash stays a character of the id (not a separator), which no id has: a 400.
    slashed = api.call("GET", f"/files/{file_id[:5]}%2F{file_id[6:]}")
    assert (slashed.status, slashed.problem["errors"][0]["loc"]) == (400, ["path", "file_id"])


def test_every_path_id_operation_documents_its_400() -> None:
    from imgtasks_api import openapi
    from imgtasks_api.app import app

    document = openapi.document(app)
    with_ids = [(path, op) for path, ops in document["paths"].items() if "{" in path for op in ops.values()]
    assert (
        len(with_ids) == 14
    )  # the files (and their previews), tasks, webhooks, signing keys and dead-letter queues that take one
    assert all("400" in operation["responses"] for _, operation in with_ids)


def test_a_path_id_over_its_length_limit_is_a_400(api: Any) -> None:
    api.sign_up()
    answer = api.call("GET", "/tasks/" + "A" * 65)
    assert answer.status == 400
    assert answer.problem["errors"][0]["loc"] == ["path", "task_id"]


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("path", ["/auth/register", "/files/presigned", "/files/from-url", "/archives", "/webhooks"])
def test_a_json_only_endpoint_answers_another_media_type_with_a_415(api: Any, path: str, content_type: str) -> None:
    api.sign_up("mediatype")
    body = b'{"username": "someone", "password": "correct-horse"}'
    answer = api.call("POST", path, body=body, headers={"content-type": content_type})
    assert answer.status == 415
    assert "application/json" in answer.problem["detail"]


def test_a_method_the_path_does_not_serve_is_a_405_naming_the_ones_it_does(api: Any) -> None:
    api.sign_up()
    answer = api.call("PUT", "/files/presigned")
    assert (answer.status, answer.headers["Allow"]) == (405, "POST")
    assert api.call("PATCH", "/tasks").headers["Allow"] == "GET, POST"
    assert api.call("GET", "/nothing-here").status == 404


def test_trace_is_a_405_problem_not_an_html_page(api: Any) -> None:
    api.sign_up()
    answer = api.call("TRACE", "/tasks")
    assert answer.status == 405
    assert answer.problem["status"] == 405


def test_the_favicon_a_browser_asks_for_needs_no_token(api: Any) -> None:
    answer = api.call("GET", "/favicon.ico", anonymous=True)
    assert answer.status == 204


def test_docs_with_format_json_is_the_openapi_document(api: Any) -> None:
    answer = api.call("GET", "/docs?format=json", anonymous=True)
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.body["openapi"].startswith("3.")
    assert api.call("GET", "/docs", anonymous=True).headers["Content-Type"] == "text/html"


def test_a_request_that_adds_no_metric_warns_about_none() -> None:
    # In a process of its own: pytest resets warning filters around each test.
    script = "from imgtasks.observability import metrics\nmetrics.log_metrics(lambda event, context: None)({}, None)\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "common"), "POWERTOOLS_METRICS_NAMESPACE": "test"}
    command = [sys.executable, "-W", "default", "-c", script]
    ran = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    assert ran.returncode == 0, ran.stderr
    assert "No application metrics" not in ran.stderr


def test_every_json_only_route_documents_its_415() -> None:
    from imgtasks_api import openapi
    from imgtasks_api.app import all_routes, app, takes_json_body

    document = openapi.document(app)
    json_only = [route for route in all_routes() if takes_json_body(route)]
    assert {(route.method, route.openapi_path) for route in json_only} >= {
        ("POST", "/auth/register"),
        ("POST", "/files/presigned"),
        ("POST", "/archives"),
        ("POST", "/webhooks"),
    }
    for route in json_only:
        assert "415" in document["paths"][route.openapi_path][route.method.lower()]["responses"], route.path
