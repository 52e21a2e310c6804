"""Planning intervals: their lengths ("30m", "1h", "1d") and their starts on the local clock.

An interval starts at local midnight + k x its length in the workspace's time zone, so a
day of 1h intervals has 23 of them when the clocks go forward and 25 when they go back
(the repeated hour is two intervals, both labelled 01:00 on the clock).

>>> parse_interval("30m"), parse_interval("1h"), parse_interval("1d")
(1800, 3600, 86400)
>>> parse_interval("7m")
Traceback (most recent call last):
...
cxmetrics.errors.UserError: interval '7m' does not divide a day into equal parts: use 15m, 30m, 1h, 2h... or 1d.
>>> from datetime import datetime
>>> starts = interval_starts(datetime(2026, 10, 25), datetime(2026, 10, 26), 3600, "Europe/London")
>>> len(starts), [s.strftime("%H:%M%z") for s in starts[1:3]]
(25, ['01:00+0100', '01:00+0000'])
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from cxmetrics.errors import UserError

DAY_S = 86_400
_UNIT_S = {"m": 60, "h": 3600, "d": DAY_S, "w": 7 * DAY_S}
_TEXT = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_EXAMPLES = "15m, 30m, 1h, 2h... or 1d"


def _seconds(text: str, what: str, examples: str) -> int:
    found = _TEXT.match(str(text))
    if not found:
        raise UserError(f"{what} '{text}' is not a length: give a number and a unit (m, h, d), e.g. {examples}.")
    return int(found.group(1)) * _UNIT_S[found.group(2).lower()[0]]


def parse_interval(text: str | int) -> int:
    """'30m' -> 1800: the length of a planning interval in seconds. It must divide a day into
    equal parts (15m, 30m, 1h, 2h... 1d), so that every day's intervals start at midnight."""
    seconds = text if isinstance(text, int) else _seconds(text, "interval", _EXAMPLES)
    if seconds < 60 or seconds > DAY_S or DAY_S % seconds:
        raise UserError(f"interval '{text}' does not divide a day into equal parts: use {_EXAMPLES}.")
    return seconds


def parse_horizon(text: str | int, interval_s: int) -> int:
    """'14d' -> 1_209_600: how far ahead to forecast, in seconds, at least one interval."""
    seconds = text if isinstance(text, int) else _seconds(text, "horizon", "14d, 6w or 48h")
    if seconds < interval_s:
        raise UserError(f"horizon '{text}' is shorter than one interval ({interval_s} s): give at least "
                            "one interval, e.g. 14d.")
    return seconds


def local_datetime(value: date | datetime | str, tz: str) -> datetime:
    """A date (local midnight), naive datetime (local clock) or aware one, or ISO text of
    either, as an aware datetime in `tz`."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise UserError(f"'{value}' is not a date or time: give e.g. 2026-03-01 or 2026-03-01T09:00.") from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    zone = ZoneInfo(tz)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def _instants(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """The instants a local clock time names: two in the hour repeated when the clocks go
    back, one otherwise; a time skipped when they go forward names the instant of the jump
    (fold=0 reads it with the offset before the change, PEP 495)."""
    found = []
    for fold in (0, 1):
        at = wall.replace(tzinfo=zone, fold=fold)
        utc = at.astimezone(UTC)
        if utc.astimezone(zone).replace(tzinfo=None) == wall:  # the clock shows it: it exists
            found.append(utc)
    return found or [wall.replace(tzinfo=zone, fold=0).astimezone(UTC)]


def interval_starts(start: datetime, end: datetime, interval_s: int, tz: str) -> list[datetime]:
    """Every interval start in [floor(start), end), aware in `tz`; `start` is moved back to the
    start of its interval. Naive datetimes are local clock times in `tz`."""
    zone = ZoneInfo(tz)
    lo, hi = local_datetime(start, tz).astimezone(UTC), local_datetime(end, tz).astimezone(UTC)
    day = lo.astimezone(zone).date() - timedelta(days=1)  # the day before: its last interval may hold lo
    found: set[datetime] = set()
    step = timedelta(seconds=interval_s)
    while True:
        midnight = datetime(day.year, day.month, day.day)
        if _instants(midnight, zone)[0] >= hi:
            break
        for k in range(DAY_S // interval_s):
            found.update(_instants(midnight + k * step, zone))
        day += timedelta(days=1)
    ordered = sorted(found)
    first = max((i for i, s in enumerate(ordered) if s <= lo), default=0)
    return [s.astimezone(zone) for s in ordered[first:] if s < hi]


def interval_of(value: datetime, interval_s: int, tz: str) -> datetime:
    """The start of the interval holding `value` (aware in `tz`)."""
    return interval_starts(value, value + timedelta(seconds=1), interval_s, tz)[0]


def slot_of_day(starts: list[datetime], interval_s: int) -> list[int]:
    """Each start's position in its local day by the clock (00:00 -> 0, 00:30 -> 1 at 30m);
    the repeated hour's two intervals share their slot, as they share their clock time."""
    return [(s.hour * 3600 + s.minute * 60 + s.second) // interval_s for s in starts]
