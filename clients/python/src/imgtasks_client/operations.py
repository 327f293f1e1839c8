"""Each call the client makes, written once as a generator that yields what to do (an HTTP request,
a pause) and receives the answer: the synchronous Client and the AsyncClient each run these with
their own HTTP client, so both have the same methods and behaviour."""

from __future__ import annotations

import mimetypes
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .errors import Conflict, InvalidInput, NotFound, TaskFailed, WaitTimeout
from .models import (
    ArchiveResult,
    EveryonesUsage,
    File,
    ModelList,
    Page,
    ProcessResult,
    SigningKey,
    Task,
    UsageReport,
    Webhook,
)

# Through the API up to this size (its 4 MiB limit, less the multipart envelope); straight to
# storage by presigned POST above it.
DIRECT_UPLOAD_BYTES = 4 * 1024 * 1024 - 64 * 1024
LONG_POLL_SECONDS = 20
Progress = Callable[[int, int], None]


@dataclass
class Send:
    """One HTTP request. `retry` marks it safe to send again (a read, or a create carrying an
    Idempotency-Key); `external` is a presigned storage URL (no credentials, not under the API)."""

    method: str
    path: str
    params: dict[str, str] | None = None
    json: Any = None
    data: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry: bool = False
    external: bool = False
    timeout: float | None = None
    progress: Progress | None = None
    save_to: Path | None = None
    authenticated: bool = True


@dataclass
class Sleep:
    seconds: float


Operation = Generator["Send | Sleep", "httpx.Response | None", Any]


def received(answer: httpx.Response | None) -> httpx.Response:
    """The answer a Send was resumed with (None only after a Sleep)."""
    if answer is None:
        raise RuntimeError("an operation was resumed without the answer to its request")
    return answer


def idempotent(headers: dict[str, str] | None = None) -> dict[str, str]:
    """A fresh key per call: every retry of the call carries the same one."""
    return {**(headers or {}), "Idempotency-Key": str(uuid.uuid4())}


def multipart(fields: dict[str, str], filename: str, data: bytes, content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body built once, so every retry sends the same bytes."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# The content types the service takes for suffixes Python's mimetypes does not know (or names
# otherwise) on every version the client runs on.
CONTENT_TYPES_BY_SUFFIX = {
    ".heic": "image/heic",
    ".heif": "image/heic",
    ".hif": "image/heic",
    ".avif": "image/avif",
    ".jxl": "image/jxl",
    ".apng": "image/apng",
    ".psd": "image/vnd.adobe.photoshop",
    ".ico": "image/x-icon",
    ".cur": "image/x-icon",
    ".mpo": "image/jpeg",
    ".webp": "image/webp",
    ".mkv": "video/x-matroska",
}


def guess_type(filename: str) -> str:
    suffix = filename[filename.rfind(".") :].lower() if "." in filename else ""
    if suffix in CONTENT_TYPES_BY_SUFFIX:
        return CONTENT_TYPES_BY_SUFFIX[suffix]
    guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return {"image/jpg": "image/jpeg"}.get(guessed, guessed)


# ------------------------------------------------------------------ auth
def login(username: str, password: str) -> Operation:
    answer = yield Send(
        "POST",
        "/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
        authenticated=False,
    )
    answer = received(answer)
    return str(answer.json()["access_token"])


def register(username: str, password: str) -> Operation:
    answer = yield Send(
        "POST", "/auth/register", json={"username": username, "password": password}, authenticated=False
    )
    answer = received(answer)
    return answer.json()


# ------------------------------------------------------------------ files
def upload(
    source: str | Path | bytes, filename: str | None, content_type: str | None, progress: Progress | None
) -> Operation:
    if isinstance(source, bytes):
        data, name = source, filename or "upload"
    else:
        path = Path(source)
        data, name = path.read_bytes(), filename or path.name
    kind = content_type or guess_type(name)
    if len(data) <= DIRECT_UPLOAD_BYTES:
        body, header = multipart({}, name, data, kind)
        answer = yield Send(
            "POST", "/files", content=body, headers=idempotent({"Content-Type": header}), retry=True, progress=progress
        )
        answer = received(answer)
        return File.model_validate(answer.json())
    started = yield Send(
        "POST",
        "/files/presigned",
        json={"filename": name, "content_type": kind, "size": len(data)},
        headers=idempotent(),
        retry=True,
    )
    started = received(started)
    created = started.json()
    body, header = multipart(created["upload"]["fields"], name, data, kind)
    # The same key again is harmless: a retry of this POST writes the same bytes.
    yield Send(
        "POST",
        created["upload"]["url"],
        content=body,
        headers={"Content-Type": header},
        retry=True,
        external=True,
        progress=progress,
    )
    return File.model_validate(created["file"])


def from_url(url: str, filename: str | None) -> Operation:
    body = {"url": url, **({"filename": filename} if filename else {})}
    answer = yield Send("POST", "/files/from-url", json=body, headers=idempotent(), retry=True)
    answer = received(answer)
    return File.model_validate(answer.json())


def get_file(file_id: str) -> Operation:
    answer = yield Send("GET", f"/files/{file_id}", retry=True)
    answer = received(answer)
    return File.model_validate(answer.json())


def delete(path: str) -> Operation:
    # DELETE is idempotent: a retry of one that landed answers 404, which the caller may ignore.
    yield Send("DELETE", path, retry=True)
    return None


def page(path: str, params: dict[str, str]) -> Operation:
    answer = yield Send("GET", path, params={k: v for k, v in params.items() if v}, retry=True)
    answer = received(answer)
    return answer.json()


def list_page(path: str, params: dict[str, str], model: type[Task] | type[File]) -> Operation:
    body = yield from page(path, params)
    return Page.model_validate({**body, "items": [model.model_validate(item) for item in body["items"]]})


def events_ticket() -> Operation:
    """Where the push channel is, and a ticket to open it (POST /events/tickets)."""
    answer = yield Send("POST", "/events/tickets", retry=True)
    return received(answer).json()


# ------------------------------------------------------------------ tasks
def create_tasks(body: dict[str, Any]) -> Operation:
    answer = yield Send("POST", "/tasks", json=body, headers=idempotent(), retry=True)
    answer = received(answer)
    return [Task.model_validate(task) for task in answer.json()["tasks"]]


def create_archive(task_ids: list[str]) -> Operation:
    answer = yield Send("POST", "/archives", json={"task_ids": task_ids}, headers=idempotent(), retry=True)
    answer = received(answer)
    return Task.model_validate(answer.json()["tasks"][0])


def get_task(task_id: str) -> Operation:
    answer = yield Send("GET", f"/tasks/{task_id}", retry=True)
    answer = received(answer)
    return Task.model_validate(answer.json())


def change_task(task_id: str, action: str) -> Operation:
    answer = yield Send("POST", f"/tasks/{task_id}/{action}")
    answer = received(answer)
    return Task.model_validate(answer.json())


def wait_task(task_id: str, timeout: float, raise_on_failure: bool) -> Operation:
    """Long-polls (GET /tasks/{id}?wait=N&seen=STATUS) until the task ends; polls every second
    or two from a server without long-poll."""
    deadline = time.monotonic() + timeout
    long_poll = True
    seen: str | None = None
    while True:
        remaining = deadline - time.monotonic()
        params: dict[str, str] = {}
        if long_poll:
            params["wait"] = str(max(1, min(LONG_POLL_SECONDS, int(remaining))))
            if seen:
                params["seen"] = seen
        try:
            answer = yield Send("GET", f"/tasks/{task_id}", params=params, retry=True, timeout=LONG_POLL_SECONDS + 15)
        except InvalidInput:
            if not long_poll:
                raise
            long_poll = False  # a server that does not know `wait`
            continue
        answer = received(answer)
        task = Task.model_validate(answer.json())
        if task.ended:
            if raise_on_failure and task.status != "done":
                reason = task.error.message if task.error else "cancelled"
                raise TaskFailed(0, f"task {task.id} {task.status}: {reason}", {"task": task.model_dump()})
            return task
        if time.monotonic() >= deadline:
            raise WaitTimeout(0, f"task {task.id} is still {task.status} after {timeout:g} s")
        seen = task.status
        if not long_poll:
            yield Sleep(min(1.5, max(0.1, deadline - time.monotonic())))


# A result's file name by its format (the service's EXTENSIONS, for what a task writes).
EXTENSIONS = {
    "jpeg": "jpg",
    "png": "png",
    "apng": "png",
    "webp": "webp",
    "gif": "gif",
    "avif": "avif",
    "tiff": "tiff",
    "jxl": "jxl",
    "mp4": "mp4",
    "webm": "webm",
    "zip": "zip",
}


def output_name(stem: str, output_name_: str, output_format: str) -> str:
    suffix = "" if output_name_ == "default" else f"-{output_name_}"
    return f"{stem}{suffix}.{EXTENSIONS.get(output_format, output_format)}"


def download(task: Task, dest: Path, variant: str | None, every: bool, stem: str | None) -> Operation:
    """Outputs into `dest`: a folder (each output named after `stem`, default the task id, and its
    variant), or, for one output, a file name. The paths written."""
    fresh = yield from get_task(task.id)  # presigned URLs expire: take new ones
    if fresh.status != "done" or fresh.result is None:
        raise Conflict(409, f"task {task.id} is {fresh.status}; its outputs can be downloaded once it is done")
    result = fresh.result
    if isinstance(result, ArchiveResult):
        wanted = [("archive", "zip", result.archive.url)]
    elif isinstance(result, ProcessResult):
        outputs = result.outputs if every else [o for o in result.outputs if variant in (None, o.name)][:1]
        if not outputs:
            names = ", ".join(o.name for o in result.outputs)
            raise NotFound(404, f"task {task.id} has no output {variant!r}; its outputs: {names}")
        wanted = [(o.name, o.format, o.url) for o in outputs]
    else:
        raise NotFound(404, f"task {task.id} is an inference: its result is the task's `result`")
    written: list[Path] = []
    for name, fmt, url in wanted:
        if dest.is_dir() or every or len(wanted) > 1:
            dest.mkdir(parents=True, exist_ok=True)
            target = dest / output_name(stem or task.id, name, fmt)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            target = dest
        yield Send("GET", url, external=True, retry=True, save_to=target)
        written.append(target)
    return written


# ------------------------------------------------------------------ usage, models and webhooks
def get_usage(first_day: str | None = None, last_day: str | None = None) -> Operation:
    params = {name: value for name, value in (("from", first_day), ("to", last_day)) if value}
    answer = yield Send("GET", "/usage", params=params, retry=True)
    answer = received(answer)
    return UsageReport.model_validate(answer.json())


def get_everyones_usage(first_day: str | None = None, last_day: str | None = None) -> Operation:
    params = {name: value for name, value in (("from", first_day), ("to", last_day)) if value}
    answer = yield Send("GET", "/admin/usage", params=params, retry=True)
    answer = received(answer)
    return EveryonesUsage.model_validate(answer.json())


def list_models() -> Operation:
    answer = yield Send("GET", "/models", retry=True)
    answer = received(answer)
    return ModelList.model_validate(answer.json())


def create_webhook(url: str, events: list[str]) -> Operation:
    answer = yield Send("POST", "/webhooks", json={"url": url, "events": events})
    answer = received(answer)
    return Webhook.model_validate(answer.json())


def list_webhooks() -> Operation:
    answer = yield Send("GET", "/webhooks", retry=True)
    answer = received(answer)
    return [Webhook.model_validate(item) for item in answer.json()["items"]]


def create_signing_key() -> Operation:
    answer = yield Send("POST", "/signing-keys")
    answer = received(answer)
    return SigningKey.model_validate(answer.json())


def list_signing_keys() -> Operation:
    """The keys, newest first, and where render URLs are served."""
    answer = yield Send("GET", "/signing-keys", retry=True)
    answer = received(answer)
    body = answer.json()
    return [SigningKey.model_validate(item) for item in body["items"]], str(body["render_base_url"])


def sign_render_url(file_id: str, options: str, key_id: str | None) -> Operation:
    body: dict[str, Any] = {"file_id": file_id, "options": options}
    if key_id is not None:
        body["key_id"] = key_id
    # Signing changes nothing but may make your first key: safe to send again.
    answer = yield Send("POST", "/render-urls", json=body, retry=True)
    answer = received(answer)
    return str(answer.json()["url"])


def answered(value: Any) -> Operation:
    """An operation that needs no request (a URL signed here): both clients run it alike."""
    return value
    yield  # a generator, as every operation is
