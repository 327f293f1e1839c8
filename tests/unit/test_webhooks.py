"""Webhooks: registered endpoints and a task's own webhook receive its status changes as events,
signed as Standard Webhooks 1.0 says (checked with the `standardwebhooks` package, a third-party
verifier), retried with the same webhook-id until the receiver answers 2xx, disabled on 410."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from imgtasks.domain.webhooks import retry_delay, sign, webhook_id
from tests.helpers import image_bytes


class Receiver:
    """An HTTP server on 127.0.0.1 that records what it is sent and answers from a script."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.answers: dict[str, list[int]] = {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append((self.path, dict(self.headers), body))
                script = receiver.answers.get(self.path, [])
                self.send_response(script.pop(0) if script else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def at(self, path: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return [(headers, json.loads(body)) for got, headers, body in self.received if got == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


def register(api: Any, url: str, events: list[str]) -> dict[str, Any]:
    answer = api.call("POST", "/webhooks", json_body={"url": url, "events": events})
    assert answer.status == 201, answer.body
    return dict(answer.body)


def run_task(api: Any, **extra: Any) -> str:
    file_id = api.upload(image_bytes((40, 30))).body["id"]
    body = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 20}], **extra}
    answer = api.call("POST", "/tasks", json_body=body)
    assert answer.status == 202, answer.body
    return str(answer.body["tasks"][0]["id"])


def test_a_task_s_status_changes_reach_the_endpoint_signed_and_in_order(
    api: Any, process: Any, webhooks: Any, receiver: Receiver
) -> None:
    api.sign_up()
    endpoint = register(api, f"{receiver.url}/hook", ["task.running", "task.completed", "task.failed"])
    secret = endpoint["secret"]
    assert secret.startswith("whsec_") and len(secret) >= len("whsec_") + 32
    task_id = run_task(api)
    process.drain()
    webhooks.drain()
    received = receiver.at("/hook")
    assert [body["type"] for _, body in received] == ["task.running", "task.completed"]
    verifier = Webhook(secret)
    for headers, body in received:
        raw = json.dumps(body, separators=(",", ":"))
        verified = verifier.verify(raw, headers)  # raises on a bad signature or a stale timestamp
        assert verified["data"]["id"] == task_id
        assert headers["webhook-id"].startswith("msg_")
    done = received[-1][1]["data"]
    assert (done["status"], done["result"]["outputs"][0]["width"]) == ("done", 20)
    assert "url" in done["result"]["outputs"][0]  # links, not bytes
    # and a link that stays: the output through the CDN, signed with the owner's key (made for it)
    (key,) = api.call("GET", "/signing-keys").body["items"]
    assert done["result"]["outputs"][0]["cdn_url"].startswith(
        f"https://local-distribution.cloudfront.net/img/{key['id']}/"
    )
    assert len({headers["webhook-id"] for headers, _ in received}) == 2
    # Shown once: listing never shows the secret again.
    listed = api.call("GET", "/webhooks").body["items"]
    assert [item["id"] for item in listed] == [endpoint["id"]] and listed[0]["secret"] is None


def test_a_failing_receiver_gets_the_same_event_again_until_it_answers_2xx(
    api: Any, process: Any, webhooks: Any, receiver: Receiver
) -> None:
    api.sign_up()
    endpoint = register(api, f"{receiver.url}/flaky", ["task.completed"])
    receiver.answers["/flaky"] = [500, 500, 200]
    run_task(api)
    process.drain()
    webhooks.drain()
    received = receiver.at("/flaky")
    assert len(received) == 3
    assert len({headers["webhook-id"] for headers, _ in received}) == 1  # one event, three attempts
    for headers, body in received:
        Webhook(endpoint["secret"]).verify(json.dumps(body, separators=(",", ":")), headers)
    attempts = api.call("GET", f"/webhooks/{endpoint['id']}/deliveries").body["items"]
    assert [(a["attempt"], a["status_code"], a["succeeded"]) for a in attempts] == [
        (3, 200, True), (2, 500, False), (1, 500, False)
    ]  # fmt: skip
    assert attempts[-1]["error"] == "the receiver answered 500" and attempts[0]["event"] == "task.completed"


def test_a_delivery_message_that_died_is_a_failed_attempt_in_the_endpoint_s_log(
    api: Any, process: Any, webhooks: Any, dead_deliveries: Any, receiver: Receiver
) -> None:
    api.sign_up()
    endpoint = register(api, f"{receiver.url}/hook", ["task.completed"])
    run_task(api)
    process.drain()
    [message] = webhooks.receive()  # as if the delivery function had crashed on it every time
    dead_deliveries.send_raw(message["Body"])
    assert dead_deliveries.deliver(dead_deliveries.receive()) == {"batchItemFailures": []}
    attempts = api.call("GET", f"/webhooks/{endpoint['id']}/deliveries").body["items"]
    assert [(a["event"], a["attempt"], a["succeeded"], a["status_code"]) for a in attempts] == [
        ("task.completed", 1, False, None)
    ]
    assert "not retried" in attempts[0]["error"]
    assert receiver.at("/hook") == []


def test_410_gone_disables_the_endpoint(api: Any, process: Any, webhooks: Any, receiver: Receiver) -> None:
    api.sign_up()
    endpoint = register(api, f"{receiver.url}/gone", ["task.running", "task.completed"])
    receiver.answers["/gone"] = [410]
    run_task(api)
    process.drain()
    webhooks.drain()
    assert len(receiver.at("/gone")) == 1  # task.completed was never sent
    shown = api.call("GET", "/webhooks").body["items"][0]
    assert (shown["id"], shown["disabled"]) == (endpoint["id"], True)


def test_a_task_s_own_webhook_is_signed_with_the_caller_s_secret(
    api: Any, process: Any, webhooks: Any, receiver: Receiver
) -> None:
    api.sign_up()
    refused = api.call(
        "POST", "/tasks", json_body={"type": "process", "urls": [], "file_ids": ["x"], "webhook": f"{receiver.url}/t"}
    )
    assert refused.status == 400  # no secret yet, or no such file: nothing is created
    secret = api.call("POST", "/webhooks/secret").body["secret"]
    task_id = run_task(api, webhook=f"{receiver.url}/task-hook")
    process.drain()
    webhooks.drain()
    received = receiver.at("/task-hook")
    assert [body["type"] for _, body in received] == ["task.running", "task.completed"]
    for headers, body in received:
        assert Webhook(secret).verify(json.dumps(body, separators=(",", ":")), headers)["data"]["id"] == task_id


def test_file_events_for_uploads_and_nothing_for_other_users(
    api: Any, process: Any, webhooks: Any, receiver: Receiver, mocked_stack: Any
) -> None:
    from tests.unit.test_api_files import post_to_s3, start_upload

    api.sign_up("bob")
    register(api, f"{receiver.url}/bob", ["file.ready", "file.rejected", "task.completed"])
    api.sign_up()
    register(api, f"{receiver.url}/alice", ["file.ready", "file.rejected"])
    good = image_bytes((30, 30), fmt="PNG")
    ready = start_upload(api, len(good)).body
    post_to_s3(mocked_stack, ready["upload"], good)
    bad = start_upload(api, 10).body
    post_to_s3(mocked_stack, bad["upload"], b"not image")
    small = api.upload(image_bytes((20, 20))).body["id"]  # ready at once: an event all the same
    process.drain()
    webhooks.drain()
    events = {body["data"]["id"]: body["type"] for _, body in receiver.at("/alice")}
    assert events == {ready["file"]["id"]: "file.ready", bad["file"]["id"]: "file.rejected", small: "file.ready"}
    assert receiver.at("/bob") == []


def test_webhook_urls_are_checked_like_fetched_ones(api: Any) -> None:
    api.sign_up()
    for url in ("file:///etc/passwd", "gopher://example.com/"):
        answer = api.call("POST", "/webhooks", json_body={"url": url, "events": ["task.completed"]})
        assert answer.status == 400
    assert api.call("POST", "/webhooks", json_body={"url": "http://x.test/", "events": ["task.exploded"]}).status == 400
    assert api.call("DELETE", "/webhooks/01NOSUCHWEBHOOK00000000000").status == 404


def test_deliveries_to_the_metadata_address_are_refused_and_recorded(api: Any, process: Any, webhooks: Any) -> None:
    api.sign_up()
    endpoint = register(api, "http://169.254.169.254/latest/meta-data/", ["task.completed"])
    run_task(api)
    process.drain()
    webhooks.drain()
    attempts = api.call("GET", f"/webhooks/{endpoint['id']}/deliveries").body["items"]
    # One attempt, and the endpoint disabled at once: no retry can make the address reachable
    # (it was once retried on the 31-hour schedule).
    assert len(attempts) == 1 and attempts[0]["status_code"] is None and "metadata" in attempts[0]["error"]
    shown = api.call("GET", "/webhooks").body["items"][0]
    assert (shown["id"], shown["disabled"]) == (endpoint["id"], True)


def test_the_signature_and_schedule_are_the_standard_s() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    # The example of the Standard Webhooks specification's reference implementation.
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert webhook_id("change-1", "ep") == webhook_id("change-1", "ep") != webhook_id("change-2", "ep")
    delays = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800, 28800]
    assert [retry_delay(n, delays) for n in (1, 2, 11, 12)] == [5, 30, 28800, None]
    assert sum(delays) > 24 * 3600  # retried over more than a day
