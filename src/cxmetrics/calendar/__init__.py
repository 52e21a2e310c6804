"""Business time: schedules (time zone, weekly hours, holidays), and B(t) in the engine.

B(t) is the number of business seconds from a fixed origin to the instant t under a
schedule; the business duration of [start, end) is B(end) - B(start), and a due time is
the earliest t with B(t) = B(start) + N. The engine materialises B per schedule as a
table of 15-minute UTC buckets (`ensure_calendar`) and looks it up by equi-joins in SQL
built by `with_business_seconds`, `with_business_times` and `with_due_times`; the
`Schedule` methods answer the same questions for one interval in Python.

>>> from datetime import datetime, timezone
>>> ss = ScheduleSet.from_toml('''
... [schedules.default]
... timezone = "Europe/Berlin"
... hours = { mon-fri = ["09:00-12:30", "13:30-17:00"] }
... holiday_calendars = [{ country = "DE", subdiv = "BE" }]
... ''')
>>> # Thu 2 Apr 2026 16:00 CEST -> Tue 7 Apr 10:00: Good Friday and Easter Monday are holidays
>>> ss.default.business_seconds(datetime(2026, 4, 2, 14, tzinfo=timezone.utc),
...                             datetime(2026, 4, 7, 8, tzinfo=timezone.utc)) / 3600
2.0
"""

from __future__ import annotations

from cxmetrics.calendar._engine import (
    business_time_sql,
    schedule_sql,
    with_business_seconds,
    with_business_times,
    with_due_times,
)
from cxmetrics.calendar._materialise import calendar_range, data_range, ensure_calendar
from cxmetrics.calendar._schedule import (
    DIMENSIONS,
    SCHEDULES_FILE,
    HolidayCalendar,
    Interval,
    Rule,
    Schedule,
    ScheduleSet,
)

__all__ = [
    "DIMENSIONS",
    "SCHEDULES_FILE",
    "HolidayCalendar",
    "Interval",
    "Rule",
    "Schedule",
    "ScheduleSet",
    "business_time_sql",
    "calendar_range",
    "data_range",
    "ensure_calendar",
    "schedule_sql",
    "with_business_seconds",
    "with_business_times",
    "with_due_times",
]
