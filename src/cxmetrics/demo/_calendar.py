"""Seasonality and business time for the demo year.

Volume is shaped in the org's local time (people write mid-morning, not at 03:00 UTC) while every
timestamp we emit is UTC, so the calendar is a grid of 15-minute UTC slots, each tagged with its
local day, weekday and hour (DST included). Business time uses the same grid: cumulative open
seconds per schedule, B(t), so "reply after 5 business hours" is B^-1(B(t) + 5 h), one
`searchsorted` for a whole chunk (the approach DESIGN.md measured for the real engine).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from cxmetrics.demo._channels import (
    CHANNEL_SPECS,
    SCHEDULE_NAMES,
    WEEKDAY_PROFILE,
    WEEKEND_PROFILE,
    arrival_profile,
    open_mask,
)

US = 1_000_000
MINUTE = 60 * US
HOUR = 3600 * US
DAY = 86_400 * US
SLOT = 15 * MINUTE
NEVER = np.iinfo(np.int64).max  # "has not happened"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
TAIL_DAYS = 200  # the grid runs past the window so that late replies still map (then get cut)

# Staffing follows the usual daily shape, so only part of an hour's rush shows up as waiting.
_STAFFED_MEAN = WEEKDAY_PROFILE[7:22].mean()
_INTRADAY = np.vstack([WEEKDAY_PROFILE] * 5 + [WEEKEND_PROFILE] * 2) / _STAFFED_MEAN
_SHARE_9_13 = float(WEEKDAY_PROFILE[9:13].sum() / WEEKDAY_PROFILE.sum())


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of month `months` later, clamped to the month's last day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Spike:
    """A burst of extra contacts about a few topics, e.g. an outage or Black Friday."""

    label: str
    day: int  # first local day, counted from the window start
    extra: tuple[float, ...]  # extra volume per day, as a multiple of the normal volume
    hours: tuple[int, int]  # local hours [from, to) the extra volume falls in
    topics: tuple[tuple[str, float], ...]
    product: str = ""  # the product the extra contacts are about, if one


@dataclass(frozen=True)
class Moments:
    """The dated story of the year; annotations, spikes and effects all read from here."""

    hire_wave: int  # UTC microseconds
    bot_launch: int
    sla_policy: int
    outage_start: int
    outage_end: int
    release: int
    pricing: int
    black_friday: tuple[int, ...]
    spikes: tuple[Spike, ...]


class Calendar:
    """The slot grid of one demo window, with seasonality and two business schedules."""

    def __init__(self, start: dt.date, months: int, timezone: str, end: dt.datetime | None = None) -> None:
        """The window is `months` months from local midnight of `start`; or, with `end` (an
        aware instant), from local midnight `months` months before it up to `end` itself,
        the last day then being partial (the demo ends "now")."""
        self.tz = ZoneInfo(timezone)
        if end is not None:
            last = end.astimezone(self.tz).date()
            start = add_months(last, -months)
        self.start_date = start
        self.start = self.local_us(start, 0)
        if end is None:
            self.end_date = add_months(start, months)
            self.end = self.local_us(self.end_date, 0)
        else:
            # the day grid covers the whole last (partial) day; events stop at `end`
            self.end = (end - _EPOCH) // dt.timedelta(microseconds=1)
            at_midnight = self.end == self.local_us(last, 0)
            self.end_date = last if at_midnight else last + dt.timedelta(days=1)
        self.days = (self.end_date - start).days
        # Local midnights of every window day (and of the day after), in UTC microseconds.
        self.day_start = np.array([self.local_us(self.date(d), 0) for d in range(self.days + 1)],
                                  dtype=np.int64)
        n_slots = int((self.end - self.start + TAIL_DAYS * DAY) // SLOT)
        self.slot_start = self.start + np.arange(n_slots, dtype=np.int64) * SLOT
        # One zoneinfo lookup per UTC hour (not per ticket): ~14k calls.
        n_hours = n_slots // 4 + 1
        offsets = np.array([
            dt.datetime.fromtimestamp((self.start + h * HOUR) / US, self.tz).utcoffset().total_seconds()
            for h in range(n_hours)
        ], dtype=np.int64) * US
        local = self.slot_start + offsets[np.arange(n_slots) // 4]
        epoch_day = local // DAY
        first_day = self.start_date.toordinal() - dt.date(1970, 1, 1).toordinal()
        self.day = (epoch_day - first_day).astype(np.int32)
        self.weekday = ((epoch_day + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday
        self.hour = ((local % DAY) // HOUR).astype(np.int8)
        self.in_window = (self.slot_start >= self.start) & (self.slot_start < self.end)
        self.day_factor = self._day_factors()
        self.moments = self._moments()
        self.work, self.bcum = self._schedules()

    # --- time helpers -------------------------------------------------------------------------
    def local_us(self, day: dt.date, hour: int) -> int:
        """UTC microseconds of a local wall-clock hour."""
        return int(dt.datetime(day.year, day.month, day.day, hour, tzinfo=self.tz).timestamp()) * US

    def date(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)

    def months(self) -> list[tuple[str, int]]:
        """(period such as "2025-11", local-midnight UTC microseconds) of each month in the window."""
        return [(f"{self.date(d).year}-{self.date(d).month:02d}", int(self.day_start[d]))
                for d in range(self.days) if d == 0 or self.date(d).day == 1]

    def slot(self, t: np.ndarray) -> np.ndarray:
        """The grid slot holding each time (clamped to the grid)."""
        return np.clip((t - self.start) // SLOT, 0, len(self.slot_start) - 1)

    def window_day(self, t: np.ndarray) -> np.ndarray:
        """The local window day of each time (clamped to the window)."""
        return np.clip(self.day[self.slot(t)], 0, self.days - 1)

    # --- seasonality --------------------------------------------------------------------------
    def _day_factors(self) -> np.ndarray:
        """Trend x season x holidays for each window day (weekday shape lives in the profiles)."""
        month_factor = {12: 0.9, 1: 1.04, 7: 0.96, 8: 0.92}
        holiday = {(12, 24): 0.45, (12, 25): 0.25, (12, 26): 0.4, (12, 27): 0.7, (12, 28): 0.7,
                   (12, 29): 0.7, (12, 30): 0.7, (12, 31): 0.5, (1, 1): 0.35, (1, 2): 0.8}
        factors = np.empty(self.days)
        for d in range(self.days):
            date = self.date(d)
            growth = 1.0 + 0.25 * d / max(self.days - 1, 1)
            factors[d] = growth * month_factor.get(date.month, 1.0) * holiday.get((date.month, date.day), 1.0)
        return factors

    def _next_weekday(self, day: int, weekday: int) -> int:
        return day + (weekday - self.date(day).weekday()) % 7

    def _moments(self) -> Moments:
        d = self.days
        outage_day = min(self._next_weekday(round(d * 0.55), 1), d - 1)  # a Tuesday
        # Extra volume in 09-13 that makes the whole day about three times a normal Tuesday.
        outage = Spike("outage", outage_day, (1.8 / _SHARE_9_13,), (9, 13), (("outage", 0.6), ("login", 0.4)))
        release_day = min(self._next_weekday(round(d * 0.8), 2), d - 3)
        release = Spike("release", release_day, (0.6, 0.4, 0.2), (0, 24),
                        (("bug", 0.75), ("how-to", 0.25)), "Mobile App")
        pricing_day = min(self._next_weekday(round(d * 0.45), 2), d - 2)
        pricing = Spike("pricing", pricing_day, (0.6, 0.3), (0, 24),
                        (("billing", 0.55), ("cancellation", 0.45)))
        spikes = [outage, release, pricing]
        black_fridays: list[int] = []
        for year in range(self.start_date.year, self.end_date.year + 1):
            nov1 = dt.date(year, 11, 1)
            thanksgiving = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21)
            day = (thanksgiving - self.start_date).days + 1
            if day >= 0 and day + 3 < d:
                black_fridays.append(self.local_us(self.date(day), 0))
                spikes.append(Spike("black_friday", day, (1.0, 0.7, 0.6, 0.9), (0, 24),
                                    (("shipping", 0.45), ("billing", 0.3), ("how-to", 0.15),
                                     ("account", 0.1))))
        return Moments(
            hire_wave=self.local_us(self.date(self._next_weekday(round(d * 0.25), 0)), 9),
            bot_launch=self.local_us(self.date(self._next_weekday(round(d * 0.37), 0)), 9),
            sla_policy=self.local_us(self.date(self._next_weekday(round(d * 0.6), 0)), 9),
            outage_start=self.local_us(self.date(outage_day), 9),
            outage_end=self.local_us(self.date(outage_day), 13),
            release=self.local_us(self.date(release_day), 8),
            pricing=self.local_us(self.date(pricing_day), 7),
            black_friday=tuple(black_fridays),
            spikes=tuple(spikes),
        )

    def arrival_weights(self, channel: int) -> tuple[np.ndarray, np.ndarray]:
        """Relative arrivals per slot for a channel: (normal, extra per spike)."""
        profile = arrival_profile(CHANNEL_SPECS[channel])
        day = np.clip(self.day, 0, self.days - 1)
        base = np.where(self.in_window, self.day_factor[day] * profile[self.weekday, self.hour], 0.0)
        extras = np.zeros((len(self.moments.spikes), len(base)))
        for k, spike in enumerate(self.moments.spikes):
            for i, extra in enumerate(spike.extra):
                hit = (self.day == spike.day + i) & (self.hour >= spike.hours[0]) & (self.hour < spike.hours[1])
                extras[k, hit] = base[hit] * extra
        return base, extras

    def pressure(self) -> np.ndarray:
        """Per slot, how much busier than usual it is, from spikes and the hour of day (>= ~0.6)."""
        base, extras = self.arrival_weights(0)
        ratio = 1.0 + extras.sum(axis=0) / np.maximum(base, 1e-12)
        intraday = _INTRADAY[self.weekday, self.hour]
        return (ratio ** 0.8 * np.clip(intraday, 0.5, 1.6) ** 0.3).astype(np.float32)

    # --- business time ------------------------------------------------------------------------
    def _schedules(self) -> tuple[np.ndarray, np.ndarray]:
        """Open slots and cumulative open microseconds per schedule, shape (schedules, slots)."""
        closed_days = {(12, 25): ("office", "extended"), (12, 26): ("office",), (1, 1): ("office",)}
        n = len(self.slot_start)
        work = np.zeros((len(SCHEDULE_NAMES), n), dtype=bool)
        bcum = np.zeros((len(SCHEDULE_NAMES), n + 1), dtype=np.int64)
        first = int(self.day.min())
        dates = [self.date(d) for d in range(first, int(self.day.max()) + 1)]
        for s, name in enumerate(SCHEDULE_NAMES):
            closed = np.array([name in closed_days.get((d.month, d.day), ()) for d in dates])
            open_ = open_mask(name)[self.weekday, self.hour] & ~closed[self.day - first]
            work[s] = open_
            bcum[s, 1:] = np.cumsum(open_.astype(np.int64) * SLOT)
        return work, bcum

    def advance(self, t: np.ndarray, business_us: np.ndarray, schedule: np.ndarray) -> np.ndarray:
        """The time `business_us` of open time after `t` in each row's schedule.

        A zero delay moves a time outside open hours to the next opening, which is how an
        office-hours team "answers" the email that arrived at night.
        """
        t = np.asarray(t, dtype=np.int64)
        out = np.empty_like(t)
        schedule = np.broadcast_to(schedule, t.shape)
        business = np.broadcast_to(np.asarray(business_us, dtype=np.int64), t.shape)
        for s in range(len(SCHEDULE_NAMES)):
            rows = np.flatnonzero(schedule == s)
            if rows.size == 0:
                continue
            ts = t[rows]
            slot = self.slot(ts)
            bcum = self.bcum[s]
            inside = np.where(self.work[s][slot], np.clip(ts - self.slot_start[slot], 0, SLOT), 0)
            target = np.minimum(bcum[slot] + inside + business[rows], bcum[-1] - 1)
            j = np.searchsorted(bcum, target, side="right") - 1
            out[rows] = np.maximum(self.slot_start[j] + (target - bcum[j]), ts)
        return out

