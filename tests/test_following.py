"""One set of rules for following (taskhub.following): Patience on virtual time, and the
same Patience and Merge driving hub.wait, hub.watch, watch_all and taskhub serve."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import taskhub
from taskhub import PollPolicy, StaleTask, State, VendorUnavailable, WaitTimeout
from taskhub.clock import VirtualClock
from taskhub.following import Limit, Merge, Patience, seconds
from taskhub.model import Status, Task
from taskhub.testing import Simulation, simulate

STUCK = "https://m.example/stuck.mp4"  # the Livepeer simulator keeps it waiting forever
MINUTE = PollPolicy(initial=60, factor=1.0, ceiling=60, jitter=0.0)


def _task(state: State = State.RUNNING, raw: str = "running") -> Task:
    return Task("b", "toy", "t1", Status(state, raw=raw))


def test_the_deadline_is_due_only_after_the_first_read() -> None:
    clock = VirtualClock()
    patience = Patience(clock, timeout=0, refs=["b:t1"])
    assert patience.due() is None and patience.until() is None  # nothing read yet
    patience.pause()
    patience.seen(_task(State.SUCCEEDED, "done"))
    assert patience.read and patience.due() == "timeout"
    assert patience.sooner()  # a follower asleep must look now


def test_staleness_counts_from_the_first_read_and_any_change_resets_it() -> None:
    clock = VirtualClock()
    patience = Patience(clock, stale_after=10, refs=["b:t1"])
    assert patience.until() == 10  # before the first read: look again in 10 s
    clock.sleep(5)
    patience.seen(_task())
    clock.sleep(9.5)
    patience.seen(_task())  # the same: no change
    assert patience.due() is None and patience.unchanged_for() == 9.5
    clock.sleep(0.5)
    assert patience.due() == "stale"
    patience.seen(_task(raw="resuming"))  # the vendor's word moved: a change
    assert patience.due() is None and patience.until() == 25


def test_a_run_of_failed_reads_comes_first_and_a_success_ends_it() -> None:
    clock = VirtualClock()
    error = VendorUnavailable("down", vendor="toy")
    patience = Patience(clock, timeout=5, stale_after=5, unreachable_after=5, refs=["b:t1"])
    patience.seen(_task())
    patience.failed(error)
    clock.sleep(5)
    assert patience.due() == "unreachable"  # before staleness and the deadline
    assert patience.failing_for() == 5 and patience.last_error is error
    patience.seen(_task())  # a read succeeded: the run ended
    assert patience.failing_since is None
    assert patience.due() == "stale"  # staleness before the deadline


@pytest.mark.parametrize(
    ("value", "text"), [(0.00392085, "0"), (0.01, "0.01"), (2.5, "2.5"), (1.0, "1"), (600, "600")]
)
def test_times_print_rounded(value: float, text: str) -> None:
    assert seconds(value) == text


@pytest.fixture
def decisions(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Limit, float]]:
    """Every limit a Patience found due, with the moment on its clock: whoever follows, the
    one Patience class decides."""
    found: list[tuple[Limit, float]] = []
    due = Patience.due

    def recorded(self: Patience) -> Limit | None:
        limit = due(self)
        if limit is not None:
            found.append((limit, self.clock.monotonic() - self.started))
        return limit

    monkeypatch.setattr(Patience, "due", recorded)
    return found


@pytest.fixture
def stuck() -> Iterator[tuple[Simulation, taskhub.TaskHub, Task]]:
    with simulate("livepeer") as sim, sim.connect() as hub:  # a manual clock: sleeps move it
        hub.clock = VirtualClock(on_sleep=sim.clock.advance)
        yield sim, hub, hub.submit(kind="upload", url=STUCK, name="s")


def test_one_patience_stops_wait_watch_and_watch_all_on_virtual_time(
    stuck: tuple[Simulation, taskhub.TaskHub, Task], decisions: list[tuple[Limit, float]]
) -> None:
    _, hub, task = stuck
    with pytest.raises(StaleTask, match="has not changed for 600 s"):
        hub.wait(task, stale_after=600, poll=MINUTE)
    with pytest.raises(WaitTimeout, match="1 task still unfinished after 600 s"):
        list(hub.watch([task], timeout=600, poll=MINUTE))
    hubs = {hub.backend: hub}
    with pytest.raises(WaitTimeout, match="1 task still unfinished after 600 s"):
        list(taskhub.watch_all([task.ref], hubs, timeout=600))
    # Each stopped at the first cycle past its limit, on virtual time: 600 s in 60 s steps
    # (the watch_all refresher polls on the vendor's schedule, at most 30 s apart).
    assert [limit for limit, _ in decisions] == ["stale", "timeout", "timeout"]
    assert all(600 <= at < 600 + 61 for _, at in decisions), decisions


def test_a_wait_with_no_time_left_returns_a_finished_task(
    stuck: tuple[Simulation, taskhub.TaskHub, Task],
) -> None:
    sim, hub, waiting = stuck
    done = hub.submit(kind="upload", url="https://m.example/in.mp4", name="in")
    sim.clock.advance(600)
    assert hub.tracker.state(done.ref) is State.QUEUED  # the hub saw it unfinished
    finished = hub.wait(done, timeout=0)
    assert finished.state is State.SUCCEEDED
    assert [t.after for t in hub.watch([done], timeout=0)] == []  # already seen finished
    with pytest.raises(WaitTimeout, match="is still queued after 0 s") as info:
        hub.wait(waiting, timeout=0)
    assert info.value.task is not None and info.value.task.id == waiting.id  # read once


def test_taskhub_serve_follows_through_the_merged_queue_on_virtual_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("sqlalchemy", reason="needs the serve extra: pip install 'taskhub[serve]'")
    from taskhub.serve.service import Service
    from taskhub.store import Store

    got: list[str] = []
    get = Merge.get

    def recorded(self: Merge[Any], timeout: float | None) -> Any:
        item = get(self, timeout)
        if item is not None:
            got.append(item[0])
        return item

    monkeypatch.setattr(Merge, "get", recorded)
    with simulate("livepeer") as sim, sim.connect(poll_interval=5, poll_max=5) as hub:
        clock = hub.clock = VirtualClock(on_sleep=sim.clock.advance)
        task = hub.submit(kind="upload", url="https://m.example/in.mp4", name="in")
        store = Store(f"sqlite:///{tmp_path / 'serve.db'}")
        service = Service({hub.backend: hub}, store)
        service.follow(hub.backend, [task.id])
        try:
            while service.followed(hub.backend) and sum(clock.slept) < 3600:
                service.drain(1.0)
        finally:
            service.stop()
        store.flush(10)
        row = store.task(task.ref)
        store.close()
    assert row is not None and row["status"]["state"] == "succeeded"
    assert got and set(got) == {hub.backend}  # every update came through the one queue
    assert sum(clock.slept) >= 5  # the task ran on virtual time
