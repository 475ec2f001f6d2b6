"""P7: 1,000 TaskHubTriggers running at once in one event loop, as one Airflow triggerer runs
them, against one backend's simulator.

Targets: at most 3 vendor requests per poll cycle (a trigger that polled alone would send
1,000), the event loop's worst stall under 50 ms, and the CPU one cycle costs (the process's,
and the event loop thread's — both include the heartbeat's own, which is measured alone
first and shown apart).

The simulator runs in a child process with the tasks already submitted, so this process is
the triggerer alone: its event loop (the triggers and a 5 ms heartbeat that measures how late
the loop wakes it) and the shared refresher's thread, which reads every followed task once per
cycle and hands each trigger its task. The triggers start one a turn of the loop, as Airflow's
``TriggerRunner.create_triggers`` starts them (``--burst``: all in one turn). Requests are
counted as this process sends them.

Stalls are also measured without the pauses of Python's full (generation 2) garbage
collections, which scan the whole heap — Airflow's imports make it large — whichever thread
sets them off; ``--gc-freeze`` turns on the provider's ``[taskhub] triggerer_gc_freeze``
setting, with which the first trigger moves everything imported so far out of their reach
(``gc.freeze()``), as it does in a triggerer where the deployment turned it on.

Needs Airflow: run it with the Airflow environment's Python (see .ci/run)::

    .venv-airflow/bin/python bench/p7_triggers.py [--count 1000] [--vendor livepeer] [--gc-freeze]
        [--burst]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import gc
import itertools
import json
import multiprocessing
import os
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from common import peek, quantile

#: Seconds between refresher cycles (fixed, so cycles are comparable).
CYCLE = 1.0
#: Simulated seconds per real second: Livepeer's tasks take 5 simulated seconds, Cognite's
#: ``taskhub-auto`` about 2.6, so every trigger waits for several cycles.
SPEEDS = {"livepeer": 0.25, "cognite": 0.15}


def serve(vendor: str, count: int, speed: float, ready: Any, stop: Any) -> None:
    """The child: the vendor's simulator with ``count`` tasks just submitted."""
    from taskhub.testing import SimClock, simulate

    settings = {"max_active": count + 1} if vendor == "livepeer" else {}
    with simulate(vendor, clock=SimClock(speed=speed), **settings) as sim:
        if vendor == "livepeer":
            ids = sim.simulator.bulk(count)  # type: ignore[attr-defined]
        else:
            with sim.connect() as hub:
                spec = {"workflow": "taskhub-auto", "version": "1", "input": {"n": 1}}
                ids = [hub.submit(**spec).id for _ in range(count)]
        ready.put((sim.options, ids))
        stop.wait(900)


def run(
    count: int = 1000,
    vendor: str = "livepeer",
    speed: float | None = None,
    *,
    gc_freeze: bool = False,
    cycle: float = CYCLE,
    burst: bool = False,
) -> dict[str, Any]:
    """Start ``count`` triggers on one loop; figures once every one has fired."""
    if "AIRFLOW_HOME" not in os.environ:
        home = os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="taskhub-p7-")
        atexit.register(shutil.rmtree, home, ignore_errors=True)
    import requests

    from taskhub.airflow import TaskHubHook, TaskHubTrigger
    from taskhub.airflow.connection import secret_option

    if gc_freeze:  # the provider's setting: the first trigger freezes the heap
        os.environ["AIRFLOW__TASKHUB__TRIGGERER_GC_FREEZE"] = "True"

    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    speed = speed or SPEEDS[vendor]
    child = context.Process(target=serve, args=(vendor, count, speed, ready, stop), daemon=True)
    child.start()
    try:
        options, ids = _started(ready, child)
        secret = secret_option(vendor)
        extra = {k: v for k, v in options.items() if k != secret}
        conn = {
            "conn_type": "taskhub",
            "password": options.get(secret) if secret else None,
            "extra": {"vendor": vendor, **extra, "poll_interval": cycle, "poll_max": cycle},
        }
        os.environ["AIRFLOW_CONN_TASKHUB_DEFAULT"] = json.dumps(conn)

        sent = itertools.count()
        send = requests.adapters.HTTPAdapter.send

        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            next(sent)
            return send(self, *args, **kwargs)

        requests.adapters.HTTPAdapter.send = counted  # type: ignore[method-assign]
        try:
            figures = asyncio.run(_triggerer(TaskHubHook, TaskHubTrigger, ids, sent, cycle, burst))
        finally:
            requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
    finally:
        stop.set()
        child.join(30)
    if gc_freeze:
        os.environ.pop("AIRFLOW__TASKHUB__TRIGGERER_GC_FREEZE", None)
        gc.unfreeze()
    return {
        "vendor": vendor,
        "triggers": count,
        "gc frozen": gc_freeze,
        "burst": burst,
        **figures,
    }


async def _triggerer(
    hook: Any, trigger: Any, ids: list[str], sent: Any, cycle: float, burst: bool
) -> dict[str, Any]:
    hub = await hook().aget_hub()
    refresher = hub.refresher()
    marks: list[tuple[int, float, float]] = []  # (requests, cpu, wall) at each cycle start
    original = refresher.adapter.refresh

    def marked(task_ids: Sequence[str]) -> Iterator[Any]:
        marks.append((peek(sent), time.process_time(), time.perf_counter()))
        read: Iterator[Any] = original(task_ids)
        return read

    refresher.adapter.refresh = marked
    stalls: list[tuple[float, float]] = []  # (when the beat slept, how late it woke)
    beats: list[tuple[float, float]] = []  # (wall, the loop thread's CPU) at each beat
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            slept = time.perf_counter()
            beats.append((slept, time.thread_time()))
            await asyncio.sleep(0.005)
            stalls.append((slept, time.perf_counter() - slept - 0.005))

    pauses: list[tuple[float, float]] = []  # (start, end) of each generation-2 collection
    began: list[float] = []

    def collected(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                began.append(time.perf_counter())
            elif began:
                pauses.append((began.pop(), time.perf_counter()))

    # The heartbeat's own CPU per beat, measured alone first (a 5 ms beat is not free: tens
    # of ms a second on a small VM), so the loop's CPU below can be shown without it.
    calibrated, idle = time.perf_counter() + 1.0, 0
    idle_cpu = time.thread_time()
    while time.perf_counter() < calibrated:
        await asyncio.sleep(0.005)
        idle += 1
    per_beat = (time.thread_time() - idle_cpu) / idle
    gc.callbacks.append(collected)
    beat = asyncio.ensure_future(heartbeat())
    started = time.perf_counter()
    triggers = [trigger("taskhub_default", f"{hub.backend}:{i}") for i in ids]
    if burst:
        payloads = await asyncio.gather(*(_first_event(t) for t in triggers))
    else:
        # As Airflow's TriggerRunner.create_triggers starts them: one a turn of the loop.
        running = []
        for one in triggers:
            running.append(asyncio.ensure_future(_first_event(one)))
            await asyncio.sleep(0)
        payloads = await asyncio.gather(*running)
    elapsed = time.perf_counter() - started
    done.set()
    await beat
    gc.callbacks.remove(collected)
    marks.append((peek(sent), time.process_time(), time.perf_counter()))
    refresher.adapter.refresh = original
    per_cycle = [b[0] - a[0] for a, b in itertools.pairwise(marks)]
    cpu = [b[1] - a[1] for a, b in itertools.pairwise(marks)]
    full = [c for c, n in zip(cpu, per_cycle, strict=True) if n]  # cycles that read
    late = [d for _, d in stalls]
    # The loop thread's CPU in each cycle (from the beats that fall in it), the first and
    # the last cycles left out: they hold the start of every trigger and every event.
    loop_cpu, own_cpu = [], []
    for (_, _, a), (_, _, b) in itertools.pairwise(marks[1:-1]):
        inside = [cpu for wall, cpu in beats if a <= wall <= b]
        if len(inside) > 1:
            spent = inside[-1] - inside[0]
            loop_cpu.append(spent / (b - a) * cycle)
            own_cpu.append((spent - (len(inside) - 1) * per_beat) / (b - a) * cycle)
    clear = [d for t, d in stalls if not any(a <= t + d + 0.005 and t <= b for a, b in pauses)]
    return {
        "fired": sum(1 for p in payloads if p["outcome"] == "succeeded"),
        "seconds": elapsed,
        "cycles": len(per_cycle),
        "requests": sum(per_cycle),
        "max requests per cycle": max(per_cycle, default=0),
        "median requests per cycle": statistics.median(per_cycle) if per_cycle else 0,
        "worst stall ms": max(late, default=0.0) * 1000,
        "p99 stall ms": quantile(late, 0.99) * 1000,
        "worst stall outside gc ms": max(clear, default=0.0) * 1000,
        "full gc pauses": len(pauses),
        "worst full gc pause ms": max((b - a for a, b in pauses), default=0.0) * 1000,
        "median cpu ms per cycle": statistics.median(full) * 1000 if full else 0.0,
        "max cpu ms per cycle": max(full, default=0.0) * 1000,
        "heartbeat cpu us per beat": per_beat * 1e6,
        "loop cpu ms per steady cycle": statistics.median(loop_cpu) * 1000 if loop_cpu else 0.0,
        "  less the heartbeat's": statistics.median(own_cpu) * 1000 if own_cpu else 0.0,
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


async def _first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        payload: dict[str, Any] = event.payload
        return payload
    raise RuntimeError("the trigger ended without an event")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--vendor", choices=sorted(SPEEDS), default="livepeer")
    parser.add_argument("--speed", type=float, default=None, help="simulated s per real s")
    parser.add_argument("--cycle", type=float, default=CYCLE, help="seconds between cycles")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="[taskhub] triggerer_gc_freeze = True"
    )
    parser.add_argument(
        "--burst", action="store_true", help="start every trigger in one turn of the loop"
    )
    args = parser.parse_args(argv)
    figures = run(
        args.count,
        args.vendor,
        args.speed,
        gc_freeze=args.gc_freeze,
        cycle=args.cycle,
        burst=args.burst,
    )
    print(
        f"P7 {figures['triggers']:,} TaskHubTriggers in one event loop, {figures['vendor']} "
        f"simulator in a child process, one cycle every {args.cycle:g} s"
        f"{', triggerer_gc_freeze on' if figures['gc frozen'] else ''}"
        f"{', all started in one turn' if figures['burst'] else ''} "
        f"(threads: {threading.active_count()}, Python {sys.version.split()[0]})"
    )
    for name, value in figures.items():
        if name in ("vendor", "triggers", "gc frozen", "burst"):
            continue
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"  {name:<28} {shown}")
    return figures


if __name__ == "__main__":
    main()
