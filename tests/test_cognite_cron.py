"""The five-field cron evaluator behind the Cognite simulator's schedule triggers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taskhub.adapters.cognite import cron

T0 = dt.datetime(2024, 1, 1, 0, 0)  # a Monday


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("* * * * *", T0, dt.datetime(2024, 1, 1, 0, 1)),
        ("0 0 * * *", T0, dt.datetime(2024, 1, 2, 0, 0)),  # strictly after
        ("*/15 * * * *", dt.datetime(2024, 1, 1, 0, 14, 59), dt.datetime(2024, 1, 1, 0, 15)),
        ("5,35 1-3 * * *", dt.datetime(2024, 1, 1, 2, 40), dt.datetime(2024, 1, 1, 3, 5)),
        ("0 9-17/4 * * *", dt.datetime(2024, 1, 1, 9, 0), dt.datetime(2024, 1, 1, 13, 0)),
        ("30 4/6 * * *", T0, dt.datetime(2024, 1, 1, 4, 30)),  # a/n: from a to the end
        ("0 0 * * 0", T0, dt.datetime(2024, 1, 7)),  # Sunday
        ("0 0 * * 7", T0, dt.datetime(2024, 1, 7)),  # 7 is Sunday too
        ("0 0 * * sat,SUN", T0, dt.datetime(2024, 1, 6)),
        ("0 0 1 * *", T0, dt.datetime(2024, 2, 1)),
        ("0 0 29 feb *", T0, dt.datetime(2024, 2, 29)),
        ("0 0 29 2 *", dt.datetime(2024, 3, 1), dt.datetime(2028, 2, 29)),
        ("0 0 31 * *", dt.datetime(2024, 1, 31, 12), dt.datetime(2024, 3, 31)),
        ("0 12 * JAN-MAR/2 *", dt.datetime(2024, 1, 31, 13), dt.datetime(2024, 3, 1, 12)),
        # Both day fields restricted: either matches (the 13th, or any Friday).
        ("0 0 13 * 5", T0, dt.datetime(2024, 1, 5)),
        # One of them starts with "*": both must match (Fridays that are odd days).
        ("0 0 */2 * 5", T0, dt.datetime(2024, 1, 5)),
        ("0 0 */2 * 5", dt.datetime(2024, 1, 5), dt.datetime(2024, 1, 19)),
        ("59 23 31 12 *", T0, dt.datetime(2024, 12, 31, 23, 59)),
    ],
)
def test_next_match(expression: str, after: dt.datetime, expected: dt.datetime) -> None:
    assert cron.next_match(cron.parse(expression), after) == expected


def test_an_expression_that_never_fires() -> None:
    assert cron.next_match(cron.parse("0 0 30 2 *"), T0) is None


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "* * * *",
        "* * * * * *",  # no seconds or years field
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * 32 * *",
        "* * * 13 *",
        "* * * * 8",
        "5-1 * * * *",
        "*/0 * * * *",
        "? * * * *",
        "L * * * *",
        "1,,2 * * * *",
        "* * * FOO *",
        "-1 * * * *",
        None,
        15,
    ],
)
def test_invalid_expressions(expression: object) -> None:
    with pytest.raises(cron.CronError):
        cron.parse(expression)


def test_time_zones_and_daylight_saving() -> None:
    oslo = ZoneInfo("Europe/Oslo")
    daily = cron.parse("30 2 * * *")
    # 2024-03-31 02:30 does not exist in Oslo (02:00 -> 03:00): no run that day.
    after = dt.datetime(2024, 3, 30, 12, tzinfo=dt.timezone.utc)
    assert cron.next_fire(daily, after, oslo) == dt.datetime(
        2024, 4, 1, 0, 30, tzinfo=dt.timezone.utc
    )
    # 2024-10-27 02:30 happens twice (03:00 -> 02:00): one run, the first time.
    after = dt.datetime(2024, 10, 26, 12, tzinfo=dt.timezone.utc)
    first = cron.next_fire(daily, after, oslo)
    assert first == dt.datetime(2024, 10, 27, 0, 30, tzinfo=dt.timezone.utc)
    assert cron.next_fire(daily, first, oslo) == dt.datetime(
        2024, 10, 28, 1, 30, tzinfo=dt.timezone.utc
    )
    hourly = cron.parse("0 * * * *")
    assert cron.next_fire(hourly, after, dt.timezone.utc) == after + dt.timedelta(hours=1)


# -- against a brute force: every minute, checked one by one -------------------------------------


def _field(low: int, high: int) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    single = value.map(str)
    span = st.tuples(value, value).map(lambda p: f"{min(p)}-{max(p)}")
    step = st.integers(1, high - low + 1)
    stepped = st.one_of(
        step.map(lambda n: f"*/{n}"),
        st.tuples(span, step).map(lambda p: f"{p[0]}/{p[1]}"),
        st.tuples(value, step).map(lambda p: f"{p[0]}/{p[1]}"),
    )
    part = st.one_of(single, span, stepped)
    return st.one_of(st.just("*"), st.lists(part, min_size=1, max_size=3).map(",".join))


EXPRESSIONS = st.tuples(
    _field(0, 59), _field(0, 23), _field(1, 31), _field(1, 12), _field(0, 7)
).map(" ".join)
#: Brute force looks this far; beyond it only "later than the window" is checked.
WINDOW = dt.timedelta(days=3)


@settings(max_examples=150, deadline=None)
@given(
    expression=EXPRESSIONS,
    after=st.datetimes(dt.datetime(2023, 1, 1), dt.datetime(2026, 12, 31)),
)
def test_next_match_agrees_with_checking_every_minute(expression: str, after: dt.datetime) -> None:
    parsed = cron.parse(expression)
    found = cron.next_match(parsed, after)
    minute = after.replace(second=0, microsecond=0)
    for _ in range(int(WINDOW.total_seconds() // 60)):
        minute += dt.timedelta(minutes=1)
        if parsed.matches(minute):
            assert found == minute
            return
    assert found is None or found > after + WINDOW - dt.timedelta(minutes=1)


@given(expression=EXPRESSIONS)
def test_matches_reads_each_field(expression: str) -> None:
    parsed = cron.parse(expression)
    minute, hour, day, month, weekday = expression.split()
    assert parsed.minutes and min(parsed.minutes) >= 0 and max(parsed.minutes) <= 59
    assert parsed.hours and max(parsed.hours) <= 23
    assert parsed.days and min(parsed.days) >= 1 and max(parsed.days) <= 31
    assert parsed.months and min(parsed.months) >= 1 and max(parsed.months) <= 12
    assert parsed.weekdays and max(parsed.weekdays) <= 6  # 7 reads as 0
    assert (parsed.day_restricted, parsed.weekday_restricted) == (
        not day.startswith("*"),
        not weekday.startswith("*"),
    )
    if minute == "*":
        assert parsed.minutes == frozenset(range(60))
    if hour == "*":
        assert parsed.hours == frozenset(range(24))
    if month == "*":
        assert parsed.months == frozenset(range(1, 13))
