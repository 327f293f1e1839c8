"""URL ingest: a file fetched from a URL becomes ready or rejected as an upload does, and the fetch
is guarded against SSRF: schemes, addresses (through redirects too), redirect count, byte cap."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from tests.helpers import image_bytes
from tests.web_server import PICTURE


# ------------------------------------------------------------------ the guard
def client(allow_private: bool = True, **options: Any) -> Any:
    from imgtasks.adapters.outbound import OutboundClient

    return OutboundClient(allow_private=allow_private, **options)


def test_only_http_and_https_urls_are_fetched() -> None:
    from imgtasks.adapters.outbound import OutboundRefused

    for url in ("file:///etc/passwd", "gopher://127.0.0.1:70/", "ftp://example.com/a.png", "//no-scheme", "http://"):
        with pytest.raises(OutboundRefused):
            client().request("GET", url)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "::1", "fc00::1", "0.0.0.0"],  # noqa: S104
)
def test_loopback_and_private_addresses_are_refused_unless_allowed(address: str) -> None:
    from imgtasks.adapters.outbound import OutboundRefused, check_address

    with pytest.raises(OutboundRefused):
        check_address(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize(
    "address",
    [
        *("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192", "169.254.170.2"),
        *("169.254.1.1", "fe80::1", "224.0.0.1", "240.0.0.1", "::ffff:8.8.8.8", "::ffff:127.0.0.1"),
    ],
)
def test_metadata_link_local_multicast_reserved_and_mapped_addresses_are_refused_even_when_private_is_allowed(
    address: str,
) -> None:
    from imgtasks.adapters.outbound import OutboundRefused, check_address

    with pytest.raises(OutboundRefused):
        check_address(ipaddress.ip_address(address), allow_private=True)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_loopback_is_refused_as_loopback_and_allowed_with_private_urls(address: str) -> None:
    from imgtasks.adapters.outbound import OutboundRefused, check_address

    with pytest.raises(OutboundRefused, match="loopback or private"):
        check_address(ipaddress.ip_address(address), allow_private=False)
    check_address(ipaddress.ip_address(address), allow_private=True)


def test_a_public_address_passes() -> None:
    from imgtasks.adapters.outbound import check_address

    check_address(ipaddress.ip_address("93.184.215.14"), allow_private=False)
    check_address(ipaddress.ip_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c"), allow_private=False)


def test_a_name_that_resolves_to_loopback_is_refused_and_every_address_of_a_name_is_checked() -> None:
    from imgtasks.adapters.outbound import OutboundRefused

    with pytest.raises(OutboundRefused, match=r"127\.0\.0\.1 is a loopback or private address"):
        client(allow_private=False).request("GET", "http://localhost:9/x.png")
    # One public address and one private: refused, whichever the connection would have used.
    mixed = client(allow_private=False, resolver=lambda host, port: ["93.184.215.14", "10.0.0.7"])
    with pytest.raises(OutboundRefused, match=r"10\.0\.0\.7"):
        mixed.request("GET", "http://example.test/x.png")


def test_the_connection_goes_to_the_address_that_was_checked(web: str) -> None:
    """A resolver that would answer differently the second time (DNS rebinding) is asked once."""
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])
    port = int(web.rsplit(":", 1)[1])
    fetched = client(resolver=lambda host, _: next(answers)).request("GET", f"http://pictures.test:{port}/pic.png")
    assert fetched.status == 200
    assert b"".join(fetched.chunks(10**6, deadline=float("inf"))) == PICTURE


def test_redirects_are_followed_and_each_is_checked(web: str) -> None:
    from imgtasks.adapters.outbound import OutboundRefused

    fetched = client().request("GET", f"{web}/to-pic")
    assert (fetched.status, fetched.url) == (200, f"{web}/pic.png")
    fetched.response.release_conn()
    with pytest.raises(OutboundRefused, match=r"169\.254\.169\.254"):
        client().request("GET", f"{web}/to-metadata")
    with pytest.raises(OutboundRefused, match="more than 3 redirects"):
        client().request("GET", f"{web}/loop")


def test_a_body_past_the_cap_stops_the_read(web: str) -> None:
    import time

    from imgtasks.adapters.outbound import TooLarge

    fetched = client().request("GET", f"{web}/endless")
    read: list[int] = []
    chunks = fetched.chunks(3_000_000, deadline=time.monotonic() + 30)
    with pytest.raises(TooLarge):
        read.extend(len(chunk) for chunk in chunks)
    assert sum(read) <= 3_000_000


def test_credentials_in_a_url_are_never_shown() -> None:
    from imgtasks.adapters.outbound import redacted

    assert redacted("https://user:secret@example.com:8443/a.png?x=1") == "https://example.com:8443/a.png?x=1"
    assert redacted("https://example.com/a.png") == "https://example.com/a.png"


# ------------------------------------------------------------------ through the API and the workers
def test_a_file_from_a_url_becomes_ready_and_its_task_runs(api: Any, fetch: Any, process: Any, web: str) -> None:
    api.sign_up()
    created = api.call("POST", "/files", json_body={"url": f"{web}/to-pic"})
    assert created.status == 201, created.body
    file = created.body
    assert (file["status"], file["filename"], file["source_url"]) == ("pending", "to-pic", f"{web}/to-pic")
    body = {"type": "process", "file_ids": [file["id"]], "operations": [{"op": "resize", "width": 60}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    fetch.drain()
    process.drain()
    ready = api.call("GET", f"/files/{file['id']}").body
    assert (ready["status"], ready["format"], ready["width"], ready["size"]) == ("ready", "png", 120, len(PICTURE))
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["result"]["outputs"][0]["width"]) == ("done", 60)


def test_tasks_take_urls_beside_file_ids(api: Any, fetch: Any, process: Any, web: str) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((50, 50))).body["id"]
    body = {
        "type": "process",
        "file_ids": [file_id],
        "urls": [f"{web}/pic.png"],
        "operations": [{"op": "resize", "width": 20}],
    }
    tasks = api.call("POST", "/tasks", json_body=body).body["tasks"]
    assert len(tasks) == 2
    fetch.drain()
    process.drain()
    assert [api.call("GET", f"/tasks/{t['id']}").body["status"] for t in tasks] == ["done", "done"]


def test_refused_and_failed_fetches_reject_the_file_with_a_reason_and_fail_its_task(
    api: Any, fetch: Any, process: Any, web: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.sign_up()
    cases = {
        f"{web}/to-metadata": ("url_refused", "169.254.169.254"),
        f"{web}/missing": ("url_unreachable", "the server answered 404"),
        f"http://user:hunter2@127.0.0.1:{web.rsplit(':', 1)[1]}/missing": ("url_unreachable", "404"),
    }
    tasks = {}
    for url in cases:
        file = api.call("POST", "/files", json_body={"url": url}).body
        body = {"type": "process", "file_ids": [file["id"]]}
        tasks[url] = (file["id"], api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"])
    fetch.drain()
    process.drain()
    for url, (code, reason) in cases.items():
        file_id, task_id = tasks[url]
        file = api.call("GET", f"/files/{file_id}").body
        assert file["status"] == "rejected" and reason in file["error"], file
        assert "hunter2" not in str(file)
        task = api.call("GET", f"/tasks/{task_id}").body
        assert (task["status"], task["error"]["code"]) == ("failed", code)


def test_a_server_error_is_retried_and_rejects_the_file_on_the_last_attempt(
    api: Any, fetch: Any, mocked_stack: Any, web: str
) -> None:
    api.sign_up()
    created = api.call("POST", "/tasks", json_body={"type": "process", "urls": [f"{web}/broken"], "preset": "web"})
    task_id, file = created.body["tasks"][0]["id"], {"id": created.body["tasks"][0]["file_id"]}
    waiting = {"file_id": file["id"], "reason": "fetch", "fetch_attempts": None, "fetch_error": None}
    assert api.call("GET", f"/tasks/{task_id}").body["waiting_for"] == waiting
    sqs = mocked_stack.client("sqs")
    url = mocked_stack.outputs["FetchQueueUrl"]
    for attempt in (1, 2, 3):
        messages = fetch.receive()
        assert messages, attempt
        fetch.deliver(messages)
        shown = api.call("GET", f"/files/{file['id']}").body
        assert shown["status"] == ("rejected" if attempt == 3 else "pending"), attempt
        if attempt < 3:  # what a client sees while it waits: how many failed, why, and what next
            retry = {1: 30, 2: 120}[attempt]
            expected = f"url_unreachable: the server answered 503; retrying in {retry} s, attempt {attempt + 1} of 3"
            assert (shown["fetch_attempts"], shown["fetch_error"]) == (attempt, expected)
            # ... and on the task that waits for it, where a client that made a task looks.
            task = api.call("GET", f"/tasks/{task_id}").body
            assert (task["status"], task["waiting_for"]) == (
                "queued",
                {"file_id": file["id"], "reason": "fetch", "fetch_attempts": attempt, "fetch_error": expected},
            )
        if attempt < 3:  # as if the visibility timeout had passed: SQS delivers it again
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0)
    assert fetch.receive() == []  # handled on the last attempt, not sent to the dead-letter queue
    assert "503" in api.call("GET", f"/files/{file['id']}").body["error"]
    failed = api.call("GET", f"/tasks/{task_id}").body
    assert (failed["status"], failed["waiting_for"]) == ("failed", None)


def test_a_file_url_or_an_unknown_scheme_is_a_400(api: Any) -> None:
    api.sign_up()
    for url in ("file:///etc/passwd", "gopher://127.0.0.1:70/_stats"):
        answer = api.call("POST", "/files", json_body={"url": url})
        assert answer.status == 400
        assert answer.problem["errors"][0]["loc"] == ["body", "url"]
        assert "must be an http or https URL with a host" in answer.problem["detail"]  # a sentence, not a regex
    bad_task = api.call("POST", "/tasks", json_body={"type": "process", "urls": ["file:///etc/passwd"]})
    assert bad_task.status == 400
    assert bad_task.problem["errors"][0]["loc"] == ["body", "urls", 0]
    assert api.call("GET", "/files").body["items"] == []  # nothing was created


def test_a_url_that_brings_a_video_runs_its_task_on_the_video_worker(
    api: Any, fetch: Any, process: Any, video: Any, web: str
) -> None:
    """The kind of a fetched file is known only once it is inspected: the task waiting on it goes
    to the worker the file needs."""
    api.sign_up()
    body = {"type": "process", "urls": [f"{web}/clip.mp4"], "operations": [{"op": "resize", "width": 80}]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    fetch.drain()
    process.drain()
    assert api.call("GET", f"/tasks/{task_id}").body["status"] == "queued"  # not the image worker's
    video.drain()
    task = api.call("GET", f"/tasks/{task_id}").body
    assert task["status"] == "done", task["error"]
    assert (task["result"]["source"]["format"], task["result"]["outputs"][0]["format"]) == ("mp4", "gif")


def test_a_fetch_whose_message_died_rejects_its_file_and_fails_its_task(
    api: Any, fetch: Any, mocked_stack: Any, monkeypatch: pytest.MonkeyPatch, web: str
) -> None:
    """The fetch dead-letter queue once had no consumer: a fetch that crashed on every delivery
    left its file pending until the record expired, and its task queued."""
    from imgtasks_ingest import dead_uploads
    from tests.unit.queue_driver import QueueDriver

    api.sign_up()
    file = api.call("POST", "/files", json_body={"url": f"{web}/to-pic"}).body
    body = {"type": "process", "file_ids": [file["id"]]}
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    fetch.dispatcher.drain()  # the change stream sends the fetch message
    [message] = fetch.receive()  # ... and, as if each delivery had crashed, it goes to the DLQ
    mocked_stack.use_environment_of("DeadUploadFunction", monkeypatch)
    dead = QueueDriver(
        mocked_stack.client("sqs"), mocked_stack.outputs["FetchDeadLetterQueueUrl"], dead_uploads.lambda_handler
    )
    dead.send_raw(message["Body"])
    assert dead.drain() == 1
    shown = api.call("GET", f"/files/{file['id']}").body
    assert (shown["status"], shown["error_code"]) == ("rejected", "retries_exhausted")
    assert "could not be fetched in 3 attempts" in shown["error"]
    task = api.call("GET", f"/tasks/{task_id}").body
    assert (task["status"], task["error"]["code"]) == ("failed", "retries_exhausted")
