"""P5c: 10,000 tasks across all five backends in one process, followed to the end through one
``taskhub.watch_all`` over a ``connect_all``.

The simulators run in another process, so the CPU figures are the client's alone. Prints, per
backend: the refresher's cycles, the requests sent during the watch (counted by the backend's
request budget) and their number per cycle; for the process: CPU seconds per cycle (goal
<= 0.5 s for 10,000 tasks) and the wall time of a cycle.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import taskhub

VENDORS = ["livepeer", "cognite", "veritone", "veritone-edge", "vionlabs"]
SPEED = 2.0  # slow enough that the work outlasts its submission and is watched to the end


def _spec(hub: taskhub.TaskHub, n: int) -> dict[str, Any]:
    vendor = hub.vendor
    if vendor == "livepeer":
        return {"kind": "upload", "url": f"https://m.example/{n}.mp4", "name": "x"}
    if vendor == "cognite":
        return {"workflow": "taskhub-auto", "version": "1"}
    if vendor == "vionlabs":
        adapter: Any = hub.adapter
        adapter.upsert_item(f"film-{n}", "standalone", f"Film {n}", asset_url=f"s3://b/{n}.mp4")
        return {"inventory_id": f"film-{n}", "product": "markers", "version": "1"}
    if vendor == "veritone":
        return {
            "tasks": [{"engineId": "54525249-da68-4dbf-b6fe-aea9a1aefd4d", "payload": {"n": n}}],
            "target": {"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "r"},
        }
    return {"tasks": [{"engineId": "1a2b3c4d-0000-4000-8000-00000000e001", "payload": {"n": n}}]}


def _serve(path: str, per_backend: int, ready: Any, stop: Any) -> None:
    """In a child process: the five simulators, their config at ``path``, until ``stop``."""
    import contextlib as _contextlib

    from taskhub.cli.demo import config_text
    from taskhub.testing import SimClock, simulate

    with _contextlib.ExitStack() as stack:
        settings: dict[str, dict[str, Any]] = {"livepeer": {"max_active": per_backend + 1}}
        sims = {
            v: stack.enter_context(simulate(v, clock=SimClock(speed=SPEED), **settings.get(v, {})))
            for v in VENDORS
        }
        Path(path).write_text(config_text(sims))
        ready.set()
        stop.wait(3600)


def run(per_backend: int = 2000) -> dict[str, dict[str, Any]]:
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sim.toml"
        ready, stop = context.Event(), context.Event()
        server = context.Process(target=_serve, args=(str(config), per_backend, ready, stop))
        server.start()
        try:
            if not ready.wait(120):
                raise RuntimeError("the simulators did not start")
            return _measure(config, per_backend)
        finally:
            stop.set()
            server.join(30)
            if server.is_alive():
                server.kill()


def _measure(config: Path, per_backend: int) -> dict[str, dict[str, Any]]:
    hubs = taskhub.connect_all(config)
    hubs = {name: hub for name, hub in hubs.items() if hub.vendor in VENDORS}
    tasks: list[taskhub.Task] = []
    for hub in hubs.values():
        tasks += [hub.submit(**_spec(hub, n)) for n in range(per_backend)]
    refreshers = {n: hub.refresher() for n, hub in hubs.items()}
    budgets = {n: hub.adapter.transport.budget for n, hub in hubs.items()}
    before = {n: (budgets[n].granted, refreshers[n].cycles) for n in hubs}
    cpu, wall = time.process_time(), time.perf_counter()
    transitions = sum(1 for _ in taskhub.watch_all(tasks, hubs, timeout=3600))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    figures: dict[str, dict[str, Any]] = {}
    for name in hubs:
        requests = budgets[name].granted - before[name][0]
        cycles = refreshers[name].cycles - before[name][1]
        figures[name] = {
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
