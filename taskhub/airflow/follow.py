"""How the triggers of one event loop share the backend's refresher.

Each cycle the refresher (:mod:`taskhub.refresh`) reads every followed task once and hands
each observation to the subscriptions that follow it. Triggers that start together — in one
turn of the loop, as a triggerer starts the ones it was handed — share one subscription, and
one reader per subscription takes the cycle's observations off it in a single step, noting
in each trigger's :class:`Waiter` what it saw and when the task last changed. A trigger is
woken only when its task finished or could not be read (or by its own timer, for a deadline
or staleness): a thousand waiting triggers cost the loop a few milliseconds per cycle, not a
thousand task switches, and the refresher looks each task up among a handful of
subscriptions, not a thousand.
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

    def offer(self, update: Update) -> None:
        """Called by the reader for every observation; wakes the trigger only on news: the
        first observation (which starts the staleness clock), the end, an error — a
        transient one only when a run of them starts."""
        if update.task is not None:
            self.failing_since = None
            self.last = update.task
            first = self.changed_at is None
            key = _key(update.task)
            if key != self._key:
                self._key, self.changed_at = key, time.monotonic()
            if not (first or update.task.state.terminal):
                return
        elif isinstance(update.error, TRANSIENT):
            self.last_error = update.error
            if self.failing_since is not None:
                return
            self.failing_since = time.monotonic()
        self._news.append(update)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

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
    """The triggers of one event loop that follow tasks of one refresher."""

    def __init__(self, refresher: Refresher, loop: asyncio.AbstractEventLoop) -> None:
        self.refresher = refresher
        self.loop = loop
        self.waiters: dict[str, list[Waiter]] = {}
        self._subscription_of: dict[str, Subscription] = {}
        self._readers: dict[Subscription, asyncio.Future[None]] = {}
        self._pending: list[str] = []

    def add(self, task_id: str) -> Waiter:
        """Follow ``task_id`` for one more trigger."""
        waiter = Waiter(self, task_id)
        waiting = self.waiters.setdefault(task_id, [])
        waiting.append(waiter)
        if task_id not in self._subscription_of and task_id not in self._pending:
            if not self._pending:
                self.loop.call_soon(self._subscribe)
            self._pending.append(task_id)
        return waiter

    def remove(self, waiter: Waiter) -> None:
        waiting = self.waiters.get(waiter.task_id, [])
        if waiter in waiting:
            waiting.remove(waiter)
        if waiting:
            return
        self.waiters.pop(waiter.task_id, None)
        if waiter.task_id in self._pending:
            self._pending.remove(waiter.task_id)
        sub = self._subscription_of.pop(waiter.task_id, None)
        if sub is None:
            return
        sub.drop(waiter.task_id)
        if not sub.ids:
            sub.close()
            reader = self._readers.pop(sub, None)
            if reader is not None:
                reader.cancel()

    def _subscribe(self) -> None:
        """Follow, in one subscription, every task added during the last turn of the loop."""
        ids, self._pending = self._pending, []
        if not ids:
            return
        sub = self.refresher.follow(ids, loop=self.loop)
        for task_id in ids:
            self._subscription_of[task_id] = sub
        self._readers[sub] = asyncio.ensure_future(self._read(sub))

    async def _read(self, sub: Subscription) -> None:
        """Hand each observation to the triggers of its task. ``next_async`` returns at once
        while the cycle's observations are queued, so one step takes them all."""
        while True:
            update = await sub.next_async()
            if update.task is not None:
                for waiter in list(self.waiters.get(update.task.id, ())):
                    waiter.offer(update)
                continue
            error = update.error
            target = getattr(error, "task_id", None)
            ids = [target] if target in sub.ids else list(sub.ids)
            if isinstance(error, TRANSIENT) and target is None:
                backend = self.refresher.adapter.backend
                log.warning("%s: %s (%d tasks waited on)", backend, error, len(ids))
            for task_id in ids:
                for waiter in list(self.waiters.get(task_id, ())):
                    waiter.offer(update)


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
