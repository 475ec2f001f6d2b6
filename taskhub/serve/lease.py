"""Which replica polls which backend: one PostgreSQL advisory lock per backend.

Each replica tries ``pg_try_advisory_lock`` for every backend on a connection of its own and
polls only the backends it holds; the others serve the page and the API. A replica that dies
closes its connection, the server releases its locks, and another replica takes them at its
next check (every poll cycle), so failover takes at most two cycles. A connection that breaks
loses its locks too: :meth:`Leases.acquire` notices and the replica stops polling.

On SQLite (one machine, one service) every lease is always held.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading

import sqlalchemy as sa

from taskhub.store import Store

log = logging.getLogger("taskhub.serve.lease")


def lock_key(backend: str) -> int:
    """The advisory lock key of ``backend`` (a signed 64-bit number)."""
    digest = hashlib.sha256(f"taskhub.serve:{backend}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leases:
    """This replica's leases on the backends it polls."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._held: set[str] = set()
        self._conn: sa.Connection | None = None
        self._lock = threading.Lock()

    def held(self, backend: str) -> bool:
        return self.store.dialect != "postgresql" or backend in self._held

    def acquire(self, backend: str) -> bool:
        """Hold ``backend``'s lease if free (or already ours); True when held."""
        if self.store.dialect != "postgresql":
            return True
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = self.store.writer_engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    )
                    self._held.clear()
                conn = self._conn
                if backend in self._held:
                    conn.execute(sa.text("SELECT 1"))  # still connected, so still ours
                    return True
                got = conn.execute(
                    sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key(backend)}
                ).scalar()
            except Exception as exc:
                log.warning("lease check failed (%s): polling nothing until it works", exc)
                self._drop_connection()
                return False
            if got:
                self._held.add(backend)
            return bool(got)

    def _drop_connection(self) -> None:
        self._held.clear()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.invalidate()
                self._conn.close()
            self._conn = None

    def close(self) -> None:
        """Release every lease (closing the connection releases the locks)."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
                # Invalidate, not just close: a pooled connection would keep the locks.
                with contextlib.suppress(Exception):
                    self._conn.invalidate()
                    self._conn.close()
                self._conn = None
            self._held.clear()
