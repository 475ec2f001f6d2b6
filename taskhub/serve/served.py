"""The parts of one service, put together: the store, the follower, the metrics, the app."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs

from taskhub.hub import TaskHub
from taskhub.store import DEFAULT_URL, Store, Tally, open_store

from .access import Access
from .app import App
from .lease import Leases
from .metrics import Metrics
from .service import Service


@attrs.define
class Served:
    """The parts of one service: the store, the follower, the metrics and the WSGI app."""

    store: Store
    service: Service
    metrics: Metrics
    app: App

    def close(self, timeout: float = 30.0) -> Tally:
        """Stop following, write everything heard (up to ``timeout``), release the database;
        say what was written and what was not."""
        self.service.stop()
        self.metrics.uninstall()
        return self.store.close(timeout)


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
    access: Access | None = None,
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
        service,
        metrics,
        token=token,
        access=access,
        webhook_secrets=secrets,
        refresh_seconds=refresh_seconds,
    )
    if start:
        service.start()
    return Served(store, service, metrics, app)
