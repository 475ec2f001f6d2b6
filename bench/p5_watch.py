"""P5: watch 1,000 Livepeer tasks and 1,000 Cognite executions to the end.

Target: at most 2 HTTP requests per poll cycle (per-task polling would be 1,000). The tasks are
submitted through the API, then hub.watch follows them on a fast simulated clock; every request
the simulator receives during the watch is counted per cycle.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterator, Sequence
from typing import Any

import taskhub
from taskhub.model import Task
from taskhub.testing import SimClock, Simulation, simulate

FAST = taskhub.PollPolicy(initial=0.2, factor=1.0, ceiling=0.2)


def measure(sim: Simulation, hub: taskhub.TaskHub, ids: list[str]) -> dict[str, Any]:
    # The watch runs through the backend's shared refresher, which has its own adapter.
    adapter: Any = hub.refresher(FAST).adapter
    marks: list[int] = []
    original = adapter.refresh

    def counted(task_ids: Sequence[str]) -> Iterator[Task]:
        marks.append(len(sim.simulator.log))
        return original(task_ids)

    adapter.refresh = counted
    start_log = len(sim.simulator.log)
    started = time.perf_counter()
    transitions = sum(1 for _ in hub.watch(ids, timeout=300, poll=FAST))
    elapsed = time.perf_counter() - started
    marks.append(len(sim.simulator.log))
    per_cycle = [b - a for a, b in itertools.pairwise(marks)]
    finished = sum(1 for i in ids if hub.tracker.state(f"{hub.backend}:{i}").terminal)
    return {
        "tasks": len(ids),
        "finished": finished,
        "cycles": len(per_cycle),
        "requests": len(sim.simulator.log) - start_log,
        "max per cycle": max(per_cycle),
        "median per cycle": statistics.median(per_cycle),
        "transitions": transitions,
        "seconds": elapsed,
    }


def livepeer(count: int) -> dict[str, Any]:
    with simulate("livepeer", clock=SimClock(speed=1), max_active=count + 1) as sim:
        hub = sim.connect()
        ids = [
            hub.submit(kind="upload", url=f"https://m.example/{n}.mp4", name="x").id
            for n in range(count)
        ]
        return measure(sim, hub, ids)


def cognite(count: int) -> dict[str, Any]:
    with simulate("cognite", clock=SimClock(speed=1)) as sim:
        hub = sim.connect()
        ids = [hub.submit(workflow="taskhub-auto", version="1").id for _ in range(count)]
        return measure(sim, hub, ids)


def main(count: int = 1000) -> None:
    print(f"P5 watch {count} tasks to the end (requests counted at the simulator)")
    for name, run in (("livepeer", livepeer), ("cognite", cognite)):
        figures = run(count)
        print(
            f"  {name:<9} "
            + "  ".join(
                f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
            )
        )


if __name__ == "__main__":
    main()
