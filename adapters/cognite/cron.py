"""Five-field cron expressions, as CDF schedule triggers take them.

``minute hour day-of-month month day-of-week``; each field is ``*``, a value, a range ``a-b``, a
step ``*/n``, ``a-b/n`` or ``a/n`` (``a`` to the field's end), or a comma list of those.
Months and weekdays may be named (``JAN``, ``MON``; any case); a weekday is 0-7, where 0 and 7
are Sunday. As in Vixie cron (what "cron expression" means on Linux), a day matches when the
day of month *or* the weekday matches if both fields are restricted (neither starts with
``*``), and when both match otherwise.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import attrs

_MONTHS = {name.upper(): n for n, name in enumerate(calendar.month_abbr) if name}
_DAYS = {name.upper(): (n + 1) % 7 for n, name in enumerate(calendar.day_abbr)}
#: (name, lowest, highest, names) per field.
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_PART = re.compile(r"^(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?$")
#: How far ahead :func:`next_fire` looks before it calls an expression one that never fires
#: (``0 0 30 2 *``). A Feb 29 that falls on a given weekday recurs within 28 years.
_HORIZON_YEARS = 29


class CronError(ValueError):
    """An expression that is not a valid five-field cron expression."""


@attrs.frozen
class Cron:
    """A parsed expression: the values each field allows."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    day_restricted: bool
    weekday_restricted: bool

    def day_matches(self, day: dt.date) -> bool:
        """Whether ``day`` is one the expression runs on (the Vixie day rule)."""
        by_day = day.day in self.days
        by_weekday = (day.weekday() + 1) % 7 in self.weekdays
        if self.day_restricted and self.weekday_restricted:
            return by_day or by_weekday
        return by_day and by_weekday

    def matches(self, when: dt.datetime) -> bool:
        """Whether the (wall-clock) minute ``when`` is one the expression fires on."""
        return (
            when.minute in self.minutes
            and when.hour in self.hours
            and when.month in self.months
            and self.day_matches(when.date())
        )


def parse(expression: object) -> Cron:
    """``expression`` parsed; :class:`CronError` says what is wrong with it."""
    if not isinstance(expression, str):
        raise CronError("a cron expression must be a string")
    fields = expression.split()
    if len(fields) != 5:
        raise CronError(
            f"a cron expression has 5 fields (minute hour day month weekday), not {len(fields)}"
        )
    values = [_field(text, *spec) for text, spec in zip(fields, _FIELDS, strict=True)]
    weekdays = frozenset(0 if d == 7 else d for d in values[4])
    return Cron(
        expression,
        values[0],
        values[1],
        values[2],
        values[3],
        weekdays,
        day_restricted=not fields[2].startswith("*"),
        weekday_restricted=not fields[4].startswith("*"),
    )


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    allowed: set[int] = set()
    for part in text.split(","):
        match = _PART.match(part)
        if match is None:
            raise CronError(f"{name}: cannot read {part!r}")
        star, first, last, step = match.groups()
        if star:
            start, end = low, high
        else:
            start = _value(first, name, low, high, names)
            # "a/n" runs from a to the end of the field; a bare "a" is that value alone.
            end = _value(last, name, low, high, names) if last else high if step else start
        stride = int(step) if step else 1
        if stride < 1:
            raise CronError(f"{name}: a step must be at least 1")
        if start > end:
            raise CronError(f"{name}: the range {part!r} runs backwards")
        allowed.update(range(start, end + 1, stride))
    return frozenset(allowed)


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    if text.isdigit():
        number = int(text)
    elif text.upper() in names:
        number = names[text.upper()]
    else:
        raise CronError(f"{name}: {text!r} is not a number")
    if not low <= number <= high:
        raise CronError(f"{name}: {number} is outside {low}-{high}")
    return number


def next_match(cron: Cron, after: dt.datetime) -> dt.datetime | None:
    """The first wall-clock minute strictly after ``after`` (naive) that ``cron`` matches.

    None if there is none within :data:`_HORIZON_YEARS` years (the expression never fires).
    Whole months, days and hours that cannot match are skipped, so this is quick for any
    expression.
    """
    t = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    limit = after.year + _HORIZON_YEARS
    while t.year <= limit:
        if t.month not in cron.months:
            t = _first_of_next_month(t)
        elif not cron.day_matches(t.date()):
            t = dt.datetime.combine(t.date() + dt.timedelta(days=1), dt.time())
        elif t.hour not in cron.hours:
            t = t.replace(minute=0) + dt.timedelta(hours=1)
        elif t.minute not in cron.minutes:
            t += dt.timedelta(minutes=1)
        else:
            return t
    return None


def next_fire(cron: Cron, after: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
    """The first instant strictly after ``after`` (aware) at which ``cron`` fires in ``zone``.

    A wall-clock time that a daylight-saving change skips does not fire; one it repeats fires
    once, the first time.
    """
    local = after.astimezone(zone).replace(tzinfo=None)
    while True:
        found = next_match(cron, local)
        if found is None:
            return None
        instant = found.replace(tzinfo=zone).astimezone(dt.timezone.utc)
        if instant.astimezone(zone).replace(tzinfo=None) == found and instant > after:
            return instant
        local = found


def _first_of_next_month(t: dt.datetime) -> dt.datetime:
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return dt.datetime(year, month, 1)


__all__ = ["Cron", "CronError", "next_fire", "next_match", "parse"]
