"""The task state machine. Every status change goes through `allowed_sources` and a DynamoDB
condition on the current status, so a duplicate or late message can never move a task backwards.

    queued -> running -> done | failed
    queued -> failed                      (its file was rejected, or its message died unclaimed)
    queued | running -> cancelled
    failed | cancelled -> queued          (restart)
"""

from __future__ import annotations

from .models import TaskStatus

Q, R, D, F, C = (
    TaskStatus.QUEUED,
    TaskStatus.RUNNING,
    TaskStatus.DONE,
    TaskStatus.FAILED,
    TaskStatus.CANCELLED,
)

TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    Q: frozenset({R, F, C}),
    R: frozenset({D, F, C}),
    F: frozenset({Q}),
    C: frozenset({Q}),
    D: frozenset(),
}

ACTIVE = frozenset({Q, R})
FINISHED = frozenset({D, F, C})


def allowed_sources(target: TaskStatus) -> frozenset[TaskStatus]:
    """The statuses from which `target` may be reached."""
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


def can_move(source: TaskStatus, target: TaskStatus) -> bool:
    return target in TRANSITIONS[source]
