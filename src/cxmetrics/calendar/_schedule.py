"""Schedules: when a support team is at work, as frozen typed models.

A `Schedule` is a time zone, weekly business intervals in local wall-clock time, and
holidays. An instant is *business time* when its local wall-clock time in the
schedule's zone falls inside one of that weekday's intervals and the day is not a
holiday. An overnight interval such as `22:00-06:00` belongs to the day it starts on
(Monday's `22:00-06:00` runs to Tuesday 06:00, and is off when Monday is a holiday).
Because intervals are wall-clock times, a `00:00-24:00` day lasts 23 hours on the day
clocks spring forward and 25 hours on the day they fall back.

>>> from datetime import datetime, timezone
>>> s = Schedule.from_dict("office", {"timezone": "UTC", "hours": {"mon-fri": ["09:00-17:00"]}})
>>> s.describe_hours()
'mon-fri 09:00-17:00'
>>> fri_16, mon_10 = datetime(2026, 3, 6, 16, tzinfo=timezone.utc), datetime(2026, 3, 9, 10, tzinfo=timezone.utc)
>>> s.business_seconds(fri_16, mon_10) / 3600   # Fri 16-17 + Mon 09-10
2.0
>>> s.add_business_seconds(fri_16, 4 * 3600).isoformat()   # 1 h on Friday, 3 h on Monday
'2026-03-09T12:00:00+00:00'
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from cxmetrics.errors import UnknownNameError, UserError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: ticket dimensions a schedule rule may test
DIMENSIONS = ("channel", "customer_tier", "priority", "product", "region", "source", "team", "topic")
DEFAULT_NAME = "default"
SCHEDULES_FILE = "schedules.toml"  # in the workspace folder


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(_Frozen):
    """Business interval of one weekday, in minutes after that day's local midnight.

    `end` may pass midnight (up to `start + 1440`): `22:00-06:00` is start=1320, end=1800."""

    start: int
    end: int

    def __str__(self) -> str:
        end = self.end if self.end <= 1440 else self.end - 1440
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


class HolidayCalendar(_Frozen):
    """Public holidays of a country (ISO code) and optionally one subdivision, from `holidays`."""

    country: str
    subdiv: str | None = None

    def __str__(self) -> str:
        return self.country + (f"-{self.subdiv}" if self.subdiv else "")


class Schedule(_Frozen):
    """A named business-hours schedule; `hours[0]` is Monday, `hours[6]` Sunday.

    `holidays` are inclusive date ranges (a single day is (d, d))."""

    name: str
    timezone: str = "UTC"
    hours: tuple[tuple[Interval, ...], ...]
    holidays: tuple[tuple[date, date], ...] = ()
    holiday_calendars: tuple[HolidayCalendar, ...] = ()

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> Schedule:
        """Build from the TOML shape (`timezone`, `hours`, `holidays`, `holiday_calendars`);
        raises SettingsError naming the field and the fix."""
        from cxmetrics.calendar._config import parse_schedule

        return parse_schedule(name, data)

    @property
    def is_always(self) -> bool:
        """True when every day is 00:00-24:00 (and no holidays): business time = calendar time."""
        return all(day == (Interval(start=0, end=1440),) for day in self.hours) and not self.holidays \
            and not self.holiday_calendars

    def describe_hours(self) -> str:
        """Weekly hours in the TOML's words, e.g. 'mon-fri 09:00-17:00; sat 10:00-14:00'."""
        from cxmetrics.calendar._config import hours_groups

        if self.is_always or all(day == (Interval(start=0, end=1440),) for day in self.hours):
            return "24/7"
        return "; ".join(f"{key} {', '.join(values)}" for key, values in hours_groups(self.hours) if values)

    def holiday_dates(self, year: int) -> dict[date, str]:
        """Holidays of one year: date -> name (explicit dates are named 'holiday')."""
        from cxmetrics.calendar._holidays import holiday_names

        return holiday_names(self, year, year)

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Business seconds in [start, end): 0 when end <= start. Naive datetimes are UTC."""
        from cxmetrics.calendar._timeline import scalar_business_us

        return scalar_business_us(self, _epoch_us(start), _epoch_us(end)) / 1e6

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The due time: the earliest instant at which `seconds` of business time have passed
        since `start` (`start` itself when seconds is 0; at a business interval's end rather
        than the next one's start when the target is reached exactly there). Returned in
        `start`'s time zone (UTC for a naive start)."""
        from cxmetrics.calendar._timeline import scalar_due_us

        if math.isnan(seconds) or seconds < 0:
            raise UserError(f"seconds must be a number >= 0, not {seconds!r}.")
        due = scalar_due_us(self, _epoch_us(start), round(seconds * 1e6))
        result = datetime.fromtimestamp(due // 1_000_000, UTC).replace(microsecond=due % 1_000_000)
        return result.astimezone(start.tzinfo) if start.tzinfo is not None else result


class Rule(_Frozen):
    """Tickets whose dimensions match `when` get `schedule`: every listed dimension must
    equal one of its values (case-blind)."""

    schedule: str
    when: tuple[tuple[str, tuple[str, ...]], ...]

    def matches(self, dims: dict[str, str | None]) -> bool:
        for dim, values in self.when:
            got = dims.get(dim)
            if got is None or got.lower() not in {v.lower() for v in values}:
                return False
        return True

    def describe(self) -> str:
        return " and ".join(f"{dim} in ({', '.join(values)})" for dim, values in self.when)


class ScheduleSet(_Frozen):
    """Every schedule of a workspace, the default one, and the ordered rules that assign
    the others to tickets (the first matching rule wins, else the default)."""

    schedules: tuple[Schedule, ...]
    default_name: str = DEFAULT_NAME
    rules: tuple[Rule, ...] = ()

    @classmethod
    def all_hours(cls) -> ScheduleSet:
        """What a workspace without `schedules.toml` uses: one 24/7 UTC schedule named
        'default', so business time equals calendar time until schedules are configured."""
        day = (Interval(start=0, end=1440),)
        return cls(schedules=(Schedule(name=DEFAULT_NAME, timezone="UTC", hours=(day,) * 7),))

    @classmethod
    def load(cls, path: str | Path) -> ScheduleSet:
        """Read a `schedules.toml`; a missing file gives `ScheduleSet.all_hours()`."""
        from cxmetrics.calendar._config import load_file

        return load_file(Path(path))

    @classmethod
    def from_toml(cls, text: str, *, origin: str = "schedules.toml") -> ScheduleSet:
        from cxmetrics.calendar._config import parse_text

        return parse_text(text, origin)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, origin: str = "schedules.toml") -> ScheduleSet:
        from cxmetrics.calendar._config import parse_set

        return parse_set(data, origin)

    def to_toml(self) -> str:
        from cxmetrics.calendar._config import format_set

        return format_set(self)

    def save(self, path: str | Path) -> None:
        """Write as TOML; `ScheduleSet.load(path)` gives back an equal set."""
        Path(path).write_text(self.to_toml(), encoding="utf-8")

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.schedules]

    @property
    def default(self) -> Schedule:
        """The schedule of tickets no rule matches."""
        return self[self.default_name]

    def __getitem__(self, name: str) -> Schedule:
        for s in self.schedules:
            if s.name == name:
                return s
        raise UnknownNameError("schedule", name, self.names)

    def schedule_for(self, **dims: str | None) -> Schedule:
        """The schedule of a ticket with these dimensions (team=..., channel=..., region=...)."""
        unknown = sorted(set(dims) - set(DIMENSIONS))
        if unknown:
            raise UnknownNameError("dimension", unknown[0], DIMENSIONS)
        for rule in self.rules:
            if rule.matches(dims):
                return self[rule.schedule]
        return self.default

    def fingerprint(self) -> str:
        """Changes whenever anything that decides business time changes (including the
        `holidays` package's version, whose calendars the schedules may use)."""
        import holidays

        payload = json.dumps([self.model_dump(mode="json"), holidays.__version__], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _epoch_us(value: datetime) -> int:
    """Microseconds since 1970 UTC, exactly (naive datetimes are UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
