"""The periods a report covers, and when a schedule says to send each.

A weekly report covers an ISO week, Monday 00:00 to the next Monday 00:00 in the
workspace's time zone (the zone `ws.metrics` buckets days in), and is named by it
(`2026-W10`). A schedule `send = "monday 08:00"` sends a week's report at the first such
local time at or after the week's end: the week of 2 March 2026 goes out on Monday 9 March
at 08:00. Only the latest week whose time has come is due: a server that was down for a
month sends last week's report, not four.

>>> w = Week.parse("2026-W10")
>>> w.start, w.end, w.label
(datetime.date(2026, 3, 2), datetime.date(2026, 3, 9), '2026-W10')
>>> Week.ending_before(date(2026, 3, 11)).label, Week.containing(date(2026, 3, 8)).label
('2026-W10', '2026-W10')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cxmetrics.errors import UserError
from cxmetrics.reports._config import SendTime

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Week:
    """An ISO week: [start, end) with start a Monday."""

    start: date

    @property
    def end(self) -> date:
        return self.start + timedelta(days=7)

    @property
    def label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    def previous(self) -> Week:
        return Week(self.start - timedelta(days=7))

    @classmethod
    def containing(cls, day: date) -> Week:
        return cls(day - timedelta(days=day.weekday()))

    @classmethod
    def ending_before(cls, day: date) -> Week:
        """The last complete week before `day` (a Monday `day` ends the week before it)."""
        return cls.containing(day).previous()

    @classmethod
    def parse(cls, text: str) -> Week:
        """`2026-W10` (ISO year and week)."""
        m = _WEEK.match(text.strip())
        if not m:
            raise UserError(f"week '{text}' is not an ISO week; write it as YYYY-Www, e.g. 2026-W10.")
        try:
            return cls(date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1))
        except ValueError:
            raise UserError(f"week '{text}' does not exist: {m.group(1)} has weeks 1 to "
                            f"{date(int(m.group(1)), 12, 28).isocalendar()[1]}.") from None


def parse_day(text: str, what: str = "--end") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"{what} '{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-03-09.") from None


def send_at(week: Week, send: SendTime, zone: str) -> datetime:
    """When `week`'s report goes out: the first `send` weekday and time at or after its end."""
    day = week.end + timedelta(days=(send.weekday - week.end.weekday()) % 7)
    local = datetime.combine(day, time(send.minute // 60, send.minute % 60), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def due_week(now: datetime, send: SendTime, zone: str) -> tuple[Week, datetime]:
    """The latest week whose send time is at or before `now`, with that time."""
    week = Week.ending_before(now.astimezone(ZoneInfo(zone)).date() + timedelta(days=1))
    while send_at(week, send, zone) > now:
        week = week.previous()
    return week, send_at(week, send, zone)
