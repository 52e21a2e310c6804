"""An independent, deliberately plain reference for business time: it steps through UTC
minute by minute, converts each minute to local wall-clock time with zoneinfo and asks
"is this a business minute?" by reading the weekly table directly. It shares no code with
cxmetrics.calendar (which maps wall-clock intervals to UTC in bulk).

Whole minutes suffice: schedule boundaries are HH:MM in local time and every UTC offset
since 1972 is a whole number of minutes, so business-ness never changes inside a UTC minute;
partial minutes at the ends of an interval are counted exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class RefSchedule:
    """weekly[d] = list of (start minute, end minute) of weekday d (0 = Monday); an end past
    1440 runs into the next day. holidays = local dates on which no interval starts."""

    zone: str
    weekly: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def is_business(self, instant: datetime) -> bool:
        wall = instant.astimezone(ZoneInfo(self.zone)).replace(tzinfo=None)
        day = wall.date()
        minute = wall.hour * 60 + wall.minute + wall.second / 60
        if day not in self.holidays:
            for start, end in self.weekly[day.weekday()]:
                if start <= minute < end:
                    return True
        yesterday = day - timedelta(days=1)
        if yesterday not in self.holidays:
            for start, end in self.weekly[yesterday.weekday()]:
                if end > 1440 and minute < end - 1440:
                    return True
        return False


def _floor_minute(t: datetime) -> datetime:
    t = t.astimezone(UTC)
    return t.replace(second=0, microsecond=0)


def business_seconds(ref: RefSchedule, start: datetime, end: datetime) -> float:
    """Business seconds in [start, end), minute by minute."""
    if end <= start:
        return 0.0
    total = timedelta(0)
    m = _floor_minute(start)
    while m < end:
        nxt = m + timedelta(minutes=1)
        if ref.is_business(m):
            total += min(nxt, end) - max(m, start)
        m = nxt
    return total.total_seconds()


def due(ref: RefSchedule, start: datetime, seconds: float, limit_days: int = 60) -> datetime:
    """The earliest instant at which `seconds` business seconds have passed since start."""
    if seconds == 0:
        return start
    left = timedelta(seconds=seconds)
    m = _floor_minute(start)
    stop = start + timedelta(days=limit_days)
    while m < stop:
        nxt = m + timedelta(minutes=1)
        if ref.is_business(m):
            lo = max(m, start)
            span = nxt - lo
            if span >= left:
                return lo + left
            left -= span
        m = nxt
    raise AssertionError("no due time within the limit")
