"""Quiet hours: is a moment quiet, and when does the quiet end?

A span such as 22:00-07:00 on Friday is quiet from Friday 22:00 to Saturday 07:00 local
time; spans that touch or overlap run together, so 22:00-07:00 every day plus all of
Saturday and Sunday is quiet from Friday 22:00 to Monday 07:00. Local times are
converted with the zone's rules on each date, so a span keeps its clock times across a
DST change (a time that does not exist that night, such as 02:30 when clocks jump from
02:00 to 03:00, is read with the offset before the jump).

>>> from datetime import datetime, timezone
>>> from cxmetrics.alerts._config import QuietHours
>>> q = QuietHours.model_validate({"spans": ["22:00-07:00", {"hours": "00:00-24:00", "days": ["sat", "sun"]}]})
>>> quiet_until(q.spans, "UTC", datetime(2025, 3, 7, 23, 0, tzinfo=timezone.utc))  # a Friday night
datetime.datetime(2025, 3, 10, 7, 0, tzinfo=datetime.timezone.utc)
>>> quiet_until(q.spans, "UTC", datetime(2025, 3, 10, 12, 0, tzinfo=timezone.utc)) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cxmetrics.alerts._config import QuietSpan


def _intervals(spans: Sequence[QuietSpan], tz: ZoneInfo, around: datetime) -> list[tuple[datetime, datetime]]:
    """Every quiet interval (UTC) beginning on a local date from 2 days before `around`
    to 9 days after: enough to cover a whole week of spans chained together."""
    local = around.astimezone(tz).date()
    out = []
    for offset in range(-2, 10):
        day = local + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day)
        for s in spans:
            if day.weekday() not in s.days:
                continue
            start = midnight + timedelta(minutes=s.start_min)
            end = midnight + timedelta(minutes=s.end_min if s.end_min > s.start_min else s.end_min + 1440)
            out.append((_utc(start, tz), _utc(end, tz)))
    return sorted(out)


def _utc(naive_local: datetime, tz: ZoneInfo) -> datetime:
    return naive_local.replace(tzinfo=tz).astimezone(UTC)


def quiet_until(spans: Sequence[QuietSpan], tz_name: str, now: datetime) -> datetime | None:
    """The end (UTC) of the quiet time that `now` falls in, or None if `now` is not quiet."""
    if not spans:
        return None
    tz = ZoneInfo(tz_name)
    cur = now.astimezone(UTC)
    quiet = False
    # follow the chain of spans that contain or touch the current end; each pass sees
    # about a week ahead (at most ~60 passes: spans covering the whole week never end)
    for _ in range(60):
        moved = False
        for start, stop in _intervals(spans, tz, cur):  # by start
            if start <= cur < stop:
                cur, moved, quiet = stop, True, True
        if not moved:
            break
    return cur if quiet else None
