"""Webhooks on the local stack: events from the table's change stream (polled as Lambda's event
source mapping polls it) delivered to a receiver on 127.0.0.1, verified with the `standardwebhooks`
package; a receiver that fails twice with 500 gets the same webhook-id a third time."""

from __future__ import annotations

import json
import time
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.e2e.client import Client
from tests.helpers import image_bytes
from tests.unit.test_webhooks import Receiver


def test_events_reach_a_receiver_that_fails_twice_with_the_same_id_the_third_time(stack: Any) -> None:
    receiver = Receiver()
    receiver.answers["/hook"] = [500, 500]
    try:
        client = Client(stack.api)
        client.sign_up()
        created = client.request(
            "POST", "/webhooks", json={"url": f"{receiver.url}/hook", "events": ["task.completed"]}
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        file_id = client.upload(image_bytes((48, 32))).json()["id"]
        body = {"type": "process", "file_ids": [file_id], "operations": [{"op": "resize", "width": 24}]}
        task = client.request("POST", "/tasks", json=body).json()["tasks"][0]
        assert client.wait_for(task["id"])["status"] == "done"
        deadline = time.monotonic() + 60
        while len(receiver.at("/hook")) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        received = receiver.at("/hook")
        assert len(received) == 3, received
        assert len({headers["webhook-id"] for headers, _ in received}) == 1
        for headers, payload in received:
            verified = Webhook(secret).verify(json.dumps(payload, separators=(",", ":")), headers)
            assert (verified["type"], verified["data"]["id"]) == ("task.completed", task["id"])
        webhook_id = created.json()["id"]
        attempts = client.request("GET", f"/webhooks/{webhook_id}/deliveries").json()["items"]
        assert [(a["attempt"], a["status_code"]) for a in attempts] == [(3, 200), (2, 500), (1, 500)]
    finally:
        receiver.server.shutdown()
