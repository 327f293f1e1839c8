"""Keeps the embedded emulator's state in the state directory across restarts.

moto holds everything in Python objects (one backend per service); those are pickled, between
requests (the emulator's gate), into STATE_DIR/emulator/state.pickle whenever a call may have
changed something, soon enough after the change that it is on disk within SNAPSHOT_INTERVAL_S
seconds whatever a save costs, and once more at a clean stop. The bytes of S3 objects go to
STATE_DIR/emulator/blobs/, one file per distinct content, written once, so a snapshot does not
rewrite every object. A `kill -9` loses at most the calls of the last 2 s (longer only once one
save takes most of a second, which the log then says; new blobs are written after the emulator
goes on, and do not pause it).
Files are replaced atomically: a crash mid-write leaves the previous snapshot.

State written by another version of moto may not load: it is then set aside (renamed, never
deleted) and the stack starts empty, saying so."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .emulator import EmulatorApp

log = logging.getLogger("local_stack.persistence")

# A change is on disk at most this long after it was made: the save that holds it starts soon
# enough to end by then, however long saves take (measured on the last one).
SNAPSHOT_INTERVAL_S = 2.0
# The share of its time the emulator may wait for snapshots at the most (a snapshot pauses it
# while it pickles): past it, a change waits longer than SNAPSHOT_INTERVAL_S, and the log says so.
SNAPSHOT_PAUSE_SHARE = 0.5
# Room for the scheduler's own lateness on a busy machine.
SNAPSHOT_MARGIN_S = 0.25
# The services the template's resources live in (and what their calls touch). Not CloudWatch: the
# stack publishes a datum per invocation there (local_stack/metrics.py), which made every snapshot
# pickle thousands more objects (4.5 s a snapshot, the emulator paused meanwhile, in the e2e
# suite); its alarms and dashboard are made again from the template at each start, and the
# figures begin again, as a new hour of them would.
SERVICES = ("s3", "sqs", "dynamodb", "dynamodbstreams", "secretsmanager", "logs", "sns", "iam", "sts")
FORMAT_VERSION = 1

_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


@dataclass
class Snapshot:
    backends: dict[str, Any]
    stream_checkpoints: dict[str, dict[str, str | None]] = field(default_factory=dict)
    saved_at: float = 0.0
    moto_version: str = ""
    format_version: int = FORMAT_VERSION


class _BlobRef:
    """Stands in the pickle for the bytes of an S3 object, kept in a blob file of its own."""

    def __init__(self, name: str) -> None:
        self.name = name


def _restore_key(cls: Any, state: dict[str, Any], value: bytes) -> Any:
    key = object.__new__(cls)
    key.__setstate__({**state, "value": value})
    return key


def _new_lock(kind: type) -> Any:
    return threading.RLock() if kind is type(threading.RLock()) else threading.Lock()


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, blobs: BlobStore | MemoryBlobStore) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._blobs = blobs
        from moto.s3.models import FakeKey

        self._key_type = FakeKey

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):  # locks guard the live objects; a restored one gets a new one
            return _new_lock, (type(obj),)
        if isinstance(obj, self._key_type):
            state = {k: v for k, v in obj.__dict__.items() if k not in ("_value_buffer", "lock")}
            if obj._value_buffer.closed:
                # A part of a completed or aborted multipart upload (an archive task's ZIP): moto
                # disposed of its bytes, which live on in the completed object, and keeps the
                # part only for GetObject's PartNumber. It is restored without bytes.
                return _restore_key, (type(obj), state, b"")
            return _restore_key, (type(obj), state, _BlobRef(self._blobs.store(obj)))
        return NotImplemented

    def persistent_id(self, obj: Any) -> str | None:
        return obj.name if isinstance(obj, _BlobRef) else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedReader | io.BytesIO, blobs: BlobStore | MemoryBlobStore) -> None:
        super().__init__(file)
        self._blobs = blobs

    def persistent_load(self, pid: Any) -> bytes:
        return self._blobs.read(str(pid))


class BlobStore:
    """The bytes of S3 objects by content hash; an object's hash is computed once. A snapshot
    names its blobs while the emulator waits (store) and writes the new ones after it goes on
    (flush): writing and syncing thirty fresh uploads once held every request for seconds."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._names: weakref.WeakKeyDictionary[Any, tuple[int, str]] = weakref.WeakKeyDictionary()
        self.used: set[str] = set()
        self._unwritten: dict[str, bytes] = {}

    def store(self, key: Any) -> str:
        known = self._names.get(key)
        if known is not None and known[0] == key.contentsize:
            name = known[1]
        else:
            value = key.value
            name = hashlib.sha256(value).hexdigest()
            if not (self.folder / name).exists():
                self._unwritten[name] = value
            self._names[key] = (key.contentsize, name)
        self.used.add(name)
        return name

    def flush(self) -> None:
        """Writes the blobs named since the last flush (before the snapshot that names them)."""
        for name, value in list(self._unwritten.items()):
            _write_atomically(self.folder / name, value)
            del self._unwritten[name]  # only once written: a failed write is tried again next time

    def read(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()

    def collect(self) -> None:
        """Deletes the blobs the last snapshot no longer names."""
        for path in self.folder.iterdir():
            if path.name not in self.used and not path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)


class MemoryBlobStore:
    """The bytes of S3 objects kept in memory: for a snapshot that never leaves the process (the
    unit tests restore the provisioned template before each test)."""

    def __init__(self) -> None:
        self._values: dict[str, bytes] = {}

    def store(self, key: Any) -> str:
        value = key.value
        name = hashlib.sha256(value).hexdigest()
        self._values.setdefault(name, value)
        return name

    def read(self, name: str) -> bytes:
        return self._values[name]

    def flush(self) -> None:
        """Nothing to write: the bytes stay in memory."""


def live_backends() -> dict[str, Any]:
    """moto's backends of the services the template uses, as they are now."""
    from moto.backends import get_backend

    return {service: get_backend(service) for service in SERVICES}  # type: ignore[call-overload]


def restore_backends(saved: dict[str, Any]) -> None:
    """Puts saved backends in place of moto's live ones."""
    from moto.backends import get_backend
    from moto.core.base_backend import BackendDict

    for service, backends in saved.items():
        live = get_backend(service)  # type: ignore[call-overload]
        live.clear()
        # Service-wide bookkeeping lives on the BackendDict itself (S3's bucket -> account map).
        live.__dict__.update({name: value for name, value in backends.__dict__.items() if name != "_id"})
        for account_id, account_backends in backends.items():
            dict.__setitem__(live, account_id, account_backends)
        known: list[Any] = BackendDict._instances  # type: ignore[misc]  # moto's registry of backends
        if live not in known:
            known.append(live)


def dump_backends(blobs: BlobStore | MemoryBlobStore) -> bytes:
    """The live backends pickled, the bytes of S3 objects kept by `blobs`."""
    buffer = io.BytesIO()
    _Pickler(buffer, blobs).dump(live_backends())
    blobs.flush()
    return buffer.getvalue()


def load_backends(data: bytes, blobs: BlobStore | MemoryBlobStore) -> None:
    """Backends pickled by dump_backends put in place of the live ones."""
    restore_backends(_Unpickler(io.BytesIO(data), blobs).load())


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    temporary.replace(path)


def _moto_version() -> str:
    import moto

    return str(moto.__version__)


class EmulatorState:
    """Loads the emulator's state at start and saves it while the stack runs."""

    def __init__(self, folder: Path, app: EmulatorApp, stream_checkpoints: Callable[[], dict[str, Any]]) -> None:
        self.folder = folder
        self.path = folder / "state.pickle"
        self._app = app
        self._stream_checkpoints = stream_checkpoints
        self._blobs_folder = folder / "blobs"
        self._blobs = BlobStore(self._blobs_folder)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        self.saves = 0
        self.last_save_s = 0.0  # the emulator's pause (pickling, under the gate)
        self.last_save_total_s = 0.0  # the pause, the new blobs and the file, all of the save

    # -------------------------------------------------------------- load
    def load(self) -> Snapshot | None:
        """Puts the saved state into moto's backends; None when there is none (or it is unreadable)."""
        if not self.path.exists():
            return None
        try:
            with self.path.open("rb") as file:
                snapshot = _Unpickler(file, self._blobs).load()
            if not isinstance(snapshot, Snapshot) or snapshot.format_version != FORMAT_VERSION:
                raise ValueError("not a snapshot of this format")
        except Exception as error:  # a moto upgrade can change its objects: keep the file, start empty
            aside = self.path.with_name(f"state.pickle.unreadable-{int(time.time())}")
            self.path.rename(aside)
            log.warning("saved state unreadable (%s); kept as %s, and the stack starts empty", error, aside)
            return None
        restore_backends(snapshot.backends)
        return snapshot

    # -------------------------------------------------------------- save
    def start(self) -> None:
        self._blobs_folder.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def delay_s(self) -> float:
        """How long after it sees a change the next save may wait and still have the change on
        disk within SNAPSHOT_INTERVAL_S: less the time a save takes, twice (a change made just
        after a save began waits for that save, then for the next), and the margin. Never less
        than keeps the emulator paused for SNAPSHOT_PAUSE_SHARE of the time at the most."""
        in_time = SNAPSHOT_INTERVAL_S - 2 * self.last_save_total_s - SNAPSHOT_MARGIN_S
        fair = self.last_save_s * (1 - SNAPSHOT_PAUSE_SHARE) / SNAPSHOT_PAUSE_SHARE
        return max(0.0, in_time, fair)

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._app.changed.wait(timeout=0.25):
                continue
            if self._stopping.wait(self.delay_s()):
                return
            try:
                self.save()
            except Exception:  # a failed snapshot must not stop the stack; the next one retries
                log.exception("saving the emulator's state failed")

    def save(self) -> None:
        buffer = io.BytesIO()
        self._blobs.used = set()
        self._blobs_folder.mkdir(parents=True, exist_ok=True)  # a stop after a failed start saves too
        started = time.monotonic()
        with self._app.gate.exclusive():
            self._app.changed.clear()
            snapshot = Snapshot(
                backends=live_backends(),
                stream_checkpoints=self._stream_checkpoints(),
                saved_at=time.time(),
                moto_version=_moto_version(),
            )
            _Pickler(buffer, self._blobs).dump(snapshot)
        # What the emulator waited for: the interval grows with this, not with the disk's writes.
        self.last_save_s = time.monotonic() - started
        self._blobs.flush()  # every blob the snapshot names is on disk before the snapshot is
        _write_atomically(self.path, buffer.getvalue())
        self._blobs.collect()
        self.saves += 1
        self.last_save_total_s = time.monotonic() - started
        if 2 * self.last_save_total_s + SNAPSHOT_MARGIN_S > SNAPSHOT_INTERVAL_S:
            log.warning(
                "a snapshot took %.2f s: a change can now wait longer than %g s to be saved",
                self.last_save_total_s,
                SNAPSHOT_INTERVAL_S,
            )

    def stop(self) -> None:
        """A last snapshot, after everything else has stopped."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.save()


def release_in_flight_messages() -> int:
    """Messages a worker had received before the stop, released at once: every worker of the last
    run is gone (each exits within half a second of the stack that started it), so nothing is
    working on them, and they must not wait out their queue's visibility timeout (5,400 s on the
    video queue). Messages delayed on purpose (a webhook's next attempt) keep their delay.
    Returns how many it released."""
    from moto.backends import get_backend

    now_ms = time.time() * 1000
    released = 0
    for account in get_backend("sqs").values():
        for backend in account.values():
            for queue in backend.queues.values():
                for message in queue._messages:
                    if message.approximate_receive_count > 0 and message.visible_at > now_ms:
                        message.visible_at = now_ms
                        released += 1
    return released


def release_idempotency_locks(session: Any, endpoint_url: str, outputs: dict[str, str]) -> int:
    """The idempotency records of work in progress when the stack last stopped, deleted: their
    workers are gone, and a redelivered message would otherwise be refused as "already in
    progress" until the dead invocation's deadline. Returns how many it deleted."""
    table = outputs.get("IdempotencyTableName")
    if not table:
        return 0
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    released = 0
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="#status = :in_progress",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":in_progress": {"S": "INPROGRESS"}},
        ProjectionExpression="id",
    ):
        for item in page.get("Items", []):
            dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
            released += 1
    return released
