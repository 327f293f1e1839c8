"""Client and AsyncClient: the same resources and methods (files, tasks, usage, models, webhooks), one
driving httpx.Client, the other httpx.AsyncClient, both running the calls in operations.py.

Retries: a connection error, a 429 or a 5xx is retried with exponential backoff and full jitter
(honouring Retry-After), for reads and for creates, which carry an Idempotency-Key so a retry never
creates twice; other changes (cancel, restart) are sent once."""

from __future__ import annotations

import asyncio
import builtins
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio import client as ws_async
from websockets.sync import client as ws_sync

from . import operations as ops
from . import render_urls
from .config import Settings, resolve_settings
from .errors import AuthenticationError, ImgtasksError, error_from
from .events import Change, connect_url
from .models import EveryonesUsage, File, ModelList, Output, Page, SigningKey, Task, UsageReport, Webhook
from .operations import Operation, Progress, Send, Sleep
from .webhooks import verify as verify_webhook

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK = 64 * 1024


def _chunks(data: bytes, progress: Progress | None) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        chunk = data[start : start + CHUNK]
        yield chunk
        if progress:
            progress(min(start + CHUNK, len(data)), len(data))


async def _async_chunks(data: bytes, progress: Progress | None) -> AsyncIterator[bytes]:
    for chunk in _chunks(data, progress):
        yield chunk


class _Base:
    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        profile: str | None = None,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 20.0,
        timeout: float = 30.0,
    ) -> None:
        self.settings: Settings = resolve_settings(url, token, username, password, profile)
        self.token = self.settings.token
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.files = Files(self)
        self.tasks = Tasks(self)
        self.models = Models(self)
        self.usage = Usage(self)
        self.webhooks = Webhooks(self)
        self.signing_keys = SigningKeys(self)
        self.urls = Urls(self)

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and "Retry-After" in response.headers:
            try:
                return min(self.max_backoff, float(response.headers["Retry-After"]))
            except ValueError:
                pass
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))  # noqa: S311 - jitter

    def _request_args(self, send: Send) -> dict[str, Any]:
        headers = dict(send.headers)
        if send.authenticated and not send.external and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        url = send.path if send.external else self.settings.url + send.path
        args: dict[str, Any] = {"method": send.method, "url": url, "headers": headers, "params": send.params}
        if send.json is not None:
            args["json"] = send.json
        if send.data is not None:
            args["data"] = send.data
        if send.timeout is not None:
            args["timeout"] = send.timeout
        return args

    def _needs_login(self, send: Send) -> bool:
        return send.authenticated and not send.external and self.token is None

    def _missing_credentials(self) -> AuthenticationError:
        return AuthenticationError(
            401, "no credentials: pass token= or username=/password=, set IMGTASKS_TOKEN, or run `imgtasks login`"
        )

    def _token_expired(self, send: Send, response: httpx.Response | None, relogged: bool) -> bool:
        """A 401 to a client that signs in with a username and password: its token expired, so it
        signs in again and sends the request once more (a token given as such is not renewed)."""
        return (
            response is not None
            and response.status_code == 401
            and send.authenticated
            and not send.external
            and not relogged
            and bool(self.settings.username and self.settings.password)
        )

    @staticmethod
    def _retryable(send: Send, attempt: int, limit: int, response: httpx.Response | None) -> bool:
        if not send.retry or attempt >= limit:
            return False
        return response is None or response.status_code in RETRY_STATUSES


class Client(_Base):
    """`Client()` reads IMGTASKS_URL and IMGTASKS_TOKEN (or a profile); every method returns its
    result. Close it, or use it in a `with` block."""

    def __init__(self, url: str | None = None, *, transport: httpx.BaseTransport | None = None, **options: Any) -> None:
        super().__init__(url, **options)
        self.http = httpx.Client(timeout=self.timeout, transport=transport, follow_redirects=False)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def run(self, operation: Operation) -> Any:
        try:
            step = next(operation)
            while True:
                try:
                    if isinstance(step, Sleep):
                        time.sleep(step.seconds)
                        result: httpx.Response | None = None
                    else:
                        result = self._send(step)
                except ImgtasksError as error:
                    step = operation.throw(error)
                    continue
                step = operation.send(result)
        except StopIteration as done:
            return done.value

    def _send(self, send: Send) -> httpx.Response:
        if self._needs_login(send):
            self._login()
        attempt = 0
        relogged = False
        while True:
            args = self._request_args(send)
            if send.content is not None:
                args["content"] = _chunks(send.content, send.progress)
                args["headers"]["Content-Length"] = str(len(send.content))
            response: httpx.Response | None = None
            try:
                if send.save_to is not None:
                    with self.http.stream(**args) as streamed:
                        if streamed.status_code < 400:
                            with send.save_to.open("wb") as target:
                                for chunk in streamed.iter_bytes(CHUNK):
                                    target.write(chunk)
                            return streamed
                        streamed.read()
                        response = streamed
                else:
                    response = self.http.request(**args)
            except httpx.TransportError:
                if not self._retryable(send, attempt, self.max_retries, None):
                    raise
            if response is not None and response.status_code < 400:
                return response
            if self._token_expired(send, response, relogged):
                self._login()
                relogged = True
                continue
            if not self._retryable(send, attempt, self.max_retries, response):
                raise error_from(ops.received(response))
            time.sleep(self._delay(attempt, response))
            attempt += 1

    def _login(self) -> None:
        if not (self.settings.username and self.settings.password):
            raise self._missing_credentials()
        self.token = self.run(ops.login(self.settings.username, self.settings.password))

    def events(self, *, reconnect: bool = True, on_open: Callable[[], None] | None = None) -> Iterator[Change]:
        """Each change of your tasks and files as it happens, for as long as you iterate (a
        WebSocket; opened again when the service closes it, after 2 hours at most, unless
        `reconnect` is False). A change made while no connection is open is not replayed:
        `on_open`, called each time a connection has opened, is where to read again what you
        must not miss (a task that ended while the connection was being made)."""
        while True:
            url = connect_url(self.run(ops.events_ticket()))
            with ws_sync.connect(url, open_timeout=self.timeout, max_size=2**20) as socket:
                if on_open is not None:
                    on_open()
                try:
                    for message in socket:
                        yield Change.parse(message)
                except websockets.ConnectionClosedError:
                    pass
            if not reconnect:
                return

    def pages(self, path: str, params: dict[str, str], model: type[Any]) -> Iterator[Any]:
        cursor = ""
        while True:
            body = self.run(ops.page(path, {**params, "cursor": cursor}))
            for item in body["items"]:
                yield _bound(model.model_validate(item), self)
            cursor = body.get("next_cursor") or ""
            if not cursor:
                return


class AsyncClient(_Base):
    """The same methods as Client, each awaited; `async with AsyncClient() as client: ...`."""

    def __init__(
        self, url: str | None = None, *, transport: httpx.AsyncBaseTransport | None = None, **options: Any
    ) -> None:
        super().__init__(url, **options)
        self.http = httpx.AsyncClient(timeout=self.timeout, transport=transport, follow_redirects=False)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    async def run(self, operation: Operation) -> Any:
        try:
            step = next(operation)
            while True:
                try:
                    if isinstance(step, Sleep):
                        await asyncio.sleep(step.seconds)
                        result: httpx.Response | None = None
                    else:
                        result = await self._send(step)
                except ImgtasksError as error:
                    step = operation.throw(error)
                    continue
                step = operation.send(result)
        except StopIteration as done:
            return done.value

    async def _send(self, send: Send) -> httpx.Response:
        if self._needs_login(send):
            await self._login()
        attempt = 0
        relogged = False
        while True:
            args = self._request_args(send)
            if send.content is not None:
                args["content"] = _async_chunks(send.content, send.progress)
                args["headers"]["Content-Length"] = str(len(send.content))
            response: httpx.Response | None = None
            try:
                if send.save_to is not None:
                    async with self.http.stream(**args) as streamed:
                        if streamed.status_code < 400:
                            with send.save_to.open("wb") as target:
                                async for chunk in streamed.aiter_bytes(CHUNK):
                                    target.write(chunk)
                            return streamed
                        await streamed.aread()
                        response = streamed
                else:
                    response = await self.http.request(**args)
            except httpx.TransportError:
                if not self._retryable(send, attempt, self.max_retries, None):
                    raise
            if response is not None and response.status_code < 400:
                return response
            if self._token_expired(send, response, relogged):
                await self._login()
                relogged = True
                continue
            if not self._retryable(send, attempt, self.max_retries, response):
                raise error_from(ops.received(response))
            await asyncio.sleep(self._delay(attempt, response))
            attempt += 1

    async def _login(self) -> None:
        if not (self.settings.username and self.settings.password):
            raise self._missing_credentials()
        self.token = await self.run(ops.login(self.settings.username, self.settings.password))

    async def events(
        self, *, reconnect: bool = True, on_open: Callable[[], Awaitable[None]] | None = None
    ) -> AsyncIterator[Change]:
        """Each change of your tasks and files as it happens (`async for`); see Client.events
        (`on_open` is awaited here)."""
        while True:
            url = connect_url(await self.run(ops.events_ticket()))
            async with ws_async.connect(url, open_timeout=self.timeout, max_size=2**20) as socket:
                if on_open is not None:
                    await on_open()
                try:
                    async for message in socket:
                        yield Change.parse(message)
                except websockets.ConnectionClosedError:
                    pass
            if not reconnect:
                return

    async def pages(self, path: str, params: dict[str, str], model: type[Any]) -> AsyncIterator[Any]:
        cursor = ""
        while True:
            body = await self.run(ops.page(path, {**params, "cursor": cursor}))
            for item in body["items"]:
                yield _bound(model.model_validate(item), self)
            cursor = body.get("next_cursor") or ""
            if not cursor:
                return


def _bound(value: Any, client: Any) -> Any:
    if isinstance(value, Task):
        return value.bind(client)
    if isinstance(value, list):
        return [_bound(item, client) for item in value]
    if isinstance(value, Page):
        value.items = _bound(value.items, client)
    return value


def _then_bind(client: Any, result: Any) -> Any:
    """The run's result with its tasks bound to the client (awaited first for an AsyncClient)."""
    if asyncio.iscoroutine(result):

        async def bound() -> Any:
            return _bound(await result, client)

        return bound()
    return _bound(result, client)


# ------------------------------------------------------------------ resources
def _list_params(
    status: str | None, task_type: str | None, fmt: str | None, order: str | None, limit: int
) -> dict[str, str]:
    asked = {"limit": str(limit), "status": status, "type": task_type, "format": fmt, "order": order}
    return {name: value for name, value in asked.items() if value}


class _Resource:
    def __init__(self, client: Any) -> None:
        self._client = client

    def _run(self, operation: Operation) -> Any:
        return _then_bind(self._client, self._client.run(operation))


class Files(_Resource):
    def upload(
        self,
        source: str | Path | bytes,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        progress: Progress | None = None,
    ) -> File:
        """A file from a path or bytes: through the API up to 4 MiB, straight to storage by
        presigned POST above (the file is `pending` until the service has inspected it).
        `progress(sent, total)` is called as the bytes go."""
        return self._run(ops.upload(source, filename, content_type, progress))  # type: ignore[no-any-return]

    def from_url(self, url: str, *, filename: str | None = None) -> File:
        return self._run(ops.from_url(url, filename))  # type: ignore[no-any-return]

    def get(self, file_id: str) -> File:
        return self._run(ops.get_file(file_id))  # type: ignore[no-any-return]

    def list(
        self,
        *,
        status: str | None = None,
        format: str | None = None,  # noqa: A002 - the API's filter
        order: str | None = None,
        page_size: int = 100,
    ) -> Any:
        """Every file (filtered; newest first unless `order="created_at"`), page after page: an
        iterator (`async for` with AsyncClient)."""
        return self._client.pages("/files", _list_params(status, None, format, order, page_size), File)

    def page(
        self,
        *,
        status: str | None = None,
        format: str | None = None,  # noqa: A002 - the API's filter
        order: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page:
        """One page of files with the list's `total` and `pages`; `cursor` is a page's next_cursor."""
        params = {**_list_params(status, None, format, order, limit), "cursor": cursor or ""}
        return self._run(ops.list_page("/files", params, File))  # type: ignore[no-any-return]

    def delete(self, file_id: str) -> None:
        return self._run(ops.delete(f"/files/{file_id}"))  # type: ignore[no-any-return]


class Tasks(_Resource):
    def create(
        self,
        files: list[str | File] | str | File | None = None,
        *,
        type: str = "process",  # noqa: A002 - the API's field
        preset: str | None = None,
        operations: list[dict[str, Any]] | None = None,
        output: dict[str, Any] | None = None,
        variants: list[dict[str, Any]] | None = None,
        detection_model: str | None = None,
        classification_model: str | None = None,
        urls: builtins.list[str] | None = None,
        webhook: str | None = None,
    ) -> builtins.list[Task]:
        """One task per file (ids or File objects) and per URL; `type="infer"` with the models
        to run. Safe to retry: the call carries an Idempotency-Key."""
        chosen = files if isinstance(files, list) else ([files] if files is not None else [])
        body: dict[str, Any] = {
            "type": type,
            "file_ids": [item.id if isinstance(item, File) else item for item in chosen],
        }
        optional = {
            "preset": preset,
            "operations": operations,
            "output": output,
            "variants": variants,
            "detection_model": detection_model,
            "classification_model": classification_model,
            "urls": urls,
            "webhook": webhook,
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        return self._run(ops.create_tasks(body))  # type: ignore[no-any-return]

    def archive(self, tasks: Sequence[str | Task]) -> Task:
        """One ZIP of these tasks' outputs: an archive task."""
        return self._run(ops.create_archive([t.id if isinstance(t, Task) else t for t in tasks]))  # type: ignore[no-any-return]

    def get(self, task_id: str) -> Task:
        return self._run(ops.get_task(task_id))  # type: ignore[no-any-return]

    def wait(self, task_id: str, *, timeout: float = 600, raise_on_failure: bool = False) -> Task:
        return self._run(ops.wait_task(task_id, timeout, raise_on_failure))  # type: ignore[no-any-return]

    def list(
        self,
        *,
        status: str | None = None,
        type: str | None = None,  # noqa: A002 - the API's filter
        format: str | None = None,  # noqa: A002 - the API's filter
        order: str | None = None,
        page_size: int = 100,
    ) -> Any:
        """Every task (filtered), page after page: an iterator (`async for` with AsyncClient).
        `order`: created_at, updated_at or status, `-` first for descending (default -created_at)."""
        return self._client.pages("/tasks", _list_params(status, type, format, order, page_size), Task)

    def page(
        self,
        *,
        status: str | None = None,
        type: str | None = None,  # noqa: A002 - the API's filter
        format: str | None = None,  # noqa: A002 - the API's filter
        order: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page:
        """One page of tasks with the list's `total` and `pages`; `cursor` is a page's next_cursor."""
        params = {**_list_params(status, type, format, order, limit), "cursor": cursor or ""}
        return self._run(ops.list_page("/tasks", params, Task))  # type: ignore[no-any-return]

    def cancel(self, task_id: str) -> Task:
        return self._run(ops.change_task(task_id, "cancel"))  # type: ignore[no-any-return]

    def restart(self, task_id: str) -> Task:
        return self._run(ops.change_task(task_id, "restart"))  # type: ignore[no-any-return]

    def delete(self, task_id: str) -> None:
        return self._run(ops.delete(f"/tasks/{task_id}"))  # type: ignore[no-any-return]

    def download(
        self,
        task: str | Task,
        dest: str | Path,
        *,
        variant: str | None = None,
        every: bool = False,
        stem: str | None = None,
    ) -> builtins.list[Path]:
        chosen = task if isinstance(task, Task) else Task.model_construct(id=task)
        return self._run(ops.download(chosen, Path(dest), variant, every, stem))  # type: ignore[no-any-return]


class Usage(_Resource):
    def get(self, first_day: str | None = None, last_day: str | None = None) -> UsageReport:
        """Your tasks' use of AWS and its cost per day and type, from `first_day` to `last_day`
        (YYYY-MM-DD, UTC; the last 30 days by default)."""
        return self._run(ops.get_usage(first_day, last_day))  # type: ignore[no-any-return]

    def everyone(self, first_day: str | None = None, last_day: str | None = None) -> EveryonesUsage:
        """Every user's usage and cost (operators only; at most 92 days)."""
        return self._run(ops.get_everyones_usage(first_day, last_day))  # type: ignore[no-any-return]


class Models(_Resource):
    def list(self) -> ModelList:
        return self._run(ops.list_models())  # type: ignore[no-any-return]


class Webhooks(_Resource):
    def create(self, url: str, events: list[str]) -> Webhook:
        return self._run(ops.create_webhook(url, events))  # type: ignore[no-any-return]

    def list(self) -> list[Webhook]:
        return self._run(ops.list_webhooks())  # type: ignore[no-any-return]

    def delete(self, webhook_id: str) -> None:
        return self._run(ops.delete(f"/webhooks/{webhook_id}"))  # type: ignore[no-any-return]

    @staticmethod
    def verify(headers: Any, body: bytes | str, secret: str) -> Any:
        return verify_webhook(headers, body, secret)


class SigningKeys(_Resource):
    def create(self) -> SigningKey:
        """A new key; its `secret` is in this answer only."""
        return self._run(ops.create_signing_key())  # type: ignore[no-any-return]

    def list(self) -> Any:
        """(keys newest first, where render URLs are served); no secrets."""
        return self._run(ops.list_signing_keys())

    def revoke(self, key_id: str) -> None:
        return self._run(ops.delete(f"/signing-keys/{key_id}"))  # type: ignore[no-any-return]


class Urls(_Resource):
    def sign(
        self,
        file: str | File | Output,
        options: str | Sequence[str] = (),
        *,
        key: SigningKey | None = None,
        base_url: str | None = None,
        extension: str | None = None,
    ) -> Any:
        """A render URL of `file` (an id, a File or a task's Output) with `options` in the URL
        grammar (`"rs:fit:800:600/q:80/f:webp"`). With a `key` that holds its secret and the
        `base_url` render URLs are served at, it is signed here, without a request; otherwise
        the service signs it with your newest key (or `key`'s)."""
        file_id = file if isinstance(file, str) else file.file_id if isinstance(file, Output) else file.id
        if key is not None and key.secret is not None and base_url is not None:
            file_part = f"{file_id}.{extension}" if extension else file_id
            return self._run(ops.answered(render_urls.sign(base_url, key.id, key.secret, file_part, options)))
        if extension is not None:
            raise ValueError("an extension is signed here only: give a key with its secret, and base_url")
        joined = "/".join(render_urls.option_segments(options))
        return self._run(ops.sign_render_url(file_id, joined, key.id if key is not None else None))
