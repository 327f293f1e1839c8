"""A task's lifecycle: the one door every status change goes through.

    queued -> running -> done | failed
    running -> running                    (claimed again: SQS redelivered the message of a worker
                                           that died mid-task)
    queued -> failed                      (its file was rejected or deleted, or its message died
                                           unclaimed)
    queued | running -> cancelled
    failed | cancelled -> queued          (restart, on a new run)

A task is dispatched to its worker's queue from the table's change stream, never by the code that
writes it (imgtasks_dispatch.dispatch): whenever a write leaves it `queued` and not waiting for its
file (`needs_dispatch`). So a task record can never exist without a way to reach a worker.

`TRANSITIONS` is the only source of allowed moves: every write below is a DynamoDB update
conditioned on the task's current status being one the table allows for the target (and, for a
worker, on the task still being on the run its message was sent for), so a duplicate or late
message can never move a task backwards. Status events start from here."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from imgtasks.adapters import metering
from imgtasks.adapters.repositories.tasks import TaskRepository
from imgtasks.domain.clock import millis_between, now_rfc3339
from imgtasks.domain.errors import Conflict, ErrorCode, NotFound, PermanentTaskError
from imgtasks.domain.messages import TaskMessage
from imgtasks.domain.records import FileRecord, TaskBase, TaskError, TaskStatus
from imgtasks.domain.usage import Usage
from imgtasks.kinds import Task, TaskKind, TaskResult
from imgtasks.kinds.archive import ArchiveResult
from imgtasks.kinds.infer import InferResult
from imgtasks.kinds.process import ProcessResult, ProcessTask
from imgtasks.kinds.video import process_kind
from imgtasks.observability import logger, metrics

Q, R, D, F, C = (
    TaskStatus.QUEUED,
    TaskStatus.RUNNING,
    TaskStatus.DONE,
    TaskStatus.FAILED,
    TaskStatus.CANCELLED,
)

TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    Q: frozenset({R, F, C}),
    R: frozenset({R, D, F, C}),
    F: frozenset({Q}),
    C: frozenset({Q}),
    D: frozenset(),
}

ACTIVE = frozenset({Q, R})
# A task's watchdog fails it this long before its invocation would be killed (the write needs time).
TIMEOUT_RESERVE_S = 1.0
CLAIMED_PROGRESS = 5


def allowed_sources(target: TaskStatus) -> frozenset[TaskStatus]:
    """The statuses from which `target` may be reached."""
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


def can_move(source: TaskStatus, target: TaskStatus) -> bool:
    return target in TRANSITIONS[source]


def needs_dispatch(before: Task | None, after: Task) -> bool:
    """Whether a write that changed a task from `before` (None: created) to `after` makes it ready
    for a worker: queued and not waiting for its file now, and not already so on this run."""
    if after.status != Q or after.waits_for_file:
        return False
    if before is None:
        return True
    return before.status != Q or before.run != after.run or bool(before.waits_for_file)


def attempt_ms(task: TaskBase, now: str) -> int | None:
    """How long the task's last attempt has run (records written before attempts were timed have
    only started_at); None when it never started."""
    started = task.attempt_started_at or task.started_at
    return millis_between(started, now) if started else None


def delivered(deliveries: int, attempts: int) -> str:
    """How many times a task's message came and how many of those started an attempt: they differ
    when a delivery found the task's previous attempt still running (its idempotency lock), as
    with a visibility timeout shorter than the work."""
    return f"the task did not complete in {deliveries} deliveries of its message (attempts started: {attempts})"


TaskT = TypeVar("TaskT", bound=TaskBase)
Value = TypeVar("Value")
ResultT = TypeVar("ResultT", bound=ProcessResult | InferResult | ArchiveResult)


class TaskLifecycle:
    def __init__(self, tasks: TaskRepository, *, max_receive_count: int) -> None:
        self._tasks = tasks
        self._max_receive_count = max_receive_count

    # ------------------------------------------------------------ one attempt of a worker
    def attempt(
        self, message: TaskMessage, receive_count: int, kind: TaskKind, expected: type[TaskT]
    ) -> Attempt[TaskT] | None:
        """A worker's delivery of a task message: the task claimed (running, the attempt counted),
        or None when it moved on (finished, cancelled, deleted, restarted): the message is dropped.
        The worker of `kind` runs tasks of that kind only, each an `expected`."""
        task = self.claim(message)
        if task is None:
            logger.info("task message skipped: the task moved on", extra={"task_id": message.task_id})
            return None
        if not isinstance(task, expected) or task.kind != kind.name:
            # Each kind's messages go to its own queue: one here is a bug, retried like a crash
            # (and failed with retries_exhausted on the last delivery), never run by this worker.
            wrong = TypeError(f"a {task.kind} task reached the {kind.name} worker")
            self.retry_or_fail(task, wrong, receive_count)
            return None
        return Attempt(self, task, receive_count)

    def run(
        self,
        message: TaskMessage,
        receive_count: int,
        kind: TaskKind,
        expected: type[TaskT],
        work: Callable[[TaskT], ResultT],
        *,
        discard: Callable[[ResultT], None],
        seconds_left: Callable[[], float] | None = None,
    ) -> None:
        """claim -> work -> complete | fail | retry, for every worker. A task that moved on while
        it was worked on (cancelled, restarted, deleted) gets no result, and what the work made
        (outputs, a ZIP) is discarded: it belongs to nobody. `seconds_left` (the invocation's
        remaining time) fails a task that would outrun its function with processing_timeout."""
        attempt = self.attempt(message, receive_count, kind, expected)
        if attempt is None:
            return
        result = attempt.guarded(work, seconds_left=seconds_left)
        if result is not None and not attempt.complete(result):
            discard(result)

    # ------------------------------------------------------------ workers
    def claim(self, message: TaskMessage) -> Task | None:
        """A worker takes the task its message names: queued (or running, after a worker died) ->
        running, counting the attempt. None when the task is finished, cancelled, deleted or on
        another run, so the message is dropped without work."""
        now = now_rfc3339()
        metering.count_task_write()
        return self._move(
            message.owner_id,
            message.task_id,
            R,
            {"progress": CLAIMED_PROGRESS},
            run=message.run,
            claimed_at=now,
        )

    def progress(self, task: TaskBase, percent: int) -> None:
        """Progress of a running task; nothing when it moved on meanwhile."""
        metering.count_task_write()
        self._tasks.update_if(
            task.owner_id,
            task.id,
            {"progress": percent, "updated_at": now_rfc3339()},
            sources=frozenset({R}),
            run=task.run,
        )

    def output_ready(self, task: TaskBase, partial: ProcessResult, percent: int) -> None:
        """A running task's result so far (the outputs stored yet): clients see each output as it
        is made, and a long-poll wakes. Nothing when the task moved on meanwhile."""
        metering.count_task_write()
        self._tasks.update_if(
            task.owner_id,
            task.id,
            {
                "result_json": partial.model_dump_json(),
                "outputs_ready": len(partial.outputs),
                "progress": percent,
                "updated_at": now_rfc3339(),
            },
            sources=frozenset({R}),
            run=task.run,
        )

    def complete(self, task: TaskBase, result: TaskResult, metered: metering.TaskAttempt | None = None) -> bool:
        """running -> done with the result; False when the task moved on while it ran. `metered`:
        the attempt whose usage the write records (by default the one running on this thread's
        invocation)."""
        now = now_rfc3339()
        changes: dict[str, Any] = {
            "progress": 100,
            "result_json": result.model_dump_json(),
            "formats": task.model_copy(update={"result": result}).formats(),
            "completed_at": now,
            "duration_ms": attempt_ms(task, now) or 0,
        }
        if isinstance(result, ProcessResult):
            changes["outputs_ready"] = len(result.outputs)
        changes |= self._usage_of_attempt(task, metered)
        if self._move(task.owner_id, task.id, D, changes, run=task.run) is None:
            logger.info("task moved on while it ran; its result is dropped", extra={"task_id": task.id})
            return False
        metrics.add_metric(name="TasksCompleted", unit=MetricUnit.Count, value=1)
        logger.info("task done", extra={"task_id": task.id, "type": task.type})
        return True

    def fail(
        self, task: TaskBase, code: ErrorCode, message: str, metered: metering.TaskAttempt | None = None
    ) -> Task | None:
        """-> failed with {code, message}, on the task's run; None when the task had moved on.
        `metered`: as for complete."""
        now = now_rfc3339()
        # A result a task with variants had begun to show goes: its outputs were discarded.
        changes: dict[str, Any] = {
            "error": TaskError(code=code, message=message).model_dump(),
            "completed_at": now,
            "result_json": None,
            "outputs_ready": None,
        }
        duration = attempt_ms(task, now)
        if duration is not None:
            changes["duration_ms"] = duration
        changes |= self._usage_of_attempt(task, metered)
        failed = self._move(task.owner_id, task.id, F, changes, run=task.run)
        if failed is None:
            logger.info("task could not be marked failed: it moved on", extra={"task_id": task.id})
            return None
        metrics.add_metric(name="TasksFailed", unit=MetricUnit.Count, value=1)
        logger.warning("task failed", extra={"task_id": task.id, "code": code, "error": message})
        return failed

    def retry_or_fail(self, task: TaskBase, error: Exception, receive_count: int) -> None:
        """A transient error: raised again so SQS retries the message, except on the last delivery,
        when the task fails with retries_exhausted instead (its message goes to the dead-letter
        queue next, and the task must not stay running)."""
        if receive_count < self._max_receive_count:
            raise error
        logger.exception("task failed on its last delivery", extra={"task_id": task.id})
        self.fail(task, ErrorCode.RETRIES_EXHAUSTED, f"{delivered(receive_count, task.attempts)}; last error: {error}")

    def message_died(self, message: TaskMessage) -> None:
        """The dead-letter verdict: the message could not be handled in MaxReceiveCount deliveries
        (its worker died on the last one), so its task fails unless it finished meanwhile."""
        task = self._tasks.get(message.task_id)
        if task is None or task.run != message.run or task.owner_id != message.owner_id:
            logger.info("dead task message: the task had moved on", extra={"task_id": message.task_id})
            return
        self.fail(
            task,
            ErrorCode.RETRIES_EXHAUSTED,
            f"{delivered(self._max_receive_count, task.attempts)}, the last one's worker ended without an answer",
        )

    @staticmethod
    def _usage_of_attempt(task: TaskBase, metered: metering.TaskAttempt | None) -> dict[str, Any]:
        """The task's usage with the attempt added (a worker's last write), as the write's change;
        none outside a worker's metered attempt."""
        attempt = metered or metering.current_attempt()
        if attempt is None:
            return {}
        attempt.will_call("dynamodb UpdateItem")  # this write (its request units are not known before it)
        return {"usage_json": (task.usage or Usage()).plus(attempt.usage()).model_dump_json()}

    # ------------------------------------------------------------ files
    def file_ready(self, task: Task, record: FileRecord) -> Task | None:
        """A task that waited for its upload goes to its worker (the change stream dispatches it),
        the one its file turned out to need (a URL, or an upload announced as one type, may be a
        video). None when it is no longer queued on that run (cancelled meanwhile)."""
        kind = process_kind(record, task.spec).name if isinstance(task, ProcessTask) else task.kind
        return self._tasks.update_if(
            task.owner_id,
            task.id,
            {"waits_for_file": None, "kind": kind, "updated_at": now_rfc3339()},
            sources=frozenset({Q}),
            run=task.run,
        )

    def file_rejected(self, task: Task, record: FileRecord) -> Task | None:
        """A task waiting on a file that was rejected fails with the file's own code. None when
        the task was cancelled meanwhile (nothing to fail)."""
        code = record.error_code or ErrorCode.FILE_REJECTED
        return self.fail(task, ErrorCode(code), f"the input file was rejected: {record.error}")

    def file_missing(self, task: Task) -> Task:
        """A queued task whose input file was deleted fails with file_missing."""
        failed = self.fail(task, ErrorCode.FILE_MISSING, "the input file was deleted")
        return failed or self._tasks.get_owned(task.owner_id, task.id)

    # ------------------------------------------------------------ users
    def cancel(self, owner_id: str, task_id: str) -> Task:
        """queued | running -> cancelled; Conflict naming the current status otherwise."""
        task = self._tasks.get_owned(owner_id, task_id)
        now = now_rfc3339()
        changes: dict[str, Any] = {"completed_at": now}
        duration = attempt_ms(task, now)
        if duration is not None:
            changes["duration_ms"] = duration
        return self._move_or_conflict(owner_id, task_id, C, changes)

    def restart(self, owner_id: str, task_id: str, *, waits_for_file: bool) -> Task:
        """failed | cancelled -> queued on a new run, with its progress, error and result cleared;
        dispatched at once unless it `waits_for_file`."""
        task = self._tasks.get_owned(owner_id, task_id)
        changes = {
            "waits_for_file": True if waits_for_file else None,
            "run": task.run + 1,
            "progress": 0,
            "error": None,
            "result_json": None,
            "outputs_ready": None,
            "formats": task.model_copy(update={"result": None}).formats(),
            "started_at": None,
            "attempt_started_at": None,
            "completed_at": None,
            "duration_ms": None,
        }
        return self._move_or_conflict(owner_id, task_id, Q, changes)

    # ------------------------------------------------------------ the write
    def _move(
        self,
        owner_id: str,
        task_id: str,
        target: TaskStatus,
        changes: dict[str, Any],
        *,
        run: int | None = None,
        claimed_at: str | None = None,
    ) -> Task | None:
        return self._tasks.update_if(
            owner_id,
            task_id,
            {"status": target.value, "updated_at": now_rfc3339(), **changes},
            sources=allowed_sources(target),
            run=run,
            claimed_at=claimed_at,
        )

    def _move_or_conflict(self, owner_id: str, task_id: str, target: TaskStatus, changes: dict[str, Any]) -> Task:
        moved = self._move(owner_id, task_id, target, changes)
        if moved is not None:
            return moved
        current = self._tasks.get(task_id)
        if current is None or current.owner_id != owner_id:
            raise NotFound(f"task '{task_id}' does not exist")
        sources = ", ".join(sorted(allowed_sources(target)))
        raise Conflict(
            f"task '{task_id}' is {current.status}; it cannot become {target.value} (allowed from: {sources})"
        )


class Attempt(Generic[TaskT]):
    """One delivery of a claimed task to its worker. Work done through `guarded` fails the task at
    once on a permanent error, and on any other is retried by SQS (raised again), except on the
    last delivery, when the task fails with retries_exhausted."""

    def __init__(self, lifecycle: TaskLifecycle, task: TaskT, receive_count: int) -> None:
        self._lifecycle = lifecycle
        self.task = task
        self._receive_count = receive_count
        # Its meter, held here: the watchdog's thread may end the task after the next record's
        # attempt has begun.
        self._metered = metering.current_attempt()

    def guarded(
        self, work: Callable[[TaskT], Value], *, seconds_left: Callable[[], float] | None = None
    ) -> Value | None:
        """What `work` gives, or None when it failed (and the task with it, or SQS retries).

        With `seconds_left`, a watchdog fails the task with processing_timeout shortly before the
        invocation's end: Lambda would kill the work there, and each redelivery would run it
        again to the same end, only to fail retries_exhausted after MaxReceiveCount full runs.
        Work that finishes after that gets no result (the task is failed: complete refuses)."""
        watchdog = None
        if seconds_left is not None:
            allowed = seconds_left()
            watchdog = threading.Timer(max(0.0, allowed - TIMEOUT_RESERVE_S), self._timed_out, args=(allowed,))
            watchdog.daemon = True
            watchdog.start()
        try:
            return work(self.task)
        except PermanentTaskError as error:
            self._lifecycle.fail(self.task, error.code, error.message, self._metered)
        except Exception as error:
            self._lifecycle.retry_or_fail(self.task, error, self._receive_count)
        finally:
            if watchdog is not None:
                watchdog.cancel()
        return None

    def _timed_out(self, allowed_s: float) -> None:
        self._lifecycle.fail(
            self.task,
            ErrorCode.PROCESSING_TIMEOUT,
            f"the task did not finish in the {allowed_s:.0f} s its worker may run; ask for less (a smaller "
            "size, fewer variants, a shorter video window)",
            self._metered,
        )

    def fail(self, code: ErrorCode, message: str) -> None:
        self._lifecycle.fail(self.task, code, message, metering.current_attempt() or self._metered)

    def complete(self, result: TaskResult) -> bool:
        return self._lifecycle.complete(self.task, result, metering.current_attempt() or self._metered)
