"""``taskhub demo``: every built-in vendor, simulated on loopback, doing real work.

Each vendor's simulator says what representative work to submit (``demo_spec``) and plays a
worker's part where the vendor needs one (``demo_step``: Cognite's async task is completed
through ``report``). The demo submits everything, watches it all with live progress, and
prints the normalized result, a one-line summary and what to try next.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

from taskhub import registry
from taskhub.display import LEGEND, Progress, as_json, table
from taskhub.hub import TaskHub
from taskhub.model import Task
from taskhub.testing import Clock, Simulation, simulate

#: What the demo suggests next (the same commands docs/quickstart.md shows).
NEXT = (
    "Next: `taskhub simulate --write sim.toml --detach` serves the simulators in the "
    "background; then `taskhub ls --config sim.toml` lists their tasks and "
    "`taskhub get BACKEND:ID --config sim.toml` shows one."
)


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


def config_text(sims: dict[str, Simulation]) -> str:
    """A TOML configuration with one backend per running simulator (named after its vendor,
    the first the default) and a ``[jobs.VENDOR-demo]`` job for each demo spec."""
    vendors = list(sims)
    lines = [f'default = "{vendors[0]}"', ""] if vendors else []
    for vendor, sim in sims.items():
        lines.append(f'[backends."{vendor}"]')
        lines.append(f'vendor = "{vendor}"')
        for key, value in sim.options.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("")
    for vendor, sim in sims.items():
        spec = sim.simulator.demo_spec()
        if spec is not None:
            lines.append(f'[jobs."{vendor}-demo"]')
            lines.append(f'backend = "{vendor}"')
            lines.append(f"spec = {_toml_inline(spec)}")
            lines.append("")
    return "\n".join(lines)


def _toml_inline(value: Any) -> str:
    if isinstance(value, dict):
        return (
            "{ "
            + ", ".join(f"{json.dumps(k)} = {_toml_inline(v)}" for k, v in value.items())
            + " }"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def run(
    *,
    speed: float = 20.0,
    timeout: float = 120.0,
    as_json_output: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the demo; 0 when every task succeeded."""
    if not speed > 0:
        raise ValueError("speed must be greater than 0")
    out = out or sys.stdout
    err = err or sys.stderr
    talk = err if as_json_output else out
    vendors = demo_vendors()
    started = time.monotonic()
    talk.write(
        f"One task on each of {len(vendors)} simulated vendors; {LEGEND}, the other the "
        "normalized state.\n"
    )
    with simulators(vendors, speed) as sims:
        hubs = {v: sims[v].connect(poll_interval=0.1, poll_max=0.25) for v in vendors}
        progress = Progress(talk)
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
    talk.write(_summary(results, time.monotonic() - started) + "\n")
    if not as_json_output:
        talk.write(NEXT + "\n")
    return 0 if ok else 1


def _summary(tasks: list[Task], elapsed: float) -> str:
    done = [t for t in tasks if t.state.successful]
    line = f"{len(done)} of {len(tasks)} tasks succeeded in {elapsed:.1f} s"
    others = [f"{t.ref} {t.state.value}" for t in tasks if not t.state.successful]
    if others:
        line += f"; not every task succeeded: {', '.join(others)}"
    return line + "."
