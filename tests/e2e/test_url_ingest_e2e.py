"""URL ingest on the local stack: files served by a web server on 127.0.0.1 (the local stack allows
private addresses, as AllowPrivateUrls says), fetched by the fetch function into the uploads
bucket and inspected by the upload function; a redirect to the metadata address refused."""

from __future__ import annotations

from typing import Any

from tests.e2e.client import Client
from tests.e2e.test_task_api import wait_for_file
from tests.web_server import PICTURE


def test_tasks_on_urls_run_once_the_files_are_fetched(stack: Any, web: str) -> None:
    client = Client(stack.api)
    client.sign_up()
    created = client.request(
        "POST",
        "/tasks",
        json={
            "type": "process",
            "urls": [f"{web}/pic.png", f"{web}/to-pic"],
            "operations": [{"op": "resize", "width": 30}],
            "output": {"format": "webp"},
        },
    )
    assert created.status_code == 202, created.text
    for task in created.json()["tasks"]:
        done = client.wait_for(task["id"])
        assert done["status"] == "done", done
        assert (done["result"]["source"]["width"], done["result"]["outputs"][0]["width"]) == (120, 30)
        file = client.request("GET", f"/files/{task['file_id']}").json()
        assert (file["status"], file["size"], file["source_url"].startswith(web)) == ("ready", len(PICTURE), True)


def test_a_redirect_to_the_metadata_address_is_refused(stack: Any, web: str) -> None:
    client = Client(stack.api)
    client.sign_up()
    file = client.request("POST", "/files/from-url", json={"url": f"{web}/to-metadata", "filename": "x.png"}).json()
    assert (file["status"], file["filename"]) == ("pending", "x.png")
    rejected = wait_for_file(client, file["id"])
    assert rejected["status"] == "rejected"
    assert "169.254.169.254 is a link-local or cloud metadata address" in rejected["error"]
