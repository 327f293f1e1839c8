"""The embedded emulator: moto's server app, served on the emulator port by a server this process
owns, behind a gate that counts the AWS calls it answers and lets a snapshot see the emulator
between requests (persistence.py)."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from . import moto_additions, post_policy

# A signature's credential scope, access key/date/region/service/aws4_request: in the
# Authorization header, or in a presigned URL's query.
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request")
_QUERY_CREDENTIAL = re.compile(r"X-Amz-Credential=([^&%/]+)%2F[^&]*?%2F([a-z0-9-]+)%2Faws4_request")
# The user agent the stack's own event-source pollers add, so their calls count apart from the
# functions' calls.
EVENT_SOURCE_AGENT = "imgtasks-local-event-source"
# Services whose state is not saved between runs (persistence.SERVICES): a call to one is no
# reason to take a snapshot.
UNSAVED_SERVICES = frozenset({"monitoring", "cloudwatch"})
# Calls of the JSON protocols that change nothing (everything else may).
_READS = ("Get", "Describe", "List", "Query", "Scan", "BatchGet")


class ReadWriteGate:
    """Many requests at once, or one snapshot alone. A waiting snapshot holds back new requests,
    so a stream of long polls cannot keep it waiting for ever."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._condition:
            while self._writer or self._writers_waiting:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if self._readers == 0:
                    self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._condition.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._condition:
                self._writer = False
                self._condition.notify_all()


class Activity:
    """What the emulator has just been asked to change, for the pollers: instead of asking an idle
    queue or stream again and again, a poller waits here and is woken by the call that gives it
    work (a message sent, an item written). Each channel counts its changes."""

    SQS = "sqs"  # a message sent or made visible (S3 writes send their notifications too)
    DYNAMODB = "dynamodb"  # an item written: a stream record

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._counts = {self.SQS: 0, self.DYNAMODB: 0}

    def count(self, channel: str) -> int:
        with self._condition:
            return self._counts[channel]

    def notify(self, channel: str) -> None:
        with self._condition:
            self._counts[channel] += 1
            self._condition.notify_all()

    def wake_all(self) -> None:
        """Every waiter returns (the stack is stopping: its pollers must not sleep on)."""
        with self._condition:
            for channel in self._counts:
                self._counts[channel] += 1
            self._condition.notify_all()

    def wait(self, channel: str, seen: int, timeout: float) -> None:
        """Until the channel's count differs from `seen`, or `timeout` seconds."""
        with self._condition:
            self._condition.wait_for(lambda: self._counts[channel] != seen, timeout)


# Each function's workers sign with an access key of their own (runtime.function_environment), so
# the emulator can say which function made a call: the IAM actions each function used, written
# beside outputs.json at a stop (aws-calls.json) and read against the function's policies by a test.
_FUNCTION_KEY_PREFIX = "fn-"
# Batch calls are authorized as the action they batch.
_BATCHED = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"}


def function_access_key(logical_id: str) -> str:
    return f"{_FUNCTION_KEY_PREFIX}{logical_id}"


def credential_scope(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(access key, service) of a signed request; None when it carries no signature (a browser's
    presigned POST carries its signature in the form)."""
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", "")) or _QUERY_CREDENTIAL.search(
        environ.get("QUERY_STRING", "")
    )
    return (found.group(1), found.group(2)) if found else None


def signing_function(environ: dict[str, Any]) -> str | None:
    """The function whose credentials signed the request (a presigned URL counts as its signer's),
    or None for the stack's own calls and unsigned ones."""
    scope = credential_scope(environ)
    if scope is None or not scope[0].startswith(_FUNCTION_KEY_PREFIX):
        return None
    return scope[0].removeprefix(_FUNCTION_KEY_PREFIX)


def iam_actions(service: str, operation: str, environ: dict[str, Any]) -> list[str]:
    """The IAM actions that authorize a call: an object written with tags needs
    s3:PutObjectTagging as well as s3:PutObject."""
    action = iam_action(service, operation, environ)
    if action == "s3:PutObject" and environ.get("HTTP_X_AMZ_TAGGING"):
        return [action, "s3:PutObjectTagging"]
    return [action]


def iam_action(service: str, operation: str, environ: dict[str, Any]) -> str:
    """The IAM action that authorizes a call: the JSON protocols' operation (a batch as what it
    batches); for S3, what the method, the path and the sub-resource in the query string ask."""
    if service != "s3":
        prefix = "dynamodb" if service == "dynamodbstreams" else service
        return f"{prefix}:{_BATCHED.get(operation, operation)}"
    method = environ.get("REQUEST_METHOD", "GET")
    query = {part.split("=", 1)[0] for part in environ.get("QUERY_STRING", "").split("&") if part}
    if operation.endswith("bucket"):
        if method == "POST":
            return "s3:DeleteObject" if "delete" in query else "s3:PutObject"  # DeleteObjects; a form upload
        if "location" in query:
            return "s3:GetBucketLocation"
        return "s3:ListBucket" if method in ("GET", "HEAD") else f"s3:{method} bucket"
    if "tagging" in query:
        return {"GET": "s3:GetObjectTagging", "PUT": "s3:PutObjectTagging", "DELETE": "s3:DeleteObjectTagging"}[method]
    if method == "DELETE":
        return "s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject"
    # A multipart upload's create, parts and completion are PutObject; HEAD is GetObject.
    return "s3:GetObject" if method in ("GET", "HEAD") else "s3:PutObject"


# Calls after which a queue may have a message to receive.
_SQS_WAKERS = ("SendMessage", "SendMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch")


def describe_call(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, operation) of a request, as far as its headers tell: the signature's credential
    scope names the service, X-Amz-Target the operation of the JSON protocols; S3 calls are named
    by method and whether they address an object."""
    scope = credential_scope(environ)
    # A browser's presigned POST carries its signature in the form, not in a header.
    service = scope[1] if scope else "s3"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.rpartition(".")[2]
    method = environ.get("REQUEST_METHOD", "GET")
    if service == "s3":
        path = environ.get("PATH_INFO", "/").strip("/")
        return service, f"{method} {'object' if '/' in path else 'bucket'}"
    return service, method


def changes_state(service: str, operation: str, method: str) -> bool | None:
    """Whether a call may change the emulator's state; None when only its answer can tell
    (a receive that returned messages changed their visibility and receive counts)."""
    if service == "s3":
        return method not in ("GET", "HEAD")
    if operation == "ReceiveMessage":
        return None
    return not operation.startswith(_READS)


def _refused_post_policy(environ: dict[str, Any]) -> post_policy.PolicyRefused | None:
    """Why S3 would refuse a browser's presigned POST (see local_stack.post_policy), or None. The
    body is read here and handed on to moto unchanged."""
    content_type = environ.get("CONTENT_TYPE", "")
    if environ.get("REQUEST_METHOD") != "POST" or not content_type.startswith("multipart/form-data"):
        return None
    path = environ.get("PATH_INFO", "/").strip("/")
    bucket = path or environ.get("HTTP_HOST", "").split(".", 1)[0]
    if "/" in bucket:
        return None  # an object's POST (a multipart upload's calls), not a form upload
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    fields, data = post_policy.form_fields(content_type, body)
    try:
        post_policy.check(bucket, fields, data)
    except post_policy.PolicyRefused as refused:
        return refused
    except (ValueError, KeyError, IndexError, TypeError) as malformed:
        return post_policy.PolicyRefused(f"Invalid Policy: {malformed}")
    return None


class EmulatorApp:
    """moto's WSGI app with the gate, the call counts and the changed-since-snapshot flag."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self.gate = ReadWriteGate()
        # (caller, service, operation): caller is "event source" (the stack's pollers) or "function"
        self.calls: Counter[tuple[str, str, str]] = Counter()
        # (function, service, operation): the calls each function's credentials signed (a task's
        # usage is checked against them)
        self.calls_by_function: Counter[tuple[str, str, str]] = Counter()
        # function -> the IAM actions of the calls its credentials signed
        self.function_actions: defaultdict[str, set[str]] = defaultdict(set)
        self._calls_lock = threading.Lock()
        self.changed = threading.Event()
        self.activity = Activity()
        # DynamoDB writes an item atomically; moto changes its item in place, an attribute at a
        # time, so a read beside an UpdateItem could see a task `done` without its result. One
        # DynamoDB call at a time (each takes milliseconds).
        self._dynamodb_lock = threading.Lock()
        # The buckets whose writes may send an event notification to a queue (the stack names
        # them once they exist; None until then: every S3 write wakes the queue pollers). A write
        # to any other bucket (outputs, renders) wakes nobody: each of two dozen pollers would
        # otherwise ask its queue again, for nothing, after every object written.
        self.notifying_buckets: frozenset[str] | None = None

    def _notifies(self, environ: dict[str, Any]) -> bool:
        if self.notifying_buckets is None:
            return True
        host = environ.get("HTTP_HOST", "").split(":", 1)[0]
        if host.endswith(".localhost") or ".s3." in host:  # virtual-hosted style: the bucket is the host's
            bucket = host.split(".", 1)[0]
        else:
            bucket = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
        return bucket in self.notifying_buckets

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        service, operation = describe_call(environ)
        caller = "event source" if EVENT_SOURCE_AGENT in environ.get("HTTP_USER_AGENT", "") else "function"
        function = signing_function(environ)
        with self._calls_lock:
            self.calls[(caller, service, operation)] += 1
            if function is not None:
                self.calls_by_function[(function, service, operation)] += 1
                self.function_actions[function].update(iam_actions(service, operation, environ))
        changes = changes_state(service, operation, environ.get("REQUEST_METHOD", "GET"))
        if service == "sqs" and operation in moto_additions.SQS_OPERATIONS:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            asked = json.loads(environ["wsgi.input"].read(length) or b"{}")
            with self.gate.shared():
                status, answer = moto_additions.SQS_OPERATIONS[operation](asked)
            self.changed.set()
            self.activity.notify(Activity.SQS)
            start_response(
                f"{status} {'OK' if status == 200 else 'Bad Request'}", [("Content-Type", "application/x-amz-json-1.0")]
            )
            return [json.dumps(answer).encode()]
        refused = _refused_post_policy(environ) if service == "s3" else None
        if refused is not None:
            reason = "Forbidden" if refused.status == 403 else "Bad Request"
            start_response(f"{refused.status} {reason}", [("Content-Type", "application/xml")])
            return [post_policy.error_document(refused)]
        with self.gate.shared(), self._dynamodb_lock if service == "dynamodb" else nullcontext():
            # The whole answer is produced inside the gate: moto builds it before returning.
            body = list(self._app(environ, start_response))  # the chunks, not one copy of a large object
        if service not in UNSAVED_SERVICES and (
            changes or (changes is None and any(b"MessageId" in chunk for chunk in body))
        ):
            self.changed.set()
        if (service == "sqs" and operation in _SQS_WAKERS) or (service == "s3" and changes and self._notifies(environ)):
            self.activity.notify(Activity.SQS)
        elif service == "dynamodb" and changes:
            self.activity.notify(Activity.DYNAMODB)
        return body

    def actions_by_function(self) -> dict[str, list[str]]:
        """Each function's IAM actions so far, as aws-calls.json holds them."""
        with self._calls_lock:
            return {function: sorted(actions) for function, actions in sorted(self.function_actions.items())}

    def take_calls(self) -> Counter[tuple[str, str, str]]:
        with self._calls_lock:
            taken = self.calls
            self.calls = Counter()
        return taken

    def take_calls_by_function(self) -> Counter[tuple[str, str, str]]:
        with self._calls_lock:
            taken = self.calls_by_function
            self.calls_by_function = Counter()
        return taken


class EmbeddedEmulator:
    """moto's server on host:port. The port is bound in the constructor, so a busy port is an
    OSError there and then, before anything else starts."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per AWS call otherwise
        moto_additions.install_percentiles()
        self.app = EmulatorApp(DomainDispatcherApplication(create_backend_app))
        moto_additions.install_dead_letter_wake(lambda: self.app.activity.notify(Activity.SQS))
        # Bound here rather than by werkzeug, which prints its own message and exits on a busy port.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listening:
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listening.bind((host, port))
            listening.listen(128)
            self._server: BaseWSGIServer = make_server(
                host, port, self.app, threaded=True, request_handler=MotoRequestHandler, fd=listening.fileno()
            )
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
