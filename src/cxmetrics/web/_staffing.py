"""Staffing: one day of one channel, interval by interval (docs/dashboard.md, docs/workforce.md).

- the contacts forecast (with its 80% and 95% prediction intervals) against those that arrived;
- the agents required by the plan (Erlang C, or Erlang A when customers' patience is known from
  abandonment), the agents to schedule after shrinkage, and the agents staffed per the shifts;
- the service level the plan predicts against the one achieved;
- a calculator: one interval's volume, AHT and target -> agents (`staff`, the CLI's parsers).

Every number comes from the library (`forecast`, `plan`, `arrivals`, `staffed`, `staff`). The
forecast only uses the history before the day, so fitting it again on every live change would
repeat the same work: the forecast and the plan are kept per (day, channel, interval) and a
fingerprint of the history before the day (`_fingerprint`), and the actuals (contacts arrived,
agents staffed) are read again on every change. On the day in progress the plan's achieved
service level is refreshed at most every `LIVE_REFIT_S` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from cxmetrics._workspace import Workspace
from cxmetrics.api._routes_workforce import MAX_LOAD
from cxmetrics.errors import MissingDependencyError, UserError
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import ACCENT, BAD, GOOD, NEUTRAL, PALETTE, layout, rgba

INTERVALS = ("15m", "30m", "1h")
DEFAULT_INTERVAL = "30m"
#: The service-level target the page plans for (the CLI's and the API's default).
TARGET, ANSWER_WITHIN_S = 0.8, 20.0
#: The day in progress: its plan (with the achieved service level) is computed again at most this often.
LIVE_REFIT_S = 300.0
WORKFORCE_EXTRA = "pip install 'cxmetrics[workforce]'"
IMPORT_COMMAND = "cxmetrics import calls FILE"
SHIFTS_COMMAND = "cxmetrics import shifts FILE"
#: The calculator's starting values: METRICS.md's worked check (100 contacts, 30 min, 180 s, 80/20 -> 14).
CALC_DEFAULTS = {"calc_volume": "100", "calc_aht": "180", "calc_interval": "30m", "calc_target": "80/20",
                 "calc_shrinkage": "0%"}
_CACHE_ENTRIES = 32

_planned: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_planned_lock = threading.Lock()


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [v for v in params.get(name, ()) if v.strip()]
    return values[-1].strip() if values else None


def _channels(ws: Workspace) -> list[str]:
    """The channels with arrivals: those with handle times (which can be staffed) first, then
    busiest first; the first is the page's default."""
    rows = ws.sql("""
        SELECT channel FROM ticket_facts WHERE NOT excluded AND channel IS NOT NULL GROUP BY channel
        ORDER BY channel IN (SELECT DISTINCT f.channel FROM contacts c JOIN ticket_facts f
                             ON f.source = c.source AND f.ticket_id = c.ticket_id
                             WHERE c.handle_s > 0 AND NOT f.excluded) DESC, count(*) DESC, channel""").to_pylist()
    return [r["channel"] for r in rows]


def _days(ws: Workspace) -> tuple[date | None, date | None, date]:
    """The local days of the first and last arrivals (None without any) and today."""
    row = ws.sql("SELECT strftime(CAST(min(created_at) AS DATE), '%Y-%m-%d') AS a, "
                 "strftime(CAST(max(created_at) AS DATE), '%Y-%m-%d') AS b, "
                 "strftime(CAST(now() AS DATE), '%Y-%m-%d') AS today FROM ticket_facts WHERE NOT excluded"
                 ).to_pylist()[0]
    first = date.fromisoformat(row["a"]) if row["a"] else None
    last = date.fromisoformat(row["b"]) if row["b"] else None
    return first, last, date.fromisoformat(row["today"])


def default_day(last: date, today: date) -> date:
    """Today while the data reach it (a live workspace), else the day after the data end: the
    first day to plan."""
    return today if last >= today else last + timedelta(days=1)


def _has_shifts(ws: Workspace) -> bool:
    return bool(ws.sql("SELECT EXISTS (SELECT 1 FROM shifts) AS x").to_pylist()[0]["x"])


def _fingerprint(ws: Workspace, start: datetime) -> tuple[Any, ...]:
    """What the forecast and the plan of a day starting at `start` are made of: the arrivals
    before it (tickets and later calls) and the shifts. Equal fingerprints, equal forecasts."""
    row = ws.sql(
        """SELECT (SELECT count(*) FROM ticket_facts WHERE NOT excluded AND created_at < $1) AS n,
                  (SELECT max(created_at) FROM ticket_facts WHERE NOT excluded AND created_at < $1) AS t,
                  (SELECT count(*) FROM contacts WHERE contact_at < $1) AS c,
                  (SELECT max(contact_at) FROM contacts WHERE contact_at < $1) AS ct,
                  (SELECT count(*) FROM shifts) AS s, (SELECT max(_import_id) FROM shifts) AS si""",
        [start]).to_pylist()[0]
    return tuple(str(v) for v in row.values())


def _planned_day(ws: Workspace, day: date, channel: str, interval: str, today: date) -> dict[str, Any]:
    """The forecast and the plan of `day`, kept while what they are made of is the same:

    - a past day: the data up to its end (later contacts change neither its forecast nor its actuals);
    - today: the history before it, and its achieved service level for `LIVE_REFIT_S` seconds;
    - a day ahead: the history before today, and today's contacts for `LIVE_REFIT_S` seconds
      (each of them moves the forecast a little; refitting on every one would cost a fit per change)."""
    from cxmetrics.workforce._forecast import forecast
    from cxmetrics.workforce._plan import plan

    tz = ZoneInfo(ws.settings.timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = start + timedelta(days=1)
    # a past day: its actuals are settled, so data up to its end fix the whole answer
    midnight = datetime(today.year, today.month, today.day, tzinfo=tz)
    fingerprint = _fingerprint(ws, end if day < today else start if day == today else midnight)
    bucket = None if day < today else int(time.time() // LIVE_REFIT_S)
    key = (str(ws.path), day, channel, interval, fingerprint, bucket)
    with _planned_lock:
        if key in _planned:
            _planned.move_to_end(key)
            return _planned[key]
    found: dict[str, Any] = {"forecast": [], "plan": [], "plan_error": None}
    try:  # the plan carries its forecast (mean and both bands): one fit
        found["plan"] = plan(ws, start=day, end=day + timedelta(days=1), channel=channel, interval=interval,
                             service_level=TARGET, answer_within_s=ANSWER_WITHIN_S).to_pylist()
        found["forecast"] = found["plan"]
    except MissingDependencyError:
        raise
    except UserError as exc:  # e.g. no handle times to plan from: the forecast still stands, and says why
        found["plan_error"] = str(exc)
        found["forecast"] = forecast(ws, channel=channel, interval=interval, horizon="1d", start=day).to_pylist()
    with _planned_lock:
        _planned[key] = found
        while len(_planned) > _CACHE_ENTRIES:
            _planned.popitem(last=False)
    return found


def _actuals(ws: Workspace, day: date, channel: str,
             interval: str) -> tuple[dict[datetime, int], dict[datetime, float]]:
    """Contacts arrived and agents staffed per interval of the day, read fresh."""
    from cxmetrics.workforce._forecast import arrivals

    end = day + timedelta(days=1)
    volume = {r["interval_start"]: int(r["volume"])
              for r in arrivals(ws, interval=interval, channel=channel, start=day, end=end).to_pylist()}
    staffed: dict[datetime, float] = {}
    if _has_shifts(ws):
        from cxmetrics.workforce._shifts import staffed as staffed_fn

        for r in staffed_fn(ws, interval=interval, start=day, end=end, channel=channel).to_pylist():
            # agents who serve every channel (channel NULL) are on this channel's queues too
            if r["channel"] in (None, channel) and r["staffed"] is not None:
                staffed[r["interval_start"]] = staffed.get(r["interval_start"], 0.0) + float(r["staffed"])
    return volume, staffed


def staffing(ws: Workspace, params: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The Staffing page for the day, channel and interval asked (see the module docstring)."""
    calc = calculator(params)
    first, last, today = _days(ws)
    channels = _channels(ws)
    interval = _one(params, "interval") or DEFAULT_INTERVAL
    if interval not in INTERVALS:
        raise UserError(f"interval '{interval}' is not one the page shows: choose {', '.join(INTERVALS)}.")
    base: dict[str, Any] = {"calc": calc, "intervals": INTERVALS, "interval": interval, "channels": channels,
                            "import_command": IMPORT_COMMAND, "shifts_command": SHIFTS_COMMAND,
                            "extra_command": WORKFORCE_EXTRA, "state": "ok"}
    if last is None or not channels:
        return {**base, "state": "no_data", "day": None, "channel": None}
    day_text = _one(params, "day")
    try:
        day = date.fromisoformat(day_text) if day_text else default_day(last, today)
    except ValueError:
        raise UserError(f"day '{day_text}' is not a date such as {last.isoformat()}.") from None
    channel = _one(params, "channel") or channels[0]
    if channel not in channels:
        raise UserError(f"channel '{channel}' has no contacts in this workspace: choose one of {', '.join(channels)}.")
    tz = ZoneInfo(ws.settings.timezone)
    nav = {"prev": _href(day - timedelta(days=1), channel, interval),
           "next": _href(day + timedelta(days=1), channel, interval)}
    base = {**base, "day": day, "day_text": f"{day:%A} {day.day} {day:%B %Y}", "channel": channel, "nav": nav,
            "first_day": first.isoformat() if first else "", "future": day > last, "live": day == today,
            "has_shifts": _has_shifts(ws)}
    if day <= (first or day):
        return {**base, "state": "no_history"}
    try:
        planned = _planned_day(ws, day, channel, interval, today)
        volume, staffed = _actuals(ws, day, channel, interval)
    except MissingDependencyError as exc:
        return {**base, "state": "no_extra", "extra_message": str(exc)}
    return {**base, **_series(planned, volume, staffed, tz, day > last)}


def _href(day: date, channel: str, interval: str) -> str:
    return "/staffing?" + urlencode({"day": day.isoformat(), "channel": channel, "interval": interval})


def _local(t: datetime, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def _series(planned: dict[str, Any], volume: dict[datetime, int], staffed: dict[datetime, float], tz: ZoneInfo,
            future: bool) -> dict[str, Any]:
    """The per-interval rows, the three charts and the day's summary. An interval not yet begun
    (or a day after the data) has no actuals: nothing arrived is not zero arrived."""
    now = datetime.now(tz)
    fc = {r["interval_start"]: r for r in planned["forecast"]}
    pl = {r["interval_start"]: r for r in planned["plan"]}
    starts = sorted(set(fc) | set(pl))
    rows = []
    for t in starts:
        f, p = fc.get(t, {}), pl.get(t, {})
        actual = None if future or t > now else volume.get(t, 0)
        on = staffed.get(t)
        rows.append({
            "t": _local(t, tz), "time": t.astimezone(tz).strftime("%H:%M"),
            "volume": f.get("volume"), "lo80": f.get("lo80"), "hi80": f.get("hi80"),
            "lo95": f.get("lo95"), "hi95": f.get("hi95"), "actual": actual,
            "agents": p.get("agents"), "scheduled": p.get("scheduled"), "staffed": on,
            "sl": p.get("service_level"), "sl_actual": None if future else p.get("actual_service_level"),
            "short": on is not None and p.get("agents") is not None and on < p["agents"] - 1e-9,
        })
    for r in rows:  # the table's text
        r["volume_text"] = "—" if r["volume"] is None else f"{r['volume']:.1f}"
        banded = r["lo80"] is not None and r["hi80"] is not None
        r["band_text"] = f"{r['lo80']:.0f}–{r['hi80']:.0f}" if banded else ""
        r["sl_text"] = fmt.value(None if r["sl"] is None else 100 * r["sl"], "percent")
        r["sl_actual_text"] = fmt.value(None if r["sl_actual"] is None else 100 * r["sl_actual"], "percent")
        r["staffed_text"] = "—" if r["staffed"] is None else f"{r['staffed']:.1f}"
    forecast_total = sum(r["volume"] or 0.0 for r in rows)
    actual_total = None if future else sum(r["actual"] or 0 for r in rows)
    required = [r["agents"] for r in rows if r["agents"] is not None]
    short = [r for r in rows if r["short"]]
    model = next((p.get("model") for p in planned["plan"] if p.get("model")), None)
    patience = next((p.get("patience_s") for p in planned["plan"] if p.get("patience_s")), None)
    return {
        "rows": rows, "empty": not rows, "plan_error": planned["plan_error"],
        "summary": {
            "forecast": f"{forecast_total:,.0f}", "actual": None if actual_total is None else f"{actual_total:,}",
            "peak": max(required) if required else None,
            "peak_at": next((r["time"] for r in rows if r["agents"] == max(required)), "") if required else "",
            "short": len(short), "model": "Erlang A" if model == "erlang_a" else "Erlang C",
            "patience": None if patience is None else fmt.value(patience, "seconds"),
        },
        "volume_figure": _volume_figure(rows), "agents_figure": _agents_figure(rows),
        "sl_figure": _sl_figure(rows),
    }


def _volume_figure(rows: list[dict[str, Any]]) -> dict[str, Any]:
    x = [r["t"] for r in rows]
    band95, band80 = rgba(ACCENT, 0.10), rgba(ACCENT, 0.22)
    data: list[dict[str, Any]] = [
        {"type": "scatter", "x": x, "y": [r["hi95"] for r in rows], "mode": "lines", "line": {"width": 0},
         "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "x": x, "y": [r["lo95"] for r in rows], "mode": "lines", "line": {"width": 0},
         "fill": "tonexty", "fillcolor": band95, "name": "95% interval", "hoverinfo": "skip"},
        {"type": "scatter", "x": x, "y": [r["hi80"] for r in rows], "mode": "lines", "line": {"width": 0},
         "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "x": x, "y": [r["lo80"] for r in rows], "mode": "lines", "line": {"width": 0},
         "fill": "tonexty", "fillcolor": band80, "name": "80% interval", "hoverinfo": "skip"},
        {"type": "scatter", "x": x, "y": [r["volume"] for r in rows], "mode": "lines", "name": "forecast",
         "line": {"color": ACCENT, "width": 2}, "hovertemplate": "%{y:.1f} forecast<extra></extra>"},
    ]
    if any(r["actual"] is not None for r in rows):
        data.append({"type": "scatter", "x": x, "y": [r["actual"] for r in rows], "mode": "markers+lines",
                     "name": "arrived", "line": {"color": PALETTE[1], "width": 1.5},
                     "marker": {"size": 5, "color": PALETTE[1]}, "hovertemplate": "%{y} arrived<extra></extra>"})
    return {"data": data, "layout": layout(yaxis={"title": {"text": "contacts per interval"}},
                                           xaxis={"tickformat": "%H:%M"})}


def _agents_figure(rows: list[dict[str, Any]]) -> dict[str, Any]:
    x = [r["t"] for r in rows]
    data: list[dict[str, Any]] = [
        {"type": "scatter", "x": x, "y": [r["agents"] for r in rows], "mode": "lines", "name": "required",
         "line": {"color": ACCENT, "width": 2, "shape": "hv"}},
        {"type": "scatter", "x": x, "y": [r["scheduled"] for r in rows], "mode": "lines",
         "name": "to schedule (after shrinkage)",
         "line": {"color": NEUTRAL, "width": 1.5, "dash": "dash", "shape": "hv"}},
    ]
    if any(r["staffed"] is not None for r in rows):
        data.append({"type": "bar", "x": x, "y": [r["staffed"] for r in rows], "name": "staffed (shifts)",
                     "marker": {"color": [rgba(BAD, 0.55) if r["short"] else rgba(GOOD, 0.45) for r in rows]},
                     "hovertemplate": "%{y:.1f} staffed<extra></extra>"})
    return {"data": data, "layout": layout(yaxis={"title": {"text": "agents"}}, xaxis={"tickformat": "%H:%M"},
                                           bargap=0.15)}


def _sl_figure(rows: list[dict[str, Any]]) -> dict[str, Any]:
    x = [r["t"] for r in rows]
    data: list[dict[str, Any]] = [
        {"type": "scatter", "x": x, "y": [None if r["sl"] is None else 100 * r["sl"] for r in rows], "mode": "lines",
         "name": "predicted", "line": {"color": ACCENT, "width": 2, "shape": "hv"},
         "hovertemplate": "%{y:.1f}% predicted<extra></extra>"},
        {"type": "scatter", "x": [x[0], x[-1]] if x else [], "y": [100 * TARGET] * (2 if x else 0), "mode": "lines",
         "name": f"target {TARGET:.0%} in {ANSWER_WITHIN_S:.0f} s",
         "line": {"color": NEUTRAL, "dash": "dot", "width": 1},
         "hoverinfo": "skip"},
    ]
    if any(r["sl_actual"] is not None for r in rows):
        data.append({"type": "scatter", "x": x, "y": [None if r["sl_actual"] is None else 100 * r["sl_actual"]
                                                      for r in rows],
                     "mode": "markers", "name": "achieved", "marker": {"size": 7, "color": PALETTE[1]},
                     "hovertemplate": "%{y:.1f}% achieved<extra></extra>"})
    return {"data": data, "layout": layout(yaxis={"title": {"text": "service level, %"}, "range": [0, 102],
                                                  "rangemode": "normal"}, xaxis={"tickformat": "%H:%M"})}


def calculator(params: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """One interval's staffing from the form's values (the CLI's parsers and messages); an
    error is the calculator's own, shown beside it, never the page's."""
    from cxmetrics.workforce._cli import seconds, share, target
    from cxmetrics.workforce.erlang import staff

    values = {k: _one(params, k) or v for k, v in CALC_DEFAULTS.items()}
    out: dict[str, Any] = {"values": values, "result": None, "error": None}
    try:
        try:
            volume = float(values["calc_volume"])
        except ValueError:
            raise UserError(f"volume '{values['calc_volume']}' is not a number of contacts.") from None
        interval_s, aht_s = seconds(values["calc_interval"], "interval", "m"), seconds(values["calc_aht"], "AHT")
        level, within = (None, None) if values["calc_target"].lower() == "none" else target(values["calc_target"])
        if interval_s > 0 and volume * aht_s / interval_s > MAX_LOAD:  # as the API refuses it
            raise UserError(f"volume {volume:g} at {aht_s:g} s each in {values['calc_interval']} is a load of "
                            f"{volume * aht_s / interval_s:,.0f} Erlangs, more than the {MAX_LOAD:,} the "
                            "calculator takes: check the volume and the AHT.")
        s = staff(volume, interval_s, aht_s, service_level=level,
                  answer_within_s=within if within is not None else ANSWER_WITHIN_S,
                  shrinkage=share(values["calc_shrinkage"], "shrinkage"))
    except UserError as exc:
        out["error"] = str(exc)
        return out
    out["result"] = {
        "agents": s.agents, "scheduled": s.scheduled, "traffic": f"{s.traffic:.2f}",
        "service_level": f"{s.service_level:.1%}", "p_wait": f"{s.p_wait:.1%}", "asa": f"{s.asa_s:.1f} s",
        "occupancy": f"{s.occupancy:.1%}", "within": f"{within if within is not None else ANSWER_WITHIN_S:g} s",
        "shrinkage": f"{s.shrinkage:.0%}",
    }
    return out


__all__ = ["CALC_DEFAULTS", "INTERVALS", "calculator", "default_day", "staffing"]
