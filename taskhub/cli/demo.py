"""``taskhub demo``: every built-in vendor, simulated on loopback, doing real work.

Each vendor's simulator says what representative work to submit (``demo_spec``) and plays a
worker's part where the vendor needs one (``demo_step``: Cognite's async task is completed
through ``report``). The demo submits everything, watches it all with live progress, and
prints the normalized result, a one-line summary and what to try next. Every task and
transition is recorded into a store (a new SQLite file in the temp directory unless ``db``
says otherwise, kept after the demo), and the last line says how to see them on a page.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from taskhub import registry
from taskhub.cli.display import LEGEND, Progress, as_json, table
from taskhub.errors import ConfigError
from taskhub.hub import TaskHub
from taskhub.model import Task
from taskhub.states import Tracker
from taskhub.testing import SimClock, Simulation, simulate

if TYPE_CHECKING:
    from taskhub.store import Store

#: What the demo suggests next (the same commands docs/quickstart.md shows).
NEXT = (
    "Next: `taskhub simulate --write sim.toml --detach` serves the simulators in the "
    "background; then `taskhub ls --config sim.toml` lists their tasks and "
    "`taskhub get BACKEND:ID --config sim.toml` shows one."
)


#: Where the serve command's page is, by default.
PAGE = "http://127.0.0.1:8765/"


def default_db() -> str:
    """A new SQLite store file for this run, in the temp directory: it works from any
    directory (even a read-only one), leaves nothing in the current one, and is kept after the
    demo so ``taskhub serve --db`` can show it. A new file each run, because the simulators
    start afresh and give some tasks the same ids again.

    The file is made by ``mkstemp``: a name nobody can guess, created exclusively
    (``O_EXCL``, so a symlink or file planted in the shared temp directory is never followed
    or opened) and readable by its owner alone (0600: it holds every task the demo ran)."""
    fd, path = tempfile.mkstemp(prefix="taskhub-demo-", suffix=".db")
    os.close(fd)  # SQLite opens it by name: an empty file is an empty database
    return f"sqlite:///{path}"


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def open_store(db: str | None) -> Store | None:
    """The store to record into: ``db``, or :func:`default_db`; None when no ``db`` was asked
    for and the store extra is not installed (the demo then records nothing)."""
    if db is None and not _has("sqlalchemy"):
        return None
    try:
        from taskhub.store import open_store as open_url
    except ImportError as exc:
        raise ConfigError(f"--db needs the store: {exc}") from None
    if db is not None:
        return open_url(db)
    url = default_db()
    try:
        return open_url(url)
    except BaseException:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)  # ours, and empty
        raise


def page_hint(store: Store | None) -> str:
    """The demo's last line: how to see its tasks on a page (or how to make that possible)."""
    if store is None:
        return (
            "To keep the tasks in a store and see them on a page: "
            "pip install 'taskhub[serve]', then run the demo again."
        )
    from taskhub.store import masked_url

    # A password the URL carries is not printed (the user knows it).
    url = masked_url(store.url)
    # --no-follow: the page shows what the demo recorded, whatever ./taskhub.toml says.
    command = f"taskhub serve --no-follow --db {shlex.quote(url)}"
    if not (_has("waitress") and _has("prometheus_client")):
        command = f"pip install 'taskhub[serve]' && {command}"
    return f"See them on a page ({PAGE}): {command}"


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
        yield {v: stack.enter_context(simulate(v, clock=SimClock(speed=speed))) for v in vendors}


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
    db: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the demo, recording into the store at ``db`` (default: :func:`default_db`); 0 when
    every task succeeded."""
    if not speed > 0:
        raise ValueError("speed must be greater than 0")
    out = out or sys.stdout
    err = err or sys.stderr
    talk = err if as_json_output else out
    vendors = demo_vendors()
    started = time.monotonic()
    store = open_store(db)
    tracker = None
    if store is not None:
        from taskhub.store import StoreTracker

        # One tracker for every hub, judging only this run (lookup=False): the store's writer
        # still refuses to move a task it already has backwards.
        tracker = StoreTracker(store, lookup=False)
    talk.write(
        f"One task on each of {len(vendors)} simulated vendors; {LEGEND}, the other the "
        "normalized state.\n"
    )
    try:
        tasks = _work(vendors, speed, timeout, talk, tracker)
    finally:
        if store is not None:
            store.close()  # everything heard is written before the command says where
    results = list(tasks.values())
    if as_json_output:
        out.write(as_json(results))
    else:
        out.write("\n" + table(results))
    ok = all(t.state.successful for t in results)
    talk.write(_summary(results, time.monotonic() - started) + "\n")
    if not as_json_output:
        talk.write(NEXT + "\n")
    talk.write(page_hint(store) + "\n")
    return 0 if ok else 1


def _work(
    vendors: list[str], speed: float, timeout: float, talk: TextIO, tracker: Tracker | None
) -> dict[str, Task]:
    """Submit each vendor's demo work, follow it to the end with live progress; the tasks."""
    with simulators(vendors, speed) as sims:
        hubs = {v: sims[v].connect(poll_interval=0.1, poll_max=0.25) for v in vendors}
        if tracker is not None:
            for each in hubs.values():
                each.tracker = tracker
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
    return tasks


def _summary(tasks: list[Task], elapsed: float) -> str:
    done = [t for t in tasks if t.state.successful]
    line = f"{len(done)} of {len(tasks)} tasks succeeded in {elapsed:.1f} s"
    others = [f"{t.ref} {t.state.value}" for t in tasks if not t.state.successful]
    if others:
        line += f"; not every task succeeded: {', '.join(others)}"
    return line + "."
