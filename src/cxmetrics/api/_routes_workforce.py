"""/api/v1/workforce/...: workforce planning (docs/workforce.md), as the CLI computes it.

- `staffing`: the agents one interval needs (Erlang C, or Erlang A with `patience`), read with the
  CLI's own parsers, so a bad value gets the CLI's message naming the parameter;
- `forecast`: contacts per interval and channel with 80% / 95% prediction intervals;
- `plan`: every interval of a period staffed from the forecast, with the actuals where known;
- `backtest`: the forecast's accuracy on the last weeks of history.

Read-only, for viewers; answers are cached per data version (a forecast is fitted once per
change, not per request). Forecast and plan are bounded (`MAX_INTERVALS`): a request for more
intervals is a 400 that says the limit, so no request can exhaust the server's memory.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_viewer
from cxmetrics.api._errors import COMMON_ERRORS, JSON
from cxmetrics.api._params import FromQuery, ToQuery, answer, check_period, parse_instant, split
from cxmetrics.errors import UserError

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["workforce"])

#: The most intervals (per channel) one forecast or plan request may ask for: 100 days at 30m.
MAX_INTERVALS = 4_800
#: The largest load (Erlangs: agents kept busy) one staffing request may ask about, far above any
#: queue's (the largest centres staff a few thousand agents). The search costs one step per agent
#: (Erlang A about 40 us each), so an absurd volume or AHT is refused before it can hold a worker.
MAX_LOAD = 50_000
#: The plan's default period when `from`/`to` are not given: from the day after the last arrival.
DEFAULT_PLAN_DAYS = 14
MAX_BACKTEST_WEEKS = 52

# -- response shapes ---------------------------------------------------------------------


class StaffingOut(BaseModel):
    request: dict[str, Any]
    volume: float = Field(description="Contacts expected in the interval")
    interval_s: float
    aht_s: float = Field(description="Average handle time, seconds")
    traffic: float = Field(description="Offered load, Erlangs (volume x AHT / interval)")
    agents: int = Field(description="Agents needed on the queues")
    scheduled: int = Field(description="Agents to schedule after shrinkage")
    service_level: float = Field(description="Share answered within the target's seconds, 0-1")
    p_wait: float = Field(description="Probability that a contact waits, 0-1")
    asa_s: float | None = Field(description="Average speed of answer, seconds")
    occupancy: float = Field(description="Share of the agents' time busy, 0-1")
    shrinkage: float
    p_abandon: float | None = Field(None, description="Share of contacts that abandon (Erlang A); null under Erlang C")
    model: str = Field(description="erlang_c, or erlang_a when a patience is given")
    patience_s: float | None = Field(None, description="The mean patience used (Erlang A), seconds")


class ForecastRow(BaseModel):
    channel: str | None
    interval_start: datetime
    volume: float = Field(description="Expected contacts (the mean)")
    lo80: float
    hi80: float
    lo95: float
    hi95: float
    day_type: str = Field(description="mon..sun, or holiday (the schedules' holidays)")


class ForecastOut(BaseModel):
    request: dict[str, Any]
    interval_s: int
    rows: list[ForecastRow]
    version: int


class PlanRow(BaseModel):
    channel: str | None
    interval_start: datetime
    volume: float | None = Field(description="Forecast contacts")
    lo80: float | None
    hi80: float | None
    aht_s: float | None = Field(description="Average handle time from history, seconds")
    patience_s: float | None = Field(description="Customer patience used (Erlang A), seconds")
    agents: int | None = Field(description="Agents required on the queues")
    scheduled: int | None = Field(description="Agents to schedule after shrinkage")
    service_level: float | None = Field(description="Predicted service level, 0-1")
    p_wait: float | None
    asa_s: float | None
    occupancy: float | None
    p_abandon: float | None
    model: str | None
    staffed: float | None = Field(description="Agents on the queues per the imported shifts; null without shifts")
    actual_volume: int | None = Field(description="Contacts that arrived; null for future intervals")
    actual_service_level: float | None = Field(description="Achieved service level, 0-1")
    actual_occupancy: float | None


class PlanOut(BaseModel):
    request: dict[str, Any]
    interval_s: int
    rows: list[PlanRow]
    version: int


class BacktestOut(BaseModel):
    """The backtest's own fields (docs/workforce.md): MASE, coverage, spans, per channel."""

    request: dict[str, Any]
    interval: str
    train_start: datetime = Field(description="The history the forecast was fitted on starts here")
    train_end: datetime = Field(description="... and ends here, where the weeks tested start")
    test_end: datetime
    n: int = Field(description="Intervals tested")
    mase: float | None = Field(description="Mean absolute error over the seasonal-naive forecast's (< 1 beats it)")
    coverage80: float | None = Field(description="Share of the intervals whose contacts fell inside the 80% interval")
    coverage95: float | None = Field(description="Share inside the 95% interval")
    mae: float | None = Field(description="Mean absolute error, contacts per interval")
    mae_naive: float | None = Field(description="The seasonal-naive forecast's (the last training week repeated)")
    channels: list[dict[str, Any]] = Field(description="The same per channel")
    version: int


# -- parameters ----------------------------------------------------------------------------


def interval_seconds(text: str) -> int:
    """The forecast grid's interval (15m, 30m, 1h, 1d), by the forecast's own parser."""
    from cxmetrics.workforce._intervals import parse_interval

    return int(parse_interval(text))


def _bounded(n: float, what: str) -> None:
    if n > MAX_INTERVALS:
        raise UserError(f"{what} is {math.ceil(n):,} intervals per channel, more than the {MAX_INTERVALS:,} one "
                        "request may ask for: shorten the period or take a longer interval (e.g. 1h or 1d).")


def _as_datetime(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _check_plan(start: date | datetime, end: date | datetime, interval: str, interval_s: int) -> None:
    check_period(start, end)
    span_s = (_as_datetime(end) - _as_datetime(start)).total_seconds()
    _bounded(span_s / interval_s, f"a plan from {start} to {end} at {interval}")


def _patience(text: str | None) -> float | None | str:
    """`auto` (estimated from abandonment), `none` (Erlang C), or seconds / a duration (90, 2m)."""
    from cxmetrics.workforce._cli import seconds

    if text is None or text.strip().lower() == "auto":
        return "auto"
    if text.strip().lower() == "none":
        return None
    value = seconds(text, "patience")
    if value <= 0:
        raise UserError(f"patience '{text}' must be more than 0 seconds (or 'auto', or 'none' for Erlang C).")
    return value


def _target(text: str) -> tuple[float | None, float | None]:
    from cxmetrics.workforce._cli import target

    return (None, None) if text.strip().lower() == "none" else target(text)


def last_arrival_day(ws: Workspace) -> date | None:
    """The local day of the latest arrival (a ticket's creation), None without tickets."""
    row = ws.sql("SELECT strftime(CAST(max(created_at) AS DATE), '%Y-%m-%d') AS d FROM ticket_facts "
                 "WHERE NOT excluded").to_pylist()[0]
    return date.fromisoformat(row["d"]) if row["d"] else None


# -- endpoints -----------------------------------------------------------------------------


@router.get("/workforce/staffing", response_model=StaffingOut,
            summary="The agents one interval needs (Erlang C; Erlang A with patience), as `cxmetrics staffing`")
def get_staffing(  # not async: an Erlang A search of thousands of agents runs in a worker thread
    request: Request,
    volume: float = Query(..., description="Contacts expected in the interval", examples=[100]),
    interval: str = Query("30m", max_length=40, description="The interval's length: 15m, 30m, 1h..."),
    aht: str = Query(..., max_length=40, description="Average handle time: seconds, or with a unit (3m)",
                     examples=["180"]),
    target: str = Query("80/20", max_length=40, description="Service level PERCENT/SECONDS, or `none`"),
    max_pwait: str | None = Query(None, max_length=40, description="At most this probability of waiting (0.5 or 50%)"),
    max_occupancy: str | None = Query(None, max_length=40, description="At most this occupancy (85%)"),
    shrinkage: str = Query("0%", max_length=40, description="Share of paid time off the queues (30%)"),
    patience: str | None = Query(None, max_length=40, description="Mean customer patience (90, 2m): Erlang A "
                                 "with abandonment; absent: Erlang C"),
) -> JSON:
    from cxmetrics.workforce._cli import seconds, share
    from cxmetrics.workforce.erlang import staff

    level, within = _target(target)
    interval_s, aht_s = seconds(interval, "interval", "m"), seconds(aht, "aht")
    kwargs: dict[str, Any] = {
        "service_level": level, "answer_within_s": within if within is not None else 20.0,
        "max_p_wait": None if max_pwait is None else share(max_pwait, "max_pwait"),
        "max_occupancy": None if max_occupancy is None else share(max_occupancy, "max_occupancy"),
        "shrinkage": share(shrinkage, "shrinkage")}
    patience_s = _patience(patience) if patience is not None else None
    if patience_s == "auto":
        raise UserError("patience 'auto' needs the workspace's history: use /workforce/plan, or give seconds "
                        "(e.g. patience=90).")
    if patience_s is not None:
        kwargs["patience_s"] = patience_s
    load = volume * aht_s / interval_s if interval_s > 0 else 0.0
    if math.isfinite(load) and load > MAX_LOAD:
        raise UserError(f"volume {volume:g} with aht {aht_s:g} s per {interval} is a load of {load:,.0f} Erlangs "
                        f"(agents kept busy), more than the {MAX_LOAD:,} one request may ask about: check the "
                        "volume and the AHT.")
    found = staff(volume, interval_s, aht_s, **kwargs).as_dict()
    asked = {"volume": volume, "interval": interval, "aht": aht, "target": target, "max_pwait": max_pwait,
             "max_occupancy": max_occupancy, "shrinkage": shrinkage, "patience": patience}
    return JSON({"request": asked, **found})


@router.get("/workforce/forecast", response_model=ForecastOut,
            summary="Contacts per interval and channel, with 80% and 95% prediction intervals")
async def get_forecast(
    request: Request,
    channel: list[str] = Query([], description="Channels, comma-separated or repeated (default: every channel)"),
    interval: str = Query("30m", max_length=40, description="15m, 30m, 1h or 1d"),
    horizon: str = Query("14d", max_length=40, description="How far ahead: 7d, 2w, 36h..."),
    start: str | None = Query(None, alias="from", description="First interval forecast (default: the end of "
                              "history); only history before it is used, so a past week is an honest backtest",
                              examples=["2025-03-01"]),
) -> JSON:
    from cxmetrics.workforce._intervals import parse_horizon

    interval_s = interval_seconds(interval)
    _bounded(parse_horizon(horizon, interval_s) / interval_s, f"a horizon of {horizon} at {interval}")
    a = parse_instant(start, "from")
    channels = split(channel)
    asked = {"channel": channels, "interval": interval, "horizon": horizon, "from": None if a is None else str(a)}

    def compute(ws: Workspace) -> dict[str, Any]:
        from cxmetrics.workforce._forecast import forecast

        table = forecast(ws, channel=channels or None, interval=interval, horizon=horizon, start=a)
        return {"request": asked, "interval_s": interval_s, "rows": table.to_pylist(),
                "version": request.app.state.hub.version}

    return JSON(await answer(request, "workforce_forecast", asked, compute))


@router.get("/workforce/plan", response_model=PlanOut,
            summary="Agents required per interval from the forecast (Erlang C or A), with the actuals where known")
async def get_plan(
    request: Request,
    start: str | None = FromQuery,
    end: str | None = ToQuery,
    channel: list[str] = Query([], description="Channels, comma-separated or repeated (default: every channel)"),
    interval: str = Query("30m", max_length=40, description="15m, 30m, 1h or 1d"),
    target: str = Query("80/20", max_length=40, description="Service level PERCENT/SECONDS, or `none`"),
    max_pwait: str | None = Query(None, max_length=40, description="At most this probability of waiting"),
    max_occupancy: str | None = Query(None, max_length=40, description="At most this occupancy (85%)"),
    shrinkage: str | None = Query(None, max_length=40, description="Share of paid time off the queues (30%)"),
    patience: str = Query("auto", max_length=40, description="`auto` (estimated from abandonment), `none` "
                          "(Erlang C), or seconds (90, 2m)"),
) -> JSON:
    from cxmetrics.workforce._cli import share

    interval_s = interval_seconds(interval)
    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    check_period(a, b)
    level, within = _target(target)
    options: dict[str, Any] = {
        "service_level": level, "answer_within_s": within if within is not None else 20.0,
        "max_p_wait": None if max_pwait is None else share(max_pwait, "max_pwait"),
        "max_occupancy": None if max_occupancy is None else share(max_occupancy, "max_occupancy"),
        "shrinkage": None if shrinkage is None else share(shrinkage, "shrinkage"),
        "patience_s": _patience(patience)}
    if a is not None and b is not None:  # else the span is known once the history's end is read
        _check_plan(a, b, interval, interval_s)
    channels = split(channel)
    asked = {"from": None if a is None else str(a), "to": None if b is None else str(b), "channel": channels,
             "interval": interval, "target": target, "max_pwait": max_pwait, "max_occupancy": max_occupancy,
             "shrinkage": shrinkage, "patience": patience}

    def compute(ws: Workspace) -> dict[str, Any]:
        from cxmetrics.workforce._plan import plan

        s, e = a, b
        if s is None:  # the day after the last arrival: the first day not yet seen
            last = last_arrival_day(ws)
            if last is None:
                raise UserError("there is no history to plan from: import tickets or calls first.")
            s = last + timedelta(days=1)
        if e is None:
            e = s + timedelta(days=DEFAULT_PLAN_DAYS)
        _check_plan(s, e, interval, interval_s)
        table = plan(ws, start=s, end=e, channel=channels or None, interval=interval, **options)
        return {"request": {**asked, "from": str(s), "to": str(e)}, "interval_s": interval_s,
                "rows": table.to_pylist(), "version": request.app.state.hub.version}

    return JSON(await answer(request, "workforce_plan", asked, compute))


@router.get("/workforce/backtest", response_model=BacktestOut,
            summary="The forecast's accuracy on the last weeks of history: MASE and interval coverage")
async def get_backtest(
    request: Request,
    channel: list[str] = Query([], description="Channels, comma-separated or repeated (default: every channel)"),
    interval: str = Query("1h", max_length=40, description="15m, 30m, 1h or 1d"),
    weeks: int = Query(1, ge=1, le=MAX_BACKTEST_WEEKS, description="Weeks forecast and scored"),
    start: str | None = Query(None, alias="from", description="The first day tested (default: the last whole "
                              "weeks of history, up to its last local midnight)", examples=["2025-03-01"]),
) -> JSON:
    interval_s = interval_seconds(interval)
    _bounded(weeks * 7 * 86400 / interval_s, f"a backtest of {weeks} weeks at {interval}")
    a = parse_instant(start, "from")
    channels = split(channel)
    asked = {"channel": channels, "interval": interval, "weeks": weeks, "from": None if a is None else str(a)}

    def compute(ws: Workspace) -> dict[str, Any]:
        from cxmetrics.workforce._forecast import backtest

        found = backtest(ws, channel=channels or None, interval=interval, weeks=weeks, start=a).as_dict()
        return {"request": asked, **found, "version": request.app.state.hub.version}

    return JSON(await answer(request, "workforce_backtest", asked, compute))
