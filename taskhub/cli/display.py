"""Showing tasks: live progress on a terminal, plain lines when piped, tables, CSV, JSON.

Every format is built from ``Task.to_dict()``, the masked form, so no output shows a secret.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from taskhub.model import Task, format_time
from taskhub.states import State, Transition

_BAR = 20
#: The columns of the table ``ls``, ``get`` and the demo print.
COLUMNS = ("backend", "vendor", "id", "kind", "state", "raw", "reason", "progress")
#: The columns of ``ls --format csv`` (times in ISO 8601 UTC, progress 0-1, duration seconds).
CSV_COLUMNS = (
    "ref",
    "backend",
    "vendor",
    "id",
    "kind",
    "state",
    "raw",
    "reason",
    "progress",
    "message",
    "created_at",
    "started_at",
    "updated_at",
    "finished_at",
    "duration",
)
#: What a line in parentheses shows: the vendor's own status word.
LEGEND = "the word in parentheses is the vendor's own status word"
#: How a task's first observation reads (a Transition's ``before`` is None: the first time the
#: task is seen; see docs/watching.md).
FIRST_SEEN = "first seen"


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def row(task: Task) -> dict[str, str]:
    """One task as text cells (from the masked ``to_dict()``); progress is blank when the
    vendor gave none, whatever the state."""
    data = task.to_dict()
    status = data["status"]
    progress = status.get("progress")
    return {
        "ref": data["ref"],
        "backend": data["backend"],
        "vendor": data["vendor"],
        "id": data["id"],
        "kind": _cell(data.get("kind")),
        "state": status["state"],
        "raw": _cell(status.get("raw")),
        "reason": _cell(status.get("reason")),
        "progress": "" if progress is None else f"{progress:.0%}",
        "message": _cell(status.get("message")),
        "created_at": _cell(data.get("created_at")),
        "started_at": _cell(data.get("started_at")),
        "updated_at": _cell(data.get("updated_at")),
        "finished_at": _cell(data.get("finished_at")),
        "duration": _duration(task),
    }


def _duration(task: Task) -> str:
    """Seconds from start (or creation) to finish; blank until the task has finished."""
    start = task.started_at or task.created_at
    if start is None or task.finished_at is None:
        return ""
    return f"{(task.finished_at - start).total_seconds():.3f}"


def table(tasks: Iterable[Task], columns: Sequence[str] = COLUMNS) -> str:
    """A plain-text table with one row per task. The VENDOR column is left out when every
    backend is named after its vendor (it would repeat BACKEND)."""
    rows = [row(t) for t in tasks]
    if "vendor" in columns and rows and all(r["backend"] == r["vendor"] for r in rows):
        columns = [c for c in columns if c != "vendor"]
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def as_csv(tasks: Iterable[Task]) -> str:
    """CSV with a header row: :data:`CSV_COLUMNS`; progress as a fraction 0-1."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for task in tasks:
        cells = row(task)
        progress = task.status.progress
        cells["progress"] = "" if progress is None else f"{progress:g}"
        writer.writerow({c: cells[c] for c in CSV_COLUMNS})
    return out.getvalue()


def as_json(tasks: Iterable[Task]) -> str:
    """A JSON array of ``Task.to_dict()`` (docs/task.schema.json describes each item)."""
    return json.dumps([t.to_dict() for t in tasks], indent=2) + "\n"


class Counting:
    """Progress of a long count, on a terminal only: one line rewritten in place, cleared
    when the count ends (a pipe or a log gets nothing)."""

    #: Tasks between two redraws.
    EVERY = 100

    def __init__(self, stream: TextIO, *, live: bool | None = None) -> None:
        self.stream = stream
        self.live = cursor_codes_allowed(stream) if live is None else live

    def update(self, backend: str, counted: int) -> None:
        """``counted`` tasks of ``backend`` so far."""
        if self.live and counted % self.EVERY == 0:
            self.stream.write(f"\r\x1b[2Kcounting {backend}: {counted:,} tasks so far")
            self.stream.flush()

    def done(self) -> None:
        """The count is over: clear the line."""
        if self.live:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def count(
    backend: str, tasks: Iterable[Task], limit: int | None, progress: Counting | None = None
) -> dict[str, Any]:
    """One summary row: ``backend``, a count for every state, ``total``, and ``complete``
    (False when ``limit`` stopped the count: there may be more)."""
    row: dict[str, Any] = {"backend": backend, **{s.value: 0 for s in State}, "total": 0}
    try:
        for task in tasks:
            row[task.state.value] += 1
            row["total"] += 1
            if progress is not None:
                progress.update(backend, row["total"])
    finally:
        if progress is not None:
            progress.done()
    row["complete"] = limit is None or row["total"] < limit
    return row


def summary(rows: Sequence[dict[str, Any]], fmt: str = "table") -> str:
    """Counts by backend x state (rows from :func:`count`), as a table (the states that occur,
    then a line for each count the limit stopped), CSV or JSON (every state, and
    ``complete``)."""
    columns = ["backend", *(s.value for s in State), "total", "complete"]
    rows = sorted(rows, key=lambda r: str(r["backend"]))
    if fmt == "json":
        return json.dumps(list(rows), indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**r, "complete": str(r["complete"]).lower()} for r in rows)
        return out.getvalue()
    states = [s.value for s in State if any(r[s.value] for r in rows)]
    width = max([7, *(len(r["backend"]) for r in rows)])
    lines = ["BACKEND".ljust(width) + "".join(f"  {s.upper():>9}" for s in states) + "      TOTAL"]
    for r in rows:
        lines.append(
            r["backend"].ljust(width)
            + "".join(f"  {r[s]:>9}" for s in states)
            + f"  {r['total']:>9}"
        )
    for r in rows:
        if not r["complete"]:
            lines.append(
                f"{r['backend']}: counted the first {r['total']} of at least {r['total']} "
                "tasks (--limit); without --limit every task is counted"
            )
    return "\n".join(lines) + "\n"


def transition_record(transition: Transition) -> dict[str, Any]:
    """One transition for other programs (``watch --format jsonl``): ``ref``, ``before``
    (null the first time the task is seen), ``after``, ``at`` (ISO 8601 UTC), ``change``,
    ``raw`` (the vendor's word) and ``task`` (the masked ``Task.to_dict()``)."""
    return {
        "ref": transition.ref,
        "before": transition.before.value if transition.before else None,
        "after": transition.after.value,
        "at": format_time(transition.at),
        "change": transition.change.value,
        "raw": transition.status.raw,
        "task": transition.task.to_dict() if transition.task is not None else None,
    }


def describe(transition: Transition, raw: str | None) -> str:
    """``before -> after (raw)``, or ``first seen as after (raw)`` for a first observation."""
    detail = f" ({raw})" if raw else ""
    if transition.before is None:
        return f"{FIRST_SEEN} as {transition.after.value}{detail}"
    return f"{transition.before.value} -> {transition.after.value}{detail}"


def ended(task: Task) -> str:
    """The line that says a followed task did not succeed: its state, the vendor's word and
    message."""
    raw = f" ({task.status.raw})" if task.status.raw else ""
    message = f": {task.status.message}" if task.status.message else ""
    return f"taskhub: {task.ref} ended {task.state.value}{raw}{message}"


def cursor_codes_allowed(stream: TextIO) -> bool:
    """A terminal that understands cursor movement: a tty whose TERM is set and not ``dumb``."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "dumb") not in ("", "dumb")


class Progress:
    """Live progress of several tasks.

    On a terminal the block of lines is redrawn in place with a bar per task; otherwise (a pipe,
    a log, ``TERM=dumb``) each transition is one plain line without escape codes.
    """

    def __init__(self, stream: TextIO, *, live: bool | None = None) -> None:
        self.stream = stream
        self.live = cursor_codes_allowed(stream) if live is None else live
        self._drawn = 0
        self._tasks: dict[str, Task] = {}

    def update(self, task: Task, transition: Transition | None = None) -> None:
        """Show the latest state of ``task`` (and the transition it just made, if any)."""
        self._tasks[task.ref] = task
        if self.live:
            self._redraw()
        elif transition is not None:
            self.stream.write(f"{task.ref}: {describe(transition, task.status.raw)}\n")
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
        if progress is None:
            bar, pct = " " * _BAR, "    "
        else:
            filled = round(progress * _BAR)
            bar, pct = "#" * filled + "." * (_BAR - filled), f"{progress:>4.0%}"
        state = task.state.value + (f" ({task.status.raw})" if task.status.raw else "")
        return f"{task.backend:<14} [{bar}] {pct}  {state:<28} {task.id}"
