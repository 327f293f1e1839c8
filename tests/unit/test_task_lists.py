"""GET /tasks and GET /files: every order and filter, with cursors across pages, and the totals the
change stream keeps (after creates, status changes and deletes)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import image_bytes


def every_page(api: Any, query: str, limit: int = 2) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the items of every page, each page's answer without its items), following next_cursor."""
    items: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = api.call("GET", f"{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert answer.status == 200, answer.body
        items.extend(answer.body["items"])
        pages.append({k: v for k, v in answer.body.items() if k != "items"})
        cursor = answer.body["next_cursor"]
        if cursor is None:
            return items, pages


def create(api: Any, file_id: str, count: int, fmt: str) -> list[str]:
    body = {"type": "process", "file_ids": [file_id] * count, "operations": [{"op": "resize", "width": 20}]}
    body["output"] = {"format": fmt}
    return [task["id"] for task in api.call("POST", "/tasks", json_body=body).body["tasks"]]


@pytest.fixture
def tasks(api: Any, process: Any) -> dict[str, list[str]]:
    """Alice's seven tasks: three JPEG (one cancelled), two WebP, done; two PNG still queued."""
    api.sign_up()
    file_id = api.upload(image_bytes((60, 40))).body["id"]
    jpeg = create(api, file_id, 3, "jpeg")
    webp = create(api, file_id, 2, "webp")
    api.call("POST", f"/tasks/{jpeg[1]}/cancel")
    process.drain()
    png = create(api, file_id, 2, "png")
    process.dispatcher.drain()
    return {"jpeg": jpeg, "webp": webp, "png": png}


def test_every_order_pages_through_all_tasks_in_its_order(api: Any, tasks: dict[str, list[str]]) -> None:
    everything = tasks["jpeg"] + tasks["webp"] + tasks["png"]
    oldest_first, pages = every_page(api, "/tasks?order=created_at")
    assert [task["id"] for task in oldest_first] == everything
    assert [page["total"] for page in pages] == [7] * 4
    assert [page["pages"] for page in pages] == [4] * 4
    assert [page["has_previous"] for page in pages] == [False, True, True, True]
    assert [page["has_next"] for page in pages] == [True, True, True, False]
    newest_first, _ = every_page(api, "/tasks?order=-created_at", limit=3)
    assert [task["id"] for task in newest_first] == everything[::-1]

    by_update, _ = every_page(api, "/tasks?order=updated_at")
    times = [(task["updated_at"], task["id"]) for task in by_update]
    assert times == sorted(times) and len(times) == 7
    latest, _ = every_page(api, "/tasks?order=-updated_at", limit=4)
    assert [task["id"] for task in latest] == [task["id"] for task in by_update][::-1]

    by_status, _ = every_page(api, "/tasks?order=status")
    statuses = [task["status"] for task in by_status]
    assert statuses == ["cancelled"] + ["done"] * 4 + ["queued"] * 2
    done = [task["id"] for task in by_status if task["status"] == "done"]
    assert done == sorted(done, reverse=True)  # newest first within a status
    backwards, _ = every_page(api, "/tasks?order=-status", limit=3)
    assert [task["status"] for task in backwards] == ["queued"] * 2 + ["done"] * 4 + ["cancelled"]


def test_filters_combine_and_each_has_its_total(api: Any, tasks: dict[str, list[str]]) -> None:
    webp, pages = every_page(api, "/tasks?format=webp", limit=1)
    assert sorted(task["id"] for task in webp) == sorted(tasks["webp"])
    assert pages[0]["total"] == 2 and pages[0]["pages"] == 2
    jpeg_done, pages = every_page(api, "/tasks?format=jpeg&status=done&order=updated_at")
    assert sorted(task["id"] for task in jpeg_done) == sorted([tasks["jpeg"][0], tasks["jpeg"][2]])
    assert pages[0]["total"] == 2
    queued_png, pages = every_page(api, "/tasks?type=process&status=queued&format=png&order=status")
    assert sorted(task["id"] for task in queued_png) == sorted(tasks["png"])
    assert pages[0]["total"] == 2
    none = api.call("GET", "/tasks?format=gif").body
    assert (none["items"], none["total"], none["pages"], none["has_next"]) == ([], 0, 0, False)
    assert api.call("GET", "/tasks?type=infer").body["total"] == 0


def test_totals_follow_status_changes_and_deletes(api: Any, process: Any, tasks: dict[str, list[str]]) -> None:
    def total(query: str) -> int:
        process.dispatcher.drain()
        return int(api.call("GET", f"/tasks?{query}").body["total"])

    assert (total("status=queued"), total("status=done"), total("")) == (2, 4, 7)
    process.drain()
    assert (total("status=queued"), total("status=done"), total("format=png&status=done")) == (0, 6, 2)
    api.call("DELETE", f"/tasks/{tasks['webp'][0]}")
    api.call("DELETE", f"/tasks/{tasks['jpeg'][1]}")
    assert (total(""), total("status=cancelled"), total("format=webp"), total("status=done")) == (5, 0, 1, 5)
    api.call("POST", f"/tasks/{tasks['png'][0]}/restart")  # done cannot restart: nothing moves
    assert total("status=done") == 5
    api.sign_up("bob")
    assert total("") == 0  # another user's counters are their own


def test_a_cursor_of_another_order_or_a_forged_one_is_a_400(api: Any, tasks: dict[str, list[str]]) -> None:
    cursor = api.call("GET", "/tasks?order=status&limit=1").body["next_cursor"]
    wrong = api.call("GET", f"/tasks?order=updated_at&cursor={cursor}")
    assert wrong.status == 400
    assert "made for order=status" in wrong.problem["detail"]
    assert api.call("GET", "/tasks?order=size").status == 400
    assert api.call("GET", "/tasks?format=bmp").status == 400


def test_files_filter_by_status_and_format_with_totals(api: Any, process: Any) -> None:
    api.sign_up()
    jpeg = [api.upload(image_bytes((30, 20))).body["id"] for _ in range(3)]
    png = api.upload(image_bytes((30, 20), fmt="PNG"), filename="a.png", content_type="image/png").body["id"]
    started = {"filename": "big.jpg", "content_type": "image/jpeg", "size": 5_000_000}
    pending = api.call("POST", "/files/presigned", json_body=started).body["file"]["id"]
    process.dispatcher.drain()
    listed, pages = every_page(api, "/files?order=created_at")
    assert [item["id"] for item in listed] == [*jpeg, png, pending]
    assert pages[0]["total"] == 5 and pages[0]["pages"] == 3
    only_jpeg, pages = every_page(api, "/files?format=jpeg&status=ready")
    assert [item["id"] for item in only_jpeg] == jpeg[::-1]
    assert pages[0]["total"] == 3
    waiting = api.call("GET", "/files?status=pending").body
    assert ([item["id"] for item in waiting["items"]], waiting["total"]) == ([pending], 1)
    api.call("DELETE", f"/files/{jpeg[0]}")
    process.dispatcher.drain()
    assert api.call("GET", "/files?format=jpeg").body["total"] == 2
