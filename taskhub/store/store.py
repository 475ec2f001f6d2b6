"""The Store: tasks and their transitions in SQLite or PostgreSQL, written in batches.

``record(task, transition)`` only puts the observation on a queue, so a poller never waits
for the database; one writer thread drains the queue in batches, each batch one transaction.
Inside it every observation is classified again against the row in the database (locked with
``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` locks the file), so a restart, a
stale copy in another process or a second replica can never move a task backwards, and the
unique ``(ref, seq)`` key means no transition is recorded twice.

When the database goes away the writer keeps the queue, says so (:attr:`Store.healthy`,
:attr:`Store.last_error`) and tries again with backoff until it returns: nothing is lost while
the process lives.

Readers use their own connections; on SQLite the file is in WAL mode, so a reader never waits
for the writer and the writer never waits for a reader.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from taskhub.errors import ConfigError
from taskhub.model import Status, Task
from taskhub.states import Change, State, Transition, classify

from . import schema
from .schema import tasks, transitions, webhook_events

log = logging.getLogger("taskhub.store")

UTC = timezone.utc
DEFAULT_URL = "sqlite:///taskhub.db"


@attrs.frozen
class Recorded:
    """A transition the store committed (what metrics count)."""

    ref: str
    backend: str
    vendor: str
    before: State | None
    after: State
    at: datetime
    seq: int
    #: Seconds from the task's creation (or first sighting) to ``at``, for a terminal state.
    duration: float | None


@attrs.frozen
class _Item:
    task: Task
    transition: Transition | None
    observed_at: datetime


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def status_of(row: Any) -> Status:
    """The Status a ``taskhub_tasks`` row keeps."""
    return Status(
        state=State.parse(row.state),
        raw=row.raw,
        vendor=row.vendor,
        reason=row.reason,
        message=row.message,
        retryable=row.retryable,
        progress=row.progress,
        retries=row.retries,
        updated_at=_utc(row.status_updated_at),
    )


class Store:
    """Tasks and transitions in a database given by URL (SQLite file or PostgreSQL)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        batch_size: int = 1000,
        retry_max: float = 5.0,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        parsed = make_url(url)
        self.url = url
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite" and parsed.database in (None, "", ":memory:"):
            raise ValueError(
                "the store needs a SQLite file (sqlite:///path.db), not an in-memory database: "
                "its writer and readers use separate connections"
            )
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {self.dialect!r}: use sqlite or postgresql")
        self.batch_size = batch_size
        self.retry_max = retry_max
        options = dict(engine_options or {})
        if self.dialect == "sqlite":
            options.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        else:
            options.setdefault("pool_pre_ping", True)
        self.writer_engine = sa.create_engine(url, **options)
        self.reader_engine = sa.create_engine(url, **options)
        if self.dialect == "sqlite":
            _sqlite_pragmas(self.writer_engine, immediate=True)
            _sqlite_pragmas(self.reader_engine, immediate=False)
        #: Called in the writer thread with every committed batch of transitions.
        self.on_recorded: list[Callable[[list[Recorded]], None]] = []
        #: False while the database cannot be written; :attr:`last_error` says why.
        self.healthy = True
        self.last_error: str | None = None
        #: Observations refused because the database already had a later state.
        self.refused = 0
        self.written = 0
        self._queue: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.upgrade()

    # -- schema --------------------------------------------------------------------------------

    def upgrade(self) -> int:
        """Create or upgrade the tables (one process at a time); return the version found."""
        with self.writer_engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7273401)"))
            return schema.upgrade(conn)

    def version(self) -> int | None:
        """The database's schema version."""
        with self.reader_engine.connect() as conn:
            return schema.current_version(conn)

    # -- writing -------------------------------------------------------------------------------

    def record(self, task: Task, transition: Transition | None = None) -> None:
        """Queue an observation of ``task`` (and the transition the caller's Tracker saw);
        returns at once. :meth:`flush` waits until everything queued is written."""
        item = _Item(task, transition, datetime.now(UTC))
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
            return len(self._queue) + (1 if self._busy else 0)

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

    def close(self, timeout: float | None = 30.0) -> bool:
        """Write what is queued (up to ``timeout``), stop the writer, release connections;
        True when nothing was left unwritten."""
        done = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        self.writer_engine.dispose()
        self.reader_engine.dispose()
        return done

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
                self._busy = True
            try:
                recorded = self._write(batch)
            except sa.exc.IntegrityError as exc:
                # Another process inserted one of these tasks first: read again and retry.
                log.debug("store: concurrent insert, retrying the batch: %s", exc.orig)
                self._requeue(batch)
                continue
            except Exception as exc:
                self.healthy = False
                self.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                log.warning("store: cannot write (%s); retrying in %.1f s", self.last_error, delay)
                self._requeue(batch)
                with self._cond:
                    if self._closed:
                        self._busy = False
                        self._cond.notify_all()
                        self._thread = None
                        return
                    self._cond.wait(delay)
                delay = min(delay * 2, self.retry_max)
                continue
            delay = 0.05
            self.healthy = True
            self.last_error = None
            with self._cond:
                self._busy = False
                self._cond.notify_all()
            if recorded:
                for listener in list(self.on_recorded):
                    try:
                        listener(recorded)
                    except Exception:
                        log.exception("store: an on_recorded listener failed")

    def _requeue(self, batch: list[_Item]) -> None:
        with self._cond:
            self._queue.extendleft(reversed(batch))
            self._busy = False
            self._cond.notify_all()

    def _write(self, batch: Sequence[_Item]) -> list[Recorded]:
        refs = sorted({item.task.ref for item in batch})
        recorded: list[Recorded] = []
        with self.writer_engine.begin() as conn:
            rows: dict[str, Any] = {}
            if self.dialect == "postgresql":
                # One array parameter, locked: an IN list of hundreds of literals made the
                # planner scan the whole table checking each row against every literal.
                query = (
                    sa.select(*_JUDGED).where(tasks.c.ref == sa.func.any(_REFS)).with_for_update()
                )
                rows.update({row.ref: row for row in conn.execute(query, {"refs": refs})})
            else:
                for chunk in _chunks(refs, 500):
                    query = sa.select(*_JUDGED).where(tasks.c.ref.in_(chunk))
                    rows.update({row.ref: row for row in conn.execute(query)})
            current: dict[str, dict[str, Any]] = {}
            inserts: dict[str, dict[str, Any]] = {}
            new_transitions: list[dict[str, Any]] = []
            for item in batch:
                task = item.task
                ref = task.ref
                state = current.get(ref) or inserts.get(ref)
                if state is not None:
                    before: Status | None = state["_status"]
                    seq = state["seq"]
                    first_seen = state["first_seen_at"]
                elif ref in rows:
                    before = status_of(rows[ref])
                    seq = rows[ref].seq
                    first_seen = _utc(rows[ref].first_seen_at)
                else:
                    before, seq, first_seen = None, 0, item.observed_at
                change = classify(before, task.status)
                told = item.transition
                if (
                    change is Change.REGRESSION
                    and told is not None
                    and told.change is Change.RETRY
                    and before is not None
                    and before.state is told.before
                ):
                    change = Change.RETRY  # a commanded retry the caller's Tracker accepted
                if change in (Change.IGNORED, Change.REGRESSION):
                    if before is None and task.status.state is State.UNKNOWN:
                        pass  # first sight of a task in an unknown state: keep the row
                    else:
                        self.refused += change is Change.REGRESSION
                        continue
                values = _row(task, item.observed_at, first_seen)
                if change not in (Change.SAME, Change.IGNORED):
                    seq += 1
                    at = _utc(task.status.updated_at) or item.observed_at
                    new_transitions.append(
                        {
                            "ref": ref,
                            "seq": seq,
                            "backend": task.backend,
                            "vendor": task.vendor,
                            "from_state": before.state.value if before else None,
                            "to_state": task.status.state.value,
                            "at": at,
                            "change": change.value,
                            "raw": task.status.raw,
                            "reason": task.status.reason,
                            "message": task.status.message,
                            "progress": task.status.progress,
                            "recorded_at": item.observed_at,
                        }
                    )
                    start = _utc(task.created_at) or first_seen
                    duration = (
                        max(0.0, (at - start).total_seconds())
                        if task.status.state.terminal and start is not None
                        else None
                    )
                    recorded.append(
                        Recorded(
                            ref,
                            task.backend,
                            task.vendor,
                            before.state if before else None,
                            task.status.state,
                            at,
                            seq,
                            duration,
                        )
                    )
                values["seq"] = seq
                values["_status"] = task.status
                values["_task"] = task
                if ref in rows or ref in current:
                    current[ref] = values
                else:
                    inserts[ref] = values
            # The masked task JSON is the costliest part of a row: made once per task, for
            # the observation that is written (a backlog may hold several of one task).
            for values in (*inserts.values(), *current.values()):
                values["task_json"] = _task_json(values["_task"])
            if inserts:
                conn.execute(tasks.insert(), [_strip(v) for v in inserts.values()])
            if current:
                update = (
                    tasks.update()
                    .where(tasks.c.ref == sa.bindparam("b_ref"))
                    .values({c: sa.bindparam(f"b_{c}") for c in _UPDATED})
                )
                conn.execute(
                    update,
                    [
                        {"b_ref": ref, **{f"b_{c}": v[c] for c in _UPDATED}}
                        for ref, v in current.items()
                    ],
                )
            if new_transitions:
                conn.execute(transitions.insert(), new_transitions)
        self.written += len(batch)
        return recorded

    def accept_event(self, backend: str, event_id: str) -> bool:
        """Remember a webhook event id; False when it was already accepted (a replay)."""
        try:
            with self.writer_engine.begin() as conn:
                conn.execute(
                    webhook_events.insert().values(
                        backend=backend, event_id=event_id, received_at=datetime.now(UTC)
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    def forget_event(self, backend: str, event_id: str) -> None:
        """Drop a remembered event id (its handling failed, so a redelivery may come in)."""
        with self.writer_engine.begin() as conn:
            conn.execute(
                webhook_events.delete().where(
                    (webhook_events.c.backend == backend) & (webhook_events.c.event_id == event_id)
                )
            )

    # -- reading -------------------------------------------------------------------------------

    def tasks(
        self,
        *,
        backend: str | None = None,
        vendor: str | None = None,
        state: State | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of tasks (the task JSON, newest observed first) and how many match."""
        where = _filters(backend, vendor, state)
        with self.reader_engine.connect() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(tasks).where(*where)
            ).scalar_one()
            rows = conn.execute(
                sa.select(tasks)
                .where(*where)
                .order_by(tasks.c.observed_at.desc(), tasks.c.ref)
                .limit(limit)
                .offset(offset)
            ).all()
        return [task_json(r) for r in rows], int(total)

    def task(self, ref: str) -> dict[str, Any] | None:
        """One task's JSON, or None."""
        with self.reader_engine.connect() as conn:
            row = conn.execute(sa.select(tasks).where(tasks.c.ref == ref)).first()
        return None if row is None else task_json(row)

    def status(self, ref: str) -> Status | None:
        """The last recorded status of ``ref``."""
        found = self.statuses([ref]).get(ref)
        return None if found is None else found[1]

    def statuses(
        self, refs: Iterable[str] | None = None, *, backend: str | None = None
    ) -> dict[str, tuple[Task, Status]]:
        """The last recorded status of each of ``refs`` (or of every task of ``backend``), as
        a minimal Task and its Status, for seeding a Tracker."""
        with self.reader_engine.connect() as conn:
            if refs is not None:
                rows: list[Any] = []
                for chunk in _chunks(sorted(set(refs)), 500):
                    rows.extend(conn.execute(sa.select(tasks).where(tasks.c.ref.in_(chunk))))
            else:
                query = sa.select(tasks)
                if backend is not None:
                    query = query.where(tasks.c.backend == backend)
                rows = list(conn.execute(query))
        found = {}
        for row in rows:
            status = status_of(row)
            found[row.ref] = (Task(row.backend, row.vendor, row.task_id, status), status)
        return found

    def unfinished(self, backend: str) -> list[str]:
        """The ids of ``backend``'s tasks whose last recorded state is not terminal."""
        terminal = [s.value for s in State if s.terminal]
        with self.reader_engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(tasks.c.task_id).where(
                        tasks.c.backend == backend, tasks.c.state.not_in(terminal)
                    )
                ).scalars()
            )

    def transitions(self, ref: str) -> list[dict[str, Any]]:
        """Every recorded transition of ``ref``, oldest first, as JSON-ready dicts."""
        with self.reader_engine.connect() as conn:
            rows = conn.execute(
                sa.select(transitions).where(transitions.c.ref == ref).order_by(transitions.c.seq)
            ).all()
        return [
            {
                "ref": r.ref,
                "seq": r.seq,
                "from": r.from_state,
                "to": r.to_state,
                "at": _iso(r.at),
                "change": r.change,
                "raw": r.raw,
                "reason": r.reason,
                "message": r.message,
                "progress": r.progress,
            }
            for r in rows
        ]

    def counts(self) -> list[tuple[str, str, str, int]]:
        """``(backend, vendor, state, n)`` for every combination present."""
        with self.reader_engine.connect() as conn:
            rows = conn.execute(
                sa.select(tasks.c.backend, tasks.c.vendor, tasks.c.state, sa.func.count())
                .group_by(tasks.c.backend, tasks.c.vendor, tasks.c.state)
                .order_by(tasks.c.backend, tasks.c.vendor, tasks.c.state)
            ).all()
        return [(b, v, s, int(n)) for b, v, s, n in rows]

    def count_transitions(self) -> int:
        """How many transitions are recorded in all."""
        with self.reader_engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(transitions)).scalar_one()
            )

    def ping(self) -> str | None:
        """None when the database answers, else why not."""
        try:
            with self.reader_engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        return None


#: The columns the writer judges an observation against (not the task JSON, which is large).
_JUDGED = [
    tasks.c[name]
    for name in (
        "ref", "backend", "vendor", "task_id", "state", "raw", "reason", "message", "retryable",
        "progress", "retries", "status_updated_at", "first_seen_at", "seq",
    )
]  # fmt: skip
_REFS = sa.bindparam("refs", type_=postgresql.ARRAY(sa.String))

_UPDATED = (
    "kind",
    "parent_id",
    "state",
    "raw",
    "reason",
    "message",
    "retryable",
    "progress",
    "retries",
    "status_updated_at",
    "created_at",
    "started_at",
    "updated_at",
    "finished_at",
    "observed_at",
    "seq",
    "task_json",
)


def _row(task: Task, observed_at: datetime, first_seen: datetime | None) -> dict[str, Any]:
    status = task.status
    return {
        "ref": task.ref,
        "backend": task.backend,
        "vendor": task.vendor,
        "task_id": task.id,
        "kind": task.kind,
        "parent_id": task.parent_id,
        "state": status.state.value,
        "raw": status.raw,
        "reason": status.reason,
        "message": status.message,
        "retryable": status.retryable,
        "progress": status.progress,
        "retries": status.retries,
        "status_updated_at": _utc(status.updated_at),
        "created_at": _utc(task.created_at),
        "started_at": _utc(task.started_at),
        "updated_at": _utc(task.updated_at),
        "finished_at": _utc(task.finished_at),
        "first_seen_at": first_seen or observed_at,
        "observed_at": observed_at,
    }


def _task_json(task: Task) -> str:
    return json.dumps(task.to_dict(), separators=(",", ":"), default=str)


def _strip(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not k.startswith("_")}


def _filters(backend: str | None, vendor: str | None, state: State | None) -> list[Any]:
    where: list[Any] = []
    if backend is not None:
        where.append(tasks.c.backend == backend)
    if vendor is not None:
        where.append(tasks.c.vendor == vendor)
    if state is not None:
        where.append(tasks.c.state == state.value)
    return where


def _iso(value: datetime | None) -> str | None:
    value = _utc(value)
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def task_json(row: Any) -> dict[str, Any]:
    """The task JSON a row keeps (the masked ``Task.to_dict()``), plus when it was observed."""
    if row.task_json:
        data: dict[str, Any] = json.loads(row.task_json)
    else:  # a row written by schema version 1
        data = Task(row.backend, row.vendor, row.task_id, status_of(row), kind=row.kind).to_dict()
    return data


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _sqlite_pragmas(engine: sa.Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def masked_url(url: str) -> str:
    """``url`` with its password hidden; text that is not a database URL is not shown, since
    it may still hold one."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        return "(not a database URL)"


def open_store(url: str) -> Store:
    """``Store(url)``, or a ConfigError saying in one line why not (a bad URL, a missing
    driver, an unreachable server), the URL's password hidden."""
    try:
        return Store(url)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"cannot open the store {masked_url(url)}: {first}") from None
