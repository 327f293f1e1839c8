"""Counts what the code running now uses of AWS, for the tasks it works on (imgtasks.domain.usage).

Every boto3 client the service makes (imgtasks.adapters.aws) reports each HTTP request it sends,
retries included, as AWS bills them, to the meters open at that moment; DynamoDB calls also ask
for and report the request units they consumed. A Lambda environment runs one invocation at a
time, so the open meters are module state, seen by every thread of the invocation:

- the invocation's (`invocation`, around a handler): a call that works for several tasks
  (POST /tasks with 50 files, a dispatcher's batch) gives each its `share`;
- a task's (`task_attempt`, around one SQS record of a worker): everything done for that task."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar, cast

from imgtasks.domain.usage import Invocation, Requests, Usage, with_call

P = ParamSpec("P")
R = TypeVar("R")
ClientT = TypeVar("ClientT")

_READS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")
_S3_GET = ("Get", "Head")
_S3_FREE = ("Delete", "AbortMultipartUpload")
_S3_WRITES = ("PutObject", "UploadPart")


def request_class(service: str, operation: str) -> str | None:
    """Which price a request is billed at (imgtasks.domain.usage.REQUEST_CLASSES); None for
    DynamoDB, billed by the request units it reports instead."""
    if service == "s3":
        if operation.startswith(_S3_GET):
            return "s3_get"
        return "s3_free" if operation.startswith(_S3_FREE) else "s3_put"
    if service == "sqs":
        return "sqs"
    if service == "dynamodb":
        return None
    return "other"


class Meter:
    """The requests, units and time of one span of work."""

    def __init__(self, function: str) -> None:
        self.function = function
        self.started = time.perf_counter()
        self.memory_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0"))
        self._lock = threading.Lock()
        self._counts: dict[str, float] = {}
        self._calls: dict[str, float] = {}
        self.bytes_read = 0
        self.bytes_written = 0

    def count(self, name: str | None, amount: float, call: str | None = None) -> None:
        with self._lock:
            if name is not None:
                self._counts[name] = self._counts.get(name, 0) + amount
            if call is not None:
                self._calls[call] = self._calls.get(call, 0) + 1

    def add_bytes(self, read: int, written: int) -> None:
        with self._lock:
            self.bytes_read += read
            self.bytes_written += written

    def requests(self) -> Requests:
        with self._lock:
            return Requests(**self._counts)

    def calls(self) -> dict[str, float]:
        with self._lock:
            return dict(self._calls)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    def usage(self, share: float = 1.0, *, api_request: bool = False) -> Usage:
        """What was used so far, times `share` (the part one of several tasks takes)."""
        requests = self.requests()
        if api_request:
            requests = requests.plus(Requests(api_gateway=1))
        return Usage(
            invocations=[
                Invocation(
                    function=self.function,
                    memory_mb=self.memory_mb,
                    ms=round(self.elapsed_ms() * share, 3),
                    share=round(share, 6),
                    calls={name: count * share for name, count in self.calls().items()},
                )
            ],
            requests=requests.scaled(share),
            bytes_read=round(self.bytes_read * share),
            bytes_stored=round(self.bytes_written * share),
        )


_open: list[Meter] = []
_open_lock = threading.Lock()


def _open_meters() -> list[Meter]:
    with _open_lock:
        return list(_open)


def _count(name: str | None, amount: float, call: str | None = None) -> None:
    for meter in _open_meters():
        meter.count(name, amount, call)


def _count_bytes(read: int, written: int) -> None:
    for meter in _open_meters():
        meter.add_bytes(read, written)


@contextmanager
def metered(function: str) -> Iterator[Meter]:
    meter = Meter(function)
    with _open_lock:
        _open.append(meter)
    try:
        yield meter
    finally:
        with _open_lock:
            _open.remove(meter)


def invocation(function: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A handler's invocation, metered as a whole (`invocation_meter()` inside it)."""

    def decorate(handler: Callable[P, R]) -> Callable[P, R]:
        @wraps(handler)
        def metered_handler(*args: P.args, **kwargs: P.kwargs) -> R:
            with metered(function):
                return handler(*args, **kwargs)

        return metered_handler

    return decorate


def invocation_meter() -> Meter | None:
    """The meter of the invocation running now (the first one opened), if any."""
    meters = _open_meters()
    return meters[0] if meters else None


# ------------------------------------------------------------ one task's attempt on a worker
class TaskAttempt:
    """A worker's work on one task message: its meter (beside `base`, a share of an invocation
    whose work served several tasks at once), and what the message carries: the dispatcher's
    share (on its first delivery) and Lambda's polling of the queue."""

    def __init__(self, meter: Meter, carried: Usage | None, *, task_writes: int = 0, base: Usage | None = None) -> None:
        self.meter = meter
        self.carried = carried
        # A share of an invocation taken before this attempt's meter began (shared_attempt).
        self.base = base
        # Writes to the task's record in this attempt: each is a change stream record the
        # dispatcher reads (lifecycle counts them).
        self.task_writes = task_writes
        # Calls the attempt makes after its usage is written (that write itself, the idempotency
        # record's save): known in advance, counted in advance.
        self.later_calls: dict[str, float] = {}

    def will_call(self, call: str) -> None:
        self.later_calls[call] = self.later_calls.get(call, 0) + 1

    def usage(self) -> Usage:
        """The attempt so far with what its message carries, and the change stream's invocations
        its task's writes cause: modelled, each at the dispatcher's measured time per record."""
        used = self.meter.usage()
        for call, count in self.later_calls.items():
            used = with_call(used, call, count, Requests())
        if self.base is not None:
            own = used.invocations[0].model_copy(update={"share": 0.0})
            used = self.base.plus(used.model_copy(update={"invocations": [own]}))
        if self.carried is None:
            return used
        used = used.plus(self.carried)
        dispatched = next((i for i in self.carried.invocations if i.function == "dispatch"), None)
        writes = self.task_writes + 1  # and the write this usage goes into
        if dispatched is not None:
            stream = Invocation(
                function=dispatched.function,
                memory_mb=dispatched.memory_mb,
                ms=round(dispatched.ms * writes, 3),
                share=round(dispatched.share * writes, 6),
                estimated=True,
            )
            used = used.plus(Usage(invocations=[stream]))
        return used


_attempt: TaskAttempt | None = None


@contextmanager
def task_attempt(function: str, carried: Usage | None) -> Iterator[TaskAttempt]:
    """One task message's work, metered on its own."""
    global _attempt
    with metered(function) as meter:
        _attempt = TaskAttempt(meter, carried)
        try:
            yield _attempt
        finally:
            _attempt = None


@contextmanager
def shared_attempt(carried: Usage | None, shared: Usage, task_writes: int) -> Iterator[TaskAttempt]:
    """A task's part of an invocation whose work served several tasks at once (the infer worker
    runs its models over the batch): `shared`, its share of the invocation taken once, and what
    it does on its own from here (its last write), metered apart and counted in the same
    invocation (no second request)."""
    global _attempt
    with metered(shared.invocations[0].function if shared.invocations else "shared") as meter:
        _attempt = TaskAttempt(meter, carried, task_writes=task_writes, base=shared)
        try:
            yield _attempt
        finally:
            _attempt = None


def current_attempt() -> TaskAttempt | None:
    return _attempt


def will_call(call: str) -> None:
    """The running attempt will make this call after its usage is written ('dynamodb UpdateItem')."""
    if _attempt is not None:
        _attempt.will_call(call)


def count_task_write() -> None:
    """The running attempt wrote its task's record (a progress, an output)."""
    if _attempt is not None:
        _attempt.task_writes += 1


# ------------------------------------------------------------ the clients' side
def _quietly(hook: Callable[..., None]) -> Callable[..., None]:
    """A hook that can never fail the call it watches: a miscount is logged, the call goes on."""

    @wraps(hook)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            hook(*args, **kwargs)
        except Exception:
            logging.getLogger(__name__).exception("a request could not be counted")

    return guarded


@_quietly
def _on_send(event_name: str, request: Any = None, **_: Any) -> None:
    # before-send.<service>.<Operation>: once for every HTTP request, each retry included.
    service, operation = event_name.split(".", 2)[1:]
    _count(request_class(service, operation), 1, f"{service} {operation}")
    if service == "s3" and operation in _S3_WRITES and request is not None:
        _count_bytes(0, _body_length(request))


def _body_length(request: Any) -> int:
    """A request body's bytes: the object's length where botocore sends it in aws-chunked encoding
    (with a trailing checksum), else its Content-Length, else the body's."""
    declared = request.headers.get("X-Amz-Decoded-Content-Length") or request.headers.get("Content-Length")
    if declared is not None:
        return int(declared)
    body = request.body
    if isinstance(body, bytes | bytearray):
        return len(body)
    if hasattr(body, "seek") and hasattr(body, "tell"):
        start = body.tell()
        end = body.seek(0, 2)
        body.seek(start)
        return int(end - start)
    return 0


@_quietly
def _on_s3_read(parsed: dict[str, Any], **_: Any) -> None:
    _count_bytes(int(parsed.get("ContentLength", 0)), 0)


@_quietly
def _ask_for_units(params: dict[str, Any], model: Any, **_: Any) -> None:
    if "ReturnConsumedCapacity" in model.input_shape.members and "ReturnConsumedCapacity" not in params:
        params["ReturnConsumedCapacity"] = "TOTAL"


@_quietly
def _on_units(parsed: dict[str, Any], model: Any, **_: Any) -> None:
    consumed = parsed.get("ConsumedCapacity")
    if consumed is None:
        return
    units = sum(
        float(item.get("CapacityUnits", 0)) for item in (consumed if isinstance(consumed, list) else [consumed])
    )
    _count("dynamodb_read_units" if model.name in _READS else "dynamodb_write_units", units)


def count_requests(client: ClientT) -> ClientT:
    """Reports the client's requests to the open meters; returns the client."""
    meta = cast(Any, client).meta
    events = meta.events
    events.register("before-send", _on_send)
    if meta.service_model.service_name == "s3":
        events.register("after-call.s3.GetObject", _on_s3_read)
    if meta.service_model.service_name == "dynamodb":
        events.register("before-parameter-build.dynamodb", _ask_for_units)
        events.register("after-call.dynamodb", _on_units)
    return client
