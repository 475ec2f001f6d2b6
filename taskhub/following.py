"""Following tasks: one set of rules for every follower, and the two ways updates reach one.

Every follower of a task — ``hub.wait`` and ``hub.watch``, ``taskhub.watch_all``, the
asyncio hub, the Airflow trigger and ``taskhub serve`` — hears of its tasks through the
backend's shared refresher (:mod:`taskhub.refresh`), and all of them decide when to stop with
the same pieces:

- :class:`Patience`: the deadline, the staleness and a run of failed reads, on an injected
  clock. Pure: it is told what was read and reads its clock; it never waits.
- :class:`Waiting` and :class:`Watching`: what an update means to a wait (one task, to its
  end) and to a watch (many tasks, every transition), with no I/O, so a blocking thread and an
  event loop drive the same rules.
- :class:`Merge`: subscriptions to any number of refreshers feeding one queue, for a thread
  that blocks on it (``wait``, ``watch``, ``watch_all``, ``taskhub serve``).
- :class:`LoopFollower`: the followers of one event loop sharing one subscription per
  refresher; the loop takes a cycle's observations in one step and wakes a follower only when
  its :class:`Waiter` says the update matters.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import queue
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

import attrs

from taskhub.clock import SYSTEM, Clock
from taskhub.errors import (
    RateLimited,
    StaleTask,
    TaskhubError,
    VendorUnavailable,
    WaitTimeout,
)
from taskhub.refresh import Refresher, Subscription, Update
from taskhub.states import State, Tracker, Transition

if TYPE_CHECKING:
    from taskhub.model import Task

log = logging.getLogger("taskhub.follow")

#: Errors a cycle may bring that the next cycle may not: a follower that tolerates failed
#: reads (``unreachable_after``) waits them out.
TRANSIENT = (VendorUnavailable, RateLimited)

#: Why a follow stops before its tasks finished.
Limit = Literal["unreachable", "stale", "timeout"]

#: Real seconds a follower on virtual time blocks between looks: its time moves in the
#: refresher's thread (each pause of a cycle advances the clock), not by waiting.
VIRTUAL_STEP = 0.02

_O = TypeVar("_O")


def earliest(*moments: float | None) -> float | None:
    """The smallest of the moments given (None: none given)."""
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def seconds(value: float) -> str:
    """``value`` seconds as a person reads them: ``0.01``, ``2.5``, ``30``, ``1800``."""
    if value >= 10:
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def change_key(task: Task) -> tuple[Any, ...]:
    """What counts as a change of a task for staleness: its state, the vendor's word, its
    progress, its update time."""
    status = task.status
    return (task.state, status.raw, status.progress, status.updated_at)


class Recorder(Protocol):
    """Where a follower records what it reads: a hub's Tracker, then its observers."""

    tracker: Tracker
    observers: list[Callable[[Task, Transition | None], object]]


def observe(recorder: Recorder, task: Task) -> tuple[Task, list[Transition]]:
    """Record ``task`` and its subtasks in the recorder's Tracker, then hand the read to its
    observers: the task as the hub answers it (see :func:`answer`) and the task's own
    transition, if it made one."""
    tracker = recorder.tracker
    for sub in task.subtasks:
        tracker.observe(sub)
    transition = tracker.observe(task)
    for observer in list(recorder.observers):
        observer(task, transition)
    return answer(tracker, task), [transition] if transition is not None else []


def answer(tracker: Tracker, task: Task) -> Task:
    """``task`` with the status ``tracker`` keeps where the observation was a regression it
    kept out (a stale poll, a vendor that reports a finished task as cancelled): a hub gives
    one answer per task, the Tracker's, whatever one read said."""
    subtasks = tuple(_kept(tracker, sub) for sub in task.subtasks)
    if any(new is not old for new, old in zip(subtasks, task.subtasks, strict=True)):
        task = attrs.evolve(task, subtasks=subtasks)
    return _kept(tracker, task)


def _kept(tracker: Tracker, task: Task) -> Task:
    kept = tracker.status(task.ref)
    if kept is None or kept.state is task.state or task.state is State.UNKNOWN:
        return task
    return attrs.evolve(task, status=kept)


def tasks_text(count: int) -> str:
    """``1 task`` or ``N tasks``."""
    return "1 task" if count == 1 else f"{count} tasks"


class Patience:
    """When a follow must stop although its tasks are not finished: its deadline
    (``timeout`` seconds from now), its staleness (nothing at all changed for
    ``stale_after`` seconds since the first read) and a run of failed reads (every read
    failed for ``unreachable_after`` seconds), all on ``clock``.

    The first read counts: the deadline is not due before every task in ``refs`` was read
    once (or failed to be), so a wait with ``timeout=0`` on a finished task returns it.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        timeout: float | None = None,
        stale_after: float | None = None,
        unreachable_after: float | None = None,
        refs: Iterable[str] = (),
    ) -> None:
        self.clock = clock
        self.timeout = timeout
        self.stale_after = stale_after
        self.unreachable_after = unreachable_after
        self.started = clock.monotonic()
        self.deadline = None if timeout is None else self.started + timeout
        #: When (on the clock) a task was first read or last changed (None before).
        self.changed_at: float | None = None
        #: Since when every read failed, and the last failure (None while reads succeed).
        self.failing_since: float | None = None
        self.last_error: TaskhubError | None = None
        self._unread = set(refs)
        self._keys: dict[str, tuple[Any, ...]] = {}
        self._planned: float | None = None

    # -- what was read -----------------------------------------------------------------------

    def seen(self, task: Task) -> None:
        """Note a successful read of ``task``."""
        self.failing_since = None
        self._unread.discard(task.ref)
        if self.stale_after is None:
            return
        key = change_key(task)
        if self._keys.get(task.ref) != key:
            self._keys[task.ref] = key
            self.changed_at = self.clock.monotonic()

    def failed(self, error: TaskhubError, ref: str | None = None) -> None:
        """Note a failed read of ``ref`` (None: of every followed task)."""
        if ref is None:
            self._unread.clear()
        else:
            self._unread.discard(ref)
        self.last_error = error
        if self.failing_since is None:
            self.failing_since = self.clock.monotonic()

    @property
    def read(self) -> bool:
        """True once every followed task was read (or failed to be) at least once."""
        return not self._unread

    # -- what is due ---------------------------------------------------------------------------

    def until(self) -> float | None:
        """The clock's moment at which a limit may next be due (None: none can be)."""
        now = self.clock.monotonic()
        deadline = self.deadline
        if deadline is not None and deadline <= now and not self.read:
            deadline = None  # due only after the first read, which wakes the follower
        stale_at = None
        if self.stale_after is not None:
            # Before the first read, look again ``stale_after`` from now: the first read
            # moves the staleness later, never earlier, so it need not wake anyone.
            stale_at = (now if self.changed_at is None else self.changed_at) + self.stale_after
        unreachable_at = None
        if self.unreachable_after is not None and self.failing_since is not None:
            unreachable_at = self.failing_since + self.unreachable_after
        return earliest(deadline, stale_at, unreachable_at)

    def due(self) -> Limit | None:
        """The limit reached now, if any: ``unreachable``, then ``stale``, then ``timeout``."""
        now = self.clock.monotonic()
        if (
            self.unreachable_after is not None
            and self.failing_since is not None
            and now - self.failing_since >= self.unreachable_after
        ):
            return "unreachable"
        if (
            self.stale_after is not None
            and self.changed_at is not None
            and now - self.changed_at >= self.stale_after
        ):
            return "stale"
        if self.deadline is not None and now >= self.deadline and self.read:
            return "timeout"
        return None

    def unchanged_for(self) -> float:
        """Seconds since a task was first read or last changed."""
        return 0.0 if self.changed_at is None else self.clock.monotonic() - self.changed_at

    def failing_for(self) -> float:
        """Seconds since reads started failing (0 while they succeed)."""
        since = self.failing_since
        return 0.0 if since is None else self.clock.monotonic() - since

    # -- how long to block ---------------------------------------------------------------------

    def pause(self, cap: float | None = None) -> float | None:
        """Real seconds a follower may block waiting for its next update before it looks at
        the limits again (None: until an update comes), at most ``cap``."""
        until = self._planned = self.until()
        if self.clock is not SYSTEM:
            return VIRTUAL_STEP
        if until is None:
            return cap
        left = max(0.0, until - self.clock.monotonic())
        return left if cap is None else min(left, cap)

    def sooner(self) -> bool:
        """True when a limit is due now, or may be due before the moment the last
        :meth:`pause` planned for (a first read after the deadline, a run of failures
        starting): a follower asleep must look now."""
        until = self.until()
        if until is None:
            return False
        return self._planned is None or until < self._planned or until <= self.clock.monotonic()


class Waiting:
    """The rules of ``wait`` for one task, with no I/O: :meth:`note` takes each update (in
    the thread or loop that receives them), :meth:`outcome` says what the wait comes to.

    Observations go through the ``recorder``'s (the hub's) Tracker, so a stale answer never
    moves the task backwards. An error ends the wait, except, with
    ``patience.unreachable_after`` set, the transient ones (:data:`TRANSIENT`), waited out
    for that long.
    """

    def __init__(
        self,
        recorder: Recorder,
        backend: str,
        task_id: str,
        patience: Patience,
        *,
        vendor: str | None = None,
        reread: bool = False,
        on_update: Callable[[Transition], object] | None = None,
        on_progress: Callable[[Task], object] | None = None,
    ) -> None:
        self.recorder = recorder
        self.task_id = task_id
        self.ref = f"{backend}:{task_id}"
        self.patience = patience
        #: True when the cycle's read lacks what ``get`` has (outputs, subtasks), so the
        #: finished task is read once more, whole, before a wait returns it.
        self.reread = reread
        self.vendor = vendor
        self.on_update = on_update
        self.on_progress = on_progress
        #: The last task read (None before the first read).
        self.last: Task | None = None
        self._error: TaskhubError | None = None
        self._done: Task | None = None
        self._progress: float | None = None
        self._calls: list[tuple[Callable[[Any], object], Any]] = []

    def __enter__(self) -> Waiting:
        # While anyone waits on it, the tracker keeps the task (and so its regression guard).
        self.recorder.tracker.watch([self.ref])
        return self

    def __exit__(self, *exc: object) -> None:
        self.recorder.tracker.unwatch([self.ref])

    def note(self, update: Update) -> bool:
        """Take one update; True when the follower must look at :meth:`outcome` now (the
        task finished, the wait failed, a callback is due, or a limit came nearer)."""
        error = update.error
        if error is not None:
            if self.patience.unreachable_after is not None and isinstance(error, TRANSIENT):
                self.patience.failed(error)
                return self.patience.sooner()
            self._error = error
            return True
        assert update.task is not None
        task, transitions = observe(self.recorder, update.task)
        self.patience.seen(task)
        self.last = task
        if self.on_update is not None:
            self._calls.extend((self.on_update, t) for t in transitions)
        progress = task.status.progress
        if (
            self.on_progress is not None
            and not transitions
            and progress is not None
            and progress != self._progress
        ):
            self._calls.append((self.on_progress, task))
        self._progress = progress
        if task.state.terminal:
            self._done = task
            return True
        return bool(self._calls) or self.patience.sooner()

    def outcome(self) -> Task | None:
        """Call the callbacks due; then the finished task, or None to wait on. Raises the
        update's error, :class:`StaleTask`, :class:`WaitTimeout`, or (after a run of failed
        reads) :class:`VendorUnavailable` caused by the last failure."""
        calls, self._calls = self._calls, []
        for callback, argument in calls:
            callback(argument)
        if self._error is not None:
            # A copy per follower: one exception object must not be raised in two threads
            # at once (each raise rewrites its traceback).
            raise copy.copy(self._error)
        if self._done is not None:
            return self._done
        limit = self.patience.due()
        if limit is not None:
            raise self._stopped(limit)
        return None

    def _stopped(self, limit: Limit) -> TaskhubError:
        patience, last = self.patience, self.last
        state = last.state.value if last is not None else "not read yet"
        if limit == "stale":
            since = patience.unchanged_for()
            return StaleTask(
                f"{self.ref} has not changed for {seconds(since)} s (still {state})",
                task=last,
                since=since,
                vendor=self.vendor,
                operation="wait",
            )
        if limit == "timeout":
            return WaitTimeout(
                f"{self.ref} is still {state} after {seconds(patience.timeout or 0.0)} s",
                task=last,
                vendor=self.vendor,
                operation="wait",
            )
        error = VendorUnavailable(
            f"{self.ref}: every read failed for {seconds(patience.failing_for())} s "
            f"(unreachable_after={patience.unreachable_after:g}): {patience.last_error}",
            vendor=self.vendor,
            operation="wait",
        )
        error.__cause__ = patience.last_error
        return error


class Watching:
    """The rules of ``watch`` and ``watch_all``, with no I/O: every transition of many tasks
    (of one backend or several; ``tasks`` maps each ref to its id), until each is finished or
    ``patience`` runs out.

    :meth:`note` takes each update with the hub (:class:`Recorder`) it belongs to;
    :meth:`outcome` hands over the transitions so far (and raises an update's error or
    :class:`WaitTimeout`); :meth:`ended` the tasks that finished, to stop following them.
    """

    def __init__(
        self, tasks: Mapping[str, str], patience: Patience, *, vendor: str | None = None
    ) -> None:
        #: The unfinished tasks: ref -> id.
        self.pending: dict[str, str] = dict(tasks)
        self.patience = patience
        self.vendor = vendor
        self._transitions: list[Transition] = []
        self._ended: list[Task] = []
        self._error: TaskhubError | None = None

    @property
    def finished(self) -> bool:
        """True once every watched task finished."""
        return not self.pending

    def note(self, update: Update, recorder: Recorder) -> bool:
        """Take one update, read for ``recorder`` (the hub it belongs to); True when the
        follower must look at :meth:`outcome` now."""
        if update.error is not None:
            self._error = update.error
            return True
        assert update.task is not None
        task, transitions = observe(recorder, update.task)
        self._transitions.extend(transitions)
        self.patience.seen(task)
        if task.state.terminal and task.ref in self.pending:
            del self.pending[task.ref]
            self._ended.append(task)
        return bool(self._transitions or self._ended) or self.patience.sooner()

    def ended(self) -> list[Task]:
        """The watched tasks that finished since the last call."""
        ended, self._ended = self._ended, []
        return ended

    def outcome(self) -> list[Transition]:
        """The transitions noted since the last call; raises an update's error, or
        :class:`WaitTimeout` once the timeout passed with tasks unfinished."""
        transitions, self._transitions = self._transitions, []
        if transitions:
            return transitions
        if self._error is not None:
            raise copy.copy(self._error)
        if self.pending and self.patience.due() == "timeout":
            shown = ", ".join(list(self.pending)[:5])
            timeout = seconds(self.patience.timeout or 0.0)
            raise WaitTimeout(
                f"{tasks_text(len(self.pending))} still unfinished after {timeout} s ({shown})",
                vendor=self.vendor,
                operation="watch",
            )
        return []


class Merge(Generic[_O]):
    """Subscriptions to any number of refreshers, feeding one queue: a thread blocks on
    :meth:`get` for the next update of any of them, handed over with the ``owner`` its
    subscription was made for (a hub, a backend name)."""

    def __init__(self) -> None:
        self._sink: queue.SimpleQueue[tuple[Subscription, Update]] = queue.SimpleQueue()
        self._owners: dict[Subscription, _O] = {}
        # The subscriptions of the updates handed out: done with once the reader asks again.
        self._handed: set[Subscription] = set()

    def follow(self, refresher: Refresher, ids: Iterable[str], owner: _O) -> Subscription:
        """Follow ``ids`` through ``refresher`` into this queue, for ``owner``."""
        sub = refresher.follow(ids, sink=self._sink)
        self._owners[sub] = owner
        return sub

    def get(self, timeout: float | None) -> tuple[_O, Subscription, Update] | None:
        """The next update with its owner and subscription, waiting up to ``timeout`` real
        seconds (None: until one comes; 0: only what is queued); None if none came."""
        for handed in self._handed:
            handed.asking()
        self._handed = set()
        while True:
            try:
                if timeout is not None and timeout <= 0:
                    sub, update = self._sink.get_nowait()
                else:
                    sub, update = self._sink.get(timeout=timeout)
            except queue.Empty:
                return None
            sub.took()
            owner = self._owners.get(sub)
            if owner is not None:  # else: its subscription was closed meanwhile
                self._handed.add(sub)
                return owner, sub, update
            sub.asking()

    def subscriptions(self, owner: _O) -> list[Subscription]:
        """The open subscriptions made for ``owner``."""
        return [sub for sub, of in list(self._owners.items()) if of == owner]

    def close(self, owner: _O | None = None) -> None:
        """Close the subscriptions of ``owner`` (None: all of them)."""
        for sub, of in list(self._owners.items()):
            if owner is None or of == owner:
                sub.close()
                del self._owners[sub]

    def __enter__(self) -> Merge[_O]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Waiter:
    """One follower in an event loop: the loop's reader hands it each update of its tasks
    (``note``, which must be quick and never raise), and :meth:`woken` returns once
    ``note`` said the update matters — or after a timeout."""

    def __init__(
        self, follower: LoopFollower, ids: Iterable[str], note: Callable[[Update], bool]
    ) -> None:
        self.follower = follower
        self.ids: set[str] = set(ids)
        self.note = note
        self._news = False
        self._wake: asyncio.Future[None] | None = None

    def offer(self, update: Update) -> bool:
        """Hand over one update; wake the follower if it matters, and say whether it did."""
        if not self.note(update):
            return False
        self._news = True
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        return True

    async def woken(self, timeout: float | None) -> bool:
        """Wait until an update matters (True) or ``timeout`` real seconds passed (False)."""
        if not self._news:
            self._wake = self.follower.loop.create_future()
            try:
                if timeout is None:
                    await self._wake
                else:
                    await asyncio.wait_for(self._wake, max(timeout, 0.0))
            except asyncio.TimeoutError:
                return False
            finally:
                self._wake = None
        self._news = False
        return True

    def drop(self, task_id: str) -> None:
        """Stop following ``task_id`` (it finished)."""
        if task_id in self.ids:
            self.ids.discard(task_id)
            self.follower._unfollow(self, task_id)

    def close(self) -> None:
        """Stop following everything (the follower is done, or was cancelled)."""
        for task_id in list(self.ids):
            self.drop(task_id)


class LoopFollower:
    """The followers of one event loop that follow tasks of one refresher, through one
    subscription and one reader.

    Tasks added during one turn of the loop join the subscription together, and the reader
    takes a cycle's observations off it in one step (:meth:`Subscription.updates_async`),
    offering each to the waiters of its task: a thousand followers cost the loop a few
    milliseconds per cycle, not a thousand task switches, however they were started.
    """

    #: Followers woken (or updates offered) in one turn of the loop at most: a thousand tasks
    #: that end in one cycle resume a slice at a time, with the loop's timers and I/O between.
    WAKE_SLICE = 50
    OFFER_SLICE = 500

    def __init__(self, refresher: Refresher, loop: asyncio.AbstractEventLoop) -> None:
        self.refresher = refresher
        self.loop = loop
        self.waiters: dict[str, list[Waiter]] = {}
        self._sub: Subscription | None = None
        self._reader: asyncio.Future[None] | None = None
        self._pending: dict[str, None] = {}

    def add(self, ids: Iterable[str], note: Callable[[Update], bool]) -> Waiter:
        """A waiter for ``ids``; ``note`` takes each of their updates, in the loop."""
        waiter = Waiter(self, (), note)
        for task_id in ids:
            if task_id in waiter.ids:
                continue
            waiter.ids.add(task_id)
            waiting = self.waiters.get(task_id)
            if waiting is None:
                waiting = self.waiters[task_id] = []
                if not self._pending:
                    self.loop.call_soon(self._subscribe)
                self._pending[task_id] = None
            waiting.append(waiter)
        return waiter

    def _unfollow(self, waiter: Waiter, task_id: str) -> None:
        waiting = self.waiters.get(task_id, [])
        if waiter in waiting:
            waiting.remove(waiter)
        if waiting:
            return
        self.waiters.pop(task_id, None)
        if task_id in self._pending:  # not subscribed yet
            del self._pending[task_id]
            return
        sub = self._sub
        if sub is None:
            return
        sub.drop(task_id)
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

    async def _read(self, sub: Subscription) -> None:
        """Offer each observation to the waiters of its task, with a turn of the loop after
        every ``WAKE_SLICE`` waiters woken or ``OFFER_SLICE`` updates offered."""
        while True:
            woken = offered = 0
            for update in await sub.updates_async():
                for waiter in self._addressed(sub, update):
                    woken += waiter.offer(update)
                    offered += 1
                    if woken >= self.WAKE_SLICE or offered >= self.OFFER_SLICE:
                        woken = offered = 0
                        await asyncio.sleep(0)

    def _addressed(self, sub: Subscription, update: Update) -> list[Waiter]:
        """The waiters an update is for: its task's; for an error, the waiters of the task it
        names, or (a cycle's error) every waiter once."""
        if update.task is not None:
            return list(self.waiters.get(update.task.id, ()))
        target = getattr(update.error, "task_id", None)
        if target:
            return list(self.waiters.get(target, ()))
        if isinstance(update.error, TRANSIENT):
            backend = self.refresher.adapter.backend
            log.warning("%s: %s (%d tasks followed)", backend, update.error, len(sub.ids))
        found: dict[Waiter, None] = {}
        for waiting in self.waiters.values():
            found.update(dict.fromkeys(waiting))
        return list(found)


async def waited(refresher: Refresher, run: Waiting) -> Task:
    """Drive a wait's rules in the running event loop, through ``refresher``'s loop delivery:
    the finished task (as the cycle read it), or what :meth:`Waiting.outcome` raises."""
    with run:
        waiter = loop_follower(refresher).add([run.task_id], run.note)
        try:
            while True:
                done = run.outcome()
                if done is not None:
                    return done
                await waiter.woken(run.patience.pause())
        finally:
            waiter.close()


async def watched(
    refresher: Refresher, run: Watching, recorder: Recorder
) -> AsyncIterator[Transition]:
    """Drive a watch's rules in the running event loop (one backend: ``refresher`` and its
    hub, the ``recorder``): every transition, until each task finished (or what
    :meth:`Watching.outcome` raises)."""
    refs = list(run.pending)
    if not refs:
        return
    recorder.tracker.watch(refs)
    waiter = loop_follower(refresher).add(run.pending.values(), lambda u: run.note(u, recorder))
    try:
        while True:
            # Everything noted so far, in order (an error or the timeout raises after it).
            batch = run.outcome()
            while batch:
                for transition in batch:
                    yield transition
                batch = run.outcome()
            for task in run.ended():
                waiter.drop(task.id)
            if run.finished:
                return
            await waiter.woken(run.patience.pause())
    finally:
        waiter.close()
        recorder.tracker.unwatch(refs)


_followers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, LoopFollower]] = (
    weakref.WeakKeyDictionary()
)


def loop_follower(refresher: Refresher) -> LoopFollower:
    """The running loop's follower of ``refresher`` (one per loop and refresher)."""
    loop = asyncio.get_running_loop()
    followers = _followers.setdefault(loop, {})
    follower = followers.get(id(refresher))
    if follower is None or follower.refresher is not refresher:
        follower = followers[id(refresher)] = LoopFollower(refresher, loop)
    return follower


__all__ = [
    "TRANSIENT",
    "Limit",
    "LoopFollower",
    "Merge",
    "Patience",
    "Recorder",
    "Waiter",
    "Waiting",
    "Watching",
    "answer",
    "change_key",
    "earliest",
    "loop_follower",
    "observe",
    "seconds",
    "tasks_text",
    "waited",
    "watched",
]
