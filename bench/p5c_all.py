"""P5c: 10,000 tasks across all five backends in one process, followed to the end through one
``taskhub.watch_all`` over a ``connect_all``.

Prints, per backend: the refresher's cycles, the requests the simulator received during the
watch and their number per cycle; and for the whole process: CPU seconds per cycle (goal
<= 0.5 s for 10,000 tasks) and the wall time of a cycle. Each simulator runs on a fast clock
so the work finishes; every task is submitted through the API first.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from typing import Any

import taskhub
from taskhub.testing import Clock, Simulation, simulate

POLL = {"poll_interval": 1.0, "poll_max": 1.0}


def _specs(vendor: str, sim: Simulation) -> Callable[[int], dict[str, Any]]:
    simulator: Any = sim.simulator
    if vendor == "livepeer":
        return lambda n: {"kind": "upload", "url": f"https://m.example/{n}.mp4", "name": "x"}
    if vendor == "cognite":
        return lambda n: {"workflow": "taskhub-auto", "version": "1"}
    if vendor == "vionlabs":

        def vionlabs(n: int) -> dict[str, Any]:
            item = {"id": f"film-{n}", "type": "standalone", "title": f"Film {n}"}
            simulator.add_item({**item, "asset_url": f"s3://b/{n}.mp4"})
            return {"inventory_id": f"film-{n}", "product": "markers", "version": "1"}

        return vionlabs
    spec = simulator.demo_spec()
    return lambda n: spec


def run(per_backend: int = 2000) -> dict[str, dict[str, Any]]:
    vendors = ["livepeer", "cognite", "veritone", "veritone-edge", "vionlabs"]
    with contextlib.ExitStack() as stack:
        sims = {
            v: stack.enter_context(
                simulate(v, clock=Clock(speed=10), **({"max_active": per_backend + 1}
                                                      if v == "livepeer" else {}))
            )
            for v in vendors
        }  # fmt: skip
        config = {"backends": {v: {"vendor": v, **s.options, **POLL} for v, s in sims.items()}}
        hubs = taskhub.connect_all(config)
        tasks: list[taskhub.Task] = []
        for vendor, hub in hubs.items():
            make = _specs(vendor, sims[vendor])
            tasks += [hub.submit(**make(n)) for n in range(per_backend)]
        refreshers = {v: hub.refresher() for v, hub in hubs.items()}
        before = {v: (len(sims[v].requests), refreshers[v].cycles) for v in vendors}
        cpu, wall = time.process_time(), time.perf_counter()
        transitions = sum(1 for _ in taskhub.watch_all(tasks, hubs, timeout=1800))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        figures: dict[str, dict[str, Any]] = {}
        for v in vendors:
            requests = len(sims[v].requests) - before[v][0]
            cycles = refreshers[v].cycles - before[v][1]
            figures[v] = {
                "tasks": per_backend,
                "cycles": cycles,
                "requests": requests,
                "per cycle": requests / max(cycles, 1),
            }
        most = max(f["cycles"] for f in figures.values())
        figures["process"] = {
            "transitions": transitions,
            "cpu s per cycle": cpu / max(most, 1),
            "wall s per cycle": wall / max(most, 1),
            "wall s": wall,
        }
        for hub in hubs.values():
            hub.close()
        return figures


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-backend", type=int, default=2000)
    args = parser.parse_args(argv)
    figures = run(args.per_backend)
    print(f"P5c watch_all over {5 * args.per_backend} tasks on five backends")
    for name, values in figures.items():
        shown = "  ".join(
            f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
        )
        print(f"  {name:<14} {shown}")
    return figures


if __name__ == "__main__":
    main()
