"""``taskhub serve``: follow the configured backends, record into the store, serve a page,
an API, Prometheus metrics and webhook intake.

Needs the ``serve`` extra (``pip install 'taskhub[serve]'``: waitress, prometheus-client and
the ``store`` extra). :func:`build` makes the parts without a server (tests, embedding);
:func:`run` is the command. See docs/dashboards.md.
"""

from __future__ import annotations

try:
    import prometheus_client  # noqa: F401
    import waitress  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("taskhub serve needs its extra: pip install 'taskhub[serve]'") from exc

import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

import attrs

from taskhub.config import Config
from taskhub.hub import TaskHub, connect_all
from taskhub.store import DEFAULT_URL, Store, masked_url, open_store

from .app import App
from .lease import Leases
from .metrics import Metrics
from .service import Service

__all__ = ["App", "Metrics", "Served", "Service", "build", "run", "webhook_secrets"]

log = logging.getLogger("taskhub.serve")


@attrs.define
class Served:
    """The parts of one service: the store, the follower, the metrics and the WSGI app."""

    store: Store
    service: Service
    metrics: Metrics
    app: App

    def close(self) -> None:
        """Stop following, write everything heard, release the database."""
        self.service.stop()
        self.metrics.uninstall()
        self.store.close()


def webhook_secrets(backends: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """Each backend's webhook secret from ``TASKHUB_WEBHOOK_SECRET_<BACKEND>`` (the name in
    upper case, anything not a letter or digit as ``_``)."""
    found = {}
    for name in backends:
        key = "TASKHUB_WEBHOOK_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()
        if environ.get(key):
            found[name] = environ[key]
    return found


def build(
    hubs: Mapping[str, TaskHub],
    db: str = DEFAULT_URL,
    *,
    token: str | None = None,
    secrets: Mapping[str, str] | None = None,
    discover_every: float = 30.0,
    lease_every: float = 1.0,
    refresh_seconds: float = 2.0,
    start: bool = True,
) -> Served:
    """The service's parts over ``hubs`` and the store at ``db``, following at once (a store
    that cannot be opened is a ConfigError)."""
    store = open_store(db)
    metrics = Metrics(store)
    metrics.install()
    service = Service(
        hubs, store, leases=Leases(store), discover_every=discover_every, lease_every=lease_every
    )
    app = App(
        service, metrics, token=token, webhook_secrets=secrets, refresh_seconds=refresh_seconds
    )
    if start:
        service.start()
    return Served(store, service, metrics, app)


class _Stop(Exception):
    pass


@contextmanager
def _signals() -> Iterator[None]:
    """SIGTERM and SIGINT end :func:`run`'s serving loop (in the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        raise _Stop(signal.Signals(signum).name)

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def run(
    config: Config | str | None = None,
    *,
    backends: Sequence[str] = (),
    db: str = DEFAULT_URL,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    discover_every: float = 30.0,
    threads: int = 8,
    out: TextIO | None = None,
) -> int:
    """Serve until SIGTERM or Ctrl-C; then stop following and write everything heard.

    ``config``: the backends to follow (``backends`` narrows them); None follows none and
    serves what the store holds. A store that cannot be opened, or an address that cannot be
    served, is a ConfigError."""
    from waitress.server import create_server

    out = out or sys.stdout
    hubs = connect_all(config) if config is not None else {}
    if backends:
        unknown = [b for b in backends if b not in hubs]
        if unknown:
            from taskhub.errors import ConfigError

            raise ConfigError(
                f"no backend {unknown[0]!r} in the configuration; known: {', '.join(hubs)}"
            )
        hubs = {b: hubs[b] for b in backends}
    try:
        served = build(
            hubs,
            db,
            token=token,
            secrets=webhook_secrets(list(hubs), os.environ),
            discover_every=discover_every,
        )
    except BaseException:
        for hub in hubs.values():
            hub.close()
        raise
    try:
        server = create_server(served.app, host=host, port=port, threads=threads, ident="taskhub")
    except ValueError as exc:  # waitress: "Invalid host/port specified."
        from taskhub.errors import ConfigError

        served.close()
        raise ConfigError(f"cannot serve on {host}:{port}: {exc}") from None
    actual = server.effective_port  # type: ignore[union-attr]
    out.write(
        f"taskhub serve: http://{host}:{actual}/ following {', '.join(hubs) or 'no backend'}; "
        f"store {masked_url(db)}\n"
    )
    out.flush()
    reason = "stopped"
    try:
        with _signals():
            server.run()
    except (_Stop, KeyboardInterrupt) as exc:
        reason = str(exc) or "SIGINT"
    finally:
        server.close()
        served.close()
        for hub in hubs.values():
            hub.close()
    out.write(f"taskhub serve: {reason}; everything heard is recorded\n")
    out.flush()
    return 0
