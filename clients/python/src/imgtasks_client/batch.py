"""The resumable batch engine behind `imgtasks run`: which files a run takes, what it has done
(OUTDIR/.imgtasks-run.json), and one file's way through the service. A second run with the same
arguments skips what is done and follows the tasks the first one started."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .client import Client
from .errors import ImgtasksError, WaitTimeout
from .models import File

# What a folder run picks up: every suffix of an image or video format the service reads.
IMAGE_SUFFIXES = {
    *(".jpg", ".jpeg", ".mpo", ".png", ".apng", ".webp", ".gif", ".avif", ".heic", ".heif", ".hif"),
    *(".tif", ".tiff", ".jxl", ".bmp", ".dib", ".ico", ".cur", ".psd"),
    *(".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi"),
}
STATE_FILE = ".imgtasks-run.json"

# What a file's run reports as it goes: how far (0-100, None: unchanged) and what it is doing
# (None: unchanged).
Report = Callable[[int | None, str | None], None]


def collect(paths: list[str]) -> list[Path]:
    """Files named, the images and videos in folders (recursively), and globs."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif any(ch in given for ch in "*?["):
            base = Path(given).anchor or "."
            pattern = given[len(base) :] if given.startswith(base) and base != "." else given
            found += sorted(p for p in Path(base).glob(pattern) if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{given}: no such file or folder")
    return list(dict.fromkeys(found))


def fingerprint(path: Path, spec: dict[str, Any]) -> str:
    stat = path.stat()
    text = json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, spec], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class RunState:
    """What a run did, kept in OUTDIR/.imgtasks-run.json: a second run skips what is done and
    follows the tasks the first one started."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / STATE_FILE
        self.entries: dict[str, dict[str, Any]] = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self._lock = threading.Lock()  # files run on worker threads; the main thread saves

    def record(self, key: str, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.entries[key] = entry
        return entry

    def save(self) -> None:
        with self._lock:
            text = json.dumps(self.entries, indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(text)
        temporary.replace(self.path)


def run_one(
    api: Client, path: Path, spec: dict[str, Any], outdir: Path, state: RunState, key: str, report: Report
) -> dict[str, Any]:
    """One file through the service: uploaded, its task created, followed and its outputs
    downloaded; what happened is recorded in `state` as it goes, so a second run resumes."""
    entry = state.entries.get(key, {})
    if entry.get("status") == "done" and all(Path(p).exists() for p in entry.get("outputs", [])):
        report(100, f"{path.name} (done before)")
        return {**entry, "skipped": True}
    try:
        task_id = entry.get("task_id")
        if task_id is None or entry.get("status") in ("failed", "cancelled"):
            report(None, f"{path.name} uploading")

            def sent(done: int, total: int) -> None:
                report(int(30 * done / max(total, 1)), None)

            uploaded: File = api.files.upload(path, progress=sent)
            (task,) = api.tasks.create(uploaded, **spec)
            task_id = task.id
            state.record(key, {"input": str(path), "task_id": task_id, "status": "queued"})
        report(30, f"{path.name} running")
        task = api.tasks.get(task_id)
        while not task.ended:
            # A long-poll at a time: a task still running when one runs out is followed again,
            # never reported as failed (a busy service may take minutes).
            try:
                task = api.tasks.wait(task_id, timeout=20)
            except WaitTimeout:
                task = api.tasks.get(task_id)
            report(30 + int(task.progress * 0.6), None)
        if task.status != "done":
            reason = task.error.message if task.error else task.status
            report(None, f"{path.name} [red]{task.status}[/red]")
            return state.record(key, {"input": str(path), "task_id": task_id, "status": task.status, "error": reason})
        written = [str(p) for p in api.tasks.download(task, outdir, every=True, stem=path.stem)]
        report(100, f"{path.name} done")
        return state.record(key, {"input": str(path), "task_id": task_id, "status": "done", "outputs": written})
    except ImgtasksError as error:
        report(None, f"{path.name} [red]failed[/red]")
        failed = {"input": str(path), "task_id": entry.get("task_id"), "status": "failed", "error": error.detail}
        return state.record(key, failed)
