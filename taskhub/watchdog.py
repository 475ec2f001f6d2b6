"""A deadline for a whole HTTP call, enforced on the socket.

``timeout`` in requests bounds each socket read, so a server that sends one byte a second — in
the headers or in the body — holds a call for as long as it likes. A :class:`Call` carries the
instant by which everything must be over; the connections urllib3 hands out while a call is
current on this thread are attached to it, and one watchdog thread for the whole process shuts
their sockets down when the instant passes, which ends any read blocked on them at once.

Calls that no Transport made (no current Call) are never touched, so a session shared with
other code loses nothing.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests.adapters
import urllib3
import urllib3.connection

_current = threading.local()


class Call:
    """One call's deadline (``time.monotonic()`` seconds) and the connections it used."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._done = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()

    def attach(self, conn: Any) -> None:
        """Follow ``conn`` (a connection or a socket) until the call ends; cut it at once if
        the deadline has passed."""
        with self._lock:
            if self._done:
                return
            self._conns.append(conn)
            # A connection that answers "Connection: close" hands its socket to the response
            # and forgets it, so the socket it holds now is followed too.
            sock = getattr(conn, "sock", None)
            if sock is not None:
                self._conns.append(sock)
            late = self.expired
        if late:
            _shut(conn)

    def expire(self) -> None:
        """The deadline passed: cut every connection still in use."""
        with self._lock:
            if self._done:
                return
            self.expired = True
            conns = list(self._conns)
        for conn in conns:
            _shut(conn)

    def finish(self) -> None:
        """The call is over; its connections go back to the pool untouched."""
        with self._lock:
            self._done = True
            self._conns.clear()

    def left(self) -> float:
        """Seconds until the deadline (negative once it has passed)."""
        return self.deadline - time.monotonic()


def _shut(conn: Any) -> None:
    sock = conn if isinstance(conn, socket.socket) else getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that expires calls whose deadline has passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Call]] = []
        self._cond = threading.Condition()
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, call: Call) -> None:
        with self._cond:
            heapq.heappush(self._heap, (call.deadline, next(self._order), call))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="taskhub-deadline", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, _, call = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            if not call._done:
                call.expire()


_WATCHDOG = _Watchdog()


@contextlib.contextmanager
def deadline(call: Call) -> Iterator[Call]:
    """Make ``call`` current on this thread: connections taken inside are watched."""
    previous = getattr(_current, "call", None)
    _current.call = call
    _WATCHDOG.watch(call)
    try:
        yield call
    finally:
        call.finish()
        _current.call = previous


def _attach(conn: Any) -> None:
    call: Call | None = getattr(_current, "call", None)
    if call is not None:
        call.attach(conn)


class _HTTPConnection(urllib3.connection.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _attach(self.sock)


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _attach(self.sock)


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _attach(conn)
        return conn


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)
        _attach(conn)
        return conn


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose pools attach each connection to the current :class:`Call`."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def watched_session() -> requests.Session:
    """A Session whose connections honour the current call's deadline."""
    session = requests.Session()
    adapter = WatchedAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
