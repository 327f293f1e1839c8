from __future__ import annotations

import pytest

from imgtasks.domain.records import TaskStatus as S
from imgtasks.services.lifecycle import TRANSITIONS, allowed_sources, can_move


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.QUEUED, S.RUNNING),
        (S.RUNNING, S.DONE),
        (S.RUNNING, S.FAILED),
        (S.QUEUED, S.CANCELLED),
        (S.RUNNING, S.CANCELLED),
        (S.FAILED, S.QUEUED),
        (S.CANCELLED, S.QUEUED),
        (S.QUEUED, S.FAILED),
        (S.RUNNING, S.RUNNING),  # claimed again after its worker died
    ],
)
def test_documented_transitions_are_allowed(source: S, target: S) -> None:
    assert can_move(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.DONE, S.RUNNING),
        (S.DONE, S.QUEUED),
        (S.DONE, S.CANCELLED),
        (S.FAILED, S.RUNNING),
        (S.CANCELLED, S.RUNNING),
        (S.RUNNING, S.QUEUED),
        (S.FAILED, S.DONE),
        (S.QUEUED, S.DONE),
    ],
)
def test_a_task_never_moves_backwards_or_skips_running(source: S, target: S) -> None:
    assert not can_move(source, target)


def test_done_is_final() -> None:
    assert TRANSITIONS[S.DONE] == frozenset()


def test_restart_is_only_from_failed_or_cancelled() -> None:
    assert allowed_sources(S.QUEUED) == {S.FAILED, S.CANCELLED}


def test_every_move_a_worker_or_user_makes_is_derived_from_the_one_table() -> None:
    assert allowed_sources(S.RUNNING) == {S.QUEUED, S.RUNNING}
    assert allowed_sources(S.DONE) == {S.RUNNING}
    assert allowed_sources(S.FAILED) == {S.QUEUED, S.RUNNING}
    assert allowed_sources(S.CANCELLED) == {S.QUEUED, S.RUNNING}
