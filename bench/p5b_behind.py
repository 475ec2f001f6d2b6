"""P5b: 1,000 watched tasks behind 2,000 newer unfinished ones, per vendor: requests per cycle.

For each vendor the watched tasks are submitted first and the newer ones after them (unfinished
for the whole run: stuck, waiting for an asynchronous step or an engine that never comes, or held
running), so a newest-first listing meets the 2,000 before any watched task. The 1,000 are then
followed through the backend's shared refresher (``hub.refresher(poll).follow(ids)``) on virtual
time: each pause of the refresher moves the simulator's manual clock by ``step``, so the watched
tasks move on between cycles and the figures do not depend on the machine's speed. Every request
the simulator receives is counted, cycle by cycle (a cycle is one ``adapter.refresh`` call).

Goals: at most ceil(watched / 1000) + 2 = 3 requests per cycle for Livepeer, Cognite, Veritone
Edge and Veritone. Vionlabs has no listing and no batch read: a GET per task, ``max_concurrency``
(default 8) at once, so at most watched + 2 = 1,002 requests per cycle, and a cycle's wall time
at most 0.35x that of sequential GETs (``max_concurrency=1``): one cycle of each, same tasks,
interleaved round by round, medians. It is timed three ways: against the simulator in this
process on loopback (the concurrent reads share one interpreter, and its lock, with the server),
against the same with each answer held ``--rtt`` seconds (the network round trip a real vendor
has and loopback lacks; 0 skips it), and against a simulator served from a spawned process
(``--no-apart`` skips it). On loopback a GET costs CPU only, and two cores bound any overlap.
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import taskhub
from taskhub.adapters.veritone.simulator import DEFAULT_ENGINE, EXTERNAL_ENGINE
from taskhub.adapters.veritone_edge.simulator import ENGINE as EDGE_ENGINE
from taskhub.clock import VirtualClock
from taskhub.model import Task
from taskhub.testing import Simulation, simulate

VENDORS = ("livepeer", "cognite", "veritone-edge", "veritone", "vionlabs")
LISTED = 1000  # rows a page (or jobs a batch document) for the vendors that list


def _goal(vendor: str, watched: int) -> int:
    if vendor == "vionlabs":
        return watched + 2
    return math.ceil(watched / LISTED) + 2


# -- making the account: ``watched`` tasks, then ``newer`` unfinished ones -------------------
#
# Each maker submits the watched tasks spread over ``spread`` simulated seconds (so they move
# on at different cycles), then the newer ones, and returns the watched ids.


def _livepeer(sim: Simulation, hub: taskhub.TaskHub, watched: int, newer: int) -> list[str]:
    ids = []
    for n in range(watched):
        ids.append(hub.submit(kind="upload", url=f"https://m.example/{n}.mp4", name="w").id)
        sim.clock.advance(20.0 / watched)
    sim.clock.advance(1)
    for n in range(newer):  # waiting forever for a worker
        hub.submit(kind="upload", url=f"https://m.example/stuck-{n}.mp4", name="n")
    return ids


def _cognite(sim: Simulation, hub: taskhub.TaskHub, watched: int, newer: int) -> list[str]:
    ids = []
    for _ in range(watched):
        ids.append(hub.submit(workflow="taskhub-auto", version="1").id)
        sim.clock.advance(2.0 / watched)
    sim.clock.advance(0.5)
    for _ in range(newer):  # waiting for their asynchronous step
        hub.submit(workflow="taskhub-demo", version="1")
    return ids


def _veritone_job(hub: taskhub.TaskHub, engine: str) -> str:
    target = {"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "rec"}
    return hub.submit(tasks=[{"engineId": engine, "payload": {}}], target=target).id


def _veritone(sim: Simulation, hub: taskhub.TaskHub, watched: int, newer: int) -> list[str]:
    ids = []
    for _ in range(watched):
        ids.append(_veritone_job(hub, DEFAULT_ENGINE))
        sim.clock.advance(4.0 / watched)
    for _ in range(newer):
        _veritone_job(hub, EXTERNAL_ENGINE)  # no engine comes
    return ids


def _edge(sim: Simulation, hub: taskhub.TaskHub, watched: int, newer: int) -> list[str]:
    ids = []
    for _ in range(watched):  # jobs of four tasks in a row: a change every two seconds
        ids.append(hub.submit(tasks=[{"engineId": EDGE_ENGINE}] * 4).id)
        sim.clock.advance(4.0 / watched)
    later = [hub.submit(tasks=[{"engineId": EDGE_ENGINE}]) for _ in range(newer)]
    for start in range(0, len(later), 500):  # held running (a status the platform set)
        hub.adapter.transport.request(
            "POST",
            "/proc/tasks/update_status",
            operation="report",
            json={
                "taskIDs": [j.subtasks[0].id for j in later[start : start + 500]],
                "taskStatus": "running",
            },
        )
    return ids


def _vionlabs(sim: Simulation, hub: taskhub.TaskHub, watched: int, newer: int) -> list[str]:
    adapter: Any = hub.adapter
    ids = []
    for n in range(watched + newer):
        adapter.upsert_item(f"film-{n}", "standalone", f"Film {n}", asset_url=f"s3://b/{n}.mp4")
        task = hub.submit(inventory_id=f"film-{n}", product="markers", version="1")
        if n < watched:
            ids.append(task.id)
            sim.clock.advance(2.0 / watched)
    return ids


#: vendor: (simulator settings, maker, simulated seconds between cycles)
SETUPS: dict[str, tuple[dict[str, Any], Callable[..., list[str]], float]] = {
    "livepeer": ({"running_s": 20.0}, _livepeer, 2.0),
    "cognite": ({"task_s": 10.0}, _cognite, 1.0),
    "veritone-edge": ({}, _edge, 1.0),
    "veritone": ({"task_s": 10.0}, _veritone, 1.0),
    "vionlabs": ({"processing_s": 10.0}, _vionlabs, 1.0),
}


# -- following ---------------------------------------------------------------------------------


def follow(
    sim: Simulation, hub: taskhub.TaskHub, ids: list[str], *, cycles: int, step: float
) -> dict[str, Any]:
    """Follow ``ids`` through the refresher for ``cycles`` cycles, ``step`` simulated seconds
    apart; the requests the simulator received in each cycle."""
    poll = taskhub.PollPolicy(initial=step, factor=1.0, ceiling=step, jitter=0.0)
    refresher = hub.refresher(poll)
    adapter: Any = refresher.adapter
    log = sim.simulator.log
    marks: list[int] = []
    original = adapter.refresh

    def counted(task_ids: Sequence[str]) -> Iterator[Task | taskhub.TaskhubError]:
        marks.append(len(log))
        return original(task_ids)

    adapter.refresh = counted
    states: dict[str, taskhub.State] = {}
    errors = 0
    start = refresher.cycles
    started = time.perf_counter()
    try:
        with refresher.follow(ids) as sub:
            while refresher.cycles - start < cycles:
                update = sub.get(timeout=0.05)
                if update is None:
                    continue
                if update.task is not None:
                    states[update.task.id] = update.task.state
                else:
                    errors += 1
        while refresher.running:  # the cycle under way when we let go ends first
            time.sleep(0.01)
    finally:
        marks.append(len(log))
        del adapter.refresh
    elapsed = time.perf_counter() - started
    counts = [b - a for a, b in itertools.pairwise(marks)]
    later = counts[1:] or counts
    return {
        "cycles": len(counts),
        "first": counts[0],
        "steady max": max(later),
        "steady median": statistics.median(later),
        "per cycle": counts,
        "finished": sum(1 for s in states.values() if s.terminal),
        "errors": errors,
        "seconds": elapsed,
    }


def walls(
    connect: Callable[[int], taskhub.TaskHub], ids: list[str], *, rounds: int
) -> dict[str, float]:
    """Median wall seconds of one ``refresh`` cycle (the refresher's adapter) with
    ``max_concurrency`` 8 and 1, the same tasks, interleaved round by round."""
    sides = {"concurrent (8)": 8, "sequential (1)": 1}
    hubs = {name: connect(n) for name, n in sides.items()}
    adapters: dict[str, Any] = {n: h.refresher().adapter for n, h in hubs.items()}
    samples: dict[str, list[float]] = {name: [] for name in sides}
    try:
        for adapter in adapters.values():  # warm up: threads, connections, imports
            list(adapter.refresh(ids[:16]))
        for _ in range(rounds):
            for name, adapter in adapters.items():
                begun = time.perf_counter()
                read = list(adapter.refresh(ids))
                samples[name].append(time.perf_counter() - begun)
                if sum(isinstance(t, Task) for t in read) != len(ids):
                    raise RuntimeError(f"{name}: a cycle did not read every task")
    finally:
        for hub in hubs.values():
            hub.close()
    figures = {name: statistics.median(values) for name, values in samples.items()}
    figures["ratio"] = figures["concurrent (8)"] / figures["sequential (1)"]
    return figures


def concurrency(
    sim: Simulation, ids: list[str], *, rounds: int, rtt: float = 0.0
) -> dict[str, float]:
    """:func:`walls` against ``sim`` (in this process), each answer held ``rtt`` seconds."""
    fault = sim.inject("delay", seconds=rtt, times=None) if rtt > 0 else None
    try:
        return walls(
            lambda n: sim.connect(max_retry_time=30, max_concurrency=n), ids, rounds=rounds
        )
    finally:
        if fault is not None:
            fault.times = 0  # spent: no more answers held


def _serve_apart(settings: dict[str, Any], options: Any, stop: Any) -> None:
    """In a child process: a Vionlabs simulator until ``stop``; its options go to ``options``."""
    with simulate("vionlabs", **settings) as sim:
        options.put(sim.options)
        stop.wait(3600)


def concurrency_apart(watched: int, *, rounds: int) -> dict[str, float]:
    """:func:`walls` against a Vionlabs simulator served from a spawned process, so the server
    does not share this interpreter (nor its lock) with the concurrent reads."""
    context = multiprocessing.get_context("spawn")
    options, stop = context.Queue(), context.Event()
    settings = SETUPS["vionlabs"][0]
    server = context.Process(target=_serve_apart, args=(settings, options, stop))
    server.start()
    try:
        found = options.get(timeout=120)
        with taskhub.connect("vionlabs", max_retry_time=30, **found) as hub:
            adapter: Any = hub.adapter
            ids = []
            for n in range(watched):
                adapter.upsert_item(f"film-{n}", "standalone", f"Film {n}", asset_url=f"s3://b/{n}")
                ids.append(hub.submit(inventory_id=f"film-{n}", product="markers", version="1").id)
        return walls(
            lambda n: taskhub.connect("vionlabs", max_retry_time=30, max_concurrency=n, **found),
            ids,
            rounds=rounds,
        )
    finally:
        stop.set()
        server.join(30)
        if server.is_alive():
            server.kill()


def run(
    vendor: str,
    watched: int = 1000,
    newer: int = 2000,
    *,
    cycles: int = 12,
    rounds: int = 5,
    rtt: float = 0.02,
    apart: bool = True,
) -> dict[str, Any]:
    """One vendor: make the account, follow the watched tasks, count requests per cycle (and
    for Vionlabs, time a concurrent against a sequential cycle)."""
    settings, make, step = SETUPS[vendor]
    if vendor == "livepeer":
        settings = {**settings, "max_active": watched + newer + 1}
    with simulate(vendor, **settings) as sim, sim.connect(max_retry_time=30) as hub:
        made = time.perf_counter()
        ids = make(sim, hub, watched, newer)
        made = time.perf_counter() - made
        hub.clock = VirtualClock(on_sleep=sim.clock.advance)
        figures: dict[str, Any] = {
            "watched": watched,
            "newer": newer,
            "goal": _goal(vendor, watched),
        }
        figures.update(follow(sim, hub, ids, cycles=cycles, step=step))
        figures["setup seconds"] = made
        if vendor == "vionlabs":
            figures["wall loopback"] = concurrency(sim, ids, rounds=rounds)
            if rtt > 0:
                figures[f"wall rtt {rtt * 1000:g} ms"] = concurrency(
                    sim, ids, rounds=rounds, rtt=rtt
                )
    if vendor == "vionlabs" and apart:
        figures["wall server apart"] = concurrency_apart(watched, rounds=rounds)
    return figures


def _show(vendor: str, figures: dict[str, Any]) -> None:
    goal = figures["goal"]
    most = max(figures["first"], figures["steady max"])
    print(
        f"  {vendor:<14} first={figures['first']}  steady max={figures['steady max']}"
        f"  steady median={figures['steady median']:g}  (goal <= {goal}:"
        f" {'met' if most <= goal else 'MISSED'})  cycles={figures['cycles']}"
        f"  finished={figures['finished']}/{figures['watched']}  errors={figures['errors']}"
        f"  follow {figures['seconds']:.1f} s, setup {figures['setup seconds']:.1f} s"
    )
    print(f"  {'':<14} per cycle: {figures['per cycle']}")
    for key, wall in figures.items():
        if key.startswith("wall"):
            print(
                f"  {'':<14} {key}: one cycle concurrent {wall['concurrent (8)']:.3f} s,"
                f" sequential {wall['sequential (1)']:.3f} s, ratio {wall['ratio']:.2f}x"
                f" (goal <= 0.35x: {'met' if wall['ratio'] <= 0.35 else 'MISSED'})"
            )


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--watched", type=int, default=1000)
    parser.add_argument("--newer", type=int, default=2000)
    parser.add_argument("--cycles", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=5, help="Vionlabs wall-time rounds")
    parser.add_argument(
        "--rtt", type=float, default=0.02, help="Vionlabs: seconds each answer is held (0: skip)"
    )
    parser.add_argument(
        "--no-apart",
        action="store_true",
        help="Vionlabs: skip the comparison against a simulator in another process",
    )
    parser.add_argument("--vendor", action="append", choices=VENDORS, help="default: all five")
    args = parser.parse_args(argv)
    print(
        f"P5b follow {args.watched} watched tasks behind {args.newer} newer unfinished ones"
        f" (requests counted at the simulator, {args.cycles} cycles)"
    )
    results = {}
    for vendor in args.vendor or VENDORS:
        figures = run(
            vendor,
            args.watched,
            args.newer,
            cycles=args.cycles,
            rounds=args.rounds,
            rtt=args.rtt,
            apart=not args.no_apart,
        )
        _show(vendor, figures)
        results[vendor] = figures
    return results


if __name__ == "__main__":
    main()
