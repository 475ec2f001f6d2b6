"""P6b: tracking 100,000 tasks — bytes per tracked task, and no regression guard lost.

Goal: at most 1 KB per tracked task. The tasks are watched (as a watch of that size holds
them), so none may be evicted: afterwards a stale observation of every one of them is
refused. Memory is measured with tracemalloc around the observations (the Task objects the
vendor parse made are released; only what the Tracker keeps is counted).
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc
from datetime import datetime, timedelta, timezone
from typing import Any

from taskhub.model import Status, Task
from taskhub.states import State, Tracker

T0 = datetime(2026, 12, 1, tzinfo=timezone.utc)


def run(count: int = 100_000) -> dict[str, Any]:
    """Track ``count`` tasks through queued -> running -> succeeded; measure and check."""
    tracker = Tracker()
    refs = [f"media:task-{n:07d}" for n in range(count)]
    tracker.watch(refs)
    gc.collect()
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    for step, state in enumerate((State.QUEUED, State.RUNNING, State.SUCCEEDED)):
        at = T0 + timedelta(seconds=step)
        for n in range(count):
            status = Status(state, raw=state.value, vendor="livepeer", updated_at=at)
            tracker.observe(Task("media", "livepeer", f"task-{n:07d}", status))
    gc.collect()
    used, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    stale = Status(State.RUNNING, raw="running", vendor="livepeer", updated_at=T0)
    refused = sum(
        tracker.observe(Task("media", "livepeer", f"task-{n:07d}", stale)) is None
        and tracker.state(refs[n]) is State.SUCCEEDED
        for n in range(count)
    )
    return {
        "tasks": count,
        "kept": len(tracker),
        "bytes per task": (used - base) / count,
        "peak bytes per task": (peak - base) / count,
        "stale refused": refused,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args(argv)
    figures = run(args.count)
    print(f"P6b track {args.count} watched tasks (goal: <= 1 KB each, every guard kept)")
    print(
        "  "
        + "  ".join(
            f"{k}={v:.0f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
        )
    )
    return figures


if __name__ == "__main__":
    main()
