"""Holidays of a schedule: its explicit dates and ranges plus country/region calendars
from the `holidays` package, expanded offline for the years asked.

>>> from cxmetrics.calendar._schedule import Schedule
>>> s = Schedule.from_dict("de", {"timezone": "Europe/Berlin", "hours": "24/7",
...     "holidays": ["2026-12-28..2026-12-30"], "holiday_calendars": [{"country": "DE", "subdiv": "BE"}]})
>>> names = holiday_names(s, 2026, 2026)
>>> names[date(2026, 3, 8)], names[date(2026, 12, 29)], len(names)
("Women's Day", 'holiday', 13)
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np

from cxmetrics.calendar._schedule import HolidayCalendar, Schedule

_EPOCH = date(1970, 1, 1)


def holiday_names(schedule: Schedule, first_year: int, last_year: int) -> dict[date, str]:
    """Every holiday date in [first_year, last_year] -> its name, in date order."""
    return dict(_names(schedule.holidays, schedule.holiday_calendars, first_year, last_year))


def holiday_days(schedule: Schedule, first_year: int, last_year: int) -> np.ndarray:
    """The holiday dates of those years as day numbers since 1970-01-01 (sorted int64)."""
    names = _names(schedule.holidays, schedule.holiday_calendars, first_year, last_year)
    return np.array([(d - _EPOCH).days for d, _ in names], dtype=np.int64)


@lru_cache(maxsize=256)
def _names(explicit: tuple[tuple[date, date], ...], calendars: tuple[HolidayCalendar, ...],
           first_year: int, last_year: int) -> tuple[tuple[date, str], ...]:
    lo, hi = date(first_year, 1, 1), date(last_year, 12, 31)
    found: dict[date, str] = {}
    if calendars:
        import holidays

        years = list(range(first_year, last_year + 1))
        for cal in calendars:
            for day, name in holidays.country_holidays(cal.country, subdiv=cal.subdiv, years=years).items():
                found.setdefault(day, name)
    for a, b in explicit:
        day = max(a, lo)
        while day <= min(b, hi):
            found.setdefault(day, "holiday")
            day += timedelta(days=1)
    return tuple(sorted((d, n) for d, n in found.items() if lo <= d <= hi))
