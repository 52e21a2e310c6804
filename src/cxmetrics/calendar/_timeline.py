"""A schedule's business time as sorted UTC intervals, and B(t) over them.

The business instants of a schedule are those whose local wall-clock time lies in one of
the day's intervals. Wall-clock intervals are laid out per local day (vectorised over
days), then mapped to UTC one constant-offset stretch of the zone at a time: inside a
stretch with UTC offset `o`, wall time `w` is the instant `w - o`, so a wall interval
[a, b) is the instants [a - o, b - o) that fall inside the stretch. That is exact at DST
changes: wall times skipped in spring map to nothing, the hour repeated in autumn maps
twice, and an interval that ends inside the repeated hour yields two UTC pieces.

B(t) = business seconds from the timeline's start to t; a duration is B(end) - B(start).

>>> from cxmetrics.calendar._schedule import Schedule
>>> s = Schedule.from_dict("x", {"timezone": "Europe/Berlin", "hours": {"sun": ["00:00-24:00"]}})
>>> tl = build_timeline(s, epoch_s(2026, 3, 23), epoch_s(2026, 3, 31))
>>> int(tl.total) / 3600   # Sunday 29 March lasts 23 hours: clocks spring forward
23.0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from cxmetrics.calendar._holidays import holiday_days
from cxmetrics.calendar._schedule import Schedule
from cxmetrics.errors import UserError

DAY = 86_400
US = 1_000_000
_EPOCH_DATE = date(1970, 1, 1)
_SAMPLE = 6 * 3600  # offsets are sampled this often, then each change is bisected to the second


def epoch_s(year: int, month: int = 1, day: int = 1) -> int:
    """Seconds since 1970 of midnight UTC on that date."""
    return (date(year, month, day) - _EPOCH_DATE).days * DAY


@dataclass(frozen=True, eq=False)
class Timeline:
    """Business intervals [starts[i], ends[i]) in epoch seconds, sorted, disjoint and not
    touching, clipped to [lo, hi); cum[i] = business seconds in [lo, starts[i])."""

    lo: int
    hi: int
    starts: np.ndarray
    ends: np.ndarray
    cum: np.ndarray

    @property
    def total(self) -> int:
        return int(self.cum[-1] + self.ends[-1] - self.starts[-1]) if len(self.starts) else 0

    @property
    def cum_end(self) -> np.ndarray:
        return self.cum + (self.ends - self.starts)

    def b_us(self, t_us: np.ndarray | int) -> np.ndarray:
        """B(t) in microseconds for instants t (epoch microseconds) inside [lo, hi]."""
        t = np.asarray(t_us, dtype=np.int64)
        if not len(self.starts):
            return np.zeros_like(t)
        i = np.searchsorted(self.starts * US, t, side="right") - 1
        j = np.maximum(i, 0)
        inside = np.clip(t - self.starts[j] * US, 0, (self.ends[j] - self.starts[j]) * US)
        return np.where(i >= 0, self.cum[j] * US + inside, 0)

    def due_us(self, target_us: np.ndarray | int) -> np.ndarray:
        """The earliest instant t (epoch microseconds) with B(t) >= target, for targets > 0;
        -1 where the target lies beyond the timeline."""
        target = np.asarray(target_us, dtype=np.int64)
        cum_end = self.cum_end * US
        i = np.searchsorted(cum_end, target, side="left")
        j = np.minimum(i, max(len(cum_end) - 1, 0))
        if not len(cum_end):
            return np.full_like(target, -1)
        return np.where(i < len(cum_end), self.starts[j] * US + (target - self.cum[j] * US), -1)


def build_timeline(schedule: Schedule, lo: int, hi: int) -> Timeline:
    """The schedule's business intervals within [lo, hi) (epoch seconds)."""
    day_lo, day_hi = lo // DAY - 2, hi // DAY + 2  # offsets are within +-1 day: a margin of 2 is plenty
    wall_a, wall_b = _wall_intervals(schedule, day_lo, day_hi)
    bounds, offsets = offset_stretches(schedule.timezone, day_lo * DAY, (day_hi + 1) * DAY)
    pieces_a, pieces_b = [], []
    for k, off in enumerate(offsets):
        a = np.maximum(wall_a - off, bounds[k])
        b = np.minimum(wall_b - off, bounds[k + 1])
        keep = a < b
        pieces_a.append(a[keep])
        pieces_b.append(b[keep])
    a = np.clip(np.concatenate(pieces_a), lo, hi)
    b = np.clip(np.concatenate(pieces_b), lo, hi)
    keep = a < b
    starts, ends = _merge(a[keep], b[keep])
    lengths = ends - starts
    cum = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(lengths) else lengths
    return Timeline(lo=lo, hi=hi, starts=starts, ends=ends, cum=cum)


def _wall_intervals(schedule: Schedule, day_lo: int, day_hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Business intervals as local wall-clock seconds since 1970-01-01 00:00 (a naive clock),
    for the local days day_lo..day_hi, holidays left out, merged."""
    days = np.arange(day_lo, day_hi + 1, dtype=np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    working = ~np.isin(days, holiday_days(schedule, _day_year(day_lo), _day_year(day_hi)))
    a, b = [], []
    for w, intervals in enumerate(schedule.hours):
        chosen = days[(weekday == w) & working] * DAY
        for iv in intervals:
            a.append(chosen + iv.start * 60)
            b.append(chosen + iv.end * 60)
    if not a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return _merge(np.concatenate(a), np.concatenate(b))


def _merge(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort intervals and merge those that overlap or touch."""
    if not len(a):
        return a.astype(np.int64), b.astype(np.int64)
    order = np.argsort(a, kind="stable")
    a, b = a[order], b[order]
    reach = np.maximum.accumulate(b)
    new = np.ones(len(a), dtype=bool)
    new[1:] = a[1:] > reach[:-1]
    idx = np.flatnonzero(new)
    return a[idx].astype(np.int64), np.maximum.reduceat(b, idx).astype(np.int64)


def offset_stretches(zone: str, lo: int, hi: int) -> tuple[list[int], list[int]]:
    """Cut [lo, hi) (epoch seconds) where the zone's UTC offset changes: bounds (one more
    than offsets) and each stretch's offset in seconds."""
    return _stretches(zone, lo, hi)


@lru_cache(maxsize=256)
def _stretches(zone: str, lo: int, hi: int) -> tuple[list[int], list[int]]:
    tz = ZoneInfo(zone)

    def offset(t: int) -> int:
        return int(datetime.fromtimestamp(t, tz).utcoffset().total_seconds())  # type: ignore[union-attr]

    samples = list(range(lo, hi, _SAMPLE)) + [hi]
    values = [offset(t) for t in samples]
    bounds, offsets = [lo], [values[0]]
    for k in range(1, len(samples)):
        left = samples[k - 1]
        while offsets[-1] != values[k]:
            a, b = left, samples[k]  # offset(a) is the current one, offset(b) differs
            while b - a > 1:
                m = (a + b) // 2
                if offset(m) == offsets[-1]:
                    a = m
                else:
                    b = m
            bounds.append(b)
            offsets.append(offset(b))
            left = b
    bounds.append(hi)
    return bounds, offsets


# -- scalar B(t) and due times (the live watcher's path), on timelines cached per years ------


@lru_cache(maxsize=512)
def _timeline_years(schedule: Schedule, first_year: int, last_year: int) -> Timeline:
    return build_timeline(schedule, epoch_s(first_year), epoch_s(last_year + 1))


def _year(t_us: int) -> int:
    return _day_year(t_us // (DAY * US))


def _day_year(day: int) -> int:
    """The year of a day number (days since 1970-01-01)."""
    return date.fromordinal(_EPOCH_DATE.toordinal() + day).year


def scalar_business_us(schedule: Schedule, start_us: int, end_us: int) -> int:
    """Business microseconds in [start, end); 0 when end <= start."""
    if end_us <= start_us:
        return 0
    tl = _timeline_years(schedule, _year(start_us), _year(end_us))
    return int(tl.b_us(end_us) - tl.b_us(start_us))


def scalar_due_us(schedule: Schedule, start_us: int, amount_us: int) -> int:
    """The earliest instant with `amount_us` business microseconds since start."""
    if amount_us <= 0:
        return start_us
    year = _year(start_us)
    span = 1
    while span <= 64:
        tl = _timeline_years(schedule, year, year + span)
        due = int(tl.due_us(int(tl.b_us(start_us)) + amount_us))
        if due >= 0:
            return due
        span *= 2
    raise UserError(f"schedule '{schedule.name}' has fewer than {amount_us / US:,.0f} business seconds in the "
                    f"64 years after the start: are its holidays covering everything?")
