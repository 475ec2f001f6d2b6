"""taskhub.aio on real event loops against the simulators: the sync hub's own checks, errors,
redaction and state machine, a loop that never blocks, and waits through the shared
refresher (one subscription per loop, no thread or poll per waiter)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import requests

import taskhub
from taskhub import (
    AuthError,
    InvalidRequest,
    InvalidTransition,
    PollPolicy,
    StaleTask,
    State,
    Transition,
    UnsupportedOperation,
    WaitTimeout,
)
from taskhub.adapters.cognite.hub import CogniteHub
from taskhub.adapters.livepeer.hub import LivepeerHub
from taskhub.aio import AsyncTaskHub
from taskhub.clock import VirtualClock
from taskhub.refresh import Refresher, Subscription
from taskhub.testing import SimClock, Simulation, simulate

FAST = PollPolicy(initial=0.05, factor=1.0, ceiling=0.05, jitter=0.0)
MINUTE = PollPolicy(initial=60, factor=1.0, ceiling=60, jitter=0.0)
URL = "https://media.example.com/in.mp4"
STUCK = "https://media.example.com/stuck.mp4"
MAX_READS = 8  # the adapter's concurrent reads by id (max_concurrency's default)
_T = TypeVar("_T")


def run(main: Callable[[], Awaitable[_T]]) -> _T:
    """``main()`` on a new event loop, bounded in real time."""

    async def bounded() -> _T:
        return await asyncio.wait_for(main(), 60)

    return asyncio.run(bounded())


def _client_threads() -> int:
    """Threads of this process but the simulator's request handlers (one per request)."""
    return sum(1 for t in threading.enumerate() if "process_request" not in t.name)


@pytest.fixture
def livepeer() -> Iterator[Simulation]:
    with simulate("livepeer", clock=SimClock(speed=40)) as sim:
        yield sim


def test_connect_gives_the_vendors_hub_and_every_operation_as_a_coroutine(
    livepeer: Simulation,
) -> None:
    async def main() -> None:
        async with taskhub.aio.connect("livepeer", **livepeer.options) as hub:
            assert isinstance(hub, AsyncTaskHub) and isinstance(hub.sync, LivepeerHub)
            assert (hub.vendor, hub.backend, "cancel" in hub.capabilities) == (
                "livepeer",
                "livepeer",
                False,
            )
            task = await hub.submit(kind="upload", url=URL, name="in")
            assert (await hub.get(task.ref)).id == task.id
            seen: list[Transition] = []
            done = await hub.wait(task, timeout=30, on_update=seen.append, poll=FAST)
            assert done.state is State.SUCCEEDED
            assert [t.after for t in seen][-1] is State.SUCCEEDED
            listed = [t.id async for t in hub.list(limit=5)]
            assert task.id in listed
            (asset,) = done.outputs[:1]
            fetched = await hub.call(hub.sync.ex_asset, asset)  # a vendor's own ex_ call
            assert fetched.id == asset.id
        with pytest.raises(RuntimeError):  # closed with the block, its pool too
            await hub.get(task)

    run(main)


def test_the_same_checks_errors_and_redaction_as_the_sync_hub(livepeer: Simulation) -> None:
    async def main() -> None:
        hub = await taskhub.aio.connect("livepeer", **livepeer.options)
        before = len(livepeer.requests)
        with pytest.raises(InvalidRequest):
            await hub.get("a\nb")
        with pytest.raises(UnsupportedOperation, match="cancel"):
            await hub.cancel("abc")
        with pytest.raises(InvalidRequest, match="positive whole number"):
            hub.list(limit=0)  # refused at the call, as the sync hub's
        with pytest.raises(InvalidRequest, match="not both"):
            hub.watch(["abc"], state="running")
        assert len(livepeer.requests) == before  # nothing reached the vendor
        await hub.aclose()
        bad = await taskhub.aio.connect("livepeer", **{**livepeer.options, "api_key": "k" * 32})
        with pytest.raises(AuthError) as info:
            await bad.get("abc")
        assert "k" * 32 not in str(info.value) + repr(info.value)
        await bad.aclose()

    run(main)


def test_one_answer_per_task_through_the_asyncio_hub() -> None:
    with simulate("cognite", clock=SimClock(speed=40)) as sim:

        async def main() -> None:
            async with taskhub.aio.connect("cognite", **sim.options) as hub:
                assert isinstance(hub.sync, CogniteHub)
                run_ = await hub.submit(workflow="taskhub-auto", version="1")
                done = await hub.wait(run_, timeout=30, poll=FAST)
                # Cognite's cycle reads a listing: the wait reads the execution whole.
                assert done.state is State.SUCCEEDED and done.subtasks
                other = await hub.submit(workflow="taskhub-auto", version="1")
                gets: list[taskhub.Task | str] = []
                get = hub.sync.get

                def counted(task: taskhub.Task | str) -> taskhub.Task:
                    gets.append(task)
                    return get(task)

                hub.sync.get = counted  # type: ignore[method-assign,assignment]
                cheap = await hub.wait(other, timeout=30, poll=FAST, whole=False)
                assert cheap.state is State.SUCCEEDED and gets == []  # no get of its own
                assert (await hub.wait(other, timeout=30, poll=FAST)).subtasks
                assert gets == [other.id]  # whole: read once more by its id
                before = len(sim.requests)
                with pytest.raises(InvalidTransition, match="already succeeded"):
                    await hub.cancel(run_)
                assert len(sim.requests) == before
                found = await hub.find_submitted({"operation": "retry", "task_id": run_.id})
                assert found is None

        run(main)


def test_the_loop_keeps_running_while_calls_and_waits_are_under_way(
    livepeer: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    senders: set[int] = set()
    send = requests.adapters.HTTPAdapter.send

    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        senders.add(threading.get_ident())
        return send(self, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", recorded)
    livepeer.inject("delay", seconds=0.3, method="GET")  # slow answers the loop must not feel

    async def main() -> tuple[int, int, float]:
        loop_thread = threading.get_ident()
        ticks, worst = 0, 0.0

        async def tick() -> None:
            nonlocal ticks, worst
            while True:
                started = time.perf_counter()
                await asyncio.sleep(0.005)
                worst = max(worst, time.perf_counter() - started)
                ticks += 1

        ticker = asyncio.create_task(tick())
        async with taskhub.aio.connect("livepeer", **livepeer.options) as hub:
            task = await hub.submit(kind="upload", url=URL, name="in")
            await asyncio.gather(hub.get(task), hub.wait(task, timeout=30, poll=FAST))
        ticker.cancel()
        return loop_thread, ticks, worst

    loop_thread, ticks, worst = run(main)
    assert senders and loop_thread not in senders  # every request left from another thread
    assert ticks > 20  # the loop went on meanwhile (a blocked loop would not tick)
    assert worst < 0.3  # never held for one slow answer


def test_many_waits_in_one_loop_share_one_subscription_and_one_read_per_cycle(
    livepeer: Simulation, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Subscription] = []
    follow = Refresher.follow

    def counted(self: Refresher, *args: Any, **kwargs: Any) -> Subscription:
        made.append(follow(self, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(Refresher, "follow", counted)

    async def main() -> tuple[list[State], int, int, int]:
        async with taskhub.aio.connect("livepeer", **livepeer.options) as hub:
            tasks = [
                await hub.submit(kind="upload", url=f"{URL}?n={n}", name="x") for n in range(60)
            ]
            refresher = hub.sync.refresher(FAST)
            start, cycles = len(livepeer.requests), refresher.cycles
            threads = _client_threads()
            done = await asyncio.gather(*(hub.wait(t, timeout=60, poll=FAST) for t in tasks))
            # The refresher and its bounded read pool at most, for sixty waiters.
            assert _client_threads() <= threads + 1 + MAX_READS
            reads = len(livepeer.requests) - start
            return [t.state for t in done], reads, refresher.cycles - cycles, len(made)

    states, reads, cycles, subscriptions = run(main)
    assert set(states) == {State.SUCCEEDED}
    assert subscriptions == 1  # the loop's one subscription for the sixty waits
    assert cycles >= 1 and reads <= 2 * cycles  # one listing a cycle (one or two by id)


def test_watch_is_an_async_iterator_and_lists_what_to_watch(livepeer: Simulation) -> None:
    async def main() -> None:
        async with taskhub.aio.connect("livepeer", **livepeer.options) as hub:
            tasks = [await hub.submit(kind="upload", url=f"{URL}?w={n}", name="w") for n in (1, 2)]
            ends = {t.ref: t.after async for t in hub.watch(tasks, poll=FAST) if t.after.terminal}
            assert ends == {t.ref: State.SUCCEEDED for t in tasks}
            assert hub.sync.tracker._watched == {}  # released
            stuck = await hub.submit(kind="upload", url=STUCK, name="s")
            with pytest.raises(WaitTimeout, match=r"1 task still unfinished after 0\.3 s"):
                async for _ in hub.watch(state=State.QUEUED, timeout=0.3, poll=FAST):
                    pass
            assert (await hub.get(stuck)).state is State.QUEUED

    run(main)


def test_a_listing_is_read_in_the_pool_and_can_be_left_early(livepeer: Simulation) -> None:
    with livepeer.connect() as sync:
        ids = {sync.submit(kind="upload", url=f"{URL}?l={n}", name="l").id for n in range(25)}

    async def main() -> None:
        async with taskhub.aio.connect("livepeer", **livepeer.options) as hub:
            assert {t.id async for t in hub.list()} >= ids
            first = []
            async for task in hub.list():
                first.append(task)
                if len(first) == 3:
                    break
            assert len(first) == 3

    run(main)


def test_the_asyncio_wait_runs_on_virtual_time() -> None:
    with simulate("livepeer") as sim:  # a manual clock: only the refresher's pauses move it

        async def main() -> None:
            async with taskhub.aio.connect("livepeer", **sim.options) as hub:
                hub.sync.clock = clock = VirtualClock(on_sleep=sim.clock.advance)
                task = await hub.submit(kind="upload", url=STUCK, name="s")
                with pytest.raises(StaleTask, match="has not changed for 600 s") as info:
                    await hub.wait(task, stale_after=600, poll=MINUTE)
                assert info.value.task is not None and info.value.task.state is State.QUEUED
                assert 600 <= sum(clock.slept) <= 660

        run(main)
