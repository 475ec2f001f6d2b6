"""How the triggers of one event loop share the backend's refresher.

Each cycle the refresher (:mod:`taskhub.refresh`) reads every followed task once and hands
each observation to the subscriptions that follow it — a cycle's observations reach the loop
in one callback. The triggers of one loop follow their tasks through one subscription (the
tasks added in one turn of the loop join it together), and its one reader takes the cycle's
observations off it in a single step, noting in each trigger's :class:`Waiter` what it saw
and when the task last changed. A trigger is woken only when its task finished or could not
be read (or by its own timer, for a deadline or staleness): a thousand waiting triggers cost
the loop a few milliseconds per cycle, not a thousand task switches, however the triggerer
starts them (Airflow starts one a turn).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any

from taskhub.errors import RateLimited, VendorUnavailable
from taskhub.model import Task
from taskhub.refresh import Refresher, Subscription, Update

log = logging.getLogger("taskhub.airflow")

#: Errors a cycle may bring that the next cycle may not: the triggers keep waiting.
TRANSIENT = (VendorUnavailable, RateLimited)


def _key(task: Task) -> tuple[Any, ...]:
    """What counts as a change (the same as ``hub.wait``'s staleness)."""
    status = task.status
    return (task.state, status.raw, status.progress, status.updated_at)


class Waiter:
    """One trigger's view of one task: the last observation, when it last changed, and a
    wake-up when it matters."""

    def __init__(self, follower: Follower, task_id: str) -> None:
        self.follower = follower
        self.task_id = task_id
        #: The last observation of the task (None until the first cycle read it).
        self.last: Task | None = None
        #: When (monotonic) the task was first seen or last changed — its state, status word,
        #: progress or update time (None until the first cycle read it).
        self.changed_at: float | None = None
        #: Since when (monotonic) every read of the task failed with a transient error, and
        #: the last of those errors (None while reads succeed).
        self.failing_since: float | None = None
        self.last_error: BaseException | None = None
        self._key: tuple[Any, ...] | None = None
        self._news: list[Update] = []
        self._wake: asyncio.Future[None] | None = None

    def offer(self, update: Update) -> bool:
        """Called by the reader for every observation; wakes the trigger only on news — the
        end, an error (a transient one only when a run of them starts) — and says whether
        it did. The trigger's own timer looks at the staleness clock."""
        if update.task is not None:
            self.failing_since = None
            self.last = update.task
            key = _key(update.task)
            if key != self._key:
                self._key, self.changed_at = key, time.monotonic()
            if not update.task.state.terminal:
                return False
        elif isinstance(update.error, TRANSIENT):
            self.last_error = update.error
            if self.failing_since is not None:
                return False
            self.failing_since = time.monotonic()
        self._news.append(update)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        return True

    async def next(self, timeout: float | None) -> Update | None:
        """The next update worth acting on (the end, an error), or None once ``timeout``
        seconds passed without one."""
        if not self._news:
            self._wake = self.follower.loop.create_future()
            try:
                if timeout is None:
                    await self._wake
                else:
                    await asyncio.wait_for(self._wake, max(timeout, 0.0))
            except asyncio.TimeoutError:
                return None
            finally:
                self._wake = None
        return self._news.pop(0) if self._news else None

    def close(self) -> None:
        """Stop following (the trigger is done, or was cancelled)."""
        self.follower.remove(self)


class Follower:
    """The triggers of one event loop that follow tasks of one refresher, through one
    subscription and one reader."""

    def __init__(self, refresher: Refresher, loop: asyncio.AbstractEventLoop) -> None:
        self.refresher = refresher
        self.loop = loop
        self.waiters: dict[str, list[Waiter]] = {}
        self._sub: Subscription | None = None
        self._reader: asyncio.Future[None] | None = None
        self._pending: dict[str, None] = {}

    def add(self, task_id: str) -> Waiter:
        """Follow ``task_id`` for one more trigger."""
        waiter = Waiter(self, task_id)
        waiting = self.waiters.get(task_id)
        if waiting is None:
            waiting = self.waiters[task_id] = []
            if not self._pending:
                self.loop.call_soon(self._subscribe)
            self._pending[task_id] = None
        waiting.append(waiter)
        return waiter

    def remove(self, waiter: Waiter) -> None:
        waiting = self.waiters.get(waiter.task_id, [])
        if waiter in waiting:
            waiting.remove(waiter)
        if waiting:
            return
        self.waiters.pop(waiter.task_id, None)
        if waiter.task_id in self._pending:  # not subscribed yet
            del self._pending[waiter.task_id]
            return
        sub = self._sub
        if sub is None:
            return
        sub.drop(waiter.task_id)
        if not sub.ids:
            sub.close()
            self._sub = None
            if self._reader is not None:
                self._reader.cancel()
                self._reader = None

    def _subscribe(self) -> None:
        """Follow every task added during the last turn of the loop: the follower's
        subscription takes them, or a new one if it has none."""
        ids, self._pending = list(self._pending), {}
        if not ids:
            return
        if self._sub is not None and not self._sub.closed:
            self._sub.add(ids)
            return
        sub = self._sub = self.refresher.follow(ids, loop=self.loop)
        self._reader = asyncio.ensure_future(self._read(sub))

    #: Triggers woken in one turn of the loop at most: a thousand tasks that end in one
    #: cycle resume a slice at a time, with the loop's timers and I/O in between.
    WAKE_SLICE = 50

    async def _read(self, sub: Subscription) -> None:
        """Hand each observation to the triggers of its task: a cycle's observations arrive
        in one batch (:meth:`Subscription.updates_async`), taken in one step, with a turn of
        the loop after every ``WAKE_SLICE`` triggers woken."""
        waiters = self.waiters
        woken = 0
        while True:
            for update in await sub.updates_async():
                task = update.task
                if task is not None:
                    # ``offer`` only notes and completes futures: the list stays as it is.
                    for waiter in waiters.get(task.id, ()):
                        woken += waiter.offer(update)
                else:
                    # One task's error (its id) reaches its triggers alone, even once they
                    # left; a cycle's error reaches every trigger.
                    error = update.error
                    target = getattr(error, "task_id", None)
                    ids = [target] if target else list(sub.ids)
                    if isinstance(error, TRANSIENT) and target is None:
                        backend = self.refresher.adapter.backend
                        log.warning("%s: %s (%d tasks waited on)", backend, error, len(ids))
                    for task_id in ids:
                        for waiter in waiters.get(task_id, ()):
                            woken += waiter.offer(update)
                        if woken >= self.WAKE_SLICE:
                            woken = 0
                            await asyncio.sleep(0)
                if woken >= self.WAKE_SLICE:
                    woken = 0
                    await asyncio.sleep(0)
            woken = 0


_followers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, Follower]] = (
    weakref.WeakKeyDictionary()
)


def follow(refresher: Refresher, task_id: str) -> Waiter:
    """A waiter for ``task_id`` on the running loop, through ``refresher``."""
    loop = asyncio.get_running_loop()
    followers = _followers.setdefault(loop, {})
    follower = followers.get(id(refresher))
    if follower is None or follower.refresher is not refresher:
        follower = followers[id(refresher)] = Follower(refresher, loop)
    return follower.add(task_id)


__all__ = ["TRANSIENT", "Follower", "Waiter", "follow"]
