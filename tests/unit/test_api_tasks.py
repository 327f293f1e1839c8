"""Tasks: creation (JSON and multipart), listing, result, cancel, restart, delete, isolation."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import image_bytes, multipart

RESIZE = [{"op": "resize", "width": 50}]


def create(api: Any, file_ids: list[str], **spec: Any) -> Any:
    return api.call("POST", "/tasks", json_body={"type": "process", "file_ids": file_ids, "operations": RESIZE, **spec})


def test_one_task_is_created_per_file(api: Any) -> None:
    api.sign_up()
    ids = [api.upload(image_bytes((80, 60))).body["id"] for _ in range(3)]
    answer = create(api, ids)
    assert answer.status == 202
    assert [task["file_id"] for task in answer.body["tasks"]] == ids
    assert len({task["id"] for task in answer.body["tasks"]}) == 3


def test_more_than_50_files_or_none_is_a_400(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((8, 8))).body["id"]
    assert create(api, []).status == 400
    too_many = create(api, [file_id] * 51)
    assert too_many.status == 400
    assert too_many.problem["errors"][0]["loc"] == ["body", "file_ids"]


def test_multipart_uploads_the_file_and_creates_its_task_in_one_request(api: Any, process: Any) -> None:
    api.sign_up()
    spec = {
        "type": "process",
        "operations": [{"op": "resize", "width": 32, "height": 32, "fit": "fill"}],
        "output": {"format": "png"},
    }
    body, header = multipart({"spec": json.dumps(spec)}, {"file": ("a.jpg", image_bytes((200, 100)), "image/jpeg")})
    answer = api.call("POST", "/tasks", body=body, headers={"content-type": header})
    assert answer.status == 202
    task = answer.body["tasks"][0]
    assert api.call("GET", f"/files/{task['file_id']}").body["status"] == "ready"
    process.drain()
    output = api.call("GET", f"/tasks/{task['id']}").body["result"]["outputs"][0]
    assert (output["format"], output["width"], output["height"]) == ("png", 32, 32)


def test_multipart_with_a_bad_spec_stores_no_file(api: Any) -> None:
    api.sign_up()
    spec = {"type": "process", "operations": [{"op": "resize"}]}
    body, header = multipart({"spec": json.dumps(spec)}, {"file": ("a.jpg", image_bytes((20, 10)), "image/jpeg")})
    answer = api.call("POST", "/tasks", body=body, headers={"content-type": header})
    assert answer.status == 400
    assert answer.problem["errors"][0]["loc"][:2] == ["body", "spec"]
    assert api.call("GET", "/files").body["items"] == []


def test_result_is_null_until_done_then_holds_the_outputs(api: Any, process: Any) -> None:
    api.sign_up()
    task_id = create(api, [api.upload(image_bytes()).body["id"]]).body["tasks"][0]["id"]
    assert api.call("GET", f"/tasks/{task_id}/result").body == {"id": task_id, "status": "queued", "result": None}
    process.drain()
    result = api.call("GET", f"/tasks/{task_id}/result").body
    assert result["status"] == "done"
    assert result["result"]["outputs"][0]["url"].startswith("http")


def test_tasks_are_listed_by_status_and_type_in_either_order_with_cursors(api: Any, process: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes((30, 30))).body["id"]
    ids = [task["id"] for task in create(api, [file_id] * 5).body["tasks"]]
    api.call("POST", f"/tasks/{ids[1]}/cancel")
    api.call("POST", f"/tasks/{ids[3]}/cancel")
    newest = api.call("GET", "/tasks?limit=2").body
    assert [t["id"] for t in newest["items"]] == ids[::-1][:2]
    rest = api.call("GET", f"/tasks?limit=10&cursor={newest['next_cursor']}").body
    assert [t["id"] for t in rest["items"]] == ids[::-1][2:]
    assert rest["next_cursor"] is None
    oldest = api.call("GET", "/tasks?order=created_at&limit=5").body
    assert [t["id"] for t in oldest["items"]] == ids
    cancelled = api.call("GET", "/tasks?status=cancelled").body
    assert [t["id"] for t in cancelled["items"]] == [ids[3], ids[1]]
    first_cancelled = api.call("GET", "/tasks?status=cancelled&limit=1&order=created_at").body
    assert [t["id"] for t in first_cancelled["items"]] == [ids[1]]
    after = api.call(
        "GET", f"/tasks?status=cancelled&limit=1&order=created_at&cursor={first_cancelled['next_cursor']}"
    ).body
    assert [t["id"] for t in after["items"]] == [ids[3]]
    assert api.call("GET", "/tasks?type=infer").body["items"] == []
    assert len(api.call("GET", "/tasks?type=process&status=queued").body["items"]) == 3


def test_cancel_restart_and_the_409s_of_the_state_machine(api: Any, process: Any) -> None:
    api.sign_up()
    task_id = create(api, [api.upload(image_bytes()).body["id"]]).body["tasks"][0]["id"]
    conflict = api.call("POST", f"/tasks/{task_id}/restart")
    assert conflict.status == 409
    assert "is queued" in conflict.problem["detail"]
    cancelled = api.call("POST", f"/tasks/{task_id}/cancel")
    assert (cancelled.status, cancelled.body["status"]) == (202, "cancelled")
    assert cancelled.body["completed_at"]
    assert api.call("POST", f"/tasks/{task_id}/cancel").status == 409
    restarted = api.call("POST", f"/tasks/{task_id}/restart")
    assert (restarted.status, restarted.body["status"], restarted.body["completed_at"]) == (202, "queued", None)
    process.drain()  # the first message (run 1) is skipped; the restart's message runs the task
    done = api.call("GET", f"/tasks/{task_id}").body
    assert (done["status"], done["attempts"]) == ("done", 1)
    late = api.call("POST", f"/tasks/{task_id}/cancel")
    assert late.status == 409
    assert "is done" in late.problem["detail"]


def test_a_failed_task_can_be_restarted(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    file = api.upload(image_bytes()).body
    task_id = create(
        api, [file["id"]], operations=[{"op": "crop", "left": 5000, "top": 0, "width": 10, "height": 10}]
    ).body["tasks"][0]["id"]
    process.drain()
    failed = api.call("GET", f"/tasks/{task_id}").body
    assert (failed["status"], failed["error"]["code"]) == ("failed", "invalid_operation")
    restarted = api.call("POST", f"/tasks/{task_id}/restart").body
    assert (restarted["status"], restarted["error"], restarted["progress"]) == ("queued", None, 0)


def test_deleting_a_task_cancels_it_and_removes_its_outputs(api: Any, process: Any, mocked_stack: Any) -> None:
    api.sign_up()
    task_id = create(api, [api.upload(image_bytes()).body["id"]]).body["tasks"][0]["id"]
    process.drain()
    output_id = api.call("GET", f"/tasks/{task_id}").body["result"]["outputs"][0]["file_id"]
    assert api.call("GET", f"/files/{output_id}").body["status"] == "ready"
    assert api.call("DELETE", f"/tasks/{task_id}").status == 204
    assert api.call("GET", f"/tasks/{task_id}").status == 404
    assert api.call("GET", f"/files/{output_id}").status == 404
    results = mocked_stack.client("s3").list_objects_v2(Bucket=mocked_stack.outputs["ResultsBucketName"])
    assert results["KeyCount"] == 0


def test_deleting_a_queued_task_means_its_message_does_nothing(api: Any, process: Any) -> None:
    api.sign_up()
    task_id = create(api, [api.upload(image_bytes()).body["id"]]).body["tasks"][0]["id"]
    assert api.call("DELETE", f"/tasks/{task_id}").status == 204
    assert process.drain() == 1
    assert len(api.call("GET", "/files").body["items"]) == 1  # the input only, no output


def test_download_names_a_variant_or_says_which_exist(api: Any, process: Any) -> None:
    api.sign_up()
    body = {
        "type": "process",
        "file_ids": [api.upload(image_bytes()).body["id"]],
        "variants": [
            {"name": "small", "operations": RESIZE},
            {"name": "tiny", "operations": [{"op": "resize", "width": 10}]},
        ],
    }
    task_id = api.call("POST", "/tasks", json_body=body).body["tasks"][0]["id"]
    process.drain()
    assert "tiny.jpg" in api.call("GET", f"/tasks/{task_id}/download?variant=tiny").headers["Location"]
    missing = api.call("GET", f"/tasks/{task_id}/download?variant=huge")
    assert missing.status == 404
    assert "small, tiny" in missing.problem["detail"]


def test_another_users_files_and_tasks_answer_404_exactly_like_missing_ones(api: Any, process: Any) -> None:
    api.sign_up("alice")
    alice_token = api.token
    file_id = api.upload(image_bytes()).body["id"]
    task_id = create(api, [file_id]).body["tasks"][0]["id"]
    process.drain()
    bob_token = api.sign_up("bob")
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for method, path in (
        ("GET", "/files/{f}"),
        ("GET", "/files/{f}/content"),
        ("DELETE", "/files/{f}"),
        ("GET", "/tasks/{t}"),
        ("GET", "/tasks/{t}/result"),
        ("GET", "/tasks/{t}/download"),
        ("POST", "/tasks/{t}/cancel"),
        ("POST", "/tasks/{t}/restart"),
        ("DELETE", "/tasks/{t}"),
    ):
        theirs = api.call(method, path.format(f=file_id, t=task_id), token=bob_token)
        absent = api.call(method, path.format(f=missing, t=missing), token=bob_token)
        assert theirs.status == absent.status == 404, (method, path)
        assert theirs.body["title"] == absent.body["title"]
    assert api.call("GET", "/files", token=bob_token).body["items"] == []
    assert api.call("GET", "/tasks", token=bob_token).body["items"] == []
    assert create(api, [file_id], token=bob_token).status == 400
    assert api.call("GET", f"/tasks/{task_id}", token=alice_token).body["status"] == "done"


def test_unknown_preset_is_a_400_listing_the_valid_ones_and_presets_are_listed(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    answer = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": [file_id], "preset": "huge"})
    assert answer.status == 400
    assert "thumbnails, web" in answer.problem["detail"]
    presets = {p["name"] for p in api.call("GET", "/presets").body["presets"]}
    assert {"web", "thumbnails"} <= presets


def test_infer_tasks_are_refused_while_no_model_is_registered(api: Any) -> None:
    api.sign_up()
    file_id = api.upload(image_bytes()).body["id"]
    answer = api.call("POST", "/tasks", json_body={"type": "infer", "file_ids": [file_id], "detection_model": "shapes"})
    assert answer.status == 400
    assert "valid ids" in answer.problem["detail"]


def test_fifty_files_are_one_batch_read_two_batch_writes_and_five_message_batches(api: Any, dispatch: Any) -> None:
    import os
    from collections import Counter

    from imgtasks.adapters import aws

    api.sign_up()
    file_ids = [api.upload(image_bytes((64, 48))).body["id"] for _ in range(50)]
    dispatch.drain()
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    aws.table(os.environ["TABLE_NAME"]).meta.client.meta.events.register("before-call.dynamodb", count)
    aws.sqs().meta.events.register("before-call.sqs", count)
    created = api.call("POST", "/tasks", json_body={"type": "process", "file_ids": file_ids, "preset": "web"})
    assert created.status == 202
    assert len(created.body["tasks"]) == 50
    assert (calls["BatchGetItem"], calls["BatchWriteItem"]) == (1, 2), calls
    assert (calls["GetItem"], calls["PutItem"], calls["SendMessage"]) == (0, 0, 0), calls
    calls.clear()
    dispatch.drain()
    assert (calls["SendMessageBatch"], calls["SendMessage"]) == (5, 0), calls


def test_tasks_on_files_of_which_one_is_missing_create_nothing(api: Any) -> None:
    api.sign_up()
    file_ids = [api.upload(image_bytes((64, 48))).body["id"] for _ in range(3)]
    body = {"type": "process", "file_ids": [*file_ids, "01ARZ3NDEKTSV4RRFFQ69G5FAV"], "preset": "web"}
    refused = api.call("POST", "/tasks", json_body=body)
    assert refused.status == 400
    assert refused.problem["errors"][0]["loc"] == ["body", "file_ids", 3]
    assert api.call("GET", "/tasks").body["items"] == []


def test_an_overlay_logo_must_be_an_image_file_of_the_caller_s(api: Any) -> None:
    api.sign_up("bob")
    bobs = api.upload(image_bytes((16, 16), fmt="PNG"), "logo.png", "image/png").body["id"]
    api.sign_up("alice")
    photo = api.upload(image_bytes((80, 60))).body["id"]
    for logo in (bobs, "01NOSUCHFILE0000000000000"):
        refused = create(api, [photo], operations=[{"op": "overlay", "file_id": logo}])
        assert refused.status == 400 and logo in refused.body["detail"], refused.body
    own = api.upload(image_bytes((16, 16), fmt="PNG"), "mine.png", "image/png").body["id"]
    assert create(api, [photo], operations=[{"op": "overlay", "file_id": own}]).status == 202
