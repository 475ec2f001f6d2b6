"""The shared refresher: one read per cycle for every follower of a backend in the process."""

from __future__ import annotations

import asyncio
import collections
import gc
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

import taskhub
from taskhub import PollPolicy, State, TaskNotFound, VendorUnavailable
from taskhub.budget import Budget
from taskhub.clock import VirtualClock
from taskhub.model import Status, Task
from taskhub.refresh import Refresher, Subscription, Update, _Batches, refresher_for
from taskhub.states import Tracker
from taskhub.testing import SimClock, Simulation, simulate

from .hostile import Answer, HostileServer

FAST = PollPolicy(initial=0.05, factor=1.0, ceiling=0.05, jitter=0.0)
URL = "https://media.example.com/in.mp4"


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with simulate("livepeer", clock=SimClock(speed=20)) as running:
        yield running


def _uploads(hub: taskhub.TaskHub, n: int) -> list[Task]:
    return [hub.submit(kind="upload", url=f"{URL}?n={i}", name=f"in{i}") for i in range(n)]


def test_many_threads_waiting_share_one_read_per_cycle(sim: Simulation) -> None:
    with sim.connect() as hub:
        tasks = _uploads(hub, 30)
        refresher = hub.refresher(FAST)
        before, cycles_before = len(sim.requests), refresher.cycles
        done: list[Task] = []

        def wait(task: Task) -> None:
            with sim.connect() as own:  # a hub per thread, as separate pipeline steps have
                done.append(own.wait(task, timeout=120, poll=FAST))

        threads = [threading.Thread(target=wait, args=(t,)) for t in tasks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        cycles = refresher.cycles - cycles_before
    assert len(done) == 30 and all(t.state is State.SUCCEEDED for t in done)
    gets = [r for r in sim.requests[before:] if r.method == "GET"]
    # One listing per cycle serves all thirty (a cycle for one or two tasks reads them by id).
    assert cycles >= 1
    assert len(gets) <= 2 * cycles
    assert len(gets) < 30 * cycles / 2


def test_followers_come_and_go_and_the_refresher_stops_when_nobody_follows(
    sim: Simulation,
) -> None:
    with sim.connect() as hub:
        first, second = _uploads(hub, 2)
        refresher = hub.refresher(FAST)
        with refresher.follow([first.id]) as a:
            update = a.get(timeout=10)
            assert update is not None and update.task is not None
            with refresher.follow([second.id]) as b:  # joins mid-stream
                seen_b = b.get(timeout=10)
                assert seen_b is not None and seen_b.task is not None
                assert seen_b.task.id == second.id
                assert refresher.followed == {first.id, second.id}
            assert refresher.followed == {first.id}  # b left; a is still served
            assert a.get(timeout=10) is not None
        deadline = time.monotonic() + 10
        while refresher.running and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not refresher.running


def test_a_refresher_nobody_follows_or_holds_goes_and_each_clock_has_its_own(
    sim: Simulation,
) -> None:
    with sim.connect() as hub:
        (task,) = _uploads(hub, 1)
        refresher = hub.refresher(FAST)
        assert hub.refresher(FAST) is refresher  # shared while anyone holds it
        with refresher.follow([task.id]) as sub:
            assert sub.get(timeout=10) is not None
        deadline = time.monotonic() + 10
        while refresher.running and time.monotonic() < deadline:
            time.sleep(0.02)
        gone = weakref.ref(refresher)
        del refresher, sub
        gc.collect()
        assert gone() is None  # idle and unheld: not kept for the life of the process
        # The transport it closed when idle stays usable for the next follower's refresher.
        again = hub.refresher(FAST)
        with again.follow([task.id]) as sub:
            update = sub.get(timeout=10)
            assert update is not None and update.task is not None
        one, other = VirtualClock(), VirtualClock()
        by_one = refresher_for(hub.adapter, policy=FAST, clock=one)
        assert refresher_for(hub.adapter, policy=FAST, clock=one) is by_one
        assert refresher_for(hub.adapter, policy=FAST, clock=other) is not by_one


def test_a_cycles_error_reaches_every_follower_and_the_next_cycle_recovers(
    sim: Simulation,
) -> None:
    with sim.connect(max_retries=0) as hub:
        tasks = _uploads(hub, 3)
        refresher = hub.refresher(FAST)
        # Every read fails until both followers heard of it (whichever read a cycle makes:
        # b may join after a's first cycle), then the vendor recovers.
        sim.inject(status=503, times=None, method="GET", path="/task")
        ids = [t.id for t in tasks]
        with refresher.follow(ids[:2]) as a, refresher.follow(ids[1:]) as b:
            first = [a.get(timeout=10), b.get(timeout=10)]
            assert all(u is not None and isinstance(u.error, VendorUnavailable) for u in first)
            sim.simulator.faults.clear()

            def next_task(sub: Subscription) -> Update | None:
                update = sub.get(timeout=10)
                while update is not None and update.error is not None:  # cycles begun before
                    update = sub.get(timeout=10)
                return update

            assert all(u is not None and u.task is not None for u in (next_task(a), next_task(b)))


def test_a_task_that_cannot_be_read_fails_only_its_own_followers(sim: Simulation) -> None:
    with sim.connect() as hub:
        (task,) = _uploads(hub, 1)
        refresher = hub.refresher(FAST)
        with refresher.follow([task.id]) as good, refresher.follow(["no-such-task"]) as bad:
            missing = bad.get(timeout=10)
            assert missing is not None and isinstance(missing.error, TaskNotFound)
            fine = good.get(timeout=10)
            assert fine is not None and fine.task is not None and fine.error is None


def test_an_event_loop_awaits_updates_without_blocking(sim: Simulation) -> None:
    with sim.connect() as hub:
        tasks = _uploads(hub, 3)
        refresher = hub.refresher(FAST)
        sim.inject("delay", seconds=0.3, method="GET")  # a slow cycle the loop must not feel

        async def follow_all() -> list[Update]:
            loop = asyncio.get_running_loop()
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.005)

            ticker = asyncio.create_task(tick())
            subs = [refresher.follow([t.id], loop=loop) for t in tasks]
            try:
                got = await asyncio.wait_for(
                    asyncio.gather(*(s.next_async() for s in subs)), timeout=10
                )
            finally:
                for sub in subs:
                    sub.close()
                ticker.cancel()
            assert ticks > 10  # the loop kept running while the refresher read
            return list(got)

        updates = asyncio.run(follow_all())
    assert sorted(u.task.id for u in updates if u.task) == sorted(t.id for t in tasks)


class CountingLoop(asyncio.SelectorEventLoop):
    """A real event loop that notes every callback the refresher's thread schedules on it,
    with the refresher's cycle count at that moment."""

    refresher: Refresher | None = None

    def __init__(self) -> None:
        super().__init__()
        self.scheduled: list[tuple[int, tuple[Any, ...]]] = []

    def call_soon_threadsafe(  # type: ignore[override]
        self, callback: Callable[..., object], *args: Any, context: Any = None
    ) -> asyncio.Handle:
        if self.refresher is not None and threading.current_thread().name.startswith(
            "taskhub-refresh"
        ):
            self.scheduled.append((self.refresher.cycles, args))
        return super().call_soon_threadsafe(callback, *args, context=context)


def test_a_cycle_hands_a_loop_all_its_observations_in_one_callback(
    sim: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sim.connect() as hub:
        tasks = _uploads(hub, 3)
        ids = [t.id for t in tasks]
        refresher = hub.refresher(FAST)
        monkeypatch.setattr(_Batches, "HOLD", 60.0)  # no early hand-over: one per cycle
        # The first cycle waits until every follower is registered, so it serves them all.
        registered = threading.Event()
        read = refresher.adapter.refresh

        def gated(task_ids: Sequence[str]) -> Iterator[Task | taskhub.TaskhubError]:
            registered.wait(10)
            return read(task_ids)

        monkeypatch.setattr(refresher.adapter, "refresh", gated)

        async def follow_all() -> tuple[list[list[Update]], list[Update]]:
            loop = asyncio.get_running_loop()
            assert isinstance(loop, CountingLoop)
            loop.refresher = refresher
            subs = [refresher.follow(ids, loop=loop) for _ in range(20)]
            missing = refresher.follow(["no-such-task"], loop=loop)
            registered.set()
            try:
                firsts = await asyncio.wait_for(
                    asyncio.gather(*(s.updates_async() for s in subs)), timeout=10
                )
                lost = [await asyncio.wait_for(missing.next_async(), timeout=10)]
                # Whatever else the cycles so far brought (taken without waiting).
                for sub, first in zip(subs, firsts, strict=True):
                    while not sub._async.empty():  # type: ignore[union-attr]
                        first.append(sub._async.get_nowait())  # type: ignore[union-attr]
                while not missing._async.empty():  # type: ignore[union-attr]
                    lost.append(missing._async.get_nowait())  # type: ignore[union-attr]
            finally:
                for sub in [*subs, missing]:
                    sub.close()
            return list(firsts), lost

        loop = CountingLoop()  # (asyncio.Runner's loop_factory is Python 3.11's)
        try:
            seen, lost = loop.run_until_complete(follow_all())
        finally:
            loop.close()
        scheduled = loop.scheduled
    # One callback per cycle for the 21 subscriptions of the loop, not one per observation.
    per_cycle = collections.Counter(cycle for cycle, _ in scheduled)
    assert per_cycle and set(per_cycle.values()) == {1}
    (batch,) = scheduled[0][1]
    assert len(batch) >= 20 * 3  # the first cycle: three tasks for each of twenty followers
    # Every follower hears every observation of its tasks, in the cycle's order.
    order = list(dict.fromkeys(u.task.id for _, u in batch if u.task is not None))
    assert sorted(order) == sorted(ids)
    for updates in seen:
        assert [u.task.id for u in updates if u.task is not None][:3] == order
        assert all(u.error is None for u in updates)
    # The task that cannot be read reaches only its own follower.
    assert lost and all(isinstance(u.error, TaskNotFound) and u.task is None for u in lost)


def test_a_vendor_without_a_batch_read_is_read_concurrently_within_its_bound() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def answer(_: object) -> Answer:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.1)
        with lock:
            in_flight -= 1
        return Answer.json({"status": "processing"})

    with HostileServer(cap=30) as srv:
        srv.fallback = Answer.callable(answer)
        hub = taskhub.connect(
            "vionlabs", api_key="k" * 16, base_url=srv.url, auth="header", max_concurrency=4
        )
        with hub:
            ids = [f"m{n}/markers/1" for n in range(16)]
            read = list(hub.adapter.refresh(ids))
    assert len(read) == 16 and len(srv.requests) == 16
    assert 2 <= peak <= 4


def test_the_budget_spaces_requests_at_its_rate_on_virtual_time() -> None:
    clock = VirtualClock()
    budget = Budget(5.0, burst=1.0, clock=clock.monotonic, sleep=clock.sleep)
    for _ in range(11):
        budget.acquire()
    assert budget.granted == 11
    assert clock.monotonic() == pytest.approx(2.0)  # 10 waits of 1/5 s after the first


def test_a_429_pauses_every_caller_of_the_backend(sim: Simulation) -> None:
    with sim.connect(max_retries=3) as one, sim.connect(max_retries=3) as two:
        (task,) = _uploads(one, 1)
        budget = one.adapter.transport.budget
        assert budget is two.adapter.transport.budget  # one budget per backend per process
        sim.inject(status=429, times=1, method="GET", headers={"Retry-After": "0.3"})
        waited = budget.waited
        assert one.get(task).id == task.id  # retried after the pause
        assert budget.waited > waited
        paused_again = budget.waited
        budget.pause(0.2)
        assert two.get(task).id == task.id  # the other hub waits out the shared pause
        assert budget.waited > paused_again


def test_a_watched_task_is_never_evicted_so_its_guard_holds() -> None:
    tracker = Tracker(max_tasks=100)
    watched = [f"b:w{i}" for i in range(300)]
    tracker.watch(watched)
    done = Status(State.SUCCEEDED)
    for ref in watched:
        tracker.observe(Task("b", "toy", ref[2:], done))
    for i in range(500):  # unwatched traffic
        tracker.observe(Task("b", "toy", f"u{i}", Status(State.RUNNING)))
    assert len(tracker) == 300 + 0  # every watched task kept; unwatched ones evicted first
    stale = Task("b", "toy", "w7", Status(State.RUNNING))
    assert tracker.observe(stale) is None  # the regression guard still holds
    assert tracker.state("b:w7") is State.SUCCEEDED
    tracker.unwatch(watched)
    assert len(tracker) == 100


def test_wait_and_watch_release_what_they_watch(sim: Simulation) -> None:
    with sim.connect() as hub:
        tasks = _uploads(hub, 3)
        list(hub.watch(tasks, timeout=60, poll=FAST))
        hub.wait(tasks[0], timeout=60, poll=FAST)
        assert hub.tracker._watched == {}


def test_watch_all_follows_several_backends_at_once() -> None:
    with (
        simulate("livepeer", clock=SimClock(speed=20)) as lp,
        simulate("cognite", clock=SimClock(speed=20)) as cdf,
    ):
        hubs = taskhub.connect_all(
            {
                "backends": {
                    "media": {"vendor": "livepeer", **lp.options, "poll_interval": 0.05},
                    "flows": {"vendor": "cognite", **cdf.options, "poll_interval": 0.05},
                }
            }
        )
        uploads = [
            hubs["media"].submit(kind="upload", url=f"{URL}?w={n}", name="w") for n in range(3)
        ]
        runs = [hubs["flows"].submit(workflow="taskhub-auto", version="1") for _ in range(3)]
        seen = list(taskhub.watch_all([*uploads, *(r.ref for r in runs)], hubs, timeout=120))
        for hub in hubs.values():
            hub.close()
    finished = {t.ref for t in seen if t.after.terminal}
    assert finished == {t.ref for t in uploads} | {r.ref for r in runs}
    with pytest.raises(taskhub.ConfigError, match="unknown backend 'other'"):
        list(taskhub.watch_all(["other:abc"], hubs))
