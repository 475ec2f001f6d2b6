"""The normalized states, the rules for moving between them, and the Tracker.

Order: pending < queued < running = paused < terminal. Observed data may skip forward (a poll
can miss ``running``); it may go back only as a retry or between running and paused. Any other
backward move, above all out of a terminal state, is a regression: a stale poll or a late
webhook. Leaving a terminal state needs evidence of a new attempt (a commanded retry, reason
``retrying``, a higher retry count, or a later ``updated_at``), and an observation older than
the kept one (by ``updated_at``) never changes the state. The Tracker keeps the later-ranked
status and records the anomaly instead of raising, because observed data is a fact about the
vendor, not a mistake of the caller.
"""

from __future__ import annotations

import enum
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, overload

import attrs

from taskhub.errors import InvalidTransition

if TYPE_CHECKING:
    from taskhub.model import Status, Task


class State(str, enum.Enum):
    """A normalized task state. Members carry ``rank``, ``terminal`` and ``successful``."""

    rank: int
    terminal: bool
    successful: bool

    def __new__(
        cls, value: str, rank: int, terminal: bool = False, successful: bool = False
    ) -> State:
        member = str.__new__(cls, value)
        member._value_ = value
        member.rank = rank
        member.terminal = terminal
        member.successful = successful
        return member

    PENDING = ("pending", 0)
    QUEUED = ("queued", 1)
    RUNNING = ("running", 2)
    PAUSED = ("paused", 2)
    SUCCEEDED = ("succeeded", 3, True, True)
    FAILED = ("failed", 3, True)
    CANCELLED = ("cancelled", 3, True)
    SKIPPED = ("skipped", 3, True)
    # Unknown has no place in the order: it neither advances nor regresses a task.
    UNKNOWN = ("unknown", -1)

    @property
    def active(self) -> bool:
        """Known and not finished: the task may still change."""
        return not self.terminal and self is not State.UNKNOWN

    def __str__(self) -> str:
        return str.__str__(self)

    @classmethod
    def parse(cls, value: object) -> State:
        """The member whose value is ``value`` (any case, surrounding space ignored)."""
        if isinstance(value, State):
            return value
        member = _BY_VALUE.get(str(value).strip().lower())
        if member is None:
            raise ValueError(f"unknown state {value!r}; expected one of {', '.join(_BY_VALUE)}")
        return member


_BY_VALUE: dict[str, State] = {s.value: s for s in State}

TERMINAL: frozenset[State] = frozenset(s for s in State if s.terminal)
SUCCESSFUL: frozenset[State] = frozenset(s for s in State if s.successful)
UNSUCCESSFUL: frozenset[State] = TERMINAL - SUCCESSFUL
ACTIVE: frozenset[State] = frozenset(s for s in State if s.active)


class Change(str, enum.Enum):
    """How one status relates to the one before it."""

    FIRST = "first"  # nothing known before
    ADVANCE = "advance"  # forward in the order, possibly skipping states
    RETRY = "retry"  # backward, but as a retry the vendor announced
    RESUME = "resume"  # running <-> paused
    SAME = "same"  # no change of state
    REGRESSION = "regression"  # backward without a retry, or stale: out-of-order data
    IGNORED = "ignored"  # says nothing new: the state is unknown, or stale data of the same state

    def __str__(self) -> str:
        return self.value


def classify(before: Status | None, after: Status) -> Change:
    """Say how ``after`` relates to ``before`` under the rules of the state machine.

    ``after`` is stale when both carry ``updated_at`` and ``after``'s is older: it then never
    changes the state (a regression if it would, ignored if it would not). Leaving ``failed``
    is a retry only with evidence of a new attempt (see :func:`is_new_attempt`); a late copy
    of an old ``running`` poll is not one.
    """
    new = after.state
    if new is State.UNKNOWN:
        return Change.IGNORED
    if before is None or before.state is State.UNKNOWN:
        return Change.FIRST
    old = before.state
    if is_stale(before, after):
        return Change.IGNORED if new is old else Change.REGRESSION
    if new is old:
        return Change.SAME
    if {old, new} == {State.RUNNING, State.PAUSED}:
        return Change.RESUME
    if old.terminal:
        # Leaving a terminal state is only ever a new attempt at a failure that may be retried;
        # the vendor has to show it is a new attempt, or it is an old poll arriving late.
        if (
            old is State.FAILED
            and before.retryable is not False
            and new in _RESTARTS
            and is_new_attempt(before, after)
        ):
            return Change.RETRY
        return Change.REGRESSION
    if new.rank > old.rank:
        return Change.ADVANCE
    if new in (State.PENDING, State.QUEUED) and _is_retry(before, after):
        return Change.RETRY
    return Change.REGRESSION


_RESTARTS = frozenset({State.PENDING, State.QUEUED, State.RUNNING})


def is_stale(before: Status, after: Status) -> bool:
    """True when ``after`` was last updated before ``before`` (both must say when)."""
    return (
        before.updated_at is not None
        and after.updated_at is not None
        and _assume_utc(after.updated_at) < _assume_utc(before.updated_at)
    )


def is_new_attempt(before: Status, after: Status) -> bool:
    """True when ``after`` shows the vendor started again after ``before``.

    Evidence is reason ``retrying``, a higher retry count, or an ``updated_at`` strictly later
    than ``before``'s. Without any, a move back from ``before`` may be an old poll arriving
    late, so it is not taken as a retry.
    """
    if _is_retry(before, after):
        return True
    return (
        before.updated_at is not None
        and after.updated_at is not None
        and _assume_utc(after.updated_at) > _assume_utc(before.updated_at)
    )


def _assume_utc(moment: datetime) -> datetime:
    # For comparing only: an aware time is returned as it is (any zone compares correctly);
    # the parsers give aware UTC, but a Status made by hand may be naive: read it as UTC
    # rather than fail comparing the two kinds. (Not store.rows.utc, which converts.)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _is_retry(before: Status, after: Status) -> bool:
    if after.reason == "retrying":
        return True
    return (
        before.retries is not None and after.retries is not None and after.retries > before.retries
    )


@attrs.frozen
class RetryEvidence:
    """A retry was commanded and the vendor accepted it: what lets an observation leave a
    terminal state that :func:`classify` alone would call a regression.

    ``answer`` is the status the vendor sent in reply to the retry (exempt from staleness:
    it was made after the command, whatever its timestamp says); ``left`` is the state the
    retry left, when the one judging knows it (the store, judging against its own row, takes
    it from the Tracker's transition), so a retry of one state is never applied to another.
    """

    answer: Status | None = None
    left: State | None = None


def accept(before: Status | None, after: Status, retry: RetryEvidence | None = None) -> Change:
    """The one rule for whether ``after`` may move a task kept at ``before``: how the two
    relate (:func:`classify`), except that a regression to an active state is a retry when a
    commanded retry covers it — never for data older than what is kept (that is the old
    attempt arriving late), except the vendor's own answer to the retry.

    The Tracker and the store's writer both decide through it, each with its own evidence.
    """
    change = classify(before, after)
    if (
        change is Change.REGRESSION
        and retry is not None
        and before is not None
        and after.state.active
        and (retry.left is None or before.state is retry.left)
        and (not is_stale(before, after) or after is retry.answer)
    ):
        return Change.RETRY
    return change


def check_command(
    current: State | None,
    target: State,
    *,
    vendor: str | None = None,
    operation: str = "report",
) -> None:
    """Raise :class:`InvalidTransition` unless a command may move ``current`` to ``target``.

    Workers report progress forward: a heartbeat may repeat ``running``. ``cancel`` moves a
    task to ``cancelled``. Nothing leaves a terminal state by command (a retry is its own
    operation, not a report), so a finished task can be neither reported nor cancelled.
    """
    if target is State.UNKNOWN:
        raise InvalidTransition(
            "cannot report the state 'unknown'", vendor=vendor, operation=operation
        )
    if current is None or current is State.UNKNOWN:
        return
    if current.terminal:
        done = "cancelled" if operation == "cancel" else f"reported {target.value}"
        raise InvalidTransition(
            f"task is already {current.value}; a finished task cannot be {done}",
            vendor=vendor,
            operation=operation,
        )
    if target.rank >= current.rank:
        return
    raise InvalidTransition(
        f"cannot report {target.value} for a task that is {current.value}",
        vendor=vendor,
        operation=operation,
    )


@attrs.frozen
class Transition:
    """A change of state the Tracker accepted: what it was, what it is, and when.

    ``ref`` is the task's ``"backend:id"``; ``before`` the state it left (None the first time
    the task is seen); ``after`` the state it reached; ``at`` the vendor's ``updated_at`` (or
    the time it was observed); ``change`` how the two relate (:class:`Change`: ``first``,
    ``advance``, ``retry``, ``resume``); ``status`` the accepted status and ``task`` the whole
    Task that made the change (outputs, message, progress), for a callback that needs more
    than the state.
    """

    ref: str
    before: State | None
    after: State
    at: datetime
    change: Change
    status: Status
    #: The observed Task (not part of equality or repr).
    task: Task | None = attrs.field(default=None, eq=False, repr=False)

    def __str__(self) -> str:
        before = self.before.value if self.before else "-"
        return f"{self.ref}: {before} -> {self.after.value} ({self.change.value})"


@attrs.frozen
class Anomaly:
    """Observed data the Tracker refused because it would move a task backwards."""

    ref: str
    kept: Status
    observed: Status
    at: datetime


class Anomalies(Sequence[Anomaly]):
    """The last ``maxlen`` anomalies a Tracker recorded, oldest first: a read-only sequence
    (``len``, an index, a slice such as ``tracker.anomalies[-5:]``, which gives a list)."""

    def __init__(self, maxlen: int) -> None:
        self._items: deque[Anomaly] = deque(maxlen=maxlen)
        self.maxlen = maxlen

    def append(self, anomaly: Anomaly) -> None:
        """Record one (the oldest goes once ``maxlen`` are held)."""
        self._items.append(anomaly)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> Anomaly: ...
    @overload
    def __getitem__(self, index: slice) -> list[Anomaly]: ...
    def __getitem__(self, index: int | slice) -> Anomaly | list[Anomaly]:
        if isinstance(index, slice):
            return list(self._items)[index]
        return self._items[index]

    def __iter__(self) -> Iterator[Anomaly]:
        # Over a copy: the Tracker may append from another thread meanwhile.
        return iter(list(self._items))

    def __repr__(self) -> str:
        return f"Anomalies({list(self._items)!r}, maxlen={self.maxlen})"


class Tracker:
    """Follows many tasks; turns each observation into a Transition or nothing.

    Thread-safe, so one Tracker can be shared by a poller, a webhook receiver and a dashboard.
    Memory is bounded: it remembers the ``max_tasks`` most recently observed tasks — never
    evicting one that is watched (:meth:`watch`), so a watch of any size keeps its regression
    guard — the last ``max_history`` transitions of each, and the last ``max_anomalies``
    anomalies, so a dashboard that lists for months does not grow without end.
    """

    def __init__(
        self, *, max_tasks: int = 10_000, max_history: int = 100, max_anomalies: int = 1_000
    ) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, Status] = {}
        # The tasks nobody watches, least recently observed first: the ones eviction may drop.
        self._lru: OrderedDict[str, None] = OrderedDict()
        # Lists, not deques: a deque costs ~600 bytes even holding one transition, and most
        # tasks a dashboard sees have one or two.
        self._history: dict[str, list[Transition]] = {}
        # ref -> the commanded retry the vendor accepted (and its answer, when given).
        self._retrying: dict[str, RetryEvidence] = {}
        # ref -> how many followers watch it; watched tasks are never evicted.
        self._watched: dict[str, int] = {}
        self.max_tasks = max_tasks
        self.max_history = max_history
        #: The last ``max_anomalies`` observations kept out as regressions, oldest first.
        self.anomalies = Anomalies(max_anomalies)

    def observe(self, task: Task, *, at: datetime | None = None) -> Transition | None:
        """Record ``task``'s status; return the Transition it makes, or None.

        None means nothing changed, the state is unknown, the status is older than the kept
        one and says the same, or the status was a regression (then it is kept out and
        appended to :attr:`anomalies`).
        """
        status = task.status
        ref = task.ref
        when = at or status.updated_at or datetime.now(timezone.utc)
        with self._lock:
            before = self._last.get(ref)
            retry = self._retrying.get(ref)
            change = accept(before, status, retry)
            if change is Change.IGNORED:
                return None
            if change is Change.REGRESSION:
                assert before is not None
                self.anomalies.append(Anomaly(ref, before, status, when))
                return None
            self._last[ref] = status
            if ref not in self._watched:
                self._lru[ref] = None
                self._lru.move_to_end(ref)
            if len(self._last) > self.max_tasks:
                self._evict()
            if change is Change.SAME:
                return None
            self._retrying.pop(ref, None)
            kept = Transition(
                ref, before.state if before else None, status.state, when, change, status
            )
            history = self._history.setdefault(ref, [])
            history.append(kept)
            if len(history) > self.max_history:
                del history[0]
            # The history keeps no Task (its raw JSON would multiply memory per task); the
            # caller's copy carries it.
            return attrs.evolve(kept, task=task)

    def _evict(self) -> None:
        """Drop the least recently observed tasks nobody watches (see :meth:`watch`); when
        every task is watched the bound gives way, never the regression guard."""
        while len(self._last) > self.max_tasks and self._lru:
            ref, _ = self._lru.popitem(last=False)
            self._last.pop(ref, None)
            self._history.pop(ref, None)
            self._retrying.pop(ref, None)

    def watch(self, refs: Iterable[str]) -> None:
        """Keep ``refs`` however many other tasks arrive: a watched task is never evicted,
        so its regression guard holds for as long as anyone follows it."""
        with self._lock:
            for ref in refs:
                self._watched[ref] = self._watched.get(ref, 0) + 1
                self._lru.pop(ref, None)

    def unwatch(self, refs: Iterable[str]) -> None:
        """Undo one :meth:`watch` of each of ``refs``."""
        with self._lock:
            for ref in refs:
                count = self._watched.get(ref, 0) - 1
                if count > 0:
                    self._watched[ref] = count
                else:
                    self._watched.pop(ref, None)
                    if ref in self._last:
                        self._lru[ref] = None
            if len(self._last) > self.max_tasks:
                self._evict()

    def __len__(self) -> int:
        return len(self._last)

    def observe_all(self, tasks: Iterable[Task]) -> list[Transition]:
        """Observe each task in turn; return the transitions they made."""
        return [t for t in map(self.observe, tasks) if t is not None]

    def expect_retry(self, ref: str, *, answer: Status | None = None) -> None:
        """Let the next observation of ``ref`` leave a terminal state: a retry was commanded.

        Call it only once the vendor accepted the retry; the window stays open until the task
        next changes state. A stale observation (older ``updated_at``) still cannot leave,
        except ``answer``, the very status the vendor sent in reply to the retry.
        """
        with self._lock:
            self._retrying[ref] = RetryEvidence(answer=answer)

    def state(self, ref: str) -> State | None:
        """The last accepted state of ``ref``, or None when never seen."""
        status = self._last.get(ref)
        return status.state if status else None

    def status(self, ref: str) -> Status | None:
        """The last accepted status of ``ref``."""
        return self._last.get(ref)

    def history(self, ref: str) -> list[Transition]:
        """The last ``max_history`` Transitions accepted for ``ref`` (default 100), oldest
        first: older ones are dropped, and a task evicted or forgotten has none (see the class
        docstring). A complete record of every transition is the store's
        (:mod:`taskhub.store`)."""
        with self._lock:
            return list(self._history.get(ref, ()))

    def forget(self, ref: str) -> None:
        """Drop everything known about ``ref``."""
        with self._lock:
            self._last.pop(ref, None)
            self._lru.pop(ref, None)
            self._history.pop(ref, None)
            self._retrying.pop(ref, None)
