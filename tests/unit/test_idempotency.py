"""Idempotency-Key on creates: the same key answers the first answer again and creates nothing
new; a key reused for another request is refused; a refusal is not remembered; keys are per user."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import image_bytes, multipart


def post_tasks(api: Any, body: dict[str, Any], key: str | None) -> Any:
    headers = {"idempotency-key": key} if key else {}
    return api.call("POST", "/tasks", json_body=body, headers=headers)


def test_the_same_key_answers_the_first_answer_and_creates_nothing_new(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((40, 30))).body["id"]
    body = {"type": "process", "file_ids": [file_id], "preset": "web"}
    first = post_tasks(api, body, "retry-me-1")
    again = post_tasks(api, body, "retry-me-1")
    assert first.status == again.status == 202
    assert again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert len(api.call("GET", "/tasks?limit=100").body["items"]) == 1
    other = post_tasks(api, body, "retry-me-2")
    assert other.body["tasks"][0]["id"] != first.body["tasks"][0]["id"]
    assert len(api.call("GET", "/tasks?limit=100").body["items"]) == 2


def test_a_multipart_upload_retried_with_its_key_stores_one_file(api: Any) -> None:
    api.sign_up()
    body, content_type = multipart({}, {"file": ("a.jpg", image_bytes((20, 20)), "image/jpeg")})
    headers = {"content-type": content_type, "idempotency-key": "upload-1"}
    first = api.call("POST", "/files", body=body, headers=headers)
    again = api.call("POST", "/files", body=body, headers=headers)
    assert first.status == again.status == 201
    assert again.body["id"] == first.body["id"]
    assert len(api.call("GET", "/files").body["items"]) == 1


def test_a_multipart_retry_framed_with_a_new_boundary_replays_and_another_file_is_a_422(api: Any) -> None:
    """A generic HTTP client builds its multipart body anew on a retry: another boundary, the same
    request. Another picture under the same key is another request."""
    api.sign_up()
    picture = image_bytes((20, 20))
    answers = []
    for data in (picture, picture, image_bytes((21, 20))):
        body, content_type = multipart({}, {"file": ("a.jpg", data, "image/jpeg")})  # a new boundary each time
        answers.append(
            api.call("POST", "/files", body=body, headers={"content-type": content_type, "idempotency-key": "u"})
        )
    first, retried, other = answers
    assert (first.status, retried.status, retried.body["id"]) == (201, 201, first.body["id"])
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert other.status == 422
    assert len(api.call("GET", "/files").body["items"]) == 1


def test_a_json_retry_with_other_spacing_and_key_order_replays(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((40, 30))).body["id"]
    compact = json.dumps({"type": "process", "file_ids": [file_id]}, separators=(",", ":"))
    spaced = json.dumps({"file_ids": [file_id], "type": "process"}, indent=2)
    answers = [
        api.call(
            "POST", "/tasks", body=text.encode(), headers={"content-type": "application/json", "idempotency-key": "j"}
        )
        for text in (compact, spaced)
    ]
    assert answers[0].status == answers[1].status == 202
    assert answers[1].body["tasks"][0]["id"] == answers[0].body["tasks"][0]["id"]


def test_a_key_reused_for_another_request_is_a_422(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((40, 30))).body["id"]
    assert post_tasks(api, {"type": "process", "file_ids": [file_id]}, "k-1").status == 202
    reused = post_tasks(api, {"type": "process", "file_ids": [file_id], "preset": "web"}, "k-1")
    assert reused.status == 422
    assert "different request" in reused.problem["detail"]


def test_a_refusal_is_not_remembered(api: Any) -> None:
    api.sign_up()
    missing = post_tasks(api, {"type": "process", "file_ids": ["01HZZZZZZZZZZZZZZZZZZZZZZZ"]}, "k-2")
    assert missing.status in (400, 404)
    file_id = api.upload(image_bytes((40, 30))).body["id"]
    # The same key for the corrected request: the refusal created nothing and was not kept.
    assert post_tasks(api, {"type": "process", "file_ids": [file_id]}, "k-3").status == 202


def test_keys_belong_to_their_user(api: Any) -> None:
    api.sign_up("bob")
    bob_file = api.upload(image_bytes((40, 30))).body["id"]
    bobs = post_tasks(api, {"type": "process", "file_ids": [bob_file]}, "shared-key")
    api.sign_up("alice")
    alice_file = api.upload(image_bytes((40, 30))).body["id"]
    alices = post_tasks(api, {"type": "process", "file_ids": [alice_file]}, "shared-key")
    assert alices.status == 202 and alices.body["tasks"][0]["id"] != bobs.body["tasks"][0]["id"]


def test_a_malformed_key_is_a_400(api: Any) -> None:
    api.sign_up()
    answer = post_tasks(api, {"type": "process", "file_ids": []}, "has spaces in it")
    assert answer.status == 400 and "Idempotency-Key" in answer.problem["detail"]
