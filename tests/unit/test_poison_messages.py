"""Every consumer ends on any body: a record no model can read is logged once and deleted, never
retried and never looped through a dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

GARBAGE = [
    "this is not json",
    "",
    "null",
    "[]",
    "{}",
    '{"kind": "task", "task_id": 12}',
    '{"kind": "task", "task_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}',
    '{"Records": ["x", 1]}',
    '{"Records": [{"s3": null}]}',
    '{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {}}}]}',
    json.dumps({"Event": "s3:TestEvent"}),
    "\u00ff\u00fe" * 100,
    "[" * 5000,
]


@pytest.mark.parametrize("queue", ["process", "infer", "uploads", "dead_letters", "dead_infer_letters", "dead_uploads"])
def test_garbage_on_any_queue_is_dropped_and_the_queue_drains(queue: str, request: pytest.FixtureRequest) -> None:
    driver: Any = request.getfixturevalue(queue)
    for body in GARBAGE:
        driver.send_raw(body or " ")  # SQS refuses an empty body
    delivered = 0
    for _ in range(5):
        messages = driver.receive()
        if not messages:
            break
        assert driver.deliver(messages) == {"batchItemFailures": []}
        delivered += len(messages)
    assert delivered == len(GARBAGE)
    assert driver.receive() == []
