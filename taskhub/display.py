"""Showing tasks to a person: live progress on a terminal, plain lines when piped, tables."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import TextIO

from taskhub.model import Task
from taskhub.states import State, Transition

_BAR = 20
COLUMNS = ("backend", "vendor", "id", "kind", "state", "raw", "reason", "progress")


def row(task: Task) -> dict[str, str]:
    """One task as the table's cells."""
    progress = task.status.progress
    if progress is None and task.state is State.SUCCEEDED:
        progress = 1.0
    return {
        "backend": task.backend,
        "vendor": task.vendor,
        "id": task.id,
        "kind": task.kind or "",
        "state": task.state.value,
        "raw": task.status.raw or "",
        "reason": task.status.reason or "",
        "progress": "" if progress is None else f"{progress:.0%}",
    }


def table(tasks: Iterable[Task], columns: Sequence[str] = COLUMNS) -> str:
    """A plain-text table with one row per task."""
    rows = [row(t) for t in tasks]
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def as_csv(tasks: Iterable[Task]) -> str:
    """CSV with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(row(t) for t in tasks)
    return out.getvalue()


def as_json(tasks: Iterable[Task]) -> str:
    """A JSON array of ``Task.to_dict()`` (docs/task.schema.json describes each item)."""
    return json.dumps([t.to_dict() for t in tasks], indent=2) + "\n"


def summary(tasks: Iterable[Task]) -> str:
    """Counts by backend x state."""
    counts: dict[str, dict[State, int]] = {}
    for task in tasks:
        per = counts.setdefault(task.backend, {})
        per[task.state] = per.get(task.state, 0) + 1
    states = [s for s in State if any(s in per for per in counts.values())]
    width = max([7, *(len(b) for b in counts)])
    lines = [
        "BACKEND".ljust(width) + "".join(f"  {s.value.upper():>9}" for s in states) + "      TOTAL"
    ]
    for backend, per in sorted(counts.items()):
        lines.append(
            backend.ljust(width)
            + "".join(f"  {per.get(s, 0):>9}" for s in states)
            + f"  {sum(per.values()):>9}"
        )
    return "\n".join(lines) + "\n"


class Progress:
    """Live progress of several tasks.

    On a terminal the block of lines is redrawn in place with a bar per task; otherwise each
    transition is one plain line, so a log or a pipe gets readable text without escape codes.
    """

    def __init__(self, stream: TextIO, *, live: bool | None = None) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self._drawn = 0
        self._tasks: dict[str, Task] = {}

    def update(self, task: Task, transition: Transition | None = None) -> None:
        """Show the latest state of ``task`` (and the transition it just made, if any)."""
        self._tasks[task.ref] = task
        if self.live:
            self._redraw()
        elif transition is not None:
            before = transition.before.value if transition.before else "new"
            detail = f" ({task.status.raw})" if task.status.raw else ""
            self.stream.write(f"{task.ref}: {before} -> {transition.after.value}{detail}\n")
            self.stream.flush()

    def _redraw(self) -> None:
        lines = [self._line(t) for t in self._tasks.values()]
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F")
        for line in lines:
            self.stream.write("\x1b[2K" + line + "\n")
        self._drawn = len(lines)
        self.stream.flush()

    def _line(self, task: Task) -> str:
        progress = task.status.progress
        if task.state is State.SUCCEEDED:
            progress = 1.0
        filled = round((progress or 0.0) * _BAR)
        bar = "#" * filled + "." * (_BAR - filled) if progress is not None else " " * _BAR
        pct = f"{progress:>4.0%}" if progress is not None else "    "
        return f"{task.backend:<14} [{bar}] {pct}  {task.state.value:<10} {task.id}"
