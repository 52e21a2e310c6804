"""Property tests: the SQL engine and the scalar path against a plain minute-by-minute
reference (tests/calendar/_bt_reference.py) over random schedules and random intervals in
2025-2027, weighted towards DST weeks; and add_business_seconds as the inverse of
business_seconds."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest
from _bt_helpers import UTC, sql_business_seconds, sql_due_times
from _bt_reference import RefSchedule
from _bt_reference import business_seconds as ref_business_seconds
from _bt_reference import due as ref_due
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxmetrics.calendar import ScheduleSet

pytestmark = pytest.mark.slow  # ~20 s: hundreds of random schedules, each materialised

WEEK = 7 * 1440
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# a half-hour zone, a 45-minute zone, one with a 30-minute DST shift, and the usual ones
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide", "Asia/Kathmandu",
         "Australia/Lord_Howe")
# local dates of DST changes in 2025-2027 (plus a few ordinary ones), where intervals start nearby
DST_DAYS = (
    date(2025, 3, 9), date(2025, 3, 30), date(2025, 10, 26), date(2025, 11, 2), date(2025, 4, 6), date(2025, 10, 5),
    date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1), date(2026, 4, 5), date(2026, 10, 4),
    date(2027, 3, 14), date(2027, 3, 28), date(2027, 10, 31), date(2027, 11, 7), date(2027, 4, 4), date(2027, 10, 3),
)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def circle_weekly(draw: st.DrawFn) -> list[tuple[int, int, int]]:
    """Disjoint weekly intervals (weekday, start minute, end minute; end may pass midnight):
    cut points on the week's circle, paired; quarter hours mostly, any minute sometimes."""
    step = draw(st.sampled_from([15, 15, 30, 60, 1]))
    n = draw(st.integers(1, 7)) * 2
    cuts = sorted(draw(st.sets(st.integers(0, WEEK // step - 1), min_size=n, max_size=n)))
    shift = draw(st.integers(0, WEEK // step - 1)) * step
    out = []
    for a, b in zip(cuts[0::2], cuts[1::2]):
        length = min((b - a) * step, 1440)
        start = (a * step + shift) % WEEK
        day, minute = divmod(start, 1440)
        if length == 1440 and minute != 0:
            length -= step  # a 24 h span must start at midnight ('00:00-24:00')
        if length > 0:
            out.append((day, minute, minute + length))
    # pairs were disjoint on the circle; shortening keeps them so
    return out or [(0, 540, 1020)]


@st.composite
def office_weekly(draw: st.DrawFn) -> list[tuple[int, int, int]]:
    """Office-like weeks: the same one or two intervals (maybe a lunch break, maybe a night
    shift past midnight) on a random set of weekdays."""
    step = draw(st.sampled_from([15, 30, 60, 5]))
    start = draw(st.integers(0, 1440 // step - 1)) * step
    length = draw(st.integers(1, 14 * 60 // step)) * step
    pieces = [(start, start + length)]
    if draw(st.booleans()):  # a break, then more
        gap = draw(st.integers(1, 120 // step)) * step
        more = draw(st.integers(1, 6 * 60 // step)) * step
        pieces.append((start + length + gap, start + length + gap + more))
    if pieces[-1][1] - pieces[0][0] > 1440 or pieces[-1][0] >= 1440:
        pieces = pieces[:1]
    days = draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))
    return [(d, a, b) for d in sorted(days) for a, b in pieces]


def weekly() -> st.SearchStrategy[list[tuple[int, int, int]]]:
    return st.one_of(office_weekly(), circle_weekly())


@st.composite
def schedules(draw: st.DrawFn) -> tuple[ScheduleSet, RefSchedule]:
    zone = draw(st.sampled_from(ZONES))
    intervals = draw(weekly())
    holidays = draw(st.lists(st.sampled_from(DST_DAYS) | st.dates(date(2025, 1, 1), date(2027, 12, 31)),
                             max_size=4))
    hours: dict[str, list[str]] = {}
    weekly_ref: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for day, start, end in intervals:
        text = f"{_hhmm(start)}-{'24:00' if end == 1440 else _hhmm(end % 1440)}"
        hours.setdefault(DAYS[day], []).append(text)
        weekly_ref[day].append((start, end))
    spec = {"timezone": zone, "hours": hours, "holidays": [d.isoformat() for d in holidays]}
    if draw(st.booleans()) and holidays:  # a range form too: the first holiday and the day after
        spec["holidays"].append(f"{holidays[0].isoformat()}..{(holidays[0] + timedelta(days=1)).isoformat()}")
        holidays = [*holidays, holidays[0] + timedelta(days=1)]
    ss = ScheduleSet.from_dict({"schedules": {"default": spec}})
    ref = RefSchedule(zone=zone, weekly=tuple(tuple(d) for d in weekly_ref), holidays=frozenset(holidays))
    return ss, ref


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        day = draw(st.sampled_from(DST_DAYS))
        base = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=2)
        offset = draw(st.integers(0, 4 * 86400))
    else:
        base = datetime(2025, 1, 1, tzinfo=UTC)
        offset = draw(st.integers(0, 3 * 365 * 86400 - 5 * 86400))
    micro = draw(st.sampled_from([0, 0, 0, draw(st.integers(0, 999_999))]))
    return base + timedelta(seconds=offset, microseconds=micro)


@st.composite
def spans(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = draw(instants())
    length = draw(st.sampled_from([0, 60, 3600, 86400, draw(st.integers(-86400, 4 * 86400))]))
    micro = draw(st.integers(0, 999_999)) if draw(st.booleans()) else 0
    return start, start + timedelta(seconds=length, microseconds=micro)


_settings = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@_settings
@given(schedule=schedules(), intervals=st.lists(spans(), min_size=1, max_size=5))
def test_sql_and_scalar_match_the_minute_reference(con: duckdb.DuckDBPyConnection, schedule, intervals) -> None:
    ss, ref = schedule
    expected = [ref_business_seconds(ref, a, b) for a, b in intervals]
    scalar = [ss.default.business_seconds(a, b) for a, b in intervals]
    sql = sql_business_seconds(con, ss, [("default", a, b) for a, b in intervals])
    inline = sql_business_seconds(con, ss, [("default", a, b) for a, b in intervals], inline=True)
    for e, s, q, i, (a, b) in zip(expected, scalar, sql, inline, intervals, strict=True):
        assert s == pytest.approx(e, abs=1e-6), (a, b)
        assert q == pytest.approx(e, abs=1e-6), (a, b)
        assert i == q, (a, b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=schedules(), starts=st.lists(instants(), min_size=1, max_size=3),
       shares=st.lists(st.sampled_from([0.0, 1.0]) | st.floats(0, 1.5), min_size=3, max_size=3))
def test_due_times_match_the_reference(con: duckdb.DuckDBPyConnection, schedule, starts, shares) -> None:
    ss, ref = schedule
    # targets up to 1.5 weeks of the schedule's business time, so the minute walk stays short
    weekly_s = sum(end - start for day in ref.weekly for start, end in day) * 60
    rows = [(start, round(share * weekly_s, 6)) for start, share in zip(starts, shares)]
    expected = [ref_due(ref, start, amount) for start, amount in rows]
    scalar = [ss.default.add_business_seconds(start, amount) for start, amount in rows]
    sql = sql_due_times(con, ss, [("default", start, amount) for start, amount in rows])
    inline = sql_due_times(con, ss, [("default", start, amount) for start, amount in rows], inline=True)
    for e, s, q, i in zip(expected, scalar, sql, inline, strict=True):
        assert abs((s - e).total_seconds()) <= 1e-6
        assert q is not None and abs((q - e).total_seconds()) <= 1e-6
        assert i == q


@_settings
@given(schedule=schedules(), start=instants(), amount=st.floats(0, 5 * 86400))
def test_add_business_seconds_inverts_business_seconds(schedule, start, amount) -> None:
    s = schedule[0].default
    amount = round(amount, 6)
    due = s.add_business_seconds(start, amount)
    assert s.business_seconds(start, due) == pytest.approx(amount, abs=1e-6)
    if amount > 0:  # and it is the earliest such instant: a microsecond earlier is short of it
        assert s.business_seconds(start, due - timedelta(microseconds=1)) < amount
