"""The local stack keeps what it holds across a restart: one of everything the API makes, after
Ctrl-C or SIGKILL. (The tasks in flight at a stop: test_local_stack_restarts_in_flight.py, a module
of its own so that the suite's workers share the restarts.)"""

from __future__ import annotations

import fnmatch
import json
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.client import Client
from tests.e2e.conftest import (
    RunningStack,
    needs_embedded_emulator,
    start_stack,
    stop_stack,
)
from tests.e2e.test_local_stack_lifecycle import resize_tasks
from tests.e2e.test_task_api import presigned_post
from tests.helpers import ROOT, image_bytes
from tests.ports import free_port


def restart(tmp_path: Path, process: Any, ports: dict[str, int], *extra: str) -> tuple[Any, RunningStack]:
    stop_stack(process)
    return start_stack(tmp_path, *extra, **ports)


WEB_PRESET = {"preset": "web"}  # what a drop-in under inbox/<user>/web/ asks for


@dataclass
class Everything:
    """One of everything the API makes, as its maker would look for it again."""

    client: Client
    username: str
    browser: requests.Session  # a password session's cookie
    guest: requests.Session  # a guest's session cookie
    guest_file_id: str
    file_ids: dict[str, str]  # ingest path -> file id
    task_ids: dict[str, str]  # kind -> task id
    webhook_id: str
    idempotent: tuple[str, dict[str, Any], list[str]]  # key, body, the task ids it made


def browser_session() -> requests.Session:
    session = requests.Session()
    session.headers["Sec-Fetch-Site"] = "same-origin"  # as a browser on the app's own page says
    return session


def make_one_of_everything(stack: RunningStack, web: str) -> Everything:
    client = Client(stack.api)
    username = client.sign_up()
    browser = browser_session()
    form = {"username": username, "password": "correct-horse"}
    assert browser.post(f"{stack.api}/auth/session", data=form, timeout=30).status_code == 204
    guest = browser_session()
    assert guest.post(f"{stack.api}/auth/guest", timeout=30).status_code == 201
    guest_file = guest.post(f"{stack.api}/files", files={"file": ("g.jpg", image_bytes((64, 48)), "image/jpeg")})
    assert guest_file.status_code == 201, guest_file.text
    # A file by each path: through the API, by presigned POST, from a URL (a video), by an S3 drop-in.
    files = {"multipart": client.upload(image_bytes((800, 600))).json()["id"]}
    png = image_bytes((300, 200), fmt="PNG")
    started = client.request(
        "POST", "/files", json={"filename": "p.png", "content_type": "image/png", "size": len(png)}
    )
    assert presigned_post(started.json(), png, "p.png").status_code in (200, 204)
    files["presigned"] = started.json()["file"]["id"]
    video = {"type": "process", "urls": [f"{web}/clip.mp4"], "output": {"format": "gif"}}
    video_task = client.request("POST", "/tasks", json=video).json()["tasks"][0]
    files["url"] = video_task["file_id"]
    s3 = stack.client("s3")
    s3.put_object(Bucket=stack.outputs["UploadsBucketName"], Key=f"inbox/{username}/web/drop.jpg", Body=image_bytes())
    # A task of each kind (the video's above; the drop-in's is made by the stack).
    resize = {"type": "process", "file_ids": [files["multipart"]], "operations": [{"op": "resize", "width": 200}]}
    tasks = {
        "process": client.request("POST", "/tasks", json=resize).json()["tasks"][0]["id"],
        "video": video_task["id"],
    }
    infer = {"type": "infer", "file_ids": [files["presigned"]], "classification_model": "scenes"}
    tasks["infer"] = client.request("POST", "/tasks", json=infer).json()["tasks"][0]["id"]
    key, body = f"key-{uuid.uuid4().hex}", {**resize, "file_ids": [files["presigned"]]}
    replayable = client.request("POST", "/tasks", json=body, headers={"Idempotency-Key": key})
    assert replayable.status_code == 202, replayable.text
    for task_id in [*tasks.values(), replayable.json()["tasks"][0]["id"]]:
        assert client.wait_for(task_id, seconds=120)["status"] == "done", task_id
    archive = client.request("POST", "/archives", json={"task_ids": [tasks["process"], tasks["video"]]})
    tasks["archive"] = archive.json()["tasks"][0]["id"]
    assert client.wait_for(tasks["archive"])["status"] == "done"
    deadline = time.monotonic() + 30
    while not (dropped := [t for t in client.request("GET", "/tasks").json()["items"] if t["spec"] == WEB_PRESET]):
        assert time.monotonic() < deadline, "the drop-in made no task"
        time.sleep(0.2)
    tasks["drop-in"] = dropped[0]["id"]
    assert client.wait_for(tasks["drop-in"])["status"] == "done"
    files["drop-in"] = client.request("GET", f"/tasks/{tasks['drop-in']}").json()["file_id"]
    hook = client.request("POST", "/webhooks", json={"url": f"{web}/hook", "events": ["task.failed"]})
    assert hook.status_code == 201, hook.text
    assert client.request("POST", "/webhooks/secret").status_code == 201
    return Everything(
        client,
        username,
        browser,
        guest,
        guest_file.json()["id"],
        files,
        tasks,
        hook.json()["id"],
        (key, body, [t["id"] for t in replayable.json()["tasks"]]),
    )


def find_everything(stack: RunningStack, made: Everything) -> None:
    client = made.client  # the same token: its signing secret survived
    for path, file_id in made.file_ids.items():
        assert client.request("GET", f"/files/{file_id}").json()["status"] == "ready", path
    for kind, task_id in made.task_ids.items():
        task = client.request("GET", f"/tasks/{task_id}").json()
        assert task["status"] == "done", (kind, task)
        output = client.request("GET", f"/tasks/{task_id}/download")
        if kind == "infer":  # its result is the answer, not a file
            assert task["result"]["image_class"]["label"], task
            continue
        assert output.status_code == 302, (kind, output.text)
        data = requests.get(output.headers["Location"], timeout=30).content
        magic = {"archive": b"PK", "video": b"GIF8"}.get(kind, b"\xff\xd8")
        assert data.startswith(magic), (kind, data[:8])
    who = made.browser.get(f"{stack.api}/auth/session", timeout=30).json()
    assert (who["username"], who["guest"]) == (made.username, False)
    guest = made.guest.get(f"{stack.api}/auth/session", timeout=30).json()
    assert guest["guest"] is True
    assert made.guest.get(f"{stack.api}/files/{made.guest_file_id}", timeout=30).json()["status"] == "ready"
    assert [hook["id"] for hook in client.request("GET", "/webhooks").json()["items"]] == [made.webhook_id]
    key, body, task_ids = made.idempotent
    replayed = client.request("POST", "/tasks", json=body, headers={"Idempotency-Key": key})
    assert (replayed.headers.get("Idempotent-Replayed"), [t["id"] for t in replayed.json()["tasks"]]) == (
        "true",
        task_ids,
    )
    signed_in = Client(stack.api).request(
        "POST", "/auth/token", data={"grant_type": "password", "username": made.username, "password": "correct-horse"}
    )
    assert signed_in.status_code == 200
    assert client.wait_for(resize_tasks(client, 1, size=(400, 300))[0])["status"] == "done"  # new work runs


def policy_actions(function: str) -> set[str]:
    """The IAM actions a function's policies grant: the template's managed policies and inline
    statements, and SAM's policy templates as the SAM translator that `make test` installs defines
    them."""
    from local_stack.template import load_template

    found = sorted(ROOT.glob(".venv-sam/lib/python3*/site-packages/samtranslator/policy_templates_data/*.json"))
    assert found, "SAM's policy templates were not found: `make test` installs them in .venv-sam"
    sam_templates = json.loads(found[0].read_text())["Templates"]
    resources = load_template(ROOT / "infra" / "template.yaml")["Resources"]
    granted: set[str] = set()
    for policy in resources[function]["Properties"].get("Policies", []):
        [(name, value)] = policy.items()
        if name == "Ref":
            statements = resources[value]["Properties"]["PolicyDocument"]["Statement"]
        elif name == "Statement":
            statements = value
        else:
            statements = sam_templates[name]["Definition"]["Statement"]
        for statement in statements:
            actions = statement["Action"]
            granted |= {actions} if isinstance(actions, str) else set(actions)
    return granted


def assert_calls_within_policies(calls_path: Path) -> None:
    """Each function's AWS calls on this run (the emulator names the function by its access key)
    are actions its policies grant: on AWS, a call outside them is an AccessDenied."""
    calls = json.loads(calls_path.read_text())
    assert {"ApiFunction", "ProcessFunction", "VideoFunction", "InferFunction", "ArchiveFunction"} <= set(calls)
    assert {"UploadFunction", "FetchFunction", "DispatchFunction", "WebhookEventsFunction"} <= set(calls)
    for function, actions in calls.items():
        granted = {action.lower() for action in policy_actions(function)}
        denied = [a for a in actions if not any(fnmatch.fnmatchcase(a.lower(), g) for g in granted)]
        assert not denied, f"{function} called {denied}, which its policies do not grant"


@needs_embedded_emulator
@pytest.mark.parametrize("how", ["sigint", "sigkill"])
def test_one_of_everything_the_api_makes_survives_a_restart(tmp_path: Path, web: str, how: str) -> None:
    """Users, a password session and a guest's, files by each path, a task of each kind (an
    archive's ZIP is a multipart upload, whose parts once broke every save after it), a webhook
    and its secret, an idempotency key: all there after Ctrl-C and a restart, and after kill -9
    once the promised 2 seconds have passed."""
    ports = {"emulator_port": free_port(), "api_port": free_port()}
    process, stack = start_stack(tmp_path, **ports)
    try:
        made = make_one_of_everything(stack, web)
        if how == "sigkill":
            time.sleep(2.5)
            process.kill()
        else:
            process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
        if how == "sigint":
            assert_calls_within_policies(tmp_path / "aws-calls.json")
        process, stack = start_stack(tmp_path, **ports)
        assert "restored" in stack.log()
        assert "saving the emulator's state failed" not in stack.log()
        find_everything(stack, made)
        if how == "sigint":
            process, stack = restart(tmp_path, process, ports, "--fresh")
            assert made.client.request("GET", "/tasks").status_code == 401  # a new secret, no users
    finally:
        stop_stack(process)
