"""What the database can take: vendor strings made storable before the writer sends them.

A vendor's text is not the database's: PostgreSQL refuses a NUL in any text and a string
longer than its ``VARCHAR``; both databases' drivers refuse a lone surrogate (``"\\ud800"``
is a valid JSON escape, so any vendor can send one); an integer past 32 bits overflows
PostgreSQL's ``INTEGER``. One such string used to fail the whole batch, forever.

So, at the store's boundary:

- free text (the vendor's status word, reason, message) has NUL and lone surrogates replaced
  by U+FFFD and is cut to its column with a visible marker (:data:`CUT`);
- what names a task (its backend, vendor, id, kind and parent id) must be stored faithfully or
  not at all: a name that would have to be changed to fit makes the observation a
  :class:`Refusal`, which the writer puts in quarantine instead of the tables;
- a number the column cannot hold is left out (the task JSON keeps it).
"""

from __future__ import annotations

import re

import attrs

from taskhub.model import CUT, MESSAGE_CAP, Status, Task

from .schema import tasks

#: The largest task JSON stored whole; a larger one keeps the task's own fields and drops its
#: lists (outputs, inputs, subtasks), with ``"truncated": true``.
TASK_JSON_CAP = 256 * 1024

__all__ = ["CUT", "MESSAGE_CAP", "TASK_JSON_CAP", "Refusal", "faithful", "storable", "text"]
#: PostgreSQL's INTEGER.
_INT_RANGE = range(-(2**31), 2**31)

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _length(column: str) -> int:
    length = tasks.c[column].type.length  # type: ignore[attr-defined]
    assert isinstance(length, int)
    return length


#: The column of each name that must be stored as it is, and its length.
NAMES = {name: _length(name) for name in ("backend", "vendor", "task_id", "kind", "parent_id")}
RAW_LENGTH = _length("raw")
REASON_LENGTH = _length("reason")
REF_LENGTH = _length("ref")


@attrs.frozen
class Refusal:
    """Why an observation cannot be stored as it is (it goes to quarantine)."""

    reason: str


def text(value: str | None, limit: int) -> str | None:
    """``value`` as the database can take it: NUL and lone surrogates replaced, cut to
    ``limit`` characters with :data:`CUT` at the end."""
    if value is None:
        return None
    if _UNSTORABLE.search(value):
        value = _UNSTORABLE.sub("\ufffd", value)
    if len(value) > limit:
        value = value[: limit - len(CUT)] + CUT
    return value


def faithful(value: str, limit: int) -> str | None:
    """Why ``value`` cannot be stored exactly as it is, or None when it can."""
    if len(value) > limit:
        return f"{len(value)} characters, over the column's {limit}"
    found = _UNSTORABLE.search(value)
    if found:
        return f"holds {found.group()!r} at {found.start()}, which the database cannot store"
    return None


def whole(value: int | None) -> int | None:
    """``value`` if an INTEGER column holds it, else None."""
    return value if value is None or value in _INT_RANGE else None


def storable(task: Task) -> Task | Refusal:
    """``task`` made storable, or the Refusal saying which of its names cannot be stored."""
    names = {
        "backend": task.backend,
        "vendor": task.vendor,
        "task_id": task.id,
        "kind": task.kind,
        "parent_id": task.parent_id,
    }
    for name, value in names.items():
        why = None if value is None else faithful(value, NAMES[name])
        if why is not None:
            return Refusal(f"{name} {why}")
    if len(task.ref) > REF_LENGTH:
        return Refusal(f"ref {len(task.ref)} characters, over the column's {REF_LENGTH}")
    status = _status(task.status)
    return task if status is task.status else attrs.evolve(task, status=status)


def _status(status: Status) -> Status:
    raw = text(status.raw, RAW_LENGTH)
    reason = text(status.reason, REASON_LENGTH)
    message = text(status.message, MESSAGE_CAP)
    retries = whole(status.retries)
    if (raw, reason, message, retries) == (
        status.raw,
        status.reason,
        status.message,
        status.retries,
    ):
        return status
    return attrs.evolve(status, raw=raw, reason=reason, message=message, retries=retries)
