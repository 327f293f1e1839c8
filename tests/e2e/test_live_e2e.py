"""Following tasks live on the local stack: the WebSocket push channel (a third-party WebSocket
client, the `websockets` package, against ws://.../ws), the Python client's events() and
`imgtasks watch` on it; the list totals the change stream keeps; the operators' figures and
redrive."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
from typing import Any

import pytest
import requests
from imgtasks_client import AsyncClient
from imgtasks_client import Client as PythonClient
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.client import Client
from tests.e2e.conftest import OPERATOR, same_on_any_emulator
from tests.e2e.test_client_e2e import IMGTASKS
from tests.e2e.test_task_api import presigned_post
from tests.helpers import image_bytes

ORDER = {"queued": 0, "running": 1, "done": 2, "failed": 2, "cancelled": 2}
VARIANTS = [
    {"name": "small", "operations": [{"op": "resize", "width": 80}]},
    {"name": "medium", "operations": [{"op": "resize", "width": 160}]},
    {"name": "large", "operations": [{"op": "resize", "width": 320}]},
]


def ws_url(stack: Any) -> str:
    return "ws" + stack.api.removeprefix("http") + "/ws"


class Listener:
    """Reads a connection's messages on a thread of its own."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.messages: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for message in self.socket:
                self.messages.append(json.loads(message))
        except Exception:  # closed
            return

    def of_task(self, task_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == "task" and m["data"]["id"] == task_id]

    def until(self, test: Any, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not test():
            assert time.monotonic() < deadline, f"not there after {seconds} s: {self.messages[-5:]}"
            time.sleep(0.1)


def test_a_websocket_gets_its_user_s_task_changes_in_order_and_nobody_else_s(stack: Any) -> None:
    alice, bob = Client(stack.api), Client(stack.api)
    alice.sign_up()
    bob.sign_up()
    # Alice with a bearer token on the handshake; Bob with a ticket, as a browser does.
    ticket = bob.request("POST", "/events/tickets").json()
    assert ticket["url"] == ws_url(stack) and ticket["expires_in"] == 60
    with (
        connect(ws_url(stack), additional_headers={"Authorization": f"Bearer {alice.token}"}) as alice_socket,
        connect(f"{ticket['url']}?ticket={ticket['ticket']}") as bob_socket,
    ):
        alices, bobs = Listener(alice_socket), Listener(bob_socket)
        file_id = alice.upload(image_bytes((640, 480))).json()["id"]
        body = {"type": "process", "file_ids": [file_id], "variants": VARIANTS, "output": {"format": "webp"}}
        task_id = alice.request("POST", "/tasks", json=body).json()["tasks"][0]["id"]
        alices.until(lambda: any(m["data"]["status"] == "done" for m in alices.of_task(task_id)))
        changes = alices.of_task(task_id)
        assert changes[0]["change"] == "created" and changes[0]["data"]["status"] == "queued"
        statuses = [ORDER[m["data"]["status"]] for m in changes]
        assert statuses == sorted(statuses), [m["data"]["status"] for m in changes]
        progress = [m["data"]["progress"] for m in changes]
        assert progress == sorted(progress) and progress[-1] == 100
        outputs = [len((m["data"]["result"] or {}).get("outputs", [])) for m in changes]
        assert outputs == sorted(outputs) and outputs[-1] == 3
        assert len(set(outputs)) >= 3  # the outputs came one at a time, not all at the end
        # Alice's output files were pushed to her as well; Bob saw none of it.
        made = {output["file_id"] for output in changes[-1]["data"]["result"]["outputs"]}
        alices.until(lambda: made <= {m["data"]["id"] for m in alices.messages if m["type"] == "file"})
        bob_file = bob.upload(image_bytes((32, 32))).json()["id"]
        bobs.until(lambda: any(m["data"]["id"] == bob_file for m in bobs.messages))
        assert all(task_id not in json.dumps(m) and file_id not in json.dumps(m) for m in bobs.messages)
        # Deleting the task is a change too.
        alice.request("DELETE", f"/tasks/{task_id}")
        alices.until(lambda: any(m["change"] == "deleted" for m in alices.of_task(task_id)))


@same_on_any_emulator
def test_the_handshake_is_authenticated_and_a_cookie_only_counts_from_our_origin(stack: Any) -> None:
    with pytest.raises(InvalidStatus) as nobody:
        connect(ws_url(stack))
    assert nobody.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as forged:
        connect(ws_url(stack) + "?ticket=not-a-ticket")
    assert forged.value.response.status_code == 401
    user = Client(stack.api)
    name = user.sign_up()
    # An access token is not a ticket (another audience), and a ticket is not an access token.
    with pytest.raises(InvalidStatus):
        connect(f"{ws_url(stack)}?ticket={user.token}")
    ticket = user.request("POST", "/events/tickets").json()["ticket"]
    assert (
        requests.get(f"{stack.api}/tasks", headers={"Authorization": f"Bearer {ticket}"}, timeout=10).status_code == 401
    )
    browser = requests.Session()
    signed_in = browser.post(
        f"{stack.api}/auth/session",
        data={"username": name, "password": "correct-horse"},
        headers={"Origin": stack.api},
        timeout=10,
    )
    assert signed_in.status_code == 204
    cookie = f"imgtasks_session={browser.cookies['imgtasks_session']}"
    with pytest.raises(InvalidStatus) as elsewhere:
        connect(ws_url(stack), additional_headers={"Cookie": cookie}, origin="https://evil.example")  # type: ignore[arg-type]
    assert elsewhere.value.response.status_code == 403
    with connect(ws_url(stack), additional_headers={"Cookie": cookie}, origin=stack.api) as own:  # type: ignore[arg-type]
        assert own.protocol.state.name == "OPEN"


@same_on_any_emulator
def test_the_python_client_and_the_cli_follow_a_task_as_it_changes(stack: Any, tmp_path: Any) -> None:
    user = Client(stack.api)
    user.sign_up()
    client = PythonClient(stack.api, token=user.token)
    seen: list[tuple[str, str | None]] = []
    ready = threading.Event()

    def follow() -> None:
        events = client.events(reconnect=False)
        ready.set()
        for change in events:
            if change.task is not None:
                seen.append((change.change, change.task.status))
                if change.task.ended:
                    return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    ready.wait(10)
    time.sleep(1)  # the connection open before the task is made
    file_id = user.upload(image_bytes((320, 240))).json()["id"]
    task = client.tasks.create(file_id, variants=VARIANTS)[0]
    environment = {
        **os.environ,
        "IMGTASKS_URL": stack.api,
        "IMGTASKS_TOKEN": user.token or "",
        "IMGTASKS_CONFIG": str(tmp_path / "profiles.json"),
        "COLUMNS": "200",
    }
    watched = subprocess.run(  # noqa: S603 - our own command
        [str(IMGTASKS), "watch", task.id],
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert watched.returncode == 0, watched.stderr
    assert task.id in watched.stdout and "done" in watched.stdout
    thread.join(60)
    assert seen[0] == ("created", "queued") and seen[-1] == ("updated", "done")

    async def deletion_seen() -> list[str]:
        """The async client, told of the task's deletion (its output files go with it)."""
        seen_async: list[str] = []
        async with AsyncClient(stack.api, token=user.token) as async_client:
            events = async_client.events(reconnect=False)
            first = asyncio.ensure_future(anext(events))
            await asyncio.sleep(1)
            user.request("DELETE", f"/tasks/{task.id}")
            change = await asyncio.wait_for(first, 30)
            while True:
                seen_async.append(f"{change.type} {change.change} {change.id}")
                if change.id == task.id:
                    break
                change = await asyncio.wait_for(anext(events), 30)
            await events.aclose()
        return seen_async

    deleted = asyncio.run(deletion_seen())
    assert deleted[-1] == f"task deleted {task.id}" and all(" deleted " in line for line in deleted)


def test_list_totals_follow_creates_status_changes_and_deletes(stack: Any) -> None:
    user = Client(stack.api)
    user.sign_up()
    file_id = user.upload(image_bytes((64, 48))).json()["id"]

    def total(query: str, expected: int) -> None:
        deadline = time.monotonic() + 30
        while (found := user.request("GET", f"/tasks?{query}").json()["total"]) != expected:
            assert time.monotonic() < deadline, f"{query}: total {found}, expected {expected}"
            time.sleep(0.2)

    body = {"type": "process", "file_ids": [file_id] * 3, "operations": [{"op": "resize", "width": 10}]}
    gif = user.request("POST", "/tasks", json={**body, "output": {"format": "gif"}}).json()["tasks"]
    png = user.request("POST", "/tasks", json={**body, "output": {"format": "png"}}).json()["tasks"]
    for task in gif + png:
        user.wait_for(task["id"])
    total("", 6)
    total("status=done&format=gif", 3)
    total("status=done&type=process&format=png", 3)
    user.request("DELETE", f"/tasks/{gif[0]['id']}")
    total("format=gif", 2)
    total("status=done", 5)
    page = user.request("GET", "/tasks?order=-updated_at&limit=2").json()
    assert (page["pages"], page["has_next"], page["has_previous"]) == (3, True, False)
    second = user.request("GET", f"/tasks?order=-updated_at&limit=2&cursor={page['next_cursor']}").json()
    assert second["has_previous"] and not {t["id"] for t in second["items"]} & {t["id"] for t in page["items"]}


@same_on_any_emulator
def test_operators_see_the_figures_and_everyone_else_gets_403(stack: Any) -> None:
    someone = Client(stack.api)
    someone.sign_up()
    assert someone.request("GET", "/admin/stats").status_code == 403
    assert someone.request("POST", "/admin/dead-letters/process/redrive").status_code == 403
    operator = Client(stack.api)
    try:
        operator.sign_up(OPERATOR)
    except AssertionError:  # another test of this stack made the operator first
        token = operator.request(
            "POST", "/auth/token", data={"grant_type": "password", "username": OPERATOR, "password": "correct-horse"}
        )
        operator.token = token.json()["access_token"]
    assert operator.request("GET", "/auth/session").json()["admin"] is True
    file_id = operator.upload(image_bytes((64, 48))).json()["id"]
    body = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 10}]}
    operator.wait_for(operator.request("POST", "/tasks", json=body).json()["tasks"][0]["id"])
    junk = b"this is not an image at all" * 10
    started = operator.request(
        "POST", "/files", json={"filename": "x.png", "content_type": "image/png", "size": len(junk)}
    ).json()
    doomed = {"type": "process", "file_ids": [started["file"]["id"]], "operations": [{"op": "grayscale"}]}
    doomed_id = operator.request("POST", "/tasks", json=doomed).json()["tasks"][0]["id"]
    presigned_post(started, junk)
    assert operator.wait_for(doomed_id)["error"]["code"] == "invalid_image"
    # The Lambda metrics are published every 10 s, as Lambda publishes them every minute.
    deadline = time.monotonic() + 40
    while True:
        stats = operator.request("GET", "/admin/stats").json()
        process = next(f for f in stats["functions"] if f["name"] == "process")
        if process["invocations"] >= 1:
            break
        assert time.monotonic() < deadline, stats["functions"]
        time.sleep(1)
    assert process["duration_p50_ms"] > 0 and process["duration_p95_ms"] >= process["duration_p50_ms"]
    assert {q["name"] for q in stats["queues"]} == {
        "process", "video", "infer", "archive", "fetch", "upload-events", "webhooks"
    }  # fmt: skip
    rows = {(row["status"], row["type"]): row for row in stats["tasks"]}
    assert rows[("done", "process")]["last_hour"] >= 1 and rows[("created", "process")]["last_day"] >= 2
    assert len(stats["throughput"]) == 60 and sum(point["done"] for point in stats["throughput"]) >= 1
    assert any(code["count"] >= 1 for code in stats["failure_codes"])
    assert operator.request("POST", "/admin/dead-letters/nope/redrive").status_code == 404
    empty = operator.request("POST", "/admin/dead-letters/video/redrive")
    assert empty.status_code == 409 and "empty" in empty.json()["detail"]
