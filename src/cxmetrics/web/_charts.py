"""Chart specs for the pages: Plotly figures as plain dicts (data + layout), drawn in the
browser by the Plotly bundled with the Python package, and inline SVG sparklines.

Colours are fixed per role so every page reads the same: good is green, bad is red, and
series take the palette in order.
"""

from __future__ import annotations

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


__all__ = ["ACCENT", "BAD", "GOOD", "NEUTRAL", "PALETTE", "layout", "rgba", "scale_for", "sparkline"]
