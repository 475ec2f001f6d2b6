"""P9: one ``hub.get("abc")`` against hostile servers: wall time against the deadline, RSS.

Targets: wall time within 1.5 x the deadline, peak RSS growth under 64 MB, a typed error.
Scenarios: a server dripping its headers, one dripping its body (one byte every 0.25 s, without
end; the body ended by the connection's close, or chunked), a gzip bomb (about 1 MB on the wire,
1 GiB decoded), and a 200 MB plain answer (with a Content-Length, and chunked without one).
Each call runs in a child process (this file with ``--child``) that is killed after
4 x deadline + 10 s, so the bench always ends; the server runs in this process, so the child's
memory is the client's alone. The growth is the child's peak RSS (``ru_maxrss``, or ``VmHWM``
when it had to be killed) minus its RSS just before the call, after imports and a warm-up
``get`` of a normal task (clamped at 0: the two readings differ by a few pages).

Against a checkout other than the work tree: ``PYTHONPATH=/path/to/pkg`` (a directory holding
``taskhub`` with the adapters as ``taskhub/adapters``) wins over the editable install.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the fixture lives in tests/, next to bench/; appended, so an
    sys.path.append(str(ROOT))  # installed (or PYTHONPATH) taskhub still wins over the tree

from tests.hostile import Answer, HostileServer  # noqa: E402

MB = 1 << 20
WALL_TARGET = 1.5  # x deadline
RSS_TARGET = 64.0  # MB
#: A task as Livepeer serves it: the warm-up answer, and the start of the hostile ones.
TASK = {"id": "abc", "type": "upload", "status": {"phase": "running"}}
#: Options the current taskhub may not know yet; dropped (and said so) when it refuses them.
NEW_OPTIONS = ("deadline", "max_response_bytes")


@dataclass
class Figures:
    """What one scenario measured. ``wall`` and ``growth`` are None when the child never got
    as far as the call."""

    scenario: str
    deadline: float
    wall: float | None
    growth: float | None  # MB
    outcome: str  # an exception type name, "returned", "killed" or "died (...)"
    typed: bool | None  # whether the exception was a TaskhubError
    message: str
    note: str


def scenarios(
    *, huge: int = 200 * MB, bomb: int = 1 << 30, every: float = 0.25
) -> dict[str, Callable[[], Answer]]:
    """The hostile answers by name (built on demand: the bomb takes a moment)."""
    body = json.dumps(TASK).encode()
    headers = {"Content-Type": "application/json"}
    return {
        "drip headers": lambda: Answer.drip(
            headers=headers, body=body, every=every, phase="headers", forever=True
        ),
        # the body ends when the connection closes: http.client detaches such a socket from
        # its connection once the head is read, which is where a watchdog may lose it
        "drip body": lambda: Answer.drip(
            headers=headers, body=body, every=every, phase="body", forever=True
        ),
        "drip chunked": lambda: Answer.drip(
            headers=headers, body=body, every=every, phase="body", forever=True, chunked=True
        ),
        # valid JSON once inflated: a client without a cap returns a task, silently
        "gzip bomb": lambda: Answer.gzip_bomb(bomb, prefix=body, fill=b" "),
        "huge": lambda: Answer.huge(huge),
        "huge chunked": lambda: Answer.huge(huge, chunked=True),
    }


def measure(
    scenario: str, answer: Answer, deadline: float, *, max_response_bytes: int | None = None
) -> Figures:
    """Run one ``hub.get("abc")`` answered by ``answer`` in a child process, bounded."""
    limit = 4 * deadline + 10
    with HostileServer(cap=limit + 30) as srv:
        srv.route("GET", "/api/task/ok", Answer.json({**TASK, "id": "ok"}))
        srv.route("GET", "/api/task/abc", answer)
        command = [sys.executable, str(Path(__file__).resolve()), "--child", srv.url]
        command += ["--deadline", str(deadline)]
        if max_response_bytes is not None:
            command += ["--max-response-bytes", str(max_response_bytes)]
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
        killed_at: float | None = None
        peak: int | None = None
        try:
            out, err = child.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            peak = _peak_of(child.pid)  # read before the kill: the process must still exist
            killed_at = time.monotonic()
            child.kill()
            out, err = child.communicate()
    events = {e["event"]: e for e in map(json.loads, filter(None, out.splitlines()))}
    return _figures(scenario, deadline, events, killed_at, peak, child.returncode, err)


def _figures(
    scenario: str,
    deadline: float,
    events: dict[str, Any],
    killed_at: float | None,
    killed_peak: int | None,
    returncode: int,
    stderr: str,
) -> Figures:
    ready, done = events.get("ready"), events.get("done")
    last_error = (stderr.strip().splitlines() or [""])[-1][:160]
    if ready is None:
        return Figures(scenario, deadline, None, None, "died before the call", None, last_error, "")
    note = ready["note"]
    if done is not None:
        growth = max(0, done["peak"] - ready["rss"]) / MB
        return Figures(
            scenario,
            deadline,
            done["wall"],
            growth,
            done["outcome"],
            done["typed"],
            done["message"],
            note,
        )
    if killed_at is not None:
        wall = killed_at - ready["t0"]  # monotonic clocks agree across processes on Linux
        growth = None if killed_peak is None else max(0, killed_peak - ready["rss"]) / MB
        return Figures(scenario, deadline, wall, growth, "killed", None, "", note)
    outcome = f"died (exit {returncode})"
    return Figures(scenario, deadline, None, None, outcome, None, last_error, note)


def _rss() -> int:
    """Resident bytes of this process now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_of(pid: int) -> int | None:
    """A live process's peak resident bytes (VmHWM), or None if it cannot be read."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def _emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def child(url: str, deadline: float, max_response_bytes: int | None) -> None:
    """The measured side: connect, warm up, then one ``get`` against the hostile route."""
    import taskhub
    from taskhub.errors import ConfigError, TaskhubError

    options: dict[str, Any] = {
        "api_key": "k" * 32,
        "base_url": url + "/api",
        "max_retries": 0,
        "deadline": deadline,
    }
    if max_response_bytes is not None:
        options["max_response_bytes"] = max_response_bytes
    dropped: list[str] = []
    while True:  # until the options exist, measure what the current transport does
        try:
            hub = taskhub.connect("livepeer", **options)
            break
        except ConfigError as exc:
            unknown = [k for k in NEW_OPTIONS if k in options and f"'{k}'" in str(exc)]
            if not unknown:
                raise
            for name in unknown:
                del options[name]
                dropped.append(name)
            if "deadline" in unknown:
                options["timeout"] = deadline  # the nearest thing: a bound per socket read
    note = f"no {', '.join(dropped)} option: timeout={deadline:g}" if dropped else ""
    hub.get("ok")  # imports, the connection pool, the parser
    gc.collect()
    _emit("ready", rss=_rss(), t0=time.monotonic(), note=note)
    started = time.monotonic()
    outcome, typed, message = "returned", False, ""
    try:
        hub.get("abc")
    except Exception as exc:  # MemoryError and RecursionError included: they are findings
        outcome, typed, message = type(exc).__name__, isinstance(exc, TaskhubError), str(exc)
    wall = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    _emit("done", wall=wall, peak=peak, outcome=outcome, typed=typed, message=message[:160])


def show(figures: Figures) -> None:
    """One line per scenario, each figure next to its target."""
    if figures.wall is None:
        wall = f"{'-':>7}   {'-':>6}    "
    else:
        ratio = figures.wall / figures.deadline
        wall = f"{figures.wall:7.2f}   {ratio:6.2f}x {'ok' if ratio <= WALL_TARGET else 'MISS':<4}"
    if figures.growth is None:
        rss = f"{'-':>8}     "
    else:
        rss = f"{figures.growth:8.1f} {'ok' if figures.growth < RSS_TARGET else 'MISS':<4}"
    outcome = figures.outcome + (" (untyped)" if figures.typed is False else "")
    if figures.outcome == "returned":
        outcome = "returned (no error)"
    print(f"  {figures.scenario:<13} {wall}  {rss}  {outcome}")
    if figures.message:
        print(f"  {'':<13} {figures.message}")


def main(argv: Sequence[str] | None = None) -> list[Figures]:
    """Run the scenarios and print their figures (returned too, for tests)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deadline", type=float, default=3.0, help="seconds per call (3)")
    parser.add_argument("--scenario", action="append", choices=list(scenarios()))
    parser.add_argument("--huge-mb", type=int, default=200, help="size of the huge answer")
    parser.add_argument("--bomb-mb", type=int, default=1024, help="decoded size of the bomb")
    parser.add_argument("--every", type=float, default=0.25, help="seconds between drips")
    parser.add_argument("--max-response-bytes", type=int, default=None)
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.deadline, args.max_response_bytes)
        return []
    makers = scenarios(huge=args.huge_mb * MB, bomb=args.bomb_mb * MB, every=args.every)
    chosen = args.scenario or list(makers)
    print(
        f'P9 one hub.get("abc") per hostile server (livepeer adapter), deadline '
        f"{args.deadline:g} s, child killed after {4 * args.deadline + 10:g} s"
    )
    print(f"  targets: wall <= {WALL_TARGET}x deadline, peak RSS growth < {RSS_TARGET:g} MB")
    print(f"  {'scenario':<13} {'wall s':>7}   {'/deadline':<12}  {'RSS MB':>8}       outcome")
    results = []
    for name in chosen:
        figures = measure(
            name, makers[name](), args.deadline, max_response_bytes=args.max_response_bytes
        )
        show(figures)
        results.append(figures)
    for note in sorted({f.note for f in results if f.note}):
        print(f"  note: {note} (this taskhub refused the option)")
    return results


if __name__ == "__main__":
    main()
