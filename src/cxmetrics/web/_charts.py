"""Chart specs for the pages: Plotly figures as plain dicts (data + layout), drawn in the
browser by the Plotly bundled with the Python package, and inline SVG sparklines.

Colours are fixed per role so every page reads the same: good is green, bad is red, and
series take the palette in order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from statistics import median
from typing import Any

GOOD, BAD, NEUTRAL, ACCENT = "#1a7f4b", "#c0392b", "#6b7280", "#2563eb"
PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#ef4444", "#06b6d4", "#ec4899", "#84cc16", "#64748b"]
FONT = "Inter, 'Segoe UI', system-ui, -apple-system, sans-serif"


def rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def layout(**extra: Any) -> dict[str, Any]:
    """The common layout: quiet grid, readable fonts, legend on top, no title (the card has one)."""
    base: dict[str, Any] = {
        "margin": {"l": 56, "r": 16, "t": 28, "b": 40},
        "font": {"family": FONT, "size": 12, "color": "#1f2937"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "x unified",
        "legend": {"orientation": "h", "y": 1.12, "x": 0, "font": {"size": 11}},
        "xaxis": {"gridcolor": "#eef0f3", "linecolor": "#d1d5db", "zeroline": False},
        "yaxis": {"gridcolor": "#eef0f3", "linecolor": "#d1d5db", "zeroline": False, "rangemode": "tozero"},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def scale_for(unit: str, values: list[float | None]) -> tuple[float, str]:
    """Divide durations into minutes, hours or days so an axis reads naturally; returns
    (divisor, axis title suffix)."""
    if unit != "seconds":
        return 1.0, ""
    top = max((v for v in values if v is not None), default=0.0)
    if top >= 3 * 86400:
        return 86400.0, "days"
    if top >= 3 * 3600:
        return 3600.0, "hours"
    if top >= 180:
        return 60.0, "minutes"
    return 1.0, "seconds"


# Durations a log axis is labelled at (seconds, label).
DURATION_TICKS = ((1, "1s"), (10, "10s"), (30, "30s"), (60, "1m"), (300, "5m"), (900, "15m"), (1800, "30m"),
                  (3600, "1h"), (4 * 3600, "4h"), (8 * 3600, "8h"), (86400, "1d"), (3 * 86400, "3d"),
                  (7 * 86400, "1w"), (14 * 86400, "2w"), (30 * 86400, "30d"), (90 * 86400, "90d"))
#: Series whose typical values differ this many times are drawn on a log axis.
LOG_SPREAD = 10.0


def duration_axis(series: Sequence[Sequence[float | None]], divisor: float) -> dict[str, Any]:
    """A log y-axis (labelled in durations) when the series' medians (seconds) differ by
    LOG_SPREAD times or more, else {} (the linear default). FRT by channel is the case:
    chat answers in seconds and email in hours; on a linear axis the fast channels lie
    flat on the floor and their changes cannot be read.

    >>> duration_axis([[30, 40], [7200, 9000]], 60.0)["type"]
    'log'
    >>> duration_axis([[3600, 4000], [7200]], 3600.0)
    {}
    """
    medians = [median(p) for p in ([v for v in s if v is not None and v > 0] for s in series) if p]
    if len(medians) < 2 or max(medians) < LOG_SPREAD * min(medians):
        return {}
    values = [v for s in series for v in s if v is not None and v > 0]
    lo, hi = min(values) / 1.5, max(values) * 1.5
    ticks = [(t, label) for t, label in DURATION_TICKS if lo <= t <= hi]
    return {"type": "log", "rangemode": "normal", "tickvals": [t / divisor for t, _ in ticks],
            "ticktext": [label for _, label in ticks]}


# Annotation labels along the top of a time chart: rows of labels, each label placed in the
# first row where it clears the one before. The browser's plot width is not known here, so
# widths are reckoned on a narrow plot (LABEL_PLOT_PX): on a wider one they only clear more.
LABEL_PLOT_PX, LABEL_CHAR_PX, LABEL_PAD_PX, LABEL_ROWS, LABEL_ROW_STEP = 700, 6.8, 14, 4, 0.08
#: Annotations closer than this (pixels, on LABEL_PLOT_PX) share one label: their numbers.
CLUSTER_PX = 36


def annotation_labels(notes: Sequence[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    """Plotly annotations for `notes` (each with x, an ISO time, `short` and `label`) over a
    chart spanning [start, end), laid out so that no two labels overlap. Annotations closer
    than CLUSTER_PX share one label, their numbers ("3–9", numbered as in the list under
    the chart, every label on hover). A label takes the first of LABEL_ROWS rows where it
    clears the previous label, and grows leftwards near the right edge; a label no row has
    room for shows its number instead, in a row of its own if need be.

    >>> notes = [{"x": f"2026-03-0{d}T00:00", "short": f"change {d}", "label": f"change {d}"} for d in (2, 3)]
    >>> [a["text"] for a in annotation_labels(notes, date(2025, 11, 1), date(2026, 11, 1))]
    ['1–2']
    """
    t0 = datetime.combine(start, datetime.min.time())
    span = max((datetime.combine(end, datetime.min.time()) - t0).total_seconds(), 1.0)
    at = [(datetime.fromisoformat(str(a["x"])).replace(tzinfo=None) - t0).total_seconds() / span for a in notes]
    units: list[list[int]] = []  # runs of notes close together
    for i, x in enumerate(at):
        if units and (x - at[units[-1][0]]) * LABEL_PLOT_PX < CLUSTER_PX:
            units[-1].append(i)
        else:
            units.append([i])
    rows: list[float] = []  # per row: the right edge (0..1) of its last label
    out = []
    for unit in units:
        first, last = unit[0], unit[-1]
        number = str(first + 1) if first == last else f"{first + 1}–{last + 1}"
        texts = [str(notes[first]["short"]), number] if first == last else [number]
        for attempt, text in enumerate(texts):
            width = (len(text) * LABEL_CHAR_PX + LABEL_PAD_PX) / LABEL_PLOT_PX
            leftwards = at[first] + width > 1.0
            left, right = (at[first] - width, at[first]) if leftwards else (at[first], at[first] + width)
            row = next((r for r, edge in enumerate(rows) if left > edge), None)
            # a text label may open a row up to LABEL_ROWS; a number, whenever it must
            if row is None and (len(rows) < LABEL_ROWS or attempt == len(texts) - 1):
                row = len(rows)
                rows.append(-math.inf)
            if row is not None:
                break
        assert row is not None
        rows[row] = right
        out.append({"x": notes[first]["x"], "xref": "x", "yref": "paper", "y": 1.0 - LABEL_ROW_STEP * row,
                    "yanchor": "top", "xanchor": "right" if leftwards else "left", "text": text,
                    "showarrow": False, "hovertext": "<br>".join(
                        f"{i + 1}. {notes[i]['label']}" if len(unit) > 1 else str(notes[i]["label"]) for i in unit),
                    "font": {"size": 11, "color": "#4b5563"}, "bgcolor": "rgba(255,255,255,0.85)"})
    return out


def sparkline(values: list[float | None], *, width: int = 132, height: int = 34, pad: int = 3) -> dict[str, Any] | None:
    """An SVG path for a small trend line; gaps (None) break the line. None when there
    are fewer than two values to draw."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return None
    lo, hi = min(known), max(known)
    span = (hi - lo) or (abs(hi) or 1.0)
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def y(v: float) -> float:
        return round(height - pad - (v - lo) / span * (height - 2 * pad), 1) if hi != lo else height / 2

    parts, pen_down, last = [], False, None
    for i, v in enumerate(values):
        if v is None:
            pen_down = False
            continue
        x = round(pad + i * step, 1)
        parts.append(f"{'L' if pen_down else 'M'}{x},{y(v)}")
        pen_down, last = True, (x, y(v))
    return {"path": " ".join(parts), "width": width, "height": height, "last_x": last[0] if last else 0,
            "last_y": last[1] if last else 0}


__all__ = ["ACCENT", "BAD", "GOOD", "NEUTRAL", "PALETTE", "annotation_labels", "duration_axis", "layout", "rgba",
           "scale_for", "sparkline"]
