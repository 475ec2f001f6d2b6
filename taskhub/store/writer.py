"""The store's writer: one thread that drains a queue of observations into the database.

``record`` only queues, so a poller never waits for the database. The thread takes up to
``batch_size`` observations at a time and writes them in one transaction, in three steps:
**load** the rows of the tasks they name (locked with ``FOR UPDATE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` locks the file), **judge** each observation against the row with the one
acceptance rule (:func:`taskhub.states.accept`), so a restart, a stale copy in another process
or a second replica never moves a task backwards, and **flush** the rows, the new transitions
and the change in the counts.

What the database refuses never stops it. Vendor strings are made storable first
(:mod:`.boundary`); an observation whose names cannot be stored faithfully goes to quarantine
at once; and a batch the database still refuses is split in halves until the item it refuses
is alone, which then goes to quarantine with the database's error while every other item is
written. When the database is away (it cannot be reached, it is locked, the schema is gone),
the writer keeps what is queued, says so (:attr:`Writer.healthy`, :attr:`Writer.last_error`)
and tries again with backoff: nothing is lost while the process lives, and
:meth:`Writer.close` says how much was written and how much was not.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from taskhub.model import Status, Task
from taskhub.states import Change, RetryEvidence, State, Transition, accept

from . import boundary
from .rows import CountKey, Recorded, level_of, loaded_status, utc
from .schema import counts, quarantine, tasks, transitions

log = logging.getLogger("taskhub.store")

UTC = timezone.utc
#: Writes of one batch that meet another process's insert of the same new task before the
#: batch counts as refused: each retry reads the rows again, so one is usually enough.
CONFLICT_TRIES = 4

#: What a database refuses because of the data in one item (not because it is away).
_REFUSED: tuple[type[BaseException], ...] = (
    sa.exc.DataError,
    sa.exc.IntegrityError,
    UnicodeError,
    ValueError,
    TypeError,
    OverflowError,
)


@attrs.frozen
class Item:
    """One queued observation: the task, the transition the caller's Tracker saw, and when."""

    task: Task
    transition: Transition | None
    observed_at: datetime
    #: The task's JSON once rendered: a batch split to isolate a refused item writes the
    #: same items again, and rendering is the costliest part of a row.
    rendered: list[str] = attrs.field(factory=list, eq=False, repr=False)


@attrs.define
class Known:
    """What the writer knows of one task while it judges a batch."""

    status: Status | None
    seq: int
    first_seen: datetime
    #: The counts row the database counts this task in now (None: not counted yet).
    counted: CountKey | None
    #: True when the task has a row (update), False for a new one (insert).
    stored: bool
    #: The parent the task is known to have: an observation that does not say (a worker's
    #: report answer, a webhook) never makes a subtask a unit of work.
    parent_id: str | None = None


@attrs.define
class Row:
    """One task row to write, and what travels with it."""

    task: Task
    seq: int
    first_seen: datetime
    observed_at: datetime
    stored: bool
    #: Where the task's rendered JSON is kept (its item's memo, when the task is the item's).
    rendered: list[str] = attrs.field(factory=list)

    def json(self) -> str:
        """The task's JSON, rendered once."""
        if not self.rendered:
            self.rendered.append(task_json(self.task))
        return self.rendered[0]


@attrs.frozen
class Tally:
    """What a writer did: observations written, transitions recorded, observations refused as
    regressions, put in quarantine, and still queued (not written)."""

    written: int
    transitions: int
    refused: int
    quarantined: int
    unwritten: int

    @property
    def lost(self) -> bool:
        """True when something heard was neither written nor quarantined."""
        return self.unwritten > 0


class Writer:
    """Queues observations and writes them in batches on its own thread."""

    def __init__(
        self,
        engine: sa.Engine,
        dialect: str,
        *,
        batch_size: int = 1000,
        retry_max: float = 5.0,
    ) -> None:
        self.engine = engine
        self.dialect = dialect
        self.batch_size = batch_size
        self.retry_max = retry_max
        #: Called in the writer thread with every committed batch of transitions.
        self.on_recorded: list[Callable[[list[Recorded]], None]] = []
        #: Called in the writer thread with the backend of each quarantined observation.
        self.on_quarantined: list[Callable[[str], None]] = []
        #: False while the database cannot be written; :attr:`last_error` says why.
        self.healthy = True
        self.last_error: str | None = None
        #: Observations refused because the database already had a later state.
        self.refused = 0
        #: Observations written, transitions recorded, observations quarantined.
        self.written = 0
        self.transitions = 0
        self.quarantined = 0
        self._queue: deque[Item] = deque()
        self._cond = threading.Condition()
        self._busy = 0
        self._closed = False
        self._thread: threading.Thread | None = None

    # -- the queue -------------------------------------------------------------------------

    def record(self, task: Task, transition: Transition | None = None) -> None:
        """Queue an observation; returns at once."""
        item = Item(task, transition, datetime.now(UTC))
        with self._cond:
            if self._closed:
                raise RuntimeError("the store is closed")
            self._queue.append(item)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="taskhub-store-writer", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        """Observations queued and not yet committed."""
        with self._cond:
            return len(self._queue) + self._busy

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued is committed; False if ``timeout`` passed first."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left if left is not None else 1.0)
        return True

    def close(self, timeout: float | None = 30.0) -> Tally:
        """Write what is queued (up to ``timeout``), stop the thread; say what was done."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        return self.tally()

    def tally(self) -> Tally:
        """What this writer did so far."""
        return Tally(self.written, self.transitions, self.refused, self.quarantined, self.pending)

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        delay = 0.05
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    self._thread = None
                    return
                batch = [
                    self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))
                ]
                self._busy = len(batch)
            recorded, rest, error = self._write_all(batch)
            self._announce(recorded)
            if error is None:
                delay = 0.05
                self.healthy, self.last_error = True, None
                self._settle([])
                continue
            self.healthy = False
            self.last_error = error
            log.warning("store: cannot write (%s); retrying in %.1f s", error, delay)
            self._settle(rest)
            with self._cond:
                if self._closed:
                    self._thread = None
                    return
                self._cond.wait(delay)
            delay = min(delay * 2, self.retry_max)

    def _settle(self, rest: list[Item]) -> None:
        """Put back what is not written (at the head: order matters), and wake waiters."""
        with self._cond:
            self._queue.extendleft(reversed(rest))
            self._busy = 0
            self._cond.notify_all()

    def _announce(self, recorded: list[Recorded]) -> None:
        if not recorded:
            return
        for listener in list(self.on_recorded):
            try:
                listener(recorded)
            except Exception:
                log.exception("store: an on_recorded listener failed")

    def _write_all(self, batch: list[Item]) -> tuple[list[Recorded], list[Item], str | None]:
        """Write ``batch``, isolating what the database refuses; return what was recorded,
        what is left unwritten because the database is away, and why (None: all done)."""
        recorded: list[Recorded] = []
        try:
            todo: deque[list[Item]] = deque([self._admit(batch)])
        except Exception as exc:
            return recorded, batch, _first_line(exc)
        while todo:
            part = todo.popleft()
            if not part:
                continue
            try:
                recorded += self._write_retrying(part)
            except _REFUSED as exc:
                if len(part) > 1:
                    # Split in halves, in order, until the refused item is alone.
                    middle = len(part) // 2
                    todo.extendleft([part[middle:], part[:middle]])
                    continue
                try:
                    self._quarantine([(part[0], _first_line(exc))])
                except Exception as away:
                    return recorded, [*part, *_flat(todo)], _first_line(away)
            except Exception as exc:
                return recorded, [*part, *_flat(todo)], _first_line(exc)
        return recorded, [], None

    def _admit(self, batch: list[Item]) -> list[Item]:
        """The items made storable; those whose names cannot be stored go to quarantine
        (all in one transaction: if it fails, nothing was quarantined)."""
        admitted, refused = [], []
        for item in batch:
            made = boundary.storable(item.task)
            if isinstance(made, boundary.Refusal):
                refused.append((item, made.reason))
            else:
                admitted.append(item if made is item.task else attrs.evolve(item, task=made))
        if refused:
            self._quarantine(refused)
        return admitted

    def _write_retrying(self, part: list[Item]) -> list[Recorded]:
        for attempt in range(CONFLICT_TRIES):
            try:
                return self._write(part)
            except sa.exc.IntegrityError as exc:
                if attempt + 1 == CONFLICT_TRIES or not self._raced(exc):
                    raise
                # Another process inserted one of these tasks first: read again and retry.
                log.debug("store: concurrent insert, retrying the batch: %s", exc.orig)
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def _raced(self, exc: sa.exc.IntegrityError) -> bool:
        """Whether another writer inserted a row first: only a unique violation on
        PostgreSQL (SQLite's BEGIN IMMEDIATE holds the whole file, so a refusal there is the
        data's, as is any other violation): those are refused at once, not retried."""
        return self.dialect == "postgresql" and getattr(exc.orig, "sqlstate", None) == "23505"

    # -- one transaction: load, judge, flush -------------------------------------------------

    def _write(self, batch: Sequence[Item]) -> list[Recorded]:
        with self.engine.begin() as conn:
            known = self._load(conn, sorted({item.task.ref for item in batch}))
            judged = _judge(batch, known)
            changes = _count_changes(judged.rows, known)
            self._flush(conn, judged.rows, judged.transitions, changes)
        self.written += len(batch)
        self.transitions += len(judged.transitions)
        self.refused += judged.refused
        return judged.recorded

    def _load(self, conn: sa.Connection, refs: list[str]) -> dict[str, Known]:
        found: list[Any] = []
        if self.dialect == "postgresql":
            # One array parameter, locked in ref order (so two replicas lock alike): an IN
            # list of hundreds of literals made the planner check each row against each one.
            query = (
                sa.select(*_JUDGED)
                .where(tasks.c.ref == sa.func.any(_REFS))
                .order_by(tasks.c.ref)
                .with_for_update()
            )
            found.extend(conn.execute(query, {"refs": refs}))
        else:
            for start in range(0, len(refs), 500):
                chunk = refs[start : start + 500]
                found.extend(conn.execute(sa.select(*_JUDGED).where(tasks.c.ref.in_(chunk))))
        return {
            row.ref: Known(
                status=loaded_status(row),
                seq=row.seq,
                first_seen=utc(row.first_seen_at) or datetime.now(UTC),
                counted=(row.backend, row.vendor, level_of(row.parent_id), row.state),
                stored=True,
                parent_id=row.parent_id,
            )
            for row in found
        }

    def _flush(
        self,
        conn: sa.Connection,
        rows: dict[str, Row],
        new_transitions: list[dict[str, Any]],
        changes: Counter[CountKey],
    ) -> None:
        inserts = [_values(row) for row in rows.values() if not row.stored]
        updates = [_values(row) for row in rows.values() if row.stored]
        if inserts:
            conn.execute(tasks.insert(), inserts)
        if updates:
            statement = (
                tasks.update()
                .where(tasks.c.ref == sa.bindparam("b_ref"))
                .values({c: sa.bindparam(f"b_{c}") for c in _UPDATED})
            )
            conn.execute(
                statement,
                [{"b_ref": v["ref"], **{f"b_{c}": v[c] for c in _UPDATED}} for v in updates],
            )
        if new_transitions:
            conn.execute(transitions.insert(), new_transitions)
        self._count(conn, changes)

    def _count(self, conn: sa.Connection, changes: Counter[CountKey]) -> None:
        # In key order, so two writers never wait on each other's count rows crosswise.
        deltas = [
            {"backend": b, "vendor": v, "level": lv, "state": s, "n": n}
            for (b, v, lv, s), n in sorted(changes.items())
            if n
        ]
        if not deltas:
            return
        insert = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(counts)
        upsert = insert.on_conflict_do_update(
            index_elements=[counts.c.backend, counts.c.vendor, counts.c.level, counts.c.state],
            set_={"n": counts.c.n + insert.excluded.n},
        )
        conn.execute(upsert, deltas)

    def _quarantine(self, refused: list[tuple[Item, str]]) -> None:
        """Keep each refused observation (masked, made storable) with why, in one transaction."""
        rows = [_quarantined(item, error) for item, error in refused]
        with self.engine.begin() as conn:
            conn.execute(quarantine.insert(), rows)
        self.quarantined += len(rows)
        for row in rows:
            log.warning("store: quarantined an observation of %s: %s", row["ref"], row["error"])
            for listener in list(self.on_quarantined):
                try:
                    listener(row["backend"])
                except Exception:
                    log.exception("store: an on_quarantined listener failed")


@attrs.frozen
class Judged:
    """What judging a batch decided: the rows to write, the new transitions, what to
    announce, and how many observations were refused as regressions."""

    rows: dict[str, Row]
    transitions: list[dict[str, Any]]
    recorded: list[Recorded]
    refused: int


def _quarantined(item: Item, error: str) -> dict[str, Any]:
    task = item.task
    told = item.transition
    payload = {
        "task": task.to_dict(),
        "transition": None if told is None else str(told),
        "observed_at": item.observed_at.isoformat(),
    }
    backend = boundary.text(task.backend, boundary.NAMES["backend"])
    return {
        "backend": backend,
        "ref": boundary.text(task.ref, boundary.REF_LENGTH),
        # ASCII JSON: every character escaped the database could refuse.
        "payload": json.dumps(payload, default=str),
        "error": boundary.text(task.redaction.text(error), 2000),
        "at": datetime.now(UTC),
    }


def _judge(batch: Sequence[Item], known: dict[str, Known]) -> Judged:
    """Judge each observation against what is known of its task (the database's row, then
    the batch's earlier observations). A regression is counted and written nowhere."""
    rows: dict[str, Row] = {}
    new_transitions: list[dict[str, Any]] = []
    recorded: list[Recorded] = []
    refused = 0
    for item in batch:
        task = item.task
        ref = task.ref
        kept = known.get(ref)
        if kept is None:
            kept = known[ref] = Known(None, 0, item.observed_at, None, False)
        if task.parent_id is None and kept.parent_id is not None:
            task = attrs.evolve(task, parent_id=kept.parent_id)
        kept.parent_id = task.parent_id
        before = kept.status
        change = accept(before, task.status, _evidence(item.transition))
        if change in (Change.IGNORED, Change.REGRESSION) and not (
            before is None and task.status.state is State.UNKNOWN  # first sight: keep the row
        ):
            refused += change is Change.REGRESSION
            continue
        if change not in (Change.SAME, Change.IGNORED):
            kept.seq += 1
            at = utc(task.status.updated_at) or item.observed_at
            new_transitions.append(_transition(task, kept, before, change, at, item.observed_at))
            recorded.append(_recorded(task, kept, before, at))
        kept.status = task.status
        memo = item.rendered if task is item.task else []
        rows[ref] = Row(task, kept.seq, kept.first_seen, item.observed_at, kept.stored, memo)
    return Judged(rows, new_transitions, recorded, refused)


def _evidence(told: Transition | None) -> RetryEvidence | None:
    """The caller's Tracker accepted this observation as a retry: that is the store's
    evidence of a commanded retry, from the state the Tracker saw it leave."""
    if told is None or told.change is not Change.RETRY:
        return None
    return RetryEvidence(answer=told.status, left=told.before)


def _transition(
    task: Task,
    kept: Known,
    before: Status | None,
    change: Change,
    at: datetime,
    observed_at: datetime,
) -> dict[str, Any]:
    status = task.status
    return {
        "ref": task.ref,
        "seq": kept.seq,
        "backend": task.backend,
        "vendor": task.vendor,
        "from_state": before.state.value if before else None,
        "to_state": status.state.value,
        "at": at,
        "change": change.value,
        "raw": status.raw,
        "reason": status.reason,
        "message": status.message,
        "progress": status.progress,
        "recorded_at": observed_at,
    }


def _recorded(task: Task, kept: Known, before: Status | None, at: datetime) -> Recorded:
    start = utc(task.created_at) or kept.first_seen
    terminal = task.status.state.terminal
    return Recorded(
        ref=task.ref,
        backend=task.backend,
        vendor=task.vendor,
        before=before.state if before else None,
        after=task.status.state,
        at=at,
        seq=kept.seq,
        duration=max(0.0, (at - start).total_seconds()) if terminal else None,
        level=level_of(task.parent_id),
    )


def _count_changes(rows: dict[str, Row], known: dict[str, Known]) -> Counter[CountKey]:
    """How each counts row changes when ``rows`` are written over what ``known`` counted."""
    changes: Counter[CountKey] = Counter()
    for ref, row in rows.items():
        task = row.task
        now = (task.backend, task.vendor, level_of(task.parent_id), task.status.state.value)
        was = known[ref].counted
        if was != now:
            if was is not None:
                changes[was] -= 1
            changes[now] += 1
            known[ref].counted = now
    return changes


def _values(row: Row) -> dict[str, Any]:
    task = row.task
    status = task.status
    return {
        "ref": task.ref,
        "backend": task.backend,
        "vendor": task.vendor,
        "task_id": task.id,
        "kind": task.kind,
        "parent_id": task.parent_id,
        "parent_ref": None if task.parent_id is None else f"{task.backend}:{task.parent_id}",
        "state": status.state.value,
        "raw": status.raw,
        "reason": status.reason,
        "message": status.message,
        "retryable": status.retryable,
        "progress": status.progress,
        "retries": status.retries,
        "status_updated_at": utc(status.updated_at),
        "created_at": utc(task.created_at),
        "started_at": utc(task.started_at),
        "updated_at": utc(task.updated_at),
        "finished_at": utc(task.finished_at),
        "first_seen_at": row.first_seen,
        "observed_at": row.observed_at,
        "seq": row.seq,
        "task_json": row.json(),
    }


def task_json(task: Task) -> str:
    """The masked task JSON a row keeps; past :data:`boundary.TASK_JSON_CAP`, its lists are
    dropped (``"truncated": true``) so one vendor's enormous answer cannot bloat every page."""
    data = task.to_dict()
    text = json.dumps(data, separators=(",", ":"), default=str)
    if len(text) <= boundary.TASK_JSON_CAP:
        return text
    for name in ("subtasks", "outputs", "inputs", "params", "output"):
        data.pop(name, None)
    data["truncated"] = True
    return json.dumps(data, separators=(",", ":"), default=str)


def _first_line(exc: BaseException) -> str:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first[:300]}"


def _flat(parts: deque[list[Item]]) -> list[Item]:
    return [item for part in parts for item in part]


#: The columns the writer judges an observation against (not the task JSON, which is large).
_JUDGED = [
    tasks.c[name]
    for name in (
        "ref", "backend", "vendor", "task_id", "parent_id", "state", "raw", "reason",
        "message", "retryable", "progress", "retries", "status_updated_at", "first_seen_at",
        "seq",
    )
]  # fmt: skip
_REFS = sa.bindparam("refs", type_=postgresql.ARRAY(sa.String))

_UPDATED = (
    "kind", "parent_id", "parent_ref", "state", "raw", "reason", "message", "retryable",
    "progress", "retries", "status_updated_at", "created_at", "started_at", "updated_at",
    "finished_at", "observed_at", "seq", "task_json",
)  # fmt: skip
