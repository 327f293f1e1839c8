"""Archives on the local stack: the outputs of done tasks as one ZIP through the earlier system's
batch-download form (202, then 302), checked entry by entry; a task not done is skipped."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import requests

from tests.e2e.client import Client
from tests.helpers import image_bytes


def test_batch_download_gives_a_zip_of_the_done_tasks_outputs(stack: Any) -> None:
    client = Client(stack.api)
    client.sign_up()
    ids = [client.upload(image_bytes((64, 48)), filename=f"photo{n}.jpg").json()["id"] for n in range(2)]
    body = {
        "type": "process",
        "file_ids": ids,
        "variants": [{"name": "tiny", "operations": [{"op": "resize", "width": 16}]}, {"name": "full"}],
    }
    tasks = [client.wait_for(t["id"]) for t in client.request("POST", "/tasks", json=body).json()["tasks"]]
    assert [t["status"] for t in tasks] == ["done", "done"]
    cancelled = client.request("POST", "/tasks", json={**body, "file_ids": ids[:1]}).json()["tasks"][0]["id"]
    client.request("POST", f"/tasks/{cancelled}/cancel")
    query = ",".join([tasks[0]["id"], tasks[1]["id"], cancelled])
    first = client.request("GET", f"/tasks/batch-download?task_ids={query}", allow_redirects=False)
    assert first.status_code == 202, first.text
    archive = first.json()
    done = client.wait_for(archive["id"])
    assert done["status"] == "done", done
    assert (done["result"]["tasks_included"], done["result"]["files"]) == (2, 4)
    assert done["result"]["skipped"] == [{"task_id": cancelled, "reason": "not_done", "status": "cancelled"}]
    again = client.request("GET", f"/tasks/batch-download?task_ids={query}", allow_redirects=False)
    assert again.status_code == 302
    data = requests.get(again.headers["Location"], timeout=30).content
    with zipfile.ZipFile(io.BytesIO(data)) as opened:
        names = sorted(opened.namelist())
        assert names == sorted(f"{t['id']}-photo{n}/{v}.jpg" for n, t in enumerate(tasks) for v in ("tiny", "full"))
        for n, task in enumerate(tasks):
            for output in task["result"]["outputs"]:
                expected = requests.get(output["url"], timeout=30).content
                assert opened.read(f"{task['id']}-photo{n}/{output['name']}.jpg") == expected
