"""TaskHubHook: an Airflow connection of type ``taskhub`` opens a TaskHub.

The connection says which vendor (and its options) or which backend of a taskhub.toml; see
:mod:`taskhub.airflow.connection` for the fields. Swapping the vendor behind a DAG is an edit
of this connection: the DAG file does not change.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from typing import Any

from taskhub.airflow import console
from taskhub.airflow._compat import AirflowFailException, BaseHook
from taskhub.airflow.connection import console_template, open_hub
from taskhub.errors import ConfigError, TaskhubError
from taskhub.hub import TaskHub
from taskhub.model import Task

#: Hubs the triggers of this process share, by connection content (an edited connection
#: opens a new hub); at most this many are kept.
_SHARED_MAX = 32
_shared: OrderedDict[tuple[str, ...], TaskHub] = OrderedDict()
#: Per connection id: when it was last read, and the hub it opened.
_recent: dict[str, tuple[float, TaskHub]] = {}
#: Reads of a connection under way, per (event loop, connection id): the triggers that start
#: meanwhile wait for the same read.
_reading: dict[tuple[int, str], asyncio.Future[TaskHub]] = {}
_shared_lock = threading.Lock()
#: Seconds for which one read of a connection serves every trigger of that connection.
REREAD = 5.0


class TaskHubHook(BaseHook):
    """Opens the :class:`~taskhub.TaskHub` an Airflow connection of type ``taskhub`` describes.

    A connection that describes none (unknown vendor, missing secret, unknown option, unreadable
    config) raises ``AirflowFailException`` with the configuration error's message before any
    request: retrying cannot mend a connection, so the task fails at once.
    """

    conn_name_attr = "conn_id"
    default_conn_name = "taskhub_default"
    conn_type = "taskhub"
    hook_name = "taskhub"

    def __init__(self, conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self._console: str | None = None

    def get_hub(self) -> TaskHub:
        """A new TaskHub for this connection (close it when done, or use ``with``)."""
        conn = self.get_connection(self.conn_id)
        hub = _open(self.conn_id, conn.extra, conn.password, conn.host)
        self._console = console_template(self.conn_id, conn.extra)
        return hub

    def console_url(self, hub: TaskHub, task: Task) -> str | None:
        """The vendor's web page for ``task`` (the connection's ``console_url``, read by
        :meth:`get_hub`, or the vendor's default); None where the vendor has none."""
        return console.url_for(hub, task, self._console)

    def get_conn(self) -> TaskHub:
        """Airflow's name for :meth:`get_hub`."""
        return self.get_hub()

    async def aget_hub(self) -> TaskHub:
        """The process's shared TaskHub for this connection, for code in an event loop (the
        triggers).

        The connection is read without blocking, once per ``REREAD`` seconds for all the
        triggers of one connection (a triggerer starting a thousand of them reads it once,
        not a thousand times); the hub — opened off the loop the first time, since that
        imports the vendor's adapter — is kept while the connection is unchanged, so every
        trigger of one connection shares it. An edited connection reaches the triggers that
        start after the next read.
        """
        with _shared_lock:
            recent = _recent.get(self.conn_id)
        if recent is not None and time.monotonic() - recent[0] < REREAD:
            return recent[1]
        loop = asyncio.get_running_loop()
        key = (id(loop), self.conn_id)
        reading = _reading.get(key)
        if reading is None or reading.get_loop() is not loop:
            reading = _reading[key] = asyncio.ensure_future(self._read_hub())
            reading.add_done_callback(lambda _: _reading.pop(key, None))
        return await asyncio.shield(reading)

    async def _read_hub(self) -> TaskHub:
        getter = getattr(BaseHook, "aget_connection", None)
        if getter is not None:
            conn = await getter(self.conn_id)
        else:  # Airflow before 3.1 has no async read of a connection
            conn = await asyncio.to_thread(BaseHook.get_connection, self.conn_id)
        key = (self.conn_id, conn.extra or "", conn.password or "", conn.host or "")
        with _shared_lock:
            hub = _shared.get(key)
        if hub is None:
            opened = await asyncio.to_thread(
                _open, self.conn_id, conn.extra, conn.password, conn.host
            )
            with _shared_lock:
                hub = _shared.setdefault(key, opened)
                while len(_shared) > _SHARED_MAX:
                    _shared.popitem(last=False)[1].close()
            if hub is not opened:
                opened.close()
        with _shared_lock:
            _shared.move_to_end(key)
            _recent[self.conn_id] = (time.monotonic(), hub)
        return hub

    def test_connection(self) -> tuple[bool, str]:
        """What the UI's Test button runs: the connection is valid, and the vendor answers
        (one listing of one task, where the vendor has a listing)."""
        try:
            with self.get_hub() as hub:
                if "list" in hub.capabilities:
                    next(iter(hub.list(limit=1)), None)
                    return True, f"{hub.vendor}: connected"
                return True, f"{hub.vendor}: configuration valid ({hub.vendor} has no listing)"
        except AirflowFailException as exc:
            return False, str(exc)
        except TaskhubError as exc:
            return False, str(exc)


def forget_shared() -> None:
    """Close and forget the hubs the triggers of this process share (tests swap a
    connection's target faster than ``REREAD``)."""
    with _shared_lock:
        hubs = list(_shared.values())
        _shared.clear()
        _recent.clear()
    for hub in hubs:
        hub.close()


def _open(conn_id: str, extra: Any, password: str | None, host: str | None) -> TaskHub:
    try:
        return open_hub(conn_id, extra=extra, password=password, host=host)
    except ConfigError as exc:
        raise AirflowFailException(str(exc)) from exc
