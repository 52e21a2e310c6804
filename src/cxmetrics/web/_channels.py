"""Channels: volume by channel over time, when customers write in (hour of day x weekday,
in the workspace's time zone) and speed by channel (first response and resolution, medians
with their 95% intervals)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from cxmetrics._workspace import Workspace
from cxmetrics.metrics._registry import registry
from cxmetrics.targets import Targets, load_targets
from cxmetrics.web import _exports
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import PALETTE, layout
from cxmetrics.web._data import drill_href
from cxmetrics.web._filters import Filters
from cxmetrics.web._trends import auto_grain

#: Ticks of the log duration axis (minutes, label).
LOG_TICKS = ((0.1, "6s"), (1, "1m"), (5, "5m"), (15, "15m"), (60, "1h"), (240, "4h"), (1440, "1d"), (4320, "3d"),
             (10080, "1w"))
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
SPEED = (("frt", "First response (median)"), ("frt_first_touch", "First touch, bots included (median)"),
         ("full_resolution_time", "Resolution (median)"))


def channels(ws: Workspace, f: Filters) -> dict[str, Any]:
    grain = auto_grain(f) if auto_grain(f) != "hour" else "day"
    volume = ws.metrics(["tickets"], by=["channel"], grain=grain, where=f.where, start=f.start, end=f.end).to_pylist()
    order = _order(volume)
    colours = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(order)}
    traces = []
    for c in order:
        rows = sorted((r for r in volume if r["channel"] == c), key=lambda r: str(r["period"]))
        traces.append({"type": "bar", "name": str(c), "x": [str(r["period"]) for r in rows],
                       "y": [r["value"] for r in rows], "marker": {"color": colours[c]},
                       "customdata": [_period_href(f, c, str(r["period"]), grain) for r in rows],
                       "hovertemplate": "%{y:,} tickets<extra>" + str(c) + "</extra>"})
    volume_fig = {"data": traces, "layout": layout(barmode="stack", margin={"t": 36}, legend={"traceorder": "normal"},
                                                   yaxis={"title": {"text": f"tickets per {grain}"}})}
    heat = ws.metrics(["tickets"], by=["weekday", "hour_of_day"], where=f.where, start=f.start, end=f.end).to_pylist()
    z = [[0] * 24 for _ in range(7)]
    for r in heat:
        z[int(r["weekday"]) - 1][int(r["hour_of_day"])] = int(r["value"])
    heat_fig = {
        "data": [{"type": "heatmap", "z": z, "x": [f"{h:02d}:00" for h in range(24)], "y": WEEKDAYS,
                  "colorscale": [[0, "#f8fafc"], [0.35, "#93c5fd"], [1, "#1e3a8a"]], "xgap": 2, "ygap": 2,
                  "hovertemplate": "%{y} %{x}: %{z:,} tickets<extra></extra>",
                  "customdata": [[drill_href(f, "tickets", weekday=str(d + 1), hour_of_day=str(h)) for h in range(24)]
                                 for d in range(7)],
                  "colorbar": {"title": {"text": "tickets", "side": "right"}, "thickness": 12}}],
        "layout": layout(hovermode="closest", margin={"l": 48, "t": 8},
                         yaxis={"autorange": "reversed", "gridcolor": "rgba(0,0,0,0)", "rangemode": "normal"},
                         xaxis={"gridcolor": "rgba(0,0,0,0)", "dtick": 2}),
    }
    speed_rows = ws.metrics([m for m, _ in SPEED] + ["tickets"], by=["channel"], where=f.where, start=f.start,
                            end=f.end).to_pylist()
    table = _speed_table(speed_rows, order, f, load_targets(ws.path))
    speed_fig = _speed_figure(speed_rows, order, f)
    total = sum(r["value"] or 0 for r in volume)
    return {"grain": grain, "volume": volume_fig, "heatmap": heat_fig, "speed": speed_fig, "table": table,
            # each chart's and the table's query, as files (web/_exports.py)
            "exports": {"volume": _exports.query(f, ["tickets"], by=["channel"], grain=grain),
                        "heatmap": _exports.query(f, ["tickets"], by=["weekday", "hour_of_day"]),
                        "table": _exports.query(f, [m for m, _ in SPEED] + ["tickets"], by=["channel"])},
            "empty": total == 0, "total_text": fmt.count(total), "busiest": _busiest(z)}


def _period_href(f: Filters, channel: str, period: str, grain: str) -> str:
    from cxmetrics.web._trends import period_view

    return "/tickets?" + urlencode(period_view(f, period, grain).drill_params("tickets", channel=str(channel)))


def _order(rows: list[dict[str, Any]]) -> list[str]:
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["channel"]] = totals.get(r["channel"], 0) + (r["value"] or 0)
    return sorted(totals, key=lambda c: (-totals[c], str(c)))


def _busiest(z: list[list[int]]) -> str:
    best = max(((z[d][h], d, h) for d in range(7) for h in range(24)), default=(0, 0, 0))
    if best[0] == 0:
        return ""
    return f"{WEEKDAYS[best[1]]} {best[2]:02d}:00–{best[2] + 1:02d}:00 ({best[0]:,} tickets)"


def _speed_table(rows: list[dict[str, Any]], order: list[str], f: Filters,
                 targets: Targets | None = None) -> list[dict[str, Any]]:
    by = {(r["metric"], r["channel"]): r for r in rows}
    total = sum(by[("tickets", c)]["value"] or 0 for c in order if ("tickets", c) in by)
    out = []
    for c in order:
        t = by.get(("tickets", c))
        row: dict[str, Any] = {"channel": c, "tickets": fmt.count(t["value"]) if t else "—",
                               "share": f"{100 * (t['value'] or 0) / total:.1f}%" if t and total else "—",
                               "tickets_href": drill_href(f, "tickets", channel=c), "cells": []}
        for m, _ in SPEED:
            r = by.get((m, c))
            row["cells"].append({
                "metric": m, "text": fmt.value(r["value"] if r else None, "seconds"),
                "value": r["value"] if r else None,  # the table sorts by it (data-sort)
                "ci": fmt.interval(r["ci_low"], r["ci_high"], "seconds") if r else "",
                "n": fmt.count(r["n"]) if r else "0", "small": bool(r and "small_sample" in r["flags"]),
                "href": drill_href(f, m, channel=c),
                "target": _target(targets, m, f, c, r["value"] if r else None),
            })
        out.append(row)
    return out


def _target(targets: Targets | None, metric: str, f: Filters, channel: str,
            value: float | None) -> dict[str, Any] | None:
    """The channel's target for a cell (targets.toml), with whether the value met it."""
    t = None if targets is None else targets.find(metric, {**f.where, "channel": channel})
    if t is None:
        return None
    spec = registry().resolve(metric).spec
    return {"text": fmt.value(t.value, spec.unit.value), "met": t.met(value, spec.direction.value)}


def _speed_figure(rows: list[dict[str, Any]], order: list[str], f: Filters) -> dict[str, Any]:
    """Medians with 95% intervals on a log axis: chat answers in seconds, email in hours,
    and both must stay readable."""
    by = {(r["metric"], r["channel"]): r for r in rows}
    traces = []
    bar_colours = {"frt": "#2563eb", "full_resolution_time": "#f59e0b"}
    for m, label in SPEED:
        if m not in bar_colours:
            continue
        pts = [by.get((m, c)) for c in order]
        xs = [p["value"] / 60 if p and p["value"] is not None else None for p in pts]
        traces.append({
            "type": "bar", "orientation": "h", "name": label, "y": order, "x": xs,
            "marker": {"color": bar_colours[m]},
            "error_x": {"type": "data", "symmetric": False, "color": "#374151", "thickness": 1.2, "width": 3,
                        "array": [(p["ci_high"] - p["value"]) / 60 if p and p["ci_high"] is not None else None
                                  for p in pts],
                        "arrayminus": [(p["value"] - p["ci_low"]) / 60 if p and p["ci_low"] is not None else None
                                       for p in pts]},
            "text": [fmt.value(p["value"] if p else None, "seconds") for p in pts], "textposition": "none",
            "customdata": [drill_href(f, m, channel=c) for c in order],
            "hovertemplate": "%{y}: %{text}<extra>" + label + "</extra>",
        })
    return {"data": traces, "layout": layout(
        barmode="group", hovermode="closest", margin={"l": 84, "t": 36},
        legend={"traceorder": "normal"},
        xaxis={"type": "log", "title": {"text": "log scale"}, "tickvals": [v for v, _ in LOG_TICKS],
               "ticktext": [t for _, t in LOG_TICKS]},
        yaxis={"autorange": "reversed", "rangemode": "normal"})}


__all__ = ["channels"]
