"""The Python client (clients/python) against a mocked transport (respx): retries that never
create twice, errors as typed exceptions, pages, uploads by size, long-poll waits, webhook
signatures, the async client; and its models against the server's own /openapi.json."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from imgtasks_client import (
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidInput,
    InvalidSignature,
    NotFound,
    RateLimited,
    ServerError,
    batch,
    operations,
)
from imgtasks_client.models import SCHEMAS
from imgtasks_client.op_strings import parse_operation
from imgtasks_client.operations import DIRECT_UPLOAD_BYTES
from standardwebhooks.webhooks import Webhook as Signer

from imgtasks_api import openapi
from imgtasks_api.app import app

URL = "http://imgtasks.test"
NOW = "2026-11-24T05:00:00.000Z"


def task(status: str = "queued", **changes: Any) -> dict[str, Any]:
    body = {
        "id": "01TASK00000000000000000000",
        "type": "process",
        "status": status,
        "progress": 100 if status == "done" else 0,
        "file_id": "01FILE00000000000000000000",
        "spec": {"preset": "web"},
        "created_at": NOW,
        "updated_at": NOW,
        "started_at": None,
        "completed_at": None,
        "duration_ms": None,
        "attempts": 1,
        "error": None,
        "result": None,
    }
    return {**body, **changes}


def file(**changes: Any) -> dict[str, Any]:
    return {
        "id": "01FILE00000000000000000000",
        "filename": "a.jpg",
        "content_type": "image/jpeg",
        "size": 10,
        "status": "ready",
        "created_at": NOW,
        **changes,
    }


def problem(status: int, detail: str, **extra: Any) -> httpx.Response:
    body = {"type": "about:blank", "title": "x", "status": status, "detail": detail, **extra}
    return httpx.Response(status, json=body, headers={"Content-Type": "application/problem+json"})


@pytest.fixture
def api() -> Any:
    with respx.mock(base_url=URL, assert_all_called=False) as mocked:
        yield mocked


@pytest.fixture
def client() -> Any:
    with Client(URL, token="t0ken", backoff=0.001) as made:
        yield made


def test_the_models_have_the_fields_of_the_servers_schemas() -> None:
    schemas = json.loads(openapi.document_json(app))["components"]["schemas"]
    for model, name in SCHEMAS.items():
        schema = schemas[name]
        fields = {field.alias or key for key, field in model.model_fields.items()}
        required = {field.alias or key for key, field in model.model_fields.items() if field.is_required()}
        assert fields == set(schema["properties"]), name
        assert required == set(schema.get("required", [])), name


def test_a_create_is_retried_with_the_same_idempotency_key_after_a_5xx(api: Any, client: Client) -> None:
    route = api.post("/tasks").mock(side_effect=[problem(503, "busy"), httpx.Response(202, json={"tasks": [task()]})])
    (created,) = client.tasks.create("01FILE00000000000000000000", preset="web")
    assert created.id == "01TASK00000000000000000000" and created.status == "queued"
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert route.call_count == 2 and len(keys) == 1
    sent = json.loads(route.calls[0].request.content)
    assert sent == {"type": "process", "file_ids": ["01FILE00000000000000000000"], "preset": "web"}
    assert route.calls[0].request.headers["Authorization"] == "Bearer t0ken"


def test_two_creates_carry_two_keys(api: Any, client: Client) -> None:
    route = api.post("/tasks").mock(return_value=httpx.Response(202, json={"tasks": [task()]}))
    client.tasks.create("a")
    client.tasks.create("a")
    assert len({call.request.headers["Idempotency-Key"] for call in route.calls}) == 2


def test_a_connection_error_is_retried_for_a_read(api: Any, client: Client) -> None:
    route = api.get("/tasks/01TASK00000000000000000000").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=task("running"))]
    )
    assert client.tasks.get("01TASK00000000000000000000").status == "running"
    assert route.call_count == 2


def test_a_change_without_a_key_is_sent_once(api: Any, client: Client) -> None:
    route = api.post("/tasks/01TASK00000000000000000000/cancel").mock(return_value=problem(503, "busy"))
    with pytest.raises(ServerError):
        client.tasks.cancel("01TASK00000000000000000000")
    assert route.call_count == 1


def test_retries_end_and_a_429_says_when_to_come_back(api: Any) -> None:
    route = api.get("/models").mock(
        return_value=httpx.Response(429, json={"detail": "slow down"}, headers={"Retry-After": "0"})
    )
    with Client(URL, token="t", max_retries=2, backoff=0.001) as made, pytest.raises(RateLimited) as raised:
        made.models.list()
    assert route.call_count == 3
    assert raised.value.retry_after == 0 and raised.value.detail == "slow down"


def test_problems_become_typed_errors_with_their_detail_and_fields(api: Any, client: Client) -> None:
    api.get("/tasks/nope").mock(return_value=problem(404, "task 'nope' does not exist"))
    with pytest.raises(NotFound, match="task 'nope' does not exist"):
        client.tasks.get("nope")
    api.post("/tasks").mock(return_value=problem(400, "bad", errors=[{"loc": ["body", "preset"], "msg": "unknown"}]))
    with pytest.raises(InvalidInput) as raised:
        client.tasks.create("x", preset="nope")
    assert raised.value.errors == [{"loc": ["body", "preset"], "msg": "unknown"}]


def test_a_list_walks_every_page(api: Any, client: Client) -> None:
    route = api.get("/tasks").mock(
        side_effect=[
            httpx.Response(200, json={"items": [task(id="01A")], "next_cursor": "c1"}),
            httpx.Response(200, json={"items": [task(id="01B")], "next_cursor": None}),
        ]
    )
    assert [t.id for t in client.tasks.list(status="done")] == ["01A", "01B"]
    assert route.calls[0].request.url.params["status"] == "done"
    assert route.calls[1].request.url.params["cursor"] == "c1"


def test_a_small_upload_goes_through_the_api_and_a_big_one_straight_to_storage(api: Any, client: Client) -> None:
    small = api.post("/files").mock(return_value=httpx.Response(201, json=file()))
    seen: list[tuple[int, int]] = []
    uploaded = client.files.upload(
        b"x" * 1000, filename="a.jpg", progress=lambda done, total: seen.append((done, total))
    )
    assert uploaded.status == "ready" and small.call_count == 1
    assert small.calls[0].request.headers["Content-Type"].startswith("multipart/form-data")
    assert seen[-1][0] == seen[-1][1] > 1000  # the body's bytes, all sent

    size = DIRECT_UPLOAD_BYTES + 1
    upload = {"url": "http://storage.test/uploads", "method": "POST", "fields": {"key": "uploads/k"}, "expires_at": NOW}
    presigned = api.post("/files/presigned").mock(
        return_value=httpx.Response(201, json={"file": file(status="pending", size=size), "upload": upload})
    )
    storage = api.post("http://storage.test/uploads").mock(return_value=httpx.Response(204))
    seen.clear()
    pending = client.files.upload(
        b"y" * size, filename="big.png", progress=lambda done, total: seen.append((done, total))
    )
    assert pending.status == "pending"
    assert json.loads(presigned.calls[0].request.content) == {
        "filename": "big.png",
        "content_type": "image/png",
        "size": size,
    }
    body = storage.calls[0].request.content
    assert b'name="key"\r\n\r\nuploads/k' in body and "Authorization" not in storage.calls[0].request.headers
    assert seen[-1][0] == seen[-1][1] > size


def test_wait_long_polls_and_falls_back_to_polling(api: Any, client: Client) -> None:
    route = api.get("/tasks/01TASK00000000000000000000").mock(
        side_effect=[httpx.Response(200, json=task("running")), httpx.Response(200, json=task("done"))]
    )
    assert client.tasks.wait("01TASK00000000000000000000", timeout=60).status == "done"
    assert route.calls[0].request.url.params["wait"] == "20"
    assert route.calls[1].request.url.params["seen"] == "running"

    old = api.get("/tasks/01OLD").mock(
        side_effect=[problem(400, "unknown parameter wait"), httpx.Response(200, json=task("done", id="01OLD"))]
    )
    assert client.tasks.wait("01OLD", timeout=5).status == "done"
    assert "wait" not in old.calls[1].request.url.params


def test_a_webhook_is_verified_by_its_signature() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = json.dumps({"type": "task.completed", "data": {"id": "01T"}})
    signer = Signer(secret)
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign("msg_1", now, body),
    }
    with Client(URL, token="t") as made:
        assert made.webhooks.verify(headers, body.encode(), secret)["data"]["id"] == "01T"
        with pytest.raises(InvalidSignature):
            made.webhooks.verify(headers, body.replace("01T", "01X"), secret)


def test_username_and_password_get_a_token_first(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMGTASKS_TOKEN", raising=False)
    token = api.post("/auth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "fresh", "token_type": "Bearer", "expires_in": 60})
    )
    models = api.get("/models").mock(
        return_value=httpx.Response(200, json={"detection_models": [], "classification_models": []})
    )
    with Client(URL, username="alice", password="secret-words") as made:
        made.models.list()
    assert b"grant_type=password" in token.calls[0].request.content
    assert models.calls[0].request.headers["Authorization"] == "Bearer fresh"


def test_the_async_client_has_the_same_methods(api: Any) -> None:
    api.post("/tasks").mock(side_effect=[problem(502, "gateway"), httpx.Response(202, json={"tasks": [task()]})])
    api.get("/tasks/01TASK00000000000000000000").mock(return_value=httpx.Response(200, json=task("done")))
    api.get("/files").mock(return_value=httpx.Response(200, json={"items": [file()], "next_cursor": None}))

    async def scenario() -> tuple[str, list[str]]:
        async with AsyncClient(URL, token="t", backoff=0.001) as made:
            (created,) = await made.tasks.create("01FILE00000000000000000000", preset="web")
            ended = await created.wait(timeout=30)
            names = [item.filename async for item in made.files.list()]
            return ended.status, names

    assert asyncio.run(scenario()) == ("done", ["a.jpg"])


@pytest.mark.parametrize(
    ("text", "operation"),
    [
        ("resize 800x600 fit=inside", {"op": "resize", "width": 800, "height": 600, "fit": "inside"}),
        ("resize 640x", {"op": "resize", "width": 640}),
        ("rotate 90", {"op": "rotate", "angle": 90}),
        ("flip horizontal", {"op": "flip", "orientation": "horizontal"}),
        ("crop 10,20,300x200", {"op": "crop", "left": 10, "top": 20, "width": 300, "height": 200}),
        ("sharpen radius=1.5 percent=120", {"op": "sharpen", "radius": 1.5, "percent": 120}),
        ("grayscale", {"op": "grayscale"}),
        (
            'overlay text="© 1984 Jane Doe" color=#ff0000 opacity=0.5 gravity=south-west',
            {"op": "overlay", "text": "© 1984 Jane Doe", "color": "#ff0000", "opacity": 0.5, "gravity": "south-west"},
        ),
        ("overlay text=1984 tile=true", {"op": "overlay", "text": "1984", "tile": True}),
        (
            "resize 400x400 fit=cover gravity=face",
            {"op": "resize", "width": 400, "height": 400, "fit": "cover", "gravity": "face"},
        ),
    ],
)
def test_the_cli_reads_operations_as_people_write_them(text: str, operation: dict[str, Any]) -> None:
    assert parse_operation(text) == operation


def test_an_expired_token_is_renewed_once_with_the_password(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMGTASKS_TOKEN", raising=False)
    issued = iter(["first", "second", "third"])
    token = api.post("/auth/token").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"access_token": next(issued), "token_type": "Bearer", "expires_in": 60}
        )
    )
    models = api.get("/models").mock(
        side_effect=[
            problem(401, "the access token has expired"),
            httpx.Response(200, json={"detection_models": [], "classification_models": []}),
            problem(401, "the access token has expired"),
            problem(401, "the access token has expired"),
        ]
    )
    with Client(URL, username="alice", password="secret-words") as made:
        made.models.list()
        assert [call.request.headers["Authorization"] for call in models.calls] == ["Bearer first", "Bearer second"]
        with pytest.raises(AuthenticationError):  # renewed once per request, not in a loop
            made.models.list()
    assert token.call_count == 3  # the first sign-in, then one renewal per request
    with Client(URL, token="given") as given:
        api.get("/files/x").mock(return_value=problem(401, "the access token has expired"))
        with pytest.raises(AuthenticationError):
            given.files.get("x")


def test_a_batch_follows_a_task_that_outlasts_its_long_polls(
    api: Any, client: Client, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`imgtasks run` on a busy service: a task still running when a wait runs out is followed
    on, and reported as it ended, not as failed."""
    clock = iter(range(0, 10_000, 15))  # each reading of the clock 15 s after the one before
    monkeypatch.setattr(operations.time, "monotonic", lambda: next(clock))
    failed = task("failed", error={"code": "unsupported_format", "message": "not an image"})
    api.get("/tasks/01TASK00000000000000000000").mock(
        side_effect=[httpx.Response(200, json=task("running"))] * 4 + [httpx.Response(200, json=failed)]
    )
    state = batch.RunState(tmp_path)
    state.record("k", {"input": "a.jpg", "task_id": "01TASK00000000000000000000", "status": "queued"})
    entry = batch.run_one(client, tmp_path / "a.jpg", {}, tmp_path, state, "k", lambda *_: None)
    assert (entry["status"], entry["error"]) == ("failed", "not an image")


def test_everyones_usage_parses_and_the_cli_writes_costs_readably(api: Any, client: Client) -> None:
    total = {
        "tasks": 3,
        "cost_usd": 0.000061,
        "lambda_gb_seconds": 2.5,
        "requests": 18,
        "dynamodb_request_units": 12,
        "bytes_stored": 120_000,
        "storage_usd_per_month": 0.0000026,
    }
    period = {"first_day": "2026-11-05", "last_day": "2026-12-04", "region": "us-east-1", "prices_read_on": "x"}
    user = {"user_id": "01USER", "days": [], "total": total}
    route = api.get("/admin/usage").mock(
        return_value=httpx.Response(200, json={**period, "users": [user], "total": total})
    )
    everyone = client.usage.everyone("2026-11-05", "2026-12-04")
    assert route.calls.last.request.url.params["from"] == "2026-11-05"
    assert (everyone.users[0].user_id, everyone.total.tasks) == ("01USER", 3)
    from imgtasks_client import cli

    assert (
        cli.dollars(0.000061) == "$0.000061" and cli.dollars(12.5) == "$12.50" and cli.size_text(120_000) == "120.0 KB"
    )
