"""The store's reader: pages of tasks, a task and its parts, transitions, counts.

Readers use their own connections; on SQLite the file is in WAL mode, so a reader never waits
for the writer and the writer never waits for a reader. Every read a dashboard repeats costs
the same at a million tasks as at a thousand: pages are keyset pages (``next`` is a cursor
naming the last row shown, not an offset to skip), and counts come from the counts the writer
keeps, not from counting rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs
import sqlalchemy as sa

from taskhub.errors import InvalidRequest
from taskhub.model import Status, Task
from taskhub.states import State

from .rows import brief, iso, loaded_status, row_json, utc
from .schema import SUBTASK, TASK, counts, quarantine, tasks, transitions

#: The most rows a filtered page counts before it says "at least" instead of a number.
COUNT_CAP = 10_000
LEVELS = (TASK, SUBTASK)


@attrs.frozen
class Filters:
    """What a page of tasks is narrowed to (None: not narrowed)."""

    backend: str | None = None
    vendor: str | None = None
    state: State | None = None
    #: ``"task"`` (the default: units of work), ``"subtask"``, or None for both.
    level: str | None = TASK
    #: The parent's ref: that task's subtasks (any level filter is then moot).
    parent: str | None = None
    #: A ref or task id, or the start of one.
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None

    @property
    def counted(self) -> bool:
        """True when the counts table answers how many match (no search, no time range)."""
        return self.parent is None and self.search is None and not self._ranged

    @property
    def _ranged(self) -> bool:
        return any(
            v is not None
            for v in (
                self.created_after,
                self.created_before,
                self.updated_after,
                self.updated_before,
            )
        )

    def where(self) -> list[Any]:
        """The filters as SQL conditions."""
        where: list[Any] = []
        if self.parent is not None:
            where.append(tasks.c.parent_ref == self.parent)
        elif self.level == TASK:
            where.append(tasks.c.parent_ref.is_(None))
        elif self.level == SUBTASK:
            where.append(tasks.c.parent_ref.is_not(None))
        for column, value in (
            (tasks.c.backend, self.backend),
            (tasks.c.vendor, self.vendor),
            (tasks.c.state, self.state.value if self.state else None),
        ):
            if value is not None:
                where.append(column == value)
        if self.search:
            like = _escape_like(self.search) + "%"
            where.append(
                sa.or_(tasks.c.ref.like(like, escape="\\"), tasks.c.task_id.like(like, escape="\\"))
            )
        for column, low, high in (
            (tasks.c.created_at, self.created_after, self.created_before),
            (tasks.c.updated_at, self.updated_after, self.updated_before),
        ):
            if low is not None:
                where.append(column >= low)
            if high is not None:
                where.append(column < high)
        return where


@attrs.frozen
class Page:
    """One page of tasks, newest observed first, each as a listing shows it
    (:func:`~.rows.brief`).

    ``total`` is how many match; ``exact`` is False when it was counted only up to
    :data:`COUNT_CAP` (then there are at least that many). ``next`` is the cursor of the
    following page, None on the last one.
    """

    tasks: list[dict[str, Any]]
    total: int
    exact: bool
    next: str | None


def encode_cursor(observed_at: datetime, ref: str) -> str:
    """The opaque cursor naming a row of the page's order."""
    text = json.dumps([iso(observed_at), ref], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The row a cursor names; InvalidRequest for anything a cursor never is."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        observed, ref = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        moment = utc(datetime.fromisoformat(observed.replace("Z", "+00:00")))
        if not isinstance(ref, str) or moment is None:
            raise ValueError(cursor)
    except (ValueError, TypeError, UnicodeError, binascii.Error, AttributeError):
        raise InvalidRequest("cursor is not one this service gave out", field="cursor") from None
    return moment, ref


def encode_id_cursor(row_id: int) -> str:
    """The opaque cursor naming a row of a table paged by id (the audit trail)."""
    return base64.urlsafe_b64encode(json.dumps(["id", row_id]).encode()).decode().rstrip("=")


def decode_id_cursor(cursor: str) -> int:
    """The id a cursor names; InvalidRequest for anything a cursor never is."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        tag, row_id = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if tag != "id" or not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError(cursor)
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise InvalidRequest("cursor is not one this service gave out", field="cursor") from None
    return row_id


class Reader:
    """Reads the store's tables on connections of its own."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def page(self, filters: Filters, *, limit: int = 100, cursor: str | None = None) -> Page:
        """A page of tasks (their JSON), newest observed first, after ``cursor``."""
        where = filters.where()
        query = sa.select(tasks.c.task_json, *_MINIMAL).where(*where)
        if cursor is not None:
            at, ref = decode_cursor(cursor)
            query = query.where(sa.tuple_(tasks.c.observed_at, tasks.c.ref) < (at, ref))
        query = query.order_by(tasks.c.observed_at.desc(), tasks.c.ref.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            total, exact = self._total(conn, filters, where)
        shown = rows[:limit]
        nxt = encode_cursor(shown[-1].observed_at, shown[-1].ref) if len(rows) > limit else None
        return Page([brief(r) for r in shown], total, exact, nxt)

    def _total(self, conn: sa.Connection, filters: Filters, where: list[Any]) -> tuple[int, bool]:
        if filters.counted:
            found = self.counts(
                level=filters.level,
                backend=filters.backend,
                vendor=filters.vendor,
                state=filters.state,
                conn=conn,
            )
            return sum(n for *_, n in found), True
        capped = sa.select(tasks.c.ref).where(*where).limit(COUNT_CAP + 1).subquery()
        n = int(conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one())
        return min(n, COUNT_CAP), n <= COUNT_CAP

    def task(self, ref: str) -> dict[str, Any] | None:
        """One task's JSON, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(tasks.c.task_json, *_MINIMAL).where(tasks.c.ref == ref)
            ).first()
        return None if row is None else row_json(row)

    def statuses(
        self, refs: Iterable[str] | None = None, *, backend: str | None = None
    ) -> dict[str, tuple[Task, Status]]:
        """The last recorded status of each of ``refs`` (or of every task of ``backend``), as
        a minimal Task and its Status, for seeding a Tracker."""
        columns = [c for c in _MINIMAL if c.name not in ("observed_at",)]
        with self.engine.connect() as conn:
            if refs is not None:
                rows: list[Any] = []
                wanted = sorted(set(refs))
                for start in range(0, len(wanted), 500):
                    chunk = wanted[start : start + 500]
                    rows.extend(conn.execute(sa.select(*columns).where(tasks.c.ref.in_(chunk))))
            else:
                query = sa.select(*columns)
                if backend is not None:
                    query = query.where(tasks.c.backend == backend)
                rows = list(conn.execute(query))
        found = {}
        for row in rows:
            status = loaded_status(row)
            task = Task(row.backend, row.vendor, row.task_id, status, parent_id=row.parent_id)
            found[row.ref] = (task, status)
        return found

    def unfinished(self, backend: str) -> list[str]:
        """The ids of ``backend``'s units of work whose last recorded state is not terminal
        (their parts are read with them)."""
        terminal = [s.value for s in State if s.terminal]
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(tasks.c.task_id).where(
                        tasks.c.backend == backend,
                        tasks.c.parent_ref.is_(None),
                        tasks.c.state.not_in(terminal),
                    )
                ).scalars()
            )

    def transitions(self, ref: str) -> list[dict[str, Any]]:
        """Every recorded transition of ``ref``, oldest first, as JSON-ready dicts."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(transitions).where(transitions.c.ref == ref).order_by(transitions.c.seq)
            ).all()
        return [
            {
                "ref": r.ref,
                "seq": r.seq,
                "from": r.from_state,
                "to": r.to_state,
                "at": iso(r.at),
                "change": r.change,
                "raw": r.raw,
                "reason": r.reason,
                "message": r.message,
                "progress": r.progress,
            }
            for r in rows
        ]

    def counts(
        self,
        *,
        level: str | None = TASK,
        backend: str | None = None,
        vendor: str | None = None,
        state: State | None = None,
        conn: sa.Connection | None = None,
    ) -> list[tuple[str, str, str, int]]:
        """``(backend, vendor, state, n)`` for every combination present at ``level`` (None:
        both levels, added up), from the counts the writer keeps."""
        query = sa.select(
            counts.c.backend, counts.c.vendor, counts.c.state, sa.func.sum(counts.c.n)
        )
        for column, value in (
            (counts.c.level, level),
            (counts.c.backend, backend),
            (counts.c.vendor, vendor),
            (counts.c.state, state.value if state else None),
        ):
            if value is not None:
                query = query.where(column == value)
        query = (
            query.group_by(counts.c.backend, counts.c.vendor, counts.c.state)
            .having(sa.func.sum(counts.c.n) > 0)
            .order_by(counts.c.backend, counts.c.vendor, counts.c.state)
        )
        if conn is not None:
            rows = conn.execute(query).all()
        else:
            with self.engine.connect() as own:
                rows = own.execute(query).all()
        return [(b, v, s, int(n)) for b, v, s, n in rows]

    def count_transitions(self) -> int:
        """How many transitions are recorded in all."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(transitions)).scalar_one()
            )

    def quarantined(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest quarantined observations: backend, ref, the masked payload, the
        database's error and when."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(quarantine).order_by(quarantine.c.id.desc()).limit(limit)
            ).all()
        return [
            {
                "backend": r.backend,
                "ref": r.ref,
                "payload": json.loads(r.payload),
                "error": r.error,
                "at": iso(r.at),
            }
            for r in rows
        ]

    def ping(self) -> str | None:
        """None when the database answers, else why not."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        return None


#: What a row needs besides its JSON: the keyset and the fallback for version 1 rows.
_MINIMAL: Sequence[sa.Column[Any]] = [
    tasks.c[name]
    for name in (
        "ref", "backend", "vendor", "task_id", "kind", "parent_id", "state", "raw", "reason",
        "message", "retryable", "progress", "retries", "status_updated_at", "observed_at",
    )
]  # fmt: skip


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
