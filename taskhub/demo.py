"""``taskhub demo``: every built-in vendor, simulated on loopback, doing real work.

Each vendor's simulator says what representative work to submit (``demo_spec``) and plays a
worker's part where the vendor needs one (``demo_step``: Cognite's async task is completed
through ``report``). The demo submits everything, watches it all with live progress, and
prints the normalized result.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import TextIO

from taskhub import registry
from taskhub.display import Progress, as_json, table
from taskhub.hub import TaskHub
from taskhub.model import Task
from taskhub.testing import Clock, Simulation, simulate


def demo_vendors() -> list[str]:
    """The built-in vendors that have a simulator, in a stable order."""
    return [
        n
        for n, e in registry.entries().items()
        if e.builtin and registry.load(n).simulator is not None
    ]


@contextlib.contextmanager
def simulators(vendors: list[str], speed: float) -> Iterator[dict[str, Simulation]]:
    """Every vendor's simulator running at ``speed`` times real time."""
    with contextlib.ExitStack() as stack:
        yield {v: stack.enter_context(simulate(v, clock=Clock(speed=speed))) for v in vendors}


def run(
    *,
    speed: float = 20.0,
    timeout: float = 120.0,
    as_json_output: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the demo; 0 when every task succeeded."""
    out = out or sys.stdout
    err = err or sys.stderr
    vendors = demo_vendors()
    with simulators(vendors, speed) as sims:
        hubs = {v: sims[v].connect(poll_interval=0.1, poll_max=0.25) for v in vendors}
        progress = Progress(err if as_json_output else out)
        tasks: dict[str, Task] = {}
        for vendor in vendors:
            spec = sims[vendor].simulator.demo_spec()
            if spec is None:
                continue
            task = hubs[vendor].submit(**spec)
            tasks[vendor] = task
            progress.update(task, hubs[vendor].tracker.history(task.ref)[-1])
        deadline = time.monotonic() + timeout
        while any(not t.state.terminal for t in tasks.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
            for vendor, task in list(tasks.items()):
                if task.state.terminal:
                    continue
                hub: TaskHub = hubs[vendor]
                seen = len(hub.tracker.history(task.ref))
                now = hub.get(task.id)
                sims[vendor].simulator.demo_step(hub, now)
                history = hub.tracker.history(now.ref)
                tasks[vendor] = now
                progress.update(now, history[-1] if len(history) > seen else None)
        for hub in hubs.values():
            hub.close()
    results = list(tasks.values())
    if as_json_output:
        out.write(as_json(results))
    else:
        out.write("\n" + table(results))
    ok = all(t.state.successful for t in results)
    if not ok and not as_json_output:
        out.write("not every task succeeded\n")
    return 0 if ok else 1
