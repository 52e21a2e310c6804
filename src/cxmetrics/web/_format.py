"""Numbers for people: durations as '2h 14m', shares as '81.5%', counts with separators.

Raw values stay raw everywhere else (the API, the CSV); only the page humanises.

>>> duration(8040), duration(42.4), duration(185), duration(200000)
('2h 14m', '42s', '3m 05s', '2d 7h')
>>> value(81.54, "percent"), value(24.2, "points"), value(1234.0, "count"), value(5.4, "score")
('81.5%', '+24', '1,234', '5.40')
>>> change(-2.31, "percent"), change(-250.0, "seconds"), change(12.0, "count", base=100.0)
('−2.3 pts', '−4m 10s', '+12 (+12%)')
"""

from __future__ import annotations

import math

MINUS = "\u2212"  # a real minus sign reads better than a hyphen in figures
CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹"}


def _signed(text: str, negative: bool, plus: bool = True) -> str:
    return (MINUS if negative else "+" if plus else "") + text


def duration(seconds: float | None) -> str:
    """Seconds as people read them: '42s', '3m 05s', '2h 14m', '2d 7h'."""
    if seconds is None or math.isnan(seconds):
        return "—"
    s = abs(seconds)
    sign = MINUS if seconds < 0 else ""
    if s < 60:
        return f"{sign}{s:.0f}s" if s >= 10 else f"{sign}{s:.1f}s".replace(".0s", "s")
    if s < 3600:
        return f"{sign}{int(s // 60)}m {int(s % 60):02d}s"
    if s < 86400:
        return f"{sign}{int(s // 3600)}h {int(s % 3600 // 60):02d}m"
    return f"{sign}{int(s // 86400)}d {int(s % 86400 // 3600)}h"


def money(amount: float, currency: str = "EUR") -> str:
    sign = CURRENCY_SIGNS.get(currency)
    return f"{sign}{amount:,.2f}" if sign else f"{amount:,.2f} {currency}"


def value(v: float | None, unit: str, *, currency: str = "EUR", precise: bool = False) -> str:
    """A metric value in its unit; '—' when undefined. NPS shows whole points unless
    `precise` (it moves in points, and a decimal suggests more precision than n allows)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if unit == "seconds":
        return duration(v)
    if unit == "percent":
        return f"{v:.1f}%"
    if unit == "points":
        r = round(v, 1) if precise else round(v)
        if r == 0:
            return "0"
        return _signed(f"{abs(r):.1f}" if precise else f"{abs(r):.0f}", r < 0)
    if unit == "count":
        return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:,.1f}"
    if unit == "currency":
        return money(v, currency)
    if unit == "ratio":
        return f"{v:.2f}"
    return f"{v:.2f}"


def change(delta: float | None, unit: str, *, base: float | None = None, currency: str = "EUR") -> str:
    """A change in a metric: percentage points for shares and NPS, a signed duration for
    times, a signed count (and its relative change when `base` is given) for counts."""
    if delta is None or math.isnan(delta):
        return "—"
    neg = delta < 0
    if unit in ("percent", "points"):
        return _signed(f"{abs(delta):.1f} pts", neg)
    if unit == "seconds":
        return _signed(duration(abs(delta)), neg)
    if unit == "count":
        text = _signed(f"{abs(delta):,.0f}", neg)
        if base:
            rel = 100.0 * delta / base
            text += f" ({_signed(f'{abs(rel):.0f}%', rel < 0)})"
        return text
    if unit == "currency":
        return _signed(money(abs(delta), currency), neg)
    return _signed(f"{abs(delta):.2f}", neg)


def interval(lo: float | None, hi: float | None, unit: str, *, currency: str = "EUR") -> str:
    """A 95% interval, '77.4–85.1%' or '13m 37s – 29m 06s'; '' without one."""
    if lo is None or hi is None:
        return ""
    if unit == "percent":
        return f"{lo:.1f}–{hi:.1f}%"
    if unit == "points":
        return f"{value(lo, unit, precise=True)} to {value(hi, unit, precise=True)}"
    return f"{value(lo, unit, currency=currency)} – {value(hi, unit, currency=currency)}"


def count(n: float | None) -> str:
    return "—" if n is None else f"{n:,.0f}"


def p_value(p: float | None) -> str:
    """p as a reader can set it against 0.05: near the threshold with the digits that decide
    which side it is on (a "real change" never reads "p = 0.05").

    >>> [p_value(p) for p in (0.0004, 0.0062, 0.0498, 0.0502, 0.31)]
    ['p < 0.001', 'p = 0.006', 'p = 0.0498', 'p = 0.0502', 'p = 0.31']
    """
    if p is None:
        return ""
    if p < 0.001:
        return "p < 0.001"
    if 0.045 <= p < 0.055:
        return f"p = {p:.4f}"
    return f"p = {p:.2f}" if p >= 0.01 else f"p = {p:.3f}"


__all__ = ["change", "count", "duration", "interval", "money", "p_value", "value"]
