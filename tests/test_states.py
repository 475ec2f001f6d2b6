"""The state machine: flags, derived sets, observed-data rules, commands, the Tracker."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskhub import ACTIVE, SUCCESSFUL, TERMINAL, InvalidTransition, State, Status, Task, Tracker
from taskhub.states import Change, check_command, classify

from .strategies import statuses

P, Q, R, PA = State.PENDING, State.QUEUED, State.RUNNING, State.PAUSED
S, F, C, SK, U = State.SUCCEEDED, State.FAILED, State.CANCELLED, State.SKIPPED, State.UNKNOWN


def task(state: State, **status: object) -> Task:
    return Task("b", "toy", "t1", Status(state, **status))  # type: ignore[arg-type]


def test_flags_live_on_members_and_sets_derive_from_them() -> None:
    assert {s for s in State if s.terminal} == TERMINAL == {S, F, C, SK}
    assert {S} == SUCCESSFUL
    assert {P, Q, R, PA} == ACTIVE
    assert U not in TERMINAL | ACTIVE
    assert [s.value for s in State] == [
        "pending",
        "queued",
        "running",
        "paused",
        "succeeded",
        "failed",
        "cancelled",
        "skipped",
        "unknown",
    ]
    assert str(State.RUNNING) == "running"
    assert State.RUNNING == "running"


def test_parse_accepts_any_case_and_refuses_other_words() -> None:
    assert State.parse(" Running ") is R
    with pytest.raises(ValueError, match="expected one of"):
        State.parse("done")


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        (P, R, Change.ADVANCE),  # a poll may miss queued
        (Q, S, Change.ADVANCE),
        (R, PA, Change.RESUME),
        (PA, R, Change.RESUME),
        (R, R, Change.SAME),
        (R, Q, Change.REGRESSION),  # backwards without a retry
        (S, R, Change.REGRESSION),  # a late event cannot un-finish a task
        (C, Q, Change.REGRESSION),
        (S, F, Change.REGRESSION),
        (R, U, Change.IGNORED),
    ],
)
def test_classify(before: State, after: State, change: Change) -> None:
    assert classify(Status(before), Status(after)) is change


def test_running_to_queued_is_a_retry_only_when_announced() -> None:
    assert classify(Status(R), Status(Q, reason="retrying")) is Change.RETRY
    assert classify(Status(R, retries=0), Status(Q, retries=1)) is Change.RETRY
    assert classify(Status(R, retries=1), Status(Q, retries=1)) is Change.REGRESSION


def test_a_failure_that_may_be_retried_can_start_again() -> None:
    assert classify(Status(F), Status(R)) is Change.RETRY
    assert classify(Status(F, retryable=True), Status(Q)) is Change.RETRY
    assert classify(Status(F, retryable=False), Status(Q)) is Change.REGRESSION


def test_first_observation_and_unknown_before() -> None:
    assert classify(None, Status(R)) is Change.FIRST
    assert classify(Status(U), Status(Q)) is Change.FIRST


def test_tracker_reports_transitions_and_keeps_out_regressions() -> None:
    tracker = Tracker()
    first = tracker.observe(task(Q))
    assert first is not None
    assert first.before is None
    assert first.after is Q
    assert tracker.observe(task(Q)) is None
    moved = tracker.observe(task(S))
    assert moved is not None
    assert (moved.before, moved.after) == (Q, S)
    assert tracker.observe(task(R)) is None  # stale poll after the end
    assert tracker.state("b:t1") is S
    assert len(tracker.anomalies) == 1
    assert tracker.anomalies[0].kept.state is S
    assert tracker.anomalies[0].observed.state is R
    assert [t.after for t in tracker.history("b:t1")] == [Q, S]


def test_unknown_neither_advances_nor_regresses() -> None:
    tracker = Tracker()
    tracker.observe(task(R))
    assert tracker.observe(task(U, raw="mystery")) is None
    assert tracker.state("b:t1") is R
    assert list(tracker.anomalies) == []


def test_a_commanded_retry_lets_the_task_leave_its_terminal_state() -> None:
    tracker = Tracker()
    tracker.observe(task(C))
    tracker.expect_retry("b:t1")
    moved = tracker.observe(task(Q))
    assert moved is not None
    assert moved.change is Change.RETRY
    assert tracker.observe(task(C)) is not None  # and it can finish again


def test_transition_time_comes_from_the_status_when_known() -> None:
    at = datetime(2024, 1, 1, tzinfo=timezone.utc)
    moved = Tracker().observe(task(R, updated_at=at))
    assert moved is not None
    assert moved.at == at


def test_tracker_is_safe_from_many_threads() -> None:
    tracker = Tracker()

    def worker(n: int) -> None:
        for state in (P, Q, R, S):
            tracker.observe(Task("b", "toy", f"t{n}", Status(state)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(tracker.history(f"b:t{n}")) == 4 for n in range(8))


@given(st.lists(statuses, max_size=30))
def test_observing_anything_never_raises_and_never_goes_backwards(seq: list[Status]) -> None:
    tracker = Tracker()
    for status in seq:
        tracker.observe(Task("b", "v", "x", status))
    history = tracker.history("b:x")
    for t in history:
        assert t.change in (Change.FIRST, Change.ADVANCE, Change.RETRY, Change.RESUME)
    # each accepted step follows from the one before it
    for prev, nxt in itertools.pairwise(history):
        assert nxt.before is prev.after


@given(st.lists(st.sampled_from([P, Q, R, PA, S, C, SK, U]), min_size=1, max_size=20))
def test_a_finished_task_without_a_retry_stays_finished(seq: list[State]) -> None:
    tracker = Tracker()
    end: State | None = None
    for state in seq:
        tracker.observe(task(state))
        current = tracker.state("b:t1")
        if end is not None:
            assert current is end
        elif current is not None and current.terminal:
            end = current


@pytest.mark.parametrize(
    ("current", "target"),
    [(None, R), (U, S), (Q, R), (R, R), (R, S), (R, F), (PA, R), (P, F)],
)
def test_legal_commands(current: State | None, target: State) -> None:
    check_command(current, target)


@pytest.mark.parametrize(("current", "target"), [(S, R), (F, S), (C, F), (R, Q), (R, P), (None, U)])
def test_illegal_commands_raise(current: State | None, target: State) -> None:
    with pytest.raises(InvalidTransition):
        check_command(current, target, vendor="toy")


def test_the_tracker_forgets_the_least_recently_seen_tasks_beyond_its_bound() -> None:
    tracker = Tracker(max_tasks=3, max_history=2, max_anomalies=2)
    for n in range(5):
        tracker.observe(Task("b", "v", f"t{n}", Status(Q)))
    assert [tracker.state(f"b:t{n}") for n in range(5)] == [None, None, Q, Q, Q]
    for state in (R, PA, R, S):
        tracker.observe(Task("b", "v", "t4", Status(state)))
    assert [t.after for t in tracker.history("b:t4")] == [R, S]
    for _ in range(3):
        tracker.observe(Task("b", "v", "t4", Status(Q)))
    assert len(tracker.anomalies) == 2
