"""The Python client and the `imgtasks` command against the local stack: the CLI run as a
subprocess on a folder of images (one of them not an image), resumed, read as --json; and the
async client from upload to download."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from imgtasks_client import AsyncClient, ProcessResult
from PIL import ExifTags, Image

from tests.e2e.client import Client as HttpClient
from tests.e2e.conftest import same_on_any_emulator
from tests.helpers import ROOT, image_bytes, scene_with_shapes

pytestmark = same_on_any_emulator  # the CLI and the async client against the API

IMGTASKS = Path(sys.executable).parent / "imgtasks"


def cli(stack: Any, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IMGTASKS_CONFIG": str(tmp_path / "profiles.json"), "COLUMNS": "200"}
    env.pop("IMGTASKS_TOKEN", None)
    return subprocess.run(  # noqa: S603 - our own command
        [str(IMGTASKS), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def signed_in(stack: Any, tmp_path: Path) -> str:
    username = f"cli-{uuid.uuid4().hex[:8]}"
    HttpClient(stack.api).sign_up(username, "correct-horse")
    done = cli(stack, tmp_path, "login", "--url", stack.api, "--username", username, "--password", "correct-horse")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "profiles.json").stat().st_mode & 0o077 == 0  # the token is private
    return username


def test_the_cli_runs_a_folder_reports_a_failure_and_resumes(stack: Any, tmp_path: Path) -> None:
    signed_in(stack, tmp_path)
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    for index in range(3):
        (folder / f"p{index}.jpg").write_bytes(image_bytes((200 + 10 * index, 150)))
    (folder / "more" / "broken.png").write_bytes(b"this is not a picture")

    first = cli(
        stack, tmp_path, "run", "photos", "--op", "resize 100x100 fit=inside", "--format", "webp", "-o", "out", "--json"
    )
    assert first.returncode == 1, first.stderr  # one failed
    report = json.loads(first.stdout)
    assert (report["done"], report["failed"]) == (3, 1)
    (broken,) = [r for r in report["results"] if r["status"] != "done"]
    assert broken["input"].endswith("broken.png") and "not an image" in broken["error"]
    for index in range(3):
        with Image.open(tmp_path / "out" / f"p{index}.webp") as output:
            assert output.format == "WEBP" and max(output.size) == 100

    again = cli(
        stack, tmp_path, "run", "photos", "--op", "resize 100x100 fit=inside", "--format", "webp", "-o", "out", "--json"
    )
    assert again.returncode == 1
    resumed = json.loads(again.stdout)["results"]
    assert sorted(r["input"] for r in resumed if r.get("skipped")) == [f"photos/p{index}.jpg" for index in range(3)]

    listed = cli(stack, tmp_path, "tasks", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    tasks = json.loads(listed.stdout)
    assert len(tasks) == 3 and {task["status"] for task in tasks} == {"done"}  # the broken file never got a task
    shown = cli(stack, tmp_path, "tasks", "show", tasks[0]["id"], "--json")
    assert json.loads(shown.stdout)["id"] == tasks[0]["id"]

    watched = cli(stack, tmp_path, "watch", tasks[0]["id"], "--json")
    assert watched.returncode == 0 and json.loads(watched.stdout)["status"] == "done"
    zipped = cli(stack, tmp_path, "archive", tasks[0]["id"], tasks[1]["id"], "-o", "zips", "--json")
    assert zipped.returncode == 0, zipped.stderr
    with zipfile.ZipFile(tmp_path / json.loads(zipped.stdout)["path"]) as archive:
        assert len(archive.namelist()) == 2

    table = cli(stack, tmp_path, "run", "photos", "--preset", "web", "-o", "web-out")
    assert "3 done, 1 failed" in table.stdout


def test_the_cli_infers_and_lists_models(stack: Any, tmp_path: Path) -> None:
    signed_in(stack, tmp_path)
    scene = scene_with_shapes()
    buffer = io.BytesIO()
    scene.image.save(buffer, "PNG")
    (tmp_path / "scene.png").write_bytes(buffer.getvalue())
    inferred = cli(stack, tmp_path, "infer", "scene.png", "--detect", "shapes", "--classify", "scenes", "--json")
    assert inferred.returncode == 0, inferred.stderr
    (entry,) = json.loads(inferred.stdout)
    assert entry["result"]["image_class"]["label"] == "stripes"
    assert len(entry["result"]["detections"]) == len(scene.shapes)
    models = json.loads(cli(stack, tmp_path, "models", "--json").stdout)
    assert [m["id"] for m in models["detection_models"]] == ["faces", "shapes"]
    assert cli(stack, tmp_path, "run", "--help").stdout.count("Example") >= 1


def test_the_async_client_uploads_runs_waits_and_downloads_every_variant(stack: Any, tmp_path: Path) -> None:
    username = f"async-{uuid.uuid4().hex[:8]}"
    HttpClient(stack.api).sign_up(username, "correct-horse")

    async def scenario() -> list[Path]:
        async with AsyncClient(stack.api, username=username, password="correct-horse") as client:
            photo = await client.files.upload(image_bytes((640, 480)), filename="cat.jpg")
            (task,) = await client.tasks.create(photo, preset="thumbnails")
            done = await task.wait(timeout=120, raise_on_failure=True)
            assert isinstance(done.result, ProcessResult)
            listed = [item.id async for item in client.tasks.list(status="done")]
            assert listed == [task.id]
            return await done.download(tmp_path / "thumbs", every=True)

    written = asyncio.run(scenario())
    assert len(written) == 3
    sizes = sorted(max(Image.open(path).size) for path in written)
    assert sizes == [128, 512, 640]  # thumbnails never upscale: 1024 stays 640


def test_the_cli_shows_a_photograph_s_camera_colours_and_placeholders(stack: Any, tmp_path: Path) -> None:
    """A real photograph (face_recognition's test portrait, from the corpus) with a position written
    into its EXIF, run with quality auto: `tasks show` prints what its camera said, where, its
    colours and placeholders, and the quality chosen."""
    signed_in(stack, tmp_path)
    portrait = Image.open(ROOT / ".corpus" / "face-recognition-1.3.0" / "obama.jpg")
    exif = portrait.getexif()
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 30.0)}
    portrait.save(tmp_path / "portrait.jpg", quality=90, exif=exif.tobytes())
    ran = cli(
        stack, tmp_path, "run", "portrait.jpg", "--op", "resize 300x300", "--quality", "auto", "-o", "out", "--json"
    )
    assert ran.returncode == 0, ran.stderr
    (result,) = json.loads(ran.stdout)["results"]
    shown = cli(stack, tmp_path, "tasks", "show", result["task_id"])
    (ROOT / "tests" / "output").mkdir(exist_ok=True)
    (ROOT / "tests" / "output" / "cli-tasks-show.txt").write_text(shown.stdout)  # to look at
    assert shown.returncode == 0, shown.stderr
    for expected in (
        "Canon EOS 5D Mark III",
        "EF85mm f/1.2L USM",
        "2012-12-06T15:46:01",
        "f/7.1 1/125 s ISO 200 85 mm",
    ):
        assert expected in shown.stdout, shown.stdout
    assert "52.37000, 4.89167" in shown.stdout and "blurhash" in shown.stdout and "%" in shown.stdout
    task = json.loads(cli(stack, tmp_path, "tasks", "show", result["task_id"], "--json").stdout)
    source = task["result"]["source"]
    assert source["metadata"]["gps"]["latitude"] == 52.37 and len(source["blurhash"]) == 28
    (output,) = task["result"]["outputs"]
    assert output["thumbhash"] and 3 <= len(output["colors"]) <= 5
    chosen = output["auto_quality"]
    assert 40 <= chosen["quality"] <= 95 and chosen["ssim"] >= chosen["target"] and chosen["encodes"] <= 4
    assert f"quality auto chose {chosen['quality']}" in shown.stdout
    # What it cost: on the task, and summed per day by `imgtasks usage` (the change stream keeps the
    # sums: they follow the task within a second or so).
    assert re.search(r"cost \$0\.\d+ at us-east-1 prices: Lambda [\d.]+ GB-s \(api", shown.stdout), shown.stdout
    assert "process" in {invocation["function"] for invocation in task["usage"]["invocations"]}
    deadline = time.monotonic() + 20
    report = json.loads(cli(stack, tmp_path, "usage", "--json").stdout)
    while report["total"]["bytes_stored"] != output["size"] and time.monotonic() < deadline:
        time.sleep(0.5)
        report = json.loads(cli(stack, tmp_path, "usage", "--json").stdout)
    assert [(row["type"], row["tasks"]) for row in report["days"]] == [("process", 1)]
    assert report["total"]["cost_usd"] == pytest.approx(task["usage"]["cost"]["cost_usd"], abs=1e-9)
    table = cli(stack, tmp_path, "usage")
    (ROOT / "tests" / "output" / "cli-usage.txt").write_text(table.stdout)  # to look at
    assert table.returncode == 0 and "total" in table.stdout and "process" in table.stdout
