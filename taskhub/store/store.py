"""The Store: tasks and their transitions in SQLite or PostgreSQL.

A Store is a :class:`~.writer.Writer` (one thread writing observations in batches, judging
each against the database's row, quarantining what the database refuses) and a
:class:`~.reader.Reader` (pages, counts, transitions) over one database, created or upgraded
when it is opened. ``record`` never waits for the database; ``close`` writes what is queued
and says what was and was not written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from taskhub.errors import ConfigError
from taskhub.model import Status, Task
from taskhub.states import State, Transition

from . import schema
from .actions import Actions
from .boundary import faithful
from .reader import Filters, Page, Reader
from .rows import Recorded, utc
from .schema import webhook_events
from .writer import Tally, Writer

UTC = timezone.utc
DEFAULT_URL = "sqlite:///taskhub.db"
#: The PostgreSQL advisory lock that serializes schema upgrades between processes. The number
#: was picked at random when the store was written (commit 3ec7e52) and means nothing; it only
#: has to stay the same across versions. The per-backend lease keys of ``taskhub.serve.lease``
#: share its key space (bigint keys); each is 64 bits of a SHA-256, so one meets it with odds
#: of one in 2**64.
UPGRADE_LOCK = 7273401
#: The longest webhook event id kept as it is; a longer one is kept as its SHA-256.
_EVENT_ID_LENGTH = webhook_events.c.event_id.type.length  # type: ignore[attr-defined]


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
        self.writer = Writer(
            self.writer_engine, self.dialect, batch_size=batch_size, retry_max=retry_max
        )
        self.reader = Reader(self.reader_engine)
        #: The audit trail and submit keys of taskhub serve's actions.
        self.actions = Actions(self.writer_engine, self.reader_engine)
        self.upgrade()

    # -- schema --------------------------------------------------------------------------------

    def upgrade(self) -> int:
        """Create or upgrade the tables (one process at a time); return the version found."""
        with self.writer_engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK})"))
            return schema.upgrade(conn)

    def version(self) -> int | None:
        """The database's schema version."""
        with self.reader_engine.connect() as conn:
            return schema.current_version(conn)

    # -- writing (see taskhub.store.writer) ----------------------------------------------------

    def record(self, task: Task, transition: Transition | None = None) -> None:
        """Queue an observation of ``task`` (and the transition the caller's Tracker saw);
        returns at once. :meth:`flush` waits until everything queued is written."""
        self.writer.record(task, transition)

    @property
    def pending(self) -> int:
        """Observations queued and not yet committed."""
        return self.writer.pending

    @property
    def healthy(self) -> bool:
        """False while the database cannot be written; :attr:`last_error` says why."""
        return self.writer.healthy

    @property
    def last_error(self) -> str | None:
        """Why the last write failed, while it does."""
        return self.writer.last_error

    @property
    def on_recorded(self) -> list[Callable[[list[Recorded]], None]]:
        """Called in the writer thread with every committed batch of transitions."""
        return self.writer.on_recorded

    @property
    def on_quarantined(self) -> list[Callable[[str], None]]:
        """Called in the writer thread with the backend of each quarantined observation."""
        return self.writer.on_quarantined

    @property
    def refused(self) -> int:
        """Observations refused because the database already had a later state."""
        return self.writer.refused

    @property
    def written(self) -> int:
        """Observations written."""
        return self.writer.written

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued is committed; False if ``timeout`` passed first."""
        return self.writer.flush(timeout)

    def tally(self) -> Tally:
        """What was written, refused, quarantined and is still queued, so far."""
        return self.writer.tally()

    def close(self, timeout: float | None = 30.0) -> Tally:
        """Write what is queued (up to ``timeout``), stop the writer, release connections;
        say what was written and what was not (``tally.lost`` when anything heard was
        neither written nor quarantined)."""
        tally = self.writer.close(timeout)
        self.writer_engine.dispose()
        self.reader_engine.dispose()
        return tally

    def accept_event(self, backend: str, event_id: str) -> bool:
        """Remember a webhook event id; False when it was already accepted (a replay)."""
        try:
            with self.writer_engine.begin() as conn:
                conn.execute(
                    webhook_events.insert().values(
                        backend=backend, event_id=_event_key(event_id), received_at=_now()
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
                    (webhook_events.c.backend == backend)
                    & (webhook_events.c.event_id == _event_key(event_id))
                )
            )

    # -- reading (see taskhub.store.reader) ----------------------------------------------------

    def page(
        self, filters: Filters | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> Page:
        """A page of tasks, newest observed first (``filters``: default units of work)."""
        return self.reader.page(filters or Filters(), limit=limit, cursor=cursor)

    def task(self, ref: str) -> dict[str, Any] | None:
        """One task's JSON, or None."""
        return self.reader.task(ref)

    def status(self, ref: str) -> Status | None:
        """The last recorded status of ``ref``."""
        found = self.statuses([ref]).get(ref)
        return None if found is None else found[1]

    def statuses(
        self, refs: Iterable[str] | None = None, *, backend: str | None = None
    ) -> dict[str, tuple[Task, Status]]:
        """The last recorded status of each of ``refs`` (or of every task of ``backend``)."""
        return self.reader.statuses(refs, backend=backend)

    def unfinished(self, backend: str) -> list[str]:
        """The ids of ``backend``'s units of work not recorded as finished."""
        return self.reader.unfinished(backend)

    def transitions(self, ref: str) -> list[dict[str, Any]]:
        """Every recorded transition of ``ref``, oldest first."""
        return self.reader.transitions(ref)

    def counts(
        self, *, level: str | None = schema.TASK, state: State | None = None
    ) -> list[tuple[str, str, str, int]]:
        """``(backend, vendor, state, n)`` for every combination present at ``level``."""
        return self.reader.counts(level=level, state=state)

    def count_transitions(self) -> int:
        """How many transitions are recorded in all."""
        return self.reader.count_transitions()

    def quarantined(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest quarantined observations."""
        return self.reader.quarantined(limit)

    def ping(self) -> str | None:
        """None when the database answers, else why not."""
        return self.reader.ping()


def _now() -> datetime:
    return datetime.now(UTC)


def _event_key(event_id: str) -> str:
    """The id as stored: as it is when it fits and can be stored, else its SHA-256 (still
    unique per id, so a replay is still refused)."""
    if faithful(event_id, _EVENT_ID_LENGTH) is None:
        return event_id
    digest = hashlib.sha256(event_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest}"


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


__all__ = ["DEFAULT_URL", "Store", "masked_url", "open_store", "utc"]
