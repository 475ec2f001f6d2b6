"""One refresher per backend per process: every follower of a task shares one read per cycle.

``hub.wait`` from many threads, ``hub.watch``, an Airflow triggerer's triggers and the
dashboard service all register the tasks they follow with the backend's :class:`Refresher`
(:func:`refresher_for`). Each cycle it reads every registered task at once — through the
adapter's ``refresh``, the cheapest read the vendor allows (a batched read by id, a listing
narrowed to what is followed, or bounded concurrent reads) — and hands each observation to
the followers of that task. It runs in one daemon thread while anything is followed and stops
when nothing is. Callers inside an event loop await updates (:meth:`Subscription.next_async`)
without blocking the loop: the refresher hands a cycle's observations to each loop in one
callback (:class:`_Batches`), not one per observation, so a thousand followers cost the loop
one wake-up per cycle.

A cycle's error (after the transport's own retries) reaches every follower as the typed error,
and the next cycle tries again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from taskhub import signals
from taskhub.clock import SYSTEM, Clock
from taskhub.errors import TaskhubError, VendorUnavailable
from taskhub.polling import PollPolicy

if TYPE_CHECKING:
    from taskhub.adapter import Adapter
    from taskhub.model import Task

log = logging.getLogger("taskhub.refresh")


@attrs.frozen
class Update:
    """What a follower hears: a fresh observation of one task, or the cycle's error."""

    task: Task | None = None
    error: TaskhubError | None = None


class Subscription:
    """Some tasks one follower wants to hear about; close it (or use ``with``) when done."""

    def __init__(
        self,
        refresher: Refresher,
        ids: Iterable[str],
        loop: asyncio.AbstractEventLoop | None = None,
        sink: queue.SimpleQueue[tuple[Subscription, Update]] | None = None,
    ) -> None:
        self.refresher = refresher
        self.ids: set[str] = set(ids)
        self._loop = loop
        self._sink = sink
        self._queue: queue.SimpleQueue[Update] = queue.SimpleQueue()
        self._async: asyncio.Queue[Update] | None = asyncio.Queue() if loop else None
        self.closed = False
        # Updates handed to the follower, taken by it, and done with: taken ones are done
        # once the follower comes back for more. On a virtual clock the refresher moves time
        # on only when every follower is done (see Refresher._settle), so what a follower
        # decides about an update it decides at the time the update was read.
        self._given = self._taken = self._done = 0
        self._counts = threading.Lock()

    @property
    def idle(self) -> bool:
        """True when the follower is done with everything handed to it (or closed)."""
        with self._counts:
            return self.closed or self._done >= self._given

    def asking(self) -> None:
        """The follower comes back for more: it is done with what it took. (A follower that
        reads a shared sink, not this subscription's queue, says so itself.)"""
        with self._counts:
            self._done = self._taken

    def took(self, count: int = 1) -> None:
        """The follower took ``count`` updates (from a shared sink, for one)."""
        with self._counts:
            self._taken += count

    # -- delivery (refresher thread) ---------------------------------------------------------

    def _deliver(self, update: Update, batches: _Batches) -> None:
        with self._counts:
            self._given += 1
        if self._sink is not None:
            self._sink.put((self, update))
        elif self._loop is not None:
            batches.add(self._loop, self, update)
        else:
            self._queue.put(update)

    # -- consumption (follower) ------------------------------------------------------------

    def get(self, timeout: float | None = None) -> Update | None:
        """The next update, waiting up to ``timeout`` real seconds (None: no update yet)."""
        self.asking()
        try:
            update = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        self.took()
        return update

    async def next_async(self) -> Update:
        """The next update, awaited in the event loop the subscription was made for."""
        return (await self._next_async(1))[0]

    async def updates_async(self) -> list[Update]:
        """Every update queued so far, in order, awaiting the first if there is none — the
        updates :meth:`next_async` would return one by one, in one step."""
        return await self._next_async(None)

    async def _next_async(self, most: int | None) -> list[Update]:
        if self._async is None:
            raise RuntimeError("this subscription was not made for an event loop (loop=...)")
        # Done with what was taken once the loop has run what the last updates woke (after
        # the callbacks already scheduled), not merely when this coroutine asks again.
        asyncio.get_running_loop().call_soon(self.asking)
        found = [await self._async.get()]
        while (most is None or len(found) < most) and not self._async.empty():
            found.append(self._async.get_nowait())
        self.took(len(found))
        return found

    def add(self, ids: Iterable[str]) -> None:
        """Follow ``ids`` too, from the next cycle (which starts promptly for them)."""
        self.refresher._add(self, ids)

    def drop(self, task_id: str) -> None:
        """Stop following ``task_id`` (finished, or no longer of interest)."""
        self.refresher._drop(self, task_id)

    def close(self) -> None:
        """Stop following everything; the refresher stops when nobody follows anything."""
        self.refresher._close(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Batches:
    """A cycle's observations for the subscriptions of each event loop, handed to each loop in
    one ``call_soon_threadsafe`` callback: a cycle wakes a loop once (one write to its
    self-pipe, one handle), whatever the number of its subscriptions and observations, and
    the loop queues them in the order the cycle made them.

    The refresher thread :meth:`flush`-es at the end of a cycle, and during a cycle once the
    oldest held observation waited ``HOLD`` seconds (a vendor read task by task takes a while
    for a thousand tasks; its first observations need not wait for the last)."""

    HOLD = 0.5

    def __init__(self) -> None:
        self._loops: dict[asyncio.AbstractEventLoop, list[tuple[Subscription, Update]]] = {}
        self._since = 0.0

    def add(self, loop: asyncio.AbstractEventLoop, sub: Subscription, update: Update) -> None:
        if not self._loops:
            self._since = time.monotonic()
        held = self._loops.get(loop)
        if held is None:
            held = self._loops[loop] = []
        held.append((sub, update))

    def due(self) -> bool:
        return bool(self._loops) and time.monotonic() - self._since >= self.HOLD

    def flush(self) -> None:
        loops, self._loops = self._loops, {}
        for loop, held in loops.items():
            try:
                loop.call_soon_threadsafe(_hand_over, held)
            except RuntimeError:  # the loop closed under us: its followers are gone
                for sub, _ in held:
                    if not sub.closed:
                        sub.close()


def _hand_over(held: list[tuple[Subscription, Update]]) -> None:
    """In the subscriptions' loop: queue a batch of updates for ``next_async``."""
    for sub, update in held:
        if sub._async is not None and not sub.closed:
            sub._async.put_nowait(update)


class Refresher:
    """Reads every followed task of one backend once per cycle, for all its followers."""

    def __init__(
        self,
        adapter: Adapter,
        *,
        policy: PollPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.adapter = adapter
        self.policy = policy or adapter.poll_policy()
        self.clock = clock or SYSTEM
        # Insertion-ordered sets: closing or finding a follower costs the same with 10,000.
        self._subs: dict[Subscription, None] = {}
        # task id -> its followers, so a cycle hands each observation out in one lookup.
        self._by_id: dict[str, dict[Subscription, None]] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._fresh = False
        #: Completed cycles, and the requests the adapter sent in them (for benchmarks).
        self.cycles = 0
        self.last_cycle_ids = 0

    def follow(
        self,
        ids: Iterable[str],
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        sink: queue.SimpleQueue[tuple[Subscription, Update]] | None = None,
    ) -> Subscription:
        """Register ``ids`` for one follower; the next cycle starts promptly for them.

        Updates go to the subscription's own queue, to ``loop`` (for :meth:`next_async`), or
        into ``sink`` as ``(subscription, update)`` pairs — one sink can gather the
        subscriptions of several backends (``taskhub.watch_all``).
        """
        sub = Subscription(self, (), loop, sink)
        with self._cond:
            self._subs[sub] = None
            self._add(sub, ids)
        return sub

    @property
    def followed(self) -> set[str]:
        """Every task id some follower follows."""
        with self._cond:
            return set(self._by_id)

    @property
    def running(self) -> bool:
        """True while the refresher's thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _add(self, sub: Subscription, ids: Iterable[str]) -> None:
        with self._cond:
            if sub.closed:
                raise RuntimeError("this subscription is closed")
            for task_id in ids:
                if task_id not in sub.ids:
                    sub.ids.add(task_id)
                    self._by_id.setdefault(task_id, {})[sub] = None
            self._fresh = True
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name=f"taskhub-refresh-{self.adapter.backend}", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def _drop(self, sub: Subscription, task_id: str) -> None:
        with self._cond:
            sub.ids.discard(task_id)
            self._unindex(sub, task_id)

    def _close(self, sub: Subscription) -> None:
        with self._cond:
            sub.closed = True
            self._subs.pop(sub, None)
            for task_id in sub.ids:
                self._unindex(sub, task_id)
            self._cond.notify_all()

    def _unindex(self, sub: Subscription, task_id: str) -> None:
        followers = self._by_id.get(task_id)
        if followers is not None:
            followers.pop(sub, None)
            if not followers:
                del self._by_id[task_id]

    # -- the cycle ---------------------------------------------------------------------------

    def _run(self) -> None:
        delays = self.policy.delays()
        while True:
            with self._cond:
                if not self._subs:
                    self._thread = None
                    # Idle: let the connections go (a later follower opens new ones).
                    self.adapter.transport.close()
                    break
                ids = sorted(self._by_id)
                self._fresh = False
            if ids:
                self._cycle(ids)
            self._pause(next(delays))
        _went_idle(self)

    def _cycle(self, ids: Sequence[str]) -> None:
        self.last_cycle_ids = len(ids)
        started = time.monotonic()
        failed = False
        batches = _Batches()
        try:
            for item in self.adapter.refresh(ids):
                if isinstance(item, TaskhubError):
                    # One id the vendor could not read: only its followers hear of it.
                    task_id = getattr(item, "task_id", None) or ""
                    self._publish(task_id, Update(error=item), batches)
                else:
                    self._publish(item.id, Update(task=item), batches)
                if batches.due():
                    batches.flush()
        except TaskhubError as exc:
            failed = True
            self._publish_all(Update(error=exc), batches)
        except Exception as exc:  # a bug must not kill the thread silently: followers hear it
            failed = True
            log.exception("%s: refresh cycle failed", self.adapter.backend)
            error = VendorUnavailable(
                f"refresh failed: {type(exc).__name__}: {exc}",
                vendor=self.adapter.vendor,
                operation="refresh",
            )
            self._publish_all(Update(error=error), batches)
        finally:
            batches.flush()
        self.cycles += 1
        if signals.on_refresh_cycle:
            signals.emit(
                signals.on_refresh_cycle,
                self.adapter.backend,
                self.adapter.vendor,
                len(ids),
                time.monotonic() - started,
                failed,
            )

    def _publish(self, task_id: str, update: Update, batches: _Batches) -> None:
        with self._cond:
            subs = list(self._by_id.get(task_id, ()))
        for sub in subs:
            sub._deliver(update, batches)

    def _publish_all(self, update: Update, batches: _Batches) -> None:
        with self._cond:
            subs = [s for s in self._subs if s.ids]
        for sub in subs:
            sub._deliver(update, batches)

    def _settle(self, most: float = 10.0) -> None:
        """Wait (real time, up to ``most`` seconds: a follower that stopped reading without
        closing must not stop the clock) until every follower is done with what it got."""
        end = time.monotonic() + most
        while time.monotonic() < end:
            with self._cond:
                subs = list(self._subs)
            if all(sub.idle for sub in subs):
                return
            time.sleep(0.001)

    def _pause(self, seconds: float) -> None:
        if self.clock is not SYSTEM:
            # Virtual time: the pause is instant (the clock moves), and a new follower waits
            # for the next cycle like any other. Time moves on only once every follower is
            # done with the last cycle's updates, whatever the machine's load.
            self._settle()
            self.clock.sleep(seconds)
            return
        end = time.monotonic() + seconds
        with self._cond:
            while not self._fresh and self._subs:
                left = end - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)


#: The refreshers of the process, by backend, options, schedule and clock, held weakly: once
#: one has fallen idle (nobody follows through it), it goes as soon as nothing else holds it
#: either, instead of living as long as the process. The key holds a clock by identity only,
#: and safely: an entry lives no longer than its refresher, which holds that clock, so no
#: later clock can take its id meanwhile.
_refreshers: weakref.WeakValueDictionary[tuple[Any, ...], Refresher] = weakref.WeakValueDictionary()
#: Refreshers made and not yet idle, held strongly: one handed out before anyone follows
#: through it (``hub.refresher().adapter``, then a watch) stays the backend's until then.
_held: set[Refresher] = set()
_refreshers_lock = threading.Lock()


def _went_idle(refresher: Refresher) -> None:
    """Hold ``refresher`` weakly from now on: its thread stopped, nobody follows it."""
    with _refreshers_lock:
        _held.discard(refresher)


def refresher_for(
    adapter: Adapter, *, policy: PollPolicy | None = None, clock: Clock | None = None
) -> Refresher:
    """The process's refresher for ``adapter``'s backend: hubs with the same backend name,
    vendor and options share one until it has fallen idle and nothing holds it. It has its
    own adapter, so it outlives any hub, and closes its connections when nothing is
    followed."""
    policy = policy or adapter.poll_policy()
    options = json.dumps(attrs.asdict(adapter.options), sort_keys=True, default=repr)
    key = (adapter.vendor, adapter.backend, options, policy, id(clock) if clock else None)
    with _refreshers_lock:
        found = _refreshers.get(key)
        if found is None:
            own = type(adapter)(adapter.options, backend=adapter.backend)
            found = Refresher(own, policy=policy, clock=clock)
            _refreshers[key] = found
            _held.add(found)
        return found
