"""Arrivals per interval and channel, their forecast with prediction intervals, and a backtest
(docs/workforce.md, "Forecast").

An arrival is a ticket's creation (tickets not excluded) plus each later call on the same
ticket (contacts of kind 'call' from the second on); its channel is the ticket's. Intervals
are local clock intervals of the workspace's time zone (`_intervals`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxmetrics.errors import UnknownNameError, UserError
from cxmetrics.workforce._forecast_model import DAY_TYPES, FIT_WEEKS, HOLIDAY, TREND_DAYS, Series, predict
from cxmetrics.workforce._intervals import (
    interval_of,
    interval_starts,
    local_datetime,
    parse_horizon,
    parse_interval,
    slot_of_day,
)

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

Moment = date | datetime | str
_NO_CHANNEL = "unknown"  # a ticket without a channel

_ARRIVALS = f"""
    SELECT coalesce(channel, '{_NO_CHANNEL}') AS channel, created_at AS arrived_at
    FROM ticket_facts WHERE NOT coalesce(excluded, false) AND created_at IS NOT NULL
    UNION ALL
    SELECT coalesce(f.channel, '{_NO_CHANNEL}'), c.contact_at
    FROM contacts c JOIN ticket_facts f USING (source, ticket_id)
    WHERE c.kind = 'call' AND c.contact_no >= 2 AND c.contact_at IS NOT NULL AND NOT coalesce(f.excluded, false)
"""


def _channels(channel: str | list[str] | None) -> list[str] | None:
    if channel is None:
        return None
    return [channel] if isinstance(channel, str) else list(channel)


def _known_channels(ws: Workspace, wanted: list[str] | None) -> list[str]:
    known = [r["channel"] for r in ws.sql(f"SELECT DISTINCT channel FROM ({_ARRIVALS}) ORDER BY 1").to_pylist()]
    for name in wanted or []:
        if name not in known:
            raise UnknownNameError("channel", name, known)
    return wanted if wanted is not None else known


def _span(ws: Workspace, channels: list[str]) -> tuple[datetime, datetime] | None:
    row = ws.sql(f"SELECT min(arrived_at) AS lo, max(arrived_at) AS hi FROM ({_ARRIVALS}) "
                 "WHERE list_contains(?, channel)", [channels]).to_pylist()[0]
    return None if row["lo"] is None else (row["lo"], row["hi"])


def _schema(tz: str) -> pa.Schema:
    return pa.schema([("channel", pa.string()), ("interval_start", pa.timestamp("us", tz=tz)),
                      ("volume", pa.int64())])


def arrivals(ws: Workspace, *, interval: str = "30m", channel: str | list[str] | None = None,
             start: Moment | None = None, end: Moment | None = None) -> pa.Table:
    """Contacts arriving per interval and channel: channel, interval_start, volume; every
    interval in [start, end) of every channel (zeros included), start moved back to its
    interval's start. Defaults: the span of the history. Dates are local midnights and naive
    times local clock times of the workspace's time zone."""
    interval_s = parse_interval(interval)
    tz = ws.settings.timezone
    ws._auto_refresh()
    channels = _known_channels(ws, _channels(channel))
    span = _span(ws, channels) if channels else None
    if span is None and (start is None or end is None):
        return _schema(tz).empty_table()
    lo = local_datetime(start, tz) if start is not None else span[0]  # type: ignore[index]
    hi = local_datetime(end, tz) if end is not None else span[1] + timedelta(microseconds=1)  # type: ignore[index]
    if hi <= lo:
        raise UserError(f"end {hi.isoformat()} is not after start {lo.isoformat()}: give an end after the start.")
    starts = interval_starts(lo, hi, interval_s, tz)
    return _count(ws, channels, starts, hi, tz)


def _count(ws: Workspace, channels: list[str], starts: list[datetime], hi: datetime, tz: str) -> pa.Table:
    """Arrivals per channel in each interval of `starts` (the last ends at `hi`), in DuckDB:
    each arrival joins the latest start at or before it (ASOF)."""
    bounds = [int(s.timestamp() * 1_000_000) for s in starts]
    hi_us = int(hi.astimezone(UTC).timestamp() * 1_000_000)
    found = ws.sql(f"""
        WITH grid AS (SELECT unnest(?::BIGINT[]) AS b),
             arr AS (SELECT channel, epoch_us(arrived_at) AS u FROM ({_ARRIVALS})
                     WHERE list_contains(?, channel) AND epoch_us(arrived_at) >= ? AND epoch_us(arrived_at) < ?)
        SELECT a.channel, g.b, count(*) AS n FROM arr a ASOF JOIN grid g ON a.u >= g.b GROUP BY ALL
    """, [bounds, channels, bounds[0] if bounds else hi_us, hi_us]).to_pydict()
    index = {b: i for i, b in enumerate(bounds)}
    counts = {c: np.zeros(len(bounds), np.int64) for c in channels}
    for c, b, n in zip(found["channel"], found["b"], found["n"], strict=True):
        counts[c][index[b]] = n
    ts = pa.array(bounds * len(channels), pa.int64()).cast(pa.timestamp("us", tz=tz))
    return pa.table({"channel": pa.array([c for c in channels for _ in bounds], pa.string()),
                     "interval_start": ts,
                     "volume": pa.array(np.concatenate([counts[c] for c in channels]) if channels else [], pa.int64())},
                    schema=_schema(tz))


# -- forecast ---------------------------------------------------------------------------------


def _holiday_dates(ws: Workspace, channel: str, first: date, last: date) -> tuple[set[date], str]:
    """The holidays of the schedule that applies to the channel's tickets (schedules.toml),
    and that schedule's time zone (a holiday is a date on its clock)."""
    from cxmetrics.calendar import SCHEDULES_FILE, ScheduleSet
    from cxmetrics.calendar._holidays import holiday_names

    schedule = ScheduleSet.load(ws.path / SCHEDULES_FILE).schedule_for(channel=channel)
    return set(holiday_names(schedule, first.year, last.year)), schedule.timezone


def day_types(starts: list[datetime], holidays: set[date], holiday_tz: str) -> np.ndarray:
    """0..6 for mon..sun by the local date, 7 (holiday) when the date on the schedule's clock
    is one of its holidays."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(holiday_tz)
    return np.array([HOLIDAY if s.astimezone(zone).date() in holidays else s.weekday() for s in starts], np.int64)


def _series(starts: list[datetime], interval_s: int, origin: datetime, holidays: set[date], holiday_tz: str,
            y: np.ndarray | None = None) -> Series:
    t_days = np.array([(s - origin).total_seconds() / 86_400 for s in starts])
    return Series(day_types(starts, holidays, holiday_tz), np.array(slot_of_day(starts, interval_s)), t_days, y)


def default_start(ws: Workspace, interval_s: int, channels: list[str]) -> datetime:
    """The end of history: the start of the interval after the one holding the last arrival."""
    tz = ws.settings.timezone
    span = _span(ws, channels)
    if span is None:
        raise UserError("no contacts in the workspace to forecast from: import tickets or calls first.")
    last = interval_of(span[1], interval_s, tz)
    return interval_starts(last, last + timedelta(days=2), interval_s, tz)[1]


def forecast(ws: Workspace, *, channel: str | list[str] | None = None, interval: str = "30m",
             horizon: str = "14d", start: Moment | None = None) -> pa.Table:
    """Contacts expected per interval and channel from `start` (default: the end of history)
    for `horizon`: channel, interval_start, volume (mean), lo80, hi80, lo95, hi95, day_type.
    Only history before `start` is used, so a forecast of a past week is an honest backtest."""
    interval_s = parse_interval(interval)
    tz = ws.settings.timezone
    ws._auto_refresh()
    channels = _known_channels(ws, _channels(channel))
    if not channels:
        raise UserError("no contacts in the workspace to forecast from: import tickets or calls first.")
    begin = local_datetime(start, tz) if start is not None else default_start(ws, interval_s, channels)
    begin = interval_of(begin, interval_s, tz)
    stop = begin + timedelta(seconds=parse_horizon(horizon, interval_s))  # local clock: 14d is 14 local days
    future = interval_starts(begin, stop, interval_s, tz)
    parts = [_forecast_channel(ws, name, interval_s, begin, future) for name in channels]
    # what each channel's model was fitted on (short histories get simpler models): the CLI says so
    models = {name: json.loads(part.schema.metadata[b"model"]) for name, part in zip(channels, parts, strict=True)}
    return pa.concat_tables([p.replace_schema_metadata(None) for p in parts]).replace_schema_metadata(
        {"models": json.dumps(models)})


def fitted_models(table: pa.Table) -> dict[str, dict[str, Any]]:
    """What `forecast` fitted per channel: structure ('day type x time of day', or a simpler
    one for a short history), the history used (fit_from, days) and whether with a trend."""
    meta = table.schema.metadata or {}
    return json.loads(meta[b"models"]) if b"models" in meta else {}


def _forecast_channel(ws: Workspace, name: str, interval_s: int, begin: datetime,
                      future: list[datetime]) -> pa.Table:
    tz = ws.settings.timezone
    span = _span(ws, [name])
    if span is None or span[0] >= begin:
        raise UserError(f"channel '{name}' has no contacts before {begin.isoformat()} to forecast from: "
                        "forecast from a later start, or import its history.")
    fit_from = max(interval_of(span[0], interval_s, tz), begin - timedelta(weeks=FIT_WEEKS))
    hist = _count(ws, [name], interval_starts(fit_from, begin, interval_s, tz), begin, tz)
    starts = hist.column("interval_start").to_pylist()
    holidays, holiday_tz = _holiday_dates(ws, name, min(starts[0], future[0]).date(), future[-1].date())
    n_days = (begin - starts[0]).total_seconds() / 86_400
    y = hist.column("volume").to_numpy()
    ahead = _series(future, interval_s, begin, holidays, holiday_tz)
    fit = predict(_series(starts, interval_s, begin, holidays, holiday_tz, y), ahead, n_days)
    types = ahead.day_type
    model = {"structure": fit.structure, "fit_from": starts[0].isoformat(), "days": round(n_days, 2),
             "trend": n_days >= TREND_DAYS}
    return pa.table({
        "channel": pa.array([name] * len(future), pa.string()),
        "interval_start": pa.array(future, pa.timestamp("us", tz=tz)),
        "volume": pa.array(fit.mean, pa.float64()),
        "lo80": pa.array(fit.lo80, pa.float64()), "hi80": pa.array(fit.hi80, pa.float64()),
        "lo95": pa.array(fit.lo95, pa.float64()), "hi95": pa.array(fit.hi95, pa.float64()),
        "day_type": pa.array([DAY_TYPES[t] for t in types], pa.string()),
    }).replace_schema_metadata({"model": json.dumps(model)})


# -- backtest ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest:
    """How the forecast did on the last weeks of history, trained on the weeks before them.

    mase: the forecast's mean absolute error over the seasonal-naive forecast's (each interval
    as the same interval of the last training week), < 1 is better than it; coverage80/95: the
    share of intervals whose actual count fell inside the 80%/95% prediction interval."""

    interval: str
    train_start: datetime
    train_end: datetime  # = test_start
    test_end: datetime
    n: int
    mase: float
    coverage80: float
    coverage95: float
    mae: float
    mae_naive: float
    channels: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values: times as ISO text, a ratio without a denominator (no error to
        compare with) as None."""
        def plain(value: Any) -> Any:
            if isinstance(value, float) and value != value:
                return None
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value.isoformat() if isinstance(value, datetime) else value

        return plain(asdict(self))


def backtest(ws: Workspace, *, channel: str | list[str] | None = None, interval: str = "1h", weeks: int = 1,
             start: Moment | None = None) -> Backtest:
    """Forecast `weeks` weeks from `start` (default: the last whole weeks of history, up to its
    last local midnight) from the history before them, and score it against what arrived."""
    if weeks < 1:
        raise UserError(f"weeks {weeks} must be at least 1: the backtest forecasts whole weeks.")
    interval_s = parse_interval(interval)
    tz = ws.settings.timezone
    ws._auto_refresh()
    channels = _known_channels(ws, _channels(channel))
    if not channels:
        raise UserError("no contacts in the workspace to backtest: import tickets or calls first.")
    if start is None:
        stop = default_start(ws, interval_s, channels)
        stop = stop.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)  # whole local days
        test_start = stop - timedelta(weeks=weeks)
    else:
        test_start = interval_of(local_datetime(start, tz), interval_s, tz)
        stop = test_start + timedelta(weeks=weeks)
        history_end = default_start(ws, 86_400, channels)  # the end of the last arrival's day
        if stop > history_end:  # the weeks past it would be scored against counts of 0
            raise UserError(f"a backtest of {weeks} week(s) from {test_start.isoformat()} runs to {stop.isoformat()}, "
                            f"past the end of the history ({history_end.isoformat()}): start earlier or give "
                            "fewer --weeks.")
    span = _span(ws, channels)
    assert span is not None
    if span[0] > test_start - timedelta(weeks=1):
        raise UserError(f"a backtest of {weeks} week(s) needs at least one week of history before "
                        f"{test_start.isoformat()}: give fewer --weeks or import more history.")
    predicted = forecast(ws, channel=channels, interval=interval, horizon=f"{weeks * 7}d", start=test_start)
    train_start = max(interval_of(span[0], interval_s, tz), test_start - timedelta(weeks=FIT_WEEKS))
    actual = arrivals(ws, interval=interval, channel=channels, start=train_start, end=stop)
    rows = [_score(name, predicted, actual, test_start) for name in channels]
    total = {k: sum(r[k] for r in rows) for k in ("n", "abs_err", "abs_err_naive", "in80", "in95")}
    n = total["n"]
    return Backtest(interval=interval, train_start=train_start, train_end=test_start, test_end=stop, n=n,
                    mase=_ratio(total["abs_err"], total["abs_err_naive"]),
                    coverage80=_ratio(total["in80"], n), coverage95=_ratio(total["in95"], n),
                    mae=_ratio(total["abs_err"], n), mae_naive=_ratio(total["abs_err_naive"], n),
                    channels=[_public(r) for r in rows])


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    n = row["n"]
    return {"channel": row["channel"], "n": n, "mase": _ratio(row["abs_err"], row["abs_err_naive"]),
            "coverage80": _ratio(row["in80"], n), "coverage95": _ratio(row["in95"], n),
            "mae": _ratio(row["abs_err"], n), "mae_naive": _ratio(row["abs_err_naive"], n)}


def _score(name: str, predicted: pa.Table, actual: pa.Table, test_start: datetime) -> dict[str, Any]:
    """Errors and coverage of one channel over the test intervals. The seasonal-naive forecast
    of an interval is the count at the same clock time k weeks earlier, for the smallest k
    that lands in the training history (the last training week repeated)."""
    pred = predicted.filter(pc.equal(predicted["channel"], name)).to_pydict()
    act = actual.filter(pc.equal(actual["channel"], name)).to_pydict()
    by_clock = dict(zip(_clocks(act["interval_start"]), act["volume"], strict=True))
    err = err_naive = in80 = in95 = n = 0.0
    for (wall, fold), s, mean, lo80, hi80, lo95, hi95 in zip(
            _clocks(pred["interval_start"]), pred["interval_start"], pred["volume"], pred["lo80"], pred["hi80"],
            pred["lo95"], pred["hi95"], strict=True):
        y = by_clock.get((wall, fold))
        weeks_back = int(np.ceil((s - test_start).total_seconds() / (7 * 86_400) + 1e-9))
        naive = by_clock.get((wall - timedelta(weeks=weeks_back), 0))
        if y is None or naive is None:  # an hour the clocks skipped a week before or after
            continue
        n += 1
        err += abs(y - mean)
        err_naive += abs(y - naive)
        in80 += lo80 <= y <= hi80
        in95 += lo95 <= y <= hi95
    return {"channel": name, "n": int(n), "abs_err": err, "abs_err_naive": err_naive, "in80": in80, "in95": in95}


def _clocks(starts: list[datetime]) -> list[tuple[datetime, int]]:
    """Intervals (in time order) by their local clock time; the second of two intervals with
    the same clock time (the hour repeated when the clocks go back) gets 1."""
    seen: set[datetime] = set()
    keys = []
    for s in starts:
        wall = s.replace(tzinfo=None)
        keys.append((wall, 1 if wall in seen else 0))
        seen.add(wall)
    return keys
