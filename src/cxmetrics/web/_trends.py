"""Trends: any metric over time, split by any dimension, with 95% bands where the metric
has an interval, annotations drawn as vertical lines, and each annotation's before/after
effect tested (`ws.compare(..., annotation=id)`).

Overlays (`?overlay=previous`, `?overlay=year`, or both) draw the same metric over the
previous period of the same length, or over the same dates a year earlier, as dashed lines
moved onto the view's dates: each overlay point is `ws.metrics` over the shifted period, at
the same grain and filters, drawn where its period falls once shifted forward.

>>> f = Filters(start=date(2026, 3, 1), end=date(2026, 3, 29), period="custom")
>>> overlay_window(f, "previous"), overlay_window(f, "year")
((datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)), (datetime.date(2025, 3, 1), datetime.date(2025, 3, 29)))
>>> shift_x("2026-02-09", f, "previous"), shift_x("2024-02-29", f, "year")
('2026-03-09', '2025-02-28')
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cxmetrics._workspace import Workspace
from cxmetrics.errors import UnknownNameError, UserError
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._sources import DIMENSIONS as LIBRARY_DIMENSIONS
from cxmetrics.metrics._sources import LIST_DIMENSIONS
from cxmetrics.metrics._spec import Kind
from cxmetrics.targets import Targets, load_targets
from cxmetrics.web import _exports
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import PALETTE, annotation_labels, duration_axis, layout, rgba, scale_for
from cxmetrics.web._data import tone
from cxmetrics.web._filters import Filters

#: Dimensions a trend may be split by (ticket dimensions; `segment` belongs to customers).
SPLITS: dict[str, str] = {d: d.replace("_", " ").capitalize() for d in LIBRARY_DIMENSIONS
                          if d != "segment" and d not in LIST_DIMENSIONS}  # (tags: filtered, not split)
SPLITS["tier"] = "Customer tier"
GRAINS = ("hour", "day", "week", "month", "quarter")
MAX_SERIES = 8
EFFECT_DAYS = 28
DEFAULT_METRIC = "csat"
#: Overlays a trend can show: name -> (legend suffix, Plotly dash).
OVERLAYS: dict[str, tuple[str, str]] = {"previous": ("previous period", "longdash"),
                                          "year": ("same period last year", "dot")}


def _year_back(d: date, years: int = 1) -> date:
    """The same date `years` earlier (29 February becomes the 28th)."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


def overlay_window(f: Filters, kind: str) -> tuple[date, date]:
    """The period an overlay reads: the previous one of the same length, or the same dates a year back."""
    if kind == "previous":
        return f.previous()
    return _year_back(f.start), _year_back(f.end)


def shift_x(period: str, f: Filters, kind: str) -> str:
    """Where an overlay's point is drawn: its period moved forward onto the view's dates."""
    if len(period) > 10:  # an hour: keep the time of day
        t = datetime.fromisoformat(period)
        moved = t + timedelta(days=f.days) if kind == "previous" else t.replace(
            year=t.year + 1, day=min(t.day, 28) if (t.month, t.day) == (2, 29) else t.day)
        return moved.isoformat(sep=" ")
    d = date.fromisoformat(period[:10])
    moved_d = d + timedelta(days=f.days) if kind == "previous" else _year_back(d, -1)
    return moved_d.isoformat()


def check_overlays(values: list[str]) -> tuple[str, ...]:
    """The overlays asked for (`overlay=` repeated), checked."""
    out = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    for v in out:
        if v not in OVERLAYS:
            raise UserError(f"overlay '{v}' is not one of {', '.join(OVERLAYS)}: overlay=previous draws the previous "
                            "period, overlay=year the same period last year.")
    return out


def auto_grain(f: Filters) -> str:
    """A grain that gives a readable number of points for the period's length."""
    if f.days <= 2:
        return "hour"
    if f.days <= 31:
        return "day"
    if f.days <= 190:
        return "week"
    return "month"


def metric_choices() -> list[dict[str, str]]:
    """Every metric a trend can show: id and label (durations with their statistics)."""
    out = []
    for s in registry():
        if s.kind is Kind.DURATION:
            for stat in ("median", "mean", "p90"):
                name = s.id if stat == s.stat else f"{s.id}_{stat}"
                out.append({"id": name, "label": f"{s.label} ({stat})"})
        else:
            out.append({"id": s.id, "label": s.label})
    return sorted(out, key=lambda m: m["label"].lower())


def check(metric: str, by: str | None, grain: str | None, f: Filters) -> tuple[str, str | None, str]:
    """The request, checked: unknown names raise UserError with the fix."""
    registry().resolve(metric)
    if by and by not in SPLITS:
        raise UnknownNameError("split dimension", by, SPLITS)
    g = grain or auto_grain(f)
    if g not in GRAINS:
        raise UserError(f"grain '{g}' is not one of {', '.join(GRAINS)}.")
    if g == "hour" and f.days > 14:
        raise UserError("an hourly trend covers at most 14 days; choose a shorter period or grain=day.")
    return metric, by or None, g


def _period_end(start: date, grain: str) -> date:
    if grain in ("hour", "day"):
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3}[grain]
    m = start.month - 1 + months
    return date(start.year + m // 12, m % 12 + 1, 1)


def period_view(f: Filters, period: str, grain: str) -> Filters:
    """The view narrowed to one period of a chart (clipped to the view's own period)."""
    start = date.fromisoformat(period[:10])
    end = _period_end(start, grain)
    return Filters(start=max(start, f.start), end=min(end, f.end), period="custom", dims=f.dims)


def _drill(f: Filters, metric: str, by: str | None, group: Any, period: str, grain: str) -> str:
    view = period_view(f, period, grain)
    extra = {by: str(group)} if by and group is not None else {}
    return "/tickets?" + urlencode(view.drill_params(metric, **extra))


def trends(ws: Workspace, f: Filters, metric: str = DEFAULT_METRIC, by: str | None = None,
           grain: str | None = None, overlays: tuple[str, ...] = ()) -> dict[str, Any]:
    """A metric over time (split by `by`), as a Plotly figure plus the annotation effects;
    `overlays`: names of OVERLAYS to draw as dashed lines."""
    metric, by, grain = check(metric, by, grain, f)
    ref = registry().resolve(f.metric(metric))  # in business hours: the twin's label and description
    unit = ref.spec.unit.value
    rows = ws.metrics([metric], by=[by] if by else None, grain=grain, where=f.where, start=f.start,
                      end=f.end).to_pylist()
    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r.get(by) if by else "all", []).append(r)
    ranked = sorted(groups, key=lambda g: (-sum(r["n"] or 0 for r in groups[g]), str(g)))
    shown, hidden = ranked[:MAX_SERIES], ranked[MAX_SERIES:]
    lines = shown if by else ["all"]  # (one line: overlaid even when the view itself has no data)
    drawn = overlay_series(ws, f, metric, by, grain, overlays, lines)
    overlaid = [p["value"] for o in drawn for points in o["series"].values() for p in points]
    divisor, suffix = scale_for(unit, [r["value"] for r in rows] + [r["ci_high"] for r in rows] + overlaid)
    traces: list[dict[str, Any]] = []
    for i, g in enumerate(shown):
        series = sorted(groups[g], key=lambda r: str(r["period"]))
        colour = PALETTE[i % len(PALETTE)]
        x = [str(r["period"]) for r in series]
        name = str(g) if by else ref.spec.label
        if any(r["ci_low"] is not None for r in series):
            traces.append({"type": "scatter", "x": x, "y": [_s(r["ci_high"], divisor) for r in series],
                           "mode": "lines", "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False,
                           "legendgroup": name})
            traces.append({"type": "scatter", "x": x, "y": [_s(r["ci_low"], divisor) for r in series],
                           "mode": "lines", "line": {"width": 0}, "fill": "tonexty",
                           # many overlapping bands would hide the lines: fainter then
                           "fillcolor": rgba(colour, 0.13 if len(shown) <= 3 else 0.06), "hoverinfo": "skip",
                           "showlegend": False,
                           "legendgroup": name})
        small = ["small_sample" in r["flags"] for r in series]
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": name, "x": x, "legendgroup": name,
            "y": [_s(r["value"], divisor) for r in series],
            "line": {"color": colour, "width": 2},
            "marker": {"size": [7 if s else 5 for s in small], "color": ["#fff" if s else colour for s in small],
                       "line": {"color": colour, "width": 1.5}},
            "customdata": [_drill(f, metric, by, None if g == "all" else g, str(r["period"]), grain) for r in series],
            "text": [f"{fmt.value(r['value'], unit)} (n={r['n']:,})"
                     + (f", 95% CI {fmt.interval(r['ci_low'], r['ci_high'], unit)}" if r["ci_low"] is not None else "")
                     + (" · small sample" if s else "") for r, s in zip(series, small, strict=True)],
            "hovertemplate": "%{text}<extra>" + name + "</extra>",
        })
    traces += overlay_traces(drawn, f, metric, by, grain, lines, divisor, unit, ref.spec.label)
    traces += target_lines(load_targets(ws.path), metric, f, by, shown, rows, divisor, unit)
    notes = annotations(ws, f)
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": a["x"], "x1": a["x"], "y0": 0, "y1": 1,
               "line": {"color": "#9ca3af", "width": 1.2, "dash": "dot"}} for a in notes]
    labels = annotation_labels(notes, f.start, f.end)  # laid out so that none overlap
    yaxis: dict[str, Any] = {"title": {"text": suffix or _unit_title(unit)}}
    if unit == "seconds":  # channels seconds apart from channels hours apart: a log axis
        log_axis = duration_axis([[r["value"] for r in groups[g]] for g in shown], divisor)
        if log_axis:
            yaxis.update(log_axis, title={"text": f"{suffix or 'seconds'} (log scale)"})
    if unit == "percent":
        yaxis["ticksuffix"] = "%"
    figure = {"data": traces, "layout": layout(shapes=shapes, annotations=labels, yaxis=yaxis,
                                               showlegend=len(shown) > 1 or bool(drawn)
                                               or any(t.get("name", "").startswith("Target") for t in traces),
                                               margin={"t": 16}, legend={"y": -0.12, "yanchor": "top"})}
    effects = effects_of(ws, f, metric, notes)
    text_on = _text_layer_on(ws)
    return {
        "metric": metric, "label": ref.spec.label, "description": ref.spec.description, "unit": unit, "by": by,
        "export": _exports.query(f, [metric], by=[by] if by else None, grain=grain),  # the chart's data as a file
        "grain": grain, "figure": figure,
        "empty": not rows and not any(points for o in drawn for points in o["series"].values()),
        "hidden_groups": [str(g) for g in hidden],
        "annotations": notes, "effects": effects, "has_bands": ref.spec.kind not in (Kind.COUNT, Kind.RATIO, Kind.CUSTOM),
        # a text metric with no text facts yet: say how to make them rather than "widen the period"
        "text_hint": TEXT_COMMAND if ref.spec.source in TEXT_SOURCES and not text_on else None,
        "sentiment": sentiment(ws, f, grain) if text_on else None, "text_command": TEXT_COMMAND,
        "overlays": drawn, "overlay_choices": {k: v[0] for k, v in OVERLAYS.items()},
    }


def overlay_series(ws: Workspace, f: Filters, metric: str, by: str | None, grain: str, overlays: tuple[str, ...],
                   shown: list[Any]) -> list[dict[str, Any]]:
    """Each overlay's points for the groups shown: the metric over the shifted period (same
    grain and filters), each point with its own period and where it is drawn (`x`)."""
    out = []
    for kind in overlays:
        s0, s1 = overlay_window(f, kind)
        rows = ws.metrics([metric], by=[by] if by else None, grain=grain, where=f.where, start=s0,
                          end=s1).to_pylist()
        groups: dict[Any, list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault(r.get(by) if by else "all", []).append(r)
        label, _ = OVERLAYS[kind]
        out.append({"kind": kind, "label": label, "start": s0.isoformat(), "end": s1.isoformat(),
                    "period_label": f.shifted(s0, s1).label,
                    "series": {str(g): [{"period": str(r["period"]), "x": shift_x(str(r["period"]), f, kind),
                                         "value": r["value"], "n": r["n"]}
                                        for r in sorted(groups.get(g, []), key=lambda r: str(r["period"]))]
                               for g in shown}})
    return out


def overlay_traces(drawn: list[dict[str, Any]], f: Filters, metric: str, by: str | None, grain: str,
                   shown: list[Any], divisor: float, unit: str, label: str) -> list[dict[str, Any]]:
    """The overlays as dashed lines in their group's colour; a point opens its tickets."""
    traces = []
    for o in drawn:
        view = f.shifted(date.fromisoformat(o["start"]), date.fromisoformat(o["end"]))
        dash = OVERLAYS[o["kind"]][1]
        for i, g in enumerate(shown):
            points = o["series"][str(g)]
            if not points:
                continue
            name = (str(g) if by else label) + f" · {o['label']}"
            traces.append({
                "type": "scatter", "mode": "lines", "name": name, "legendgroup": f"{o['kind']}-{g}",
                "x": [p["x"] for p in points], "y": [_s(p["value"], divisor) for p in points],
                "line": {"color": PALETTE[i % len(PALETTE)], "width": 1.6, "dash": dash}, "opacity": 0.7,
                "customdata": [_drill(view, metric, by, None if g == "all" else g, p["period"], grain) for p in points],
                "text": [f"{p['period'][:16]}: {fmt.value(p['value'], unit)} (n={p['n']:,})" for p in points],
                "hovertemplate": "%{text}<extra>" + o["label"] + "</extra>",
            })
    return traces


#: Sources of the text layer's metrics (cxmetrics.text, docs/text.md) and the command that fills them.
TEXT_SOURCES = ("customer_messages", "ticket_sentiment", "agent_replies", "resolutions")
TEXT_COMMAND = "cxmetrics text refresh"
SENTIMENT = ("sentiment_mean", "sentiment_negative")


def _text_layer_on(ws: Workspace) -> bool:
    """Whether customer messages have been scored (the sentiment metrics have rows)."""
    return bool(ws.sql("SELECT EXISTS (SELECT 1 FROM message_sentiment) AS x").to_pylist()[0]["x"])


def _clip(v: float | None) -> float | None:
    return None if v is None else max(-1.0, min(1.0, v))


def sentiment(ws: Workspace, f: Filters, grain: str) -> dict[str, Any]:
    """Customer sentiment over the view's periods, whatever metric the page shows: the mean
    score of customer messages (-1..+1, left axis, with its 95% band) and the share that are
    negative (right axis, bars); a point opens the messages behind it."""
    specs = {m: registry().resolve(m).spec for m in SENTIMENT}
    rows = ws.metrics(list(SENTIMENT), grain=grain, where=f.where, start=f.start, end=f.end).to_pylist()
    series = {m: sorted((r for r in rows if r["metric"] == m), key=lambda r: str(r["period"])) for m in SENTIMENT}
    mean, negative = series["sentiment_mean"], series["sentiment_negative"]
    x_mean, x_neg = [str(r["period"]) for r in mean], [str(r["period"]) for r in negative]
    colour, bad = PALETTE[0], "#ef4444"
    traces: list[dict[str, Any]] = [
        {"type": "bar", "name": specs["sentiment_negative"].label, "x": x_neg, "y": [r["value"] for r in negative],
         "yaxis": "y2", "marker": {"color": rgba(bad, 0.28), "line": {"color": bad, "width": 1}},
         "customdata": [_drill(f, "sentiment_negative", None, None, p, grain) for p in x_neg],
         "text": [f"{fmt.value(r['value'], 'percent')} of {r['n']:,} messages" for r in negative],
         "textposition": "none", "hovertemplate": "%{text}<extra>negative</extra>"},
        # a score lies in [-1, 1]: so does its interval (a t interval on a few messages reaches past it)
        {"type": "scatter", "x": x_mean, "y": [_clip(r["ci_high"]) for r in mean], "mode": "lines",
         "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "x": x_mean, "y": [_clip(r["ci_low"]) for r in mean], "mode": "lines", "line": {"width": 0},
         "fill": "tonexty", "fillcolor": rgba(colour, 0.13), "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "mode": "lines+markers", "name": specs["sentiment_mean"].label, "x": x_mean,
         "y": [r["value"] for r in mean], "line": {"color": colour, "width": 2},
         "marker": {"size": [7 if "small_sample" in r["flags"] else 5 for r in mean],
                    "color": ["#fff" if "small_sample" in r["flags"] else colour for r in mean],
                    "line": {"color": colour, "width": 1.5}},
         "customdata": [_drill(f, "sentiment_mean", None, None, p, grain) for p in x_mean],
         "text": [f"{fmt.value(r['value'], 'score')} (n={r['n']:,})" for r in mean],
         "hovertemplate": "%{text}<extra>mean</extra>"},
    ]
    figure = {"data": traces, "layout": layout(
        margin={"t": 16, "r": 56}, legend={"y": -0.14, "yanchor": "top"}, showlegend=True,
        yaxis={"title": {"text": "mean score (−1 to +1)"}, "range": [-1, 1], "rangemode": "normal", "zeroline": True,
               "zerolinecolor": "#d1d5db"},
        yaxis2={"title": {"text": "% negative"}, "overlaying": "y", "side": "right", "range": [0, 100],
                "ticksuffix": "%", "showgrid": False})}
    return {"figure": figure, "empty": not rows, "label": specs["sentiment_mean"].label,
            "description": f"{specs['sentiment_mean'].description} Bars: "
                           + specs["sentiment_negative"].description[0].lower()
                           + specs["sentiment_negative"].description[1:],
            "points": {m: [{"period": str(r["period"])[:10], "value": r["value"], "n": r["n"]} for r in series[m]]
                       for m in SENTIMENT}}


def target_lines(targets: Targets, metric: str, f: Filters, by: str | None, shown: list[Any],
                 rows: list[dict[str, Any]], divisor: float, unit: str) -> list[dict[str, Any]]:
    """The targets (targets.toml) that apply to the lines shown, one dashed line per
    distinct target across the chart (a split by channel may have one per channel)."""
    periods = sorted({str(r["period"]) for r in rows})
    if not periods:
        return []
    found: dict[float, list[str]] = {}
    for g in shown:
        dims = {**f.where, **({by: g} if by and g != "all" else {})}
        t = targets.find(metric, dims)
        if t is not None:
            found.setdefault(t.value, []).append(t.dimension_value if t.dimension == by and by else "")
    out = []
    for i, (value, groups) in enumerate(found.items()):
        named = [g for g in groups if g]
        name = f"Target {fmt.value(value, unit)}" + (f" ({', '.join(named)})" if named else "")
        colour = PALETTE[[str(g) for g in shown].index(named[0]) % len(PALETTE)] if len(named) == 1 and by else \
            "#b91c1c"
        out.append({"type": "scatter", "mode": "lines", "name": name, "x": [periods[0], periods[-1]],
                    "y": [_s(value, divisor)] * 2, "hoverinfo": "name", "legendgroup": f"target-{i}",
                    "line": {"color": colour, "width": 1.5, "dash": "dash"}})
    return out


def _s(v: float | None, divisor: float) -> float | None:
    return None if v is None else v / divisor


def _unit_title(unit: str) -> str:
    return {"percent": "%", "count": "count", "points": "points", "score": "score", "currency": "cost"}.get(unit, unit)


def annotations(ws: Workspace, f: Filters) -> list[dict[str, Any]]:
    """Annotations whose time falls in the view's period, oldest first."""
    rows = ws.sql(
        "SELECT annotation_id, label, kind, description, strftime(ts, '%Y-%m-%dT%H:%M') AS x, "
        "strftime(ts, '%d %b %Y') AS day FROM annotations "
        "WHERE ts >= CAST(? AS TIMESTAMPTZ) AND ts < CAST(? AS TIMESTAMPTZ) ORDER BY ts, annotation_id",
        [f.start.isoformat(), f.end.isoformat()],
    ).to_pylist()
    for r in rows:
        r["short"] = r["label"] if len(r["label"]) <= 26 else r["label"][:25] + "…"
    return rows


def effects_of(ws: Workspace, f: Filters, metric: str, notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each annotation's effect on the metric: the 28 days before against the 28 days from
    it, in the view's filters, tested as `cxmetrics compare --annotation` does."""
    ref = registry().resolve(metric)
    unit = ref.spec.unit.value
    out = []
    for a in notes:
        try:
            rows = ws.compare([metric], annotation=a["annotation_id"], days=EFFECT_DAYS, where=f.where).to_pylist()
        except UserError as exc:
            out.append({**a, "error": str(exc)})
            continue
        r = rows[0] if rows else None
        if r is not None and "no_data_before" in r["flags"]:
            out.append({**a, "error": f"no data before (nothing in the {EFFECT_DAYS} days before it)"})
            continue
        if r is None or r["a_value"] is None or r["b_value"] is None:
            out.append({**a, "error": "not enough data on both sides"})
            continue
        delta = r["change"] if r["change"] is not None else r["b_value"] - r["a_value"]
        sig = r["significant"]
        out.append({
            **a, "error": None,
            "before": fmt.value(r["a_value"], unit), "before_n": fmt.count(r["a_n"]),
            "after": fmt.value(r["b_value"], unit), "after_n": fmt.count(r["b_n"]),
            "change": fmt.change(delta, unit), "ci": "" if r["ci_low"] is None else _ci_change(r, unit),
            "p": fmt.p_value(r["p_value"]), "verdict": "not tested" if sig is None else ("real change" if sig else "noise"),
            "tone": tone(delta, ref.spec.direction, sig), "test": r["test"] or "",
        })
    return out


def _ci_change(r: dict[str, Any], unit: str) -> str:
    # the interval and the verdict come from one method (metrics/_compare.py): a "real
    # change" always has an interval that excludes 0
    return f"{fmt.change(r['ci_low'], unit)} to {fmt.change(r['ci_high'], unit)}"


__all__ = ["GRAINS", "OVERLAYS", "SPLITS", "auto_grain", "check_overlays", "metric_choices", "overlay_window",
           "sentiment", "shift_x", "trends"]
