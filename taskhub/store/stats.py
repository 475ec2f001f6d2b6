"""What the page's two charts show, read from the store: units of work finished per hour (by
vendor and final state), and how long they took (p50 / p95 per vendor), over a recent window.

Both read a bounded slice of the store, so they cost the same at a million tasks as at a
thousand: the newest terminal transitions in the window, at most :data:`SCAN` of them for
the hourly counts and :data:`SAMPLE` for the durations, found through the index on
``taskhub_transitions.at`` and joined to their task rows to keep units of work only (a
subtask's row has a ``parent_ref``). When the window holds more than was read, the answer
says so (``exact`` false) and from when it is complete (``complete_from``): the hours before
that are counted in part, never silently.

A unit of work finished once counts once; one retried and finished again counts in each hour
it finished. Its duration is ``finished_at`` minus ``started_at`` (else ``created_at``, else
when it was first seen), with the terminal transition's time when the vendor gives no
``finished_at``. Percentiles are computed here, in Python, over the sample, interpolated as
PostgreSQL's ``percentile_cont`` does: one code path on SQLite (which has no percentile
function) and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import attrs
import sqlalchemy as sa

from taskhub.states import TERMINAL

from .rows import iso, utc
from .schema import tasks, transitions

UTC = timezone.utc
HOUR = timedelta(hours=1)
#: The most terminal transitions the hourly counts read (newest first).
SCAN = 50_000
#: The most units of work the durations are computed over (the newest finished).
SAMPLE = 5_000
#: The longest window asked for, in hours (a week).
MAX_HOURS = 168
_TERMINAL = sorted(s.value for s in TERMINAL)
_T = TypeVar("_T")


@attrs.frozen
class Window:
    """``hours`` whole hours ending with the current one (UTC): ``[start, end)``."""

    start: datetime
    end: datetime
    hours: int

    @classmethod
    def last(cls, hours: int, now: datetime | None = None) -> Window:
        """The last ``hours`` hours, the current one included."""
        if not 1 <= hours <= MAX_HOURS:
            raise ValueError(f"hours must be from 1 to {MAX_HOURS}")
        moment = utc(now) or datetime.now(UTC)
        end = moment.replace(minute=0, second=0, microsecond=0) + HOUR
        return cls(end - hours * HOUR, end, hours)

    @property
    def edges(self) -> list[datetime]:
        """The start of every hour of the window, oldest first."""
        return [self.start + i * HOUR for i in range(self.hours)]

    def to_json(self) -> dict[str, Any]:
        """The window as the API says it."""
        return {
            "hours": self.hours,
            "start": iso(self.start),
            "end": iso(self.end),
            "hour_starts": [iso(edge) for edge in self.edges],
        }


@attrs.frozen
class Finished:
    """Units of work finished per hour: ``series[(vendor, state)]`` counts per hour."""

    window: Window
    series: dict[tuple[str, str], list[int]]
    #: How many terminal transitions were read (units of work and subtasks).
    scanned: int
    #: False when the window held more than :data:`SCAN` terminal transitions.
    exact: bool
    #: The oldest time read when not exact (hours before it are counted in part).
    complete_from: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The JSON ``GET /api/stats/finished`` answers."""
        return {
            **self.window.to_json(),
            "series": [
                {"vendor": vendor, "state": state, "counts": counts, "total": sum(counts)}
                for (vendor, state), counts in sorted(self.series.items())
            ],
            "total": sum(sum(c) for c in self.series.values()),
            "scanned": self.scanned,
            "exact": self.exact,
            "complete_from": iso(self.complete_from),
        }


@attrs.frozen
class Spread:
    """One vendor's durations: how many were sampled, and their p50 and p95 in seconds."""

    vendor: str
    count: int
    p50: float
    p95: float
    max: float


@attrs.frozen
class Durations:
    """Durations per vendor of the units of work finished in the window."""

    window: Window
    vendors: list[Spread]
    #: False when the window held more finished units of work than :data:`SAMPLE`.
    exact: bool
    complete_from: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The JSON ``GET /api/stats/durations`` answers."""
        found = self.window.to_json()
        del found["hour_starts"]
        return {
            **found,
            "vendors": [
                {
                    "vendor": s.vendor,
                    "count": s.count,
                    "p50": round(s.p50, 3),
                    "p95": round(s.p95, 3),
                    "max": round(s.max, 3),
                }
                for s in self.vendors
            ],
            "exact": self.exact,
            "complete_from": iso(self.complete_from),
        }


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` percentile of sorted ``values``, interpolated between the two nearest
    (as ``percentile_cont``)."""
    if not values:
        raise ValueError("no values")
    position = fraction * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


class Stats:
    """Reads the charts' numbers on the store's reader engine."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        scan: int = SCAN,
        sample: int = SAMPLE,
        ttl: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.scan = scan
        self.sample = sample
        #: Seconds an answer is reused (0: read every time): every open page asks for the
        #: same numbers, and they need not be fresher than the charts can show.
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, int], tuple[float, Any]] = {}

    def _reuse(self, key: tuple[str, int], read: Callable[[], _T]) -> _T:
        """``read()``, or its answer from less than :attr:`ttl` seconds ago."""
        if self.ttl <= 0:
            return read()
        now = self._clock()
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and now - kept[0] < self.ttl:
            found: _T = kept[1]
            return found
        value = read()
        with self._lock:
            self._kept[key] = (now, value)
        return value

    def _recent(self, window: Window, limit: int) -> sa.Subquery:
        """The newest ``limit`` terminal transitions in ``window`` (an index range scan on
        ``at``, read backwards)."""
        t = transitions.c
        return (
            sa.select(t.ref, t.vendor, t.to_state, t.at)
            .where(t.at >= window.start, t.at < window.end, t.to_state.in_(_TERMINAL))
            .order_by(t.at.desc())
            .limit(limit)
            .subquery("recent")
        )

    def finished(self, hours: int = 24, *, now: datetime | None = None) -> Finished:
        """Units of work finished in each of the last ``hours`` hours, by vendor and state
        (``now`` given: read at once, for that moment)."""
        if now is None:
            return self._reuse(("finished", hours), lambda: self._finished(Window.last(hours)))
        return self._finished(Window.last(hours, now))

    def _finished(self, window: Window) -> Finished:
        recent = self._recent(window, self.scan)
        hour = _hour_of(recent.c.at, window.edges, 0, window.hours).label("hour")
        unit = sa.and_(tasks.c.ref.is_not(None), tasks.c.parent_ref.is_(None))
        query = (
            sa.select(
                hour,
                recent.c.vendor,
                recent.c.to_state,
                sa.func.sum(sa.case((unit, 1), else_=0)).label("units"),
                sa.func.count().label("scanned"),
                sa.func.min(recent.c.at).label("oldest"),
            )
            .select_from(recent.outerjoin(tasks, tasks.c.ref == recent.c.ref))
            .group_by(hour, recent.c.vendor, recent.c.to_state)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        series: dict[tuple[str, str], list[int]] = {}
        scanned, oldest = 0, None
        for row in rows:
            scanned += int(row.scanned)
            at = utc(row.oldest)
            oldest = at if oldest is None or (at is not None and at < oldest) else oldest
            if int(row.units):
                counts = series.setdefault((row.vendor, row.to_state), [0] * window.hours)
                counts[int(row.hour)] += int(row.units)
        exact = scanned < self.scan
        return Finished(window, series, scanned, exact, None if exact else oldest)

    def durations(self, hours: int = 24, *, now: datetime | None = None) -> Durations:
        """p50 and p95 durations per vendor of the units of work finished in the last
        ``hours`` hours (``now`` given: read at once, for that moment)."""
        if now is None:
            return self._reuse(("durations", hours), lambda: self._durations(Window.last(hours)))
        return self._durations(Window.last(hours, now))

    def _durations(self, window: Window) -> Durations:
        recent = self._recent(window, self.sample)
        c = tasks.c
        query = sa.select(
            recent.c.ref,
            recent.c.vendor,
            recent.c.at,
            c.parent_ref,
            c.state,
            c.started_at,
            c.created_at,
            c.first_seen_at,
            c.finished_at,
        ).select_from(recent.join(tasks, c.ref == recent.c.ref))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        seconds: dict[str, list[float]] = {}
        seen: set[str] = set()
        oldest = None
        for row in sorted(rows, key=lambda r: utc(r.at) or window.start, reverse=True):
            at = utc(row.at)
            oldest = at if oldest is None or (at is not None and at < oldest) else oldest
            if row.parent_ref is not None or row.ref in seen or row.state not in _TERMINAL:
                continue
            seen.add(row.ref)  # a retried task: its last finish only
            took = _took(row, at)
            if took is not None:
                seconds.setdefault(row.vendor, []).append(took)
        spreads = []
        for vendor, found in sorted(seconds.items()):
            found.sort()
            spreads.append(
                Spread(
                    vendor, len(found), percentile(found, 0.5), percentile(found, 0.95), found[-1]
                )
            )
        exact = len(rows) < self.sample
        return Durations(window, spreads, exact, None if exact else oldest)


def _hour_of(at: Any, edges: list[datetime], low: int, high: int) -> Any:
    """The index of the hour ``at`` falls in, among ``edges[low:high]``: CASEs nested as a
    binary search (five comparisons a row for a day, where a flat CASE makes up to 23), the
    same SQL on SQLite and PostgreSQL, with no date function of either."""
    if high - low == 1:
        return sa.literal(low)
    middle = (low + high) // 2
    return sa.case(
        (at < edges[middle], _hour_of(at, edges, low, middle)),
        else_=_hour_of(at, edges, middle, high),
    )


def _took(row: Any, at: datetime | None) -> float | None:
    """Seconds from a row's start (started, else created, else first seen) to its finish
    (``finished_at``, else the terminal transition's time); None when either is unknown."""
    start = utc(row.started_at) or utc(row.created_at) or utc(row.first_seen_at)
    end = utc(row.finished_at) or at
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())
