"""The following half of ``taskhub serve``: discover tasks, follow them, record them.

For every backend this replica holds the lease of (:mod:`taskhub.serve.lease`), the service
reads what to follow — the store's unfinished tasks (whatever submitted them) and, where the
vendor can list, its listing (unfinished and recently finished) — and follows them through
the backend's shared refresher. Every observation goes through one :class:`StoreTracker`,
which records it; a task that finishes is dropped from the refresher.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from taskhub.errors import TaskhubError
from taskhub.following import Merge
from taskhub.hub import TaskHub
from taskhub.model import Task
from taskhub.refresh import Subscription, Update
from taskhub.states import Change, Transition
from taskhub.store import Store, StoreTracker

from .lease import Leases

log = logging.getLogger("taskhub.serve")


class Service:
    """Follows every task of ``hubs`` whose lease this replica holds, into ``store``."""

    def __init__(
        self,
        hubs: Mapping[str, TaskHub],
        store: Store,
        *,
        leases: Leases | None = None,
        discover_every: float = 30.0,
        lease_every: float = 1.0,
        list_limit: int = 500,
    ) -> None:
        self.hubs = dict(hubs)
        self.store = store
        # The service's own Tracker: every observation of every backend goes through it into
        # the store. The hubs keep theirs (the service observes what they return).
        self.tracker = StoreTracker(store)
        for hub in self.hubs.values():
            hub.observers.append(self.observe)
        self.leases = leases or Leases(store)
        self.discover_every = discover_every
        self.lease_every = lease_every
        self.list_limit = list_limit
        # Every backend's subscriptions feed one queue; each update says its backend.
        self._merge: Merge[str] = Merge()
        self._followed: dict[str, set[str]] = {b: set() for b in self.hubs}
        #: backend -> the last error reading it (None once a read succeeds again).
        self.errors: dict[str, str | None] = dict.fromkeys(self.hubs)
        # follow() is called from the service's thread and from request threads (webhooks).
        self._lock = threading.RLock()
        # Whole reads of tasks a partial refresh saw change (see _wants_whole).
        self._reads = ThreadPoolExecutor(2, thread_name_prefix="taskhub-serve-read")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_discovery: dict[str, float] = {}
        # The backends this replica follows now. Kept apart from what the leases say, so a
        # lease lost together with others (a broken lease connection) still stops polling.
        self._polling: set[str] = set()
        #: Lease checks made so far; ``polling_since[b]`` is the check that took ``b``.
        self.lease_checks = 0
        self.polling_since: dict[str, int] = {}
        self.started_at = time.time()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start following in a background thread."""
        self._thread = threading.Thread(target=self._run, name="taskhub-serve", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop following; drain what was already heard into the store."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._reads.shutdown(wait=True, cancel_futures=True)
        for backend in self.hubs:
            self._release(backend)
        self.drain(0)
        self.leases.close()
        for hub in self.hubs.values():
            if self.observe in hub.observers:
                hub.observers.remove(self.observe)

    @property
    def polling(self) -> list[str]:
        """The backends this replica polls now."""
        return sorted(self._polling)

    def followed(self, backend: str) -> int:
        """How many of ``backend``'s tasks are followed now."""
        return len(self._followed.get(backend, ()))

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        next_lease = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_lease:
                next_lease = now + self.lease_every
                self.check_leases()
            for backend in self.polling:
                if now >= self._next_discovery.get(backend, 0.0):
                    self._next_discovery[backend] = now + self.discover_every
                    self._discover(backend)
            self.drain(0.2)

    def check_leases(self) -> None:
        """Take the backends whose leases are free, let go of those whose leases are lost."""
        self.lease_checks += 1
        for backend in self.hubs:
            self._check_lease(backend)

    def _check_lease(self, backend: str) -> None:
        had = backend in self._polling
        has = self.leases.acquire(backend)
        if has and not had:
            log.info("%s: this replica polls it now", backend)
            self._polling.add(backend)
            self.polling_since[backend] = self.lease_checks
            self._next_discovery[backend] = 0.0
        elif had and not has:
            log.info("%s: lease lost; another replica polls it", backend)
            self._polling.discard(backend)
            self.polling_since.pop(backend, None)
            self._release(backend)

    def _release(self, backend: str) -> None:
        with self._lock:
            self._merge.close(backend)
            self._followed[backend] = set()

    def discover(self, backend: str) -> None:
        """Find ``backend``'s tasks to follow now (what :meth:`start` does periodically)."""
        self._discover(backend)

    def _discover(self, backend: str) -> None:
        hub = self.hubs[backend]
        ids: list[str] = []
        try:
            ids.extend(self.store.unfinished(backend))
        except Exception as exc:  # the store is away: keep following what we follow
            log.warning("%s: cannot read the store's unfinished tasks: %s", backend, exc)
        if "list" in hub.capabilities:
            try:
                for task in hub.list(limit=self.list_limit):  # observed: see __init__
                    if not task.state.terminal:
                        ids.append(task.id)
                self.errors[backend] = None
            except TaskhubError as exc:
                self.errors[backend] = f"list: {exc}"
                log.warning("%s: listing failed: %s", backend, exc)
        self.follow(backend, ids)

    def follow(self, backend: str, ids: list[str]) -> None:
        """Follow more of ``backend``'s tasks (ids already followed are ignored)."""
        with self._lock:
            new = [i for i in dict.fromkeys(ids) if i not in self._followed[backend]]
            if not new:
                return
            refs = [f"{backend}:{i}" for i in new]
            self.tracker.preload(refs=refs)
            self.tracker.watch(refs)
            self._followed[backend].update(new)
            self._merge.follow(self.hubs[backend].refresher(), new, backend)

    def refresh_soon(self, backend: str, task_id: str) -> None:
        """Read ``task_id`` again at once, where this replica polls ``backend``: a verified
        webhook said it changed, and a delivery may carry less than a read (outputs,
        subtasks)."""
        with self._lock:
            if backend not in self._polling:
                return
            subs = self._merge.subscriptions(backend)
            if task_id in self._followed[backend] and subs:
                subs[0].add([task_id])  # wakes the refresher: its next cycle starts now
                return
        self.follow(backend, [task_id])

    def drain(self, timeout: float) -> None:
        """Handle what the refreshers said, waiting up to ``timeout`` for the first word."""
        end = time.monotonic() + timeout
        while True:
            item = self._merge.get(end - time.monotonic())
            if item is None:
                return
            self._handle(*item)

    def _handle(self, backend: str, sub: Subscription, update: Update) -> None:
        if update.error is not None:
            self.errors[backend] = str(update.error)
            return
        task = update.task
        assert task is not None
        self.errors[backend] = None
        self.observe(task)
        if task.state.terminal and task.id in self._followed[backend]:
            self._followed[backend].discard(task.id)
            sub.drop(task.id)
            self.tracker.unwatch([task.ref])

    def _wants_whole(self, backend: str, transition: Transition) -> bool:
        """Whether to read a task whole after a refresh saw it change: where the refresh reads
        less than ``get`` (a listing without subtasks or outputs), when the task is first seen,
        retried or finished — so its parts are stored with their states at the start and at
        the end, at one read per task for each."""
        hub = self.hubs.get(backend)
        return (
            hub is not None
            and hub.adapter.partial_refresh
            and (transition.change in (Change.FIRST, Change.RETRY) or transition.after.terminal)
        )

    def _read_whole(self, backend: str, task_id: str) -> None:
        hub = self.hubs[backend]
        try:
            whole = hub.get(task_id)  # its parts are recorded through the hub's observers
        except TaskhubError as exc:
            log.info("%s: cannot read %s whole: %s", backend, task_id[:100], exc)
            return
        # The same state, so no transition: written anyway, so the row keeps what the whole
        # read has and the refresh had not (outputs, the parts' states).
        self.store.record(whole)

    def observe(self, task: Task, told: Transition | None = None) -> Transition | None:
        """Record one observation (a poll's, a webhook's, a hub's) and its subtasks'.

        ``told`` is the transition a hub's own Tracker accepted for it: a ``retry`` there is
        the evidence of a retry the hub commanded and the vendor accepted, which this
        service's Tracker would otherwise refuse as a regression."""
        for subtask in task.subtasks:
            self.tracker.observe(subtask)
        if told is not None and told.change is Change.RETRY:
            self.tracker.expect_retry(task.ref, answer=task.status)
        transition = self.tracker.observe(task)
        # Whatever saw the change (a refresh, a listing, a webhook), a partial read of it is
        # followed by a whole one; that one says the same, so it asks for no other.
        if transition is not None and self._wants_whole(task.backend, transition):
            with contextlib.suppress(RuntimeError):  # stopping: no more reads
                self._reads.submit(self._read_whole, task.backend, task.id)
        return transition

    def health(self) -> dict[str, Any]:
        """What ``/healthz`` reports."""
        store_error = self.store.last_error if not self.store.healthy else self.store.ping()
        backends = {
            name: {
                "vendor": hub.vendor,
                "polling": name in self._polling,
                "polling_since_check": self.polling_since.get(name),
                "followed": self.followed(name),
                "error": self.errors.get(name),
            }
            for name, hub in self.hubs.items()
        }
        return {
            "status": "ok" if store_error is None else "degraded",
            "store": {
                "ok": store_error is None,
                "error": store_error,
                "pending_writes": self.store.pending,
                "dialect": self.store.dialect,
            },
            "backends": backends,
            "lease_checks": self.lease_checks,
            "uptime_seconds": round(time.time() - self.started_at, 1),
        }
