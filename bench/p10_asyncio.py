"""P10: the asyncio hub — 1,000 concurrent ``await hub.wait(...)`` in one event loop, and
``await hub.get`` against the sync ``hub.get``.

Targets: at most 3 vendor requests per refresher cycle while the 1,000 waits run (a wait
that polled alone would send 1,000), the event loop's worst stall under 50 ms outside
Python's full garbage collections, and ``await hub.get`` within 1.2 times the sync ``hub.get`` on
the same simulator, the two interleaved round by round (medians).

The Livepeer simulator runs in a child process with the tasks already created, so this process
is the client alone: its event loop (the waits, and a 5 ms heartbeat that measures how late
the loop wakes it), the shared refresher's thread and the hub's pool. Requests are counted as
this process sends them.

    .venv/bin/python bench/p10_asyncio.py [--count 1000] [--cycle 1.0] [--calls 50 --rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import multiprocessing
import queue
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import requests
from common import peek, quantile

import taskhub

#: Seconds between refresher cycles (fixed, so cycles are comparable).
CYCLE = 1.0
#: Simulated seconds per real second: a Livepeer upload takes 5 simulated seconds, so every
#: wait lasts several cycles.
SPEED = 0.25


def serve(count: int, speed: float, ready: Any, stop: Any) -> None:
    """The child: the Livepeer simulator with ``count`` tasks just created."""
    from taskhub.testing import SimClock, simulate

    with simulate("livepeer", clock=SimClock(speed=speed), max_active=count + 1) as sim:
        ids = sim.simulator.bulk(count)
        ready.put((sim.options, ids))
        stop.wait(900)


def run(
    count: int = 1000,
    *,
    cycle: float = CYCLE,
    speed: float = SPEED,
    calls: int = 50,
    rounds: int = 7,
) -> dict[str, Any]:
    """The waits, then the get comparison; the figures."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    child = context.Process(target=serve, args=(count, speed, ready, stop), daemon=True)
    child.start()
    sent = itertools.count()
    send = requests.adapters.HTTPAdapter.send

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        next(sent)
        return send(self, *args, **kwargs)

    try:
        options, ids = _started(ready, child)
        requests.adapters.HTTPAdapter.send = counted  # type: ignore[method-assign]
        return asyncio.run(_measure(options, ids, sent, cycle, calls, rounds))
    finally:
        requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
        stop.set()
        child.join(30)


async def _measure(
    options: dict[str, Any],
    ids: list[str],
    sent: Any,
    cycle: float,
    calls: int,
    rounds: int,
) -> dict[str, Any]:
    async with taskhub.aio.connect(
        "livepeer", **options, poll_interval=cycle, poll_max=cycle
    ) as hub:
        waits = await _waits(hub, ids, sent)
        gets = await _gets(hub, ids[:calls], rounds)
    return {**waits, **gets}


async def _waits(
    hub: taskhub.AsyncTaskHub[taskhub.TaskHub], ids: list[str], sent: Any
) -> dict[str, Any]:
    refresher = hub.sync.refresher()
    marks: list[int] = []  # requests sent so far, at each cycle's start
    original = refresher.adapter.refresh

    def marked(task_ids: Sequence[str]) -> Iterator[Any]:
        marks.append(peek(sent))
        read: Iterator[Any] = original(task_ids)
        return read

    refresher.adapter.refresh = marked  # type: ignore[method-assign]
    stalls: list[tuple[float, float]] = []  # (when the beat slept, how late it woke)
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            slept = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append((slept, time.perf_counter() - slept - 0.005))

    pauses: list[tuple[float, float]] = []  # (start, end) of each full collection
    began: list[float] = []

    def collected(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                began.append(time.perf_counter())
            elif began:
                pauses.append((began.pop(), time.perf_counter()))

    gc.callbacks.append(collected)
    beat = asyncio.ensure_future(heartbeat())
    threads = threading.active_count()
    started = time.perf_counter()
    try:
        finished = await asyncio.gather(*(hub.wait(i, timeout=600) for i in ids))
    finally:
        elapsed = time.perf_counter() - started
        most_threads = threading.active_count()
        done.set()
        await beat
        gc.callbacks.remove(collected)
        marks.append(peek(sent))
        refresher.adapter.refresh = original  # type: ignore[method-assign]
    per_cycle = [b - a for a, b in itertools.pairwise(marks)]
    late = [d for _, d in stalls]
    clear = [d for t, d in stalls if not any(a <= t + d + 0.005 and t <= b for a, b in pauses)]
    return {
        "finished": sum(1 for t in finished if t.state.successful),
        "seconds": elapsed,
        "cycles": len(per_cycle),
        "requests": sum(per_cycle),
        "max requests per cycle": max(per_cycle, default=0),
        "median requests per cycle": statistics.median(per_cycle) if per_cycle else 0,
        "threads before / after": f"{threads} / {most_threads}",
        "worst stall ms": max(late, default=0.0) * 1000,
        "p99 stall ms": quantile(late, 0.99) * 1000,
        "worst stall outside gc ms": max(clear, default=0.0) * 1000,
        "full gc pauses": len(pauses),
    }


async def _gets(
    hub: taskhub.AsyncTaskHub[taskhub.TaskHub], ids: list[str], rounds: int
) -> dict[str, Any]:
    """Median seconds per call of sync ``hub.get`` and ``await hub.get``, interleaved."""
    sync = hub.sync
    sides: dict[str, list[float]] = {"sync": [], "await": []}
    for task_id in ids[:3]:  # warm up the pool's threads and the connections
        sync.get(task_id)
        await hub.get(task_id)
    for _ in range(rounds):
        start = time.perf_counter()
        for task_id in ids:
            sync.get(task_id)  # blocks the loop: only this side of the measure runs
        sides["sync"].append((time.perf_counter() - start) / len(ids))
        start = time.perf_counter()
        for task_id in ids:
            await hub.get(task_id)
        sides["await"].append((time.perf_counter() - start) / len(ids))
    blocking, awaited = (statistics.median(sides[k]) for k in ("sync", "await"))
    return {
        "sync get ms": blocking * 1000,
        "await get ms": awaited * 1000,
        "await / sync": awaited / blocking,
    }


def _started(ready: Any, child: Any) -> tuple[dict[str, Any], list[str]]:
    """What the simulator's process sends once its tasks exist (or why it never will)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            found: tuple[dict[str, Any], list[str]] = ready.get(timeout=1)
            return found
        except queue.Empty:
            if not child.is_alive():
                raise RuntimeError("the simulator's process ended before it was ready") from None
    raise RuntimeError("the simulator's process was not ready after 600 s")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--cycle", type=float, default=CYCLE, help="seconds between cycles")
    parser.add_argument("--speed", type=float, default=SPEED, help="simulated s per real s")
    parser.add_argument("--calls", type=int, default=50, help="gets per side per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    figures = run(
        args.count, cycle=args.cycle, speed=args.speed, calls=args.calls, rounds=args.rounds
    )
    print(
        f"P10 {args.count:,} concurrent await hub.wait(...) in one event loop, Livepeer "
        f"simulator in a child process, one cycle every {args.cycle:g} s "
        f"(Python {sys.version.split()[0]})"
    )
    for name, value in figures.items():
        shown = (
            f"{value:,.3f}"
            if isinstance(value, float)
            else f"{value:,}"
            if isinstance(value, int)
            else value
        )
        print(f"  {name:<28} {shown}")
    return figures


if __name__ == "__main__":
    main()
