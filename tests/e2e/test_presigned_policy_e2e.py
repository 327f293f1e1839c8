"""A presigned POST is held to its policy by the stack's S3, as by AWS's: the signed key, content
type and length cannot be changed by the one who posts (on the local stack a user once changed the
key to another user's inbox and planted a task in that account)."""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.client import Client
from tests.helpers import image_bytes


def started_upload(client: Client, data: bytes) -> dict[str, Any]:
    answer = client.request(
        "POST", "/files", json={"filename": "photo.png", "content_type": "image/png", "size": len(data)}
    )
    assert answer.status_code == 201, answer.text
    upload: dict[str, Any] = answer.json()["upload"]
    return upload


def post(upload: dict[str, Any], fields: dict[str, str], data: bytes, content_type: str = "image/png") -> Any:
    return requests.post(upload["url"], data=fields, files={"file": ("photo.png", data, content_type)}, timeout=30)


def test_a_presigned_post_that_breaks_its_policy_is_refused(stack: Any) -> None:
    victim, attacker = Client(stack.api), Client(stack.api)
    victim_name = victim.sign_up()
    attacker.sign_up()
    data = image_bytes((64, 48), fmt="PNG")
    upload = started_upload(attacker, data)
    tamperings = {
        "another user's inbox": ({**upload["fields"], "key": f"inbox/{victim_name}/web/planted.png"}, data),
        "another content type": ({**upload["fields"], "Content-Type": "image/svg+xml"}, data),
        "more bytes than announced": (upload["fields"], data + bytes(1000)),
    }
    # (A form field the policy does not name is refused by S3 and by the local stack: see
    # tests/unit/test_local_stack_post_policy.py. LocalStack 2026.3 takes it, so it is not asked here.)
    for tampering, (fields, body) in tamperings.items():
        refused = post(upload, fields, body)
        expected = (400, "EntityTooLarge") if tampering == "more bytes than announced" else (403, "AccessDenied")
        assert (refused.status_code, expected[1] in refused.text) == (expected[0], True), (tampering, refused.text)
    assert victim.request("GET", "/tasks").json()["items"] == []
    assert post(upload, upload["fields"], data).status_code in (200, 201, 204)  # as signed, it is taken
