"""The state machine: flags, derived sets, observed-data rules, commands, the Tracker."""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskhub import (
    ACTIVE,
    SUCCESSFUL,
    TERMINAL,
    Conflict,
    InvalidTransition,
    State,
    Status,
    Task,
    Tracker,
    UnsupportedOperation,
)
from taskhub.states import Change, check_command, classify, is_new_attempt, is_stale
from taskhub.testing import Simulation, simulate

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
    word: str = "running"
    assert word == State.RUNNING  # a State is the str it names


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


def test_a_failure_that_may_be_retried_can_start_again_with_evidence() -> None:
    assert classify(Status(F), Status(R, reason="retrying")) is Change.RETRY
    assert classify(Status(F, retryable=True, retries=1), Status(Q, retries=2)) is Change.RETRY
    not_retryable = Status(F, retryable=False)
    assert classify(not_retryable, Status(Q, reason="retrying")) is Change.REGRESSION


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
    for n in range(3):
        tracker.observe(Task("b", "v", "t4", Status(Q, raw=f"late-{n}")))
    assert len(tracker.anomalies) == 2
    # A sequence, oldest first: index, slice (a list), iterate.
    assert [a.observed.raw for a in tracker.anomalies[-2:]] == ["late-1", "late-2"]
    assert tracker.anomalies[0].observed.raw == "late-1"
    assert [a.observed.raw for a in tracker.anomalies] == ["late-1", "late-2"]


# -- issue 10: the Tracker must not move backwards -------------------------------------------

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
T1, T2, T3 = (T0 + timedelta(seconds=n) for n in (1, 2, 3))


def test_a_late_running_poll_after_a_failure_is_a_regression() -> None:
    tracker = Tracker()
    tracker.observe(task(R))
    tracker.observe(task(F))
    assert classify(Status(F), Status(R)) is Change.REGRESSION
    assert tracker.observe(task(R)) is None  # the old poll, delivered late
    assert tracker.state("b:t1") is F
    assert [(a.kept.state, a.observed.state) for a in tracker.anomalies] == [(F, R)]


@pytest.mark.parametrize(
    ("failed", "again"),
    [
        (Status(F), Status(R, reason="retrying")),
        (Status(F, retries=0), Status(Q, retries=1)),
        (Status(F, updated_at=T1), Status(P, updated_at=T2)),
    ],
    ids=["reason-retrying", "higher-retry-count", "later-updated-at"],
)
def test_each_kind_of_evidence_lets_a_failure_start_again(failed: Status, again: Status) -> None:
    assert is_new_attempt(failed, again)
    tracker = Tracker()
    tracker.observe(Task("b", "toy", "t1", failed))
    moved = tracker.observe(Task("b", "toy", "t1", again))
    assert moved is not None
    assert (moved.before, moved.after, moved.change) == (F, again.state, Change.RETRY)


@pytest.mark.parametrize(
    ("failed", "again"),
    [
        (Status(F), Status(R)),
        (Status(F, retries=1), Status(R, retries=1)),
        (Status(F, retries=1), Status(R)),
        (Status(F, updated_at=T1), Status(R, updated_at=T1)),  # equal is not later
        (Status(F, updated_at=T1), Status(R)),
        (Status(F), Status(R, updated_at=T1)),
        (Status(F, updated_at=T2), Status(R, updated_at=T1)),
        (Status(F, updated_at=T2), Status(R, updated_at=T1, reason="retrying", retries=9)),
    ],
)
def test_without_evidence_leaving_a_failure_is_a_regression(failed: Status, again: Status) -> None:
    assert classify(failed, again) is Change.REGRESSION
    tracker = Tracker()
    tracker.observe(Task("b", "toy", "t1", failed))
    assert tracker.observe(Task("b", "toy", "t1", again)) is None
    assert tracker.status("b:t1") == failed
    assert len(tracker.anomalies) == 1


def test_an_observation_older_than_the_kept_one_never_changes_the_state() -> None:
    kept = Status(R, updated_at=T2, progress=0.5)
    older_retry = Status(Q, updated_at=T1, reason="retrying", retries=5)
    older_end = Status(S, updated_at=T1)  # forward, but older than what is known
    older_same = Status(R, updated_at=T1, progress=0.1)
    assert is_stale(kept, older_same)
    assert classify(kept, older_retry) is Change.REGRESSION
    assert classify(kept, older_end) is Change.REGRESSION
    assert classify(kept, older_same) is Change.IGNORED
    tracker = Tracker()
    tracker.observe(Task("b", "toy", "t1", kept))
    for status in (older_retry, older_end, older_same):
        assert tracker.observe(Task("b", "toy", "t1", status)) is None
    assert tracker.status("b:t1") == kept  # not even the progress went back
    assert [a.observed for a in tracker.anomalies] == [older_retry, older_end]
    newer = tracker.observe(Task("b", "toy", "t1", Status(S, updated_at=T3)))
    assert newer is not None
    assert newer.change is Change.ADVANCE


def test_a_stale_observation_never_leaves_a_terminal_state_even_after_a_commanded_retry() -> None:
    tracker = Tracker()
    tracker.observe(task(F, updated_at=T2))
    tracker.expect_retry("b:t1")
    assert tracker.observe(task(R, updated_at=T1, reason="retrying", retries=3)) is None
    assert tracker.state("b:t1") is F
    moved = tracker.observe(task(Q, updated_at=T3))  # the window is still open for real news
    assert moved is not None
    assert moved.change is Change.RETRY


def test_the_answer_to_a_commanded_retry_is_fresh_whatever_its_timestamp() -> None:
    # Cognite has no update time; taskhub derives one from start and end, so the answer to a
    # retry of a cancelled execution carries the old start time, older than the cancellation.
    tracker = Tracker()
    tracker.observe(task(C, updated_at=T2))
    answer = Status(R, updated_at=T1)
    tracker.expect_retry("b:t1", answer=answer)
    assert tracker.observe(task(R, updated_at=T1)) is None  # an equal copy is not the answer
    moved = tracker.observe(Task("b", "toy", "t1", answer))
    assert moved is not None
    assert (moved.before, moved.after, moved.change) == (C, R, Change.RETRY)


def test_a_refused_retry_does_not_open_the_retry_window(toy: Simulation) -> None:
    hub = toy.connect()
    ref = f"{hub.backend}:t1"
    # Not retryable, so only a commanded retry could let it leave ``failed``.
    hub.tracker.observe(Task(hub.backend, "toy", "t1", Status(F, retryable=False)))
    with pytest.raises(UnsupportedOperation):
        hub.retry("t1")
    assert hub.tracker.observe(Task(hub.backend, "toy", "t1", Status(R))) is None
    assert hub.tracker.state(ref) is F
    assert len(hub.tracker.anomalies) == 1


def test_a_retry_the_vendor_refused_with_conflict_does_not_open_the_retry_window() -> None:
    with simulate("livepeer") as sim, sim.connect(max_retry_time=5) as hub:
        first = hub.submit(kind="upload", url="https://media.example.com/in.mp4", name="in.mp4")
        sim.clock.advance(2)
        assert hub.get(first.id).state is State.RUNNING
        with pytest.raises(Conflict):
            hub.retry(first.id)
        # The first answer (queued, no retry) arriving late, without a timestamp so that only
        # an open retry window could let it in, is not a retry.
        assert first.state is State.QUEUED
        late = attrs.evolve(first, status=attrs.evolve(first.status, updated_at=None))
        assert hub.tracker.observe(late) is None
        assert hub.tracker.state(first.ref) is State.RUNNING
        assert hub.tracker.anomalies[-1].observed is late.status


def test_an_accepted_retry_arms_the_window_before_observing_its_answer() -> None:
    with simulate("livepeer") as sim, sim.connect(max_retry_time=5) as hub:
        task_ = hub.submit(kind="upload", url="https://media.example.com/fail-fatal.mp4", name="x")
        sim.clock.advance(10)
        assert hub.get(task_.id).state is State.FAILED
        again = hub.retry(task_.id)
        assert again.state is State.QUEUED
        assert hub.tracker.state(task_.ref) is State.QUEUED
        assert hub.tracker.history(task_.ref)[-1].change is Change.RETRY


_NO_EVIDENCE = st.builds(
    Status,
    state=st.sampled_from(State),
    retryable=st.none() | st.booleans(),
    progress=st.none() | st.floats(0, 1),
)


@given(st.lists(_NO_EVIDENCE, min_size=1, max_size=30))
def test_once_terminal_no_observation_without_evidence_changes_the_state(
    seq: list[Status],
) -> None:
    tracker = Tracker()
    end: State | None = None
    for status in seq:
        tracker.observe(Task("b", "v", "x", status))
        current = tracker.state("b:x")
        if end is not None:
            assert current is end
        elif current is not None and current.terminal:
            end = current


@given(st.lists(st.tuples(statuses, st.booleans()), max_size=30))
def test_stale_observations_never_change_the_state_and_terminals_leave_only_with_evidence(
    seq: list[tuple[Status, bool]],
) -> None:
    tracker = Tracker()
    armed = False
    for status, command in seq:
        if command:
            tracker.expect_retry("b:x")
            armed = True
        kept = tracker.status("b:x")
        moved = tracker.observe(Task("b", "v", "x", status))
        if kept is not None and is_stale(kept, status):
            assert moved is None
            assert tracker.status("b:x") is kept
        if kept is not None and kept.state.terminal and moved is not None:
            assert armed or is_new_attempt(kept, status)
        if moved is not None:
            armed = False  # any change of state closes the window


def test_a_naive_time_next_to_an_aware_one_is_read_as_utc_not_an_error() -> None:
    from datetime import datetime, timezone

    tracker = Tracker()
    aware = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    naive = datetime(2026, 1, 1, 11, 0)  # an hour earlier, in UTC
    running = Task("b", "v", "t1", Status(State.RUNNING, updated_at=aware))
    queued = Task("b", "v", "t1", Status(State.QUEUED, updated_at=naive))
    tracker.observe(running)
    assert tracker.observe(queued) is None  # older: kept out, no TypeError
    assert tracker.state("b:t1") is State.RUNNING
