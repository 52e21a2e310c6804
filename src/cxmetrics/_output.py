"""Rendering Arrow tables for the terminal: aligned text, JSON records or CSV.

>>> import pyarrow as pa
>>> print(render(pa.table({"kind": ["tickets"], "rows": [3]}), "table"))
kind     rows
-------  ----
tickets     3
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from cxmetrics._csvsafe import neutralise

FORMATS = ("table", "json", "csv")
_MAX_CELL = 60


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _csv_line(values: list[Any]) -> str:
    """One CSV record without its line end. Written with a CRLF terminator so that the csv
    module quotes a field holding a lone CR too (with "\n" it leaves it bare, and readers
    then split the record there); records are joined with "\n" as before."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(values)
    return buf.getvalue()[:-2]


def _csv_value(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else _json_value(value)


def records(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _json_value(v) for k, v in row.items()} for row in table.to_pylist()]


def render(table: pa.Table, fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps(records(table), indent=2, default=str)
    if fmt == "csv":
        lines = [_csv_line(table.column_names)]
        for row in table.to_pylist():  # text that a spreadsheet would run as a formula gets a ' (_csvsafe)
            lines.append(_csv_line([_csv_value(row[c]) for c in table.column_names]))
        return "\n".join(lines)
    return _text(table)


def _decimals(values: list[Any]) -> int:
    """Decimals that show every float of a column (at most 3), so a column aligns."""
    need = 0
    for v in values:
        if isinstance(v, float) and v == v and abs(v) < 1e15:
            text = f"{v:.3f}".rstrip("0")
            need = max(need, len(text.split(".")[1]) if "." in text else 0)
    return need


def _cell(value: Any, decimals: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:,.{decimals}f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    text = str(value).replace("\r", " ").replace("\n", " ")
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def _text(table: pa.Table) -> str:
    names = table.column_names
    data = table.to_pylist()
    decimals = {c: _decimals([row[c] for row in data]) for c in names}
    rows = [[_cell(row[c], decimals[c]) for c in names] for row in data]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    numeric = [pa.types.is_integer(t) or pa.types.is_floating(t) for t in table.schema.types]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(names), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def humanise_seconds(seconds: float | None) -> str:
    """A duration as people read it.

    >>> humanise_seconds(59.6), humanise_seconds(3725), humanise_seconds(200000)
    ('59.6s', '1h 02m', '2d 07h')
    """
    if seconds is None:
        return ""
    s = abs(seconds)
    sign = "-" if seconds < 0 else ""
    if s < 60:
        return f"{sign}{s:.1f}s"
    if s < 3600:
        return f"{sign}{int(s // 60)}m {int(s % 60):02d}s"
    if s < 86400:
        return f"{sign}{int(s // 3600)}h {int(s % 3600 // 60):02d}m"
    return f"{sign}{int(s // 86400)}d {int(s % 86400 // 3600):02d}h"


def shown(value: float | None, unit: str) -> str:
    """A metric value for the screen, in its unit."""
    if value is None:
        return ""
    if unit == "seconds":
        return humanise_seconds(value)
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "points":
        return f"{value:+.1f}"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def metric_table_for_screen(table: pa.Table) -> pa.Table:
    """value and interval humanised by unit; raw numbers stay in json and csv."""
    rows = table.to_pylist()
    hidden = {"value", "n", "ci_low", "ci_high", "flags", "unit", "target", "target_met", "benchmark",
              "benchmark_statistic", "benchmark_source", "benchmark_kind", "gap"}
    keys = [c for c in table.column_names if c not in hidden]
    out: dict[str, list[Any]] = {k: [r[k] for r in rows] for k in keys}
    out["value"] = [shown(r["value"], r["unit"]) for r in rows]
    out["n"] = [r["n"] for r in rows]
    out["95% interval"] = [
        f"{shown(r['ci_low'], r['unit'])} .. {shown(r['ci_high'], r['unit'])}" if r["ci_low"] is not None else ""
        for r in rows
    ]
    out["flags"] = [",".join(r["flags"]) for r in rows]
    if "benchmark" in table.column_names:
        out["target"] = [shown(r["target"], r["unit"]) + ("" if r.get("target_met") is None else
                                                          " met" if r["target_met"] else " missed") for r in rows]
        # the kind of source goes with the value: a vendor's study is not an independent one
        out["benchmark"] = [shown(r["benchmark"], r["unit"]) + (
            f" ({r['benchmark_statistic']}, {r['benchmark_kind']})" if r.get("benchmark_kind") else
            f" ({r['benchmark_statistic']})") if r["benchmark"] is not None else "" for r in rows]
        out["gap"] = ["" if r["gap"] is None else (f"{r['gap']:+.1f} pts" if r["unit"] in ("percent", "points")
                      else ("+" if r["gap"] > 0 else "") + shown(r["gap"], r["unit"])) for r in rows]
        out["source"] = [r["benchmark_source"] or "" for r in rows]
    return pa.table({k: pa.array(v) if v else pa.array([], pa.string()) for k, v in out.items()})


def compare_table_for_screen(table: pa.Table) -> pa.Table:
    """A comparison with values humanised by unit and a plain verdict."""
    rows = table.to_pylist()
    fixed = {"a_value", "a_n", "b_value", "b_n", "change", "ci_low", "ci_high", "p_value", "significant", "test",
             "flags", "unit"}
    keys = [c for c in table.column_names if c not in fixed]
    out: dict[str, list[Any]] = {k: [r[k] for r in rows] for k in keys}

    def change(r: dict[str, Any]) -> str:
        if r["change"] is None:
            return ""
        unit = {"percent": "points", "points": "points"}.get(r["unit"], r["unit"])
        text = shown(r["change"], unit) if unit != "points" else f"{r['change']:+.1f} pts"
        if unit == "seconds" and r["change"] > 0:
            text = "+" + text
        return text

    out["before"] = [f"{shown(r['a_value'], r['unit'])} (n={r['a_n']:,})" for r in rows]
    out["after"] = [f"{shown(r['b_value'], r['unit'])} (n={r['b_n']:,})" for r in rows]
    out["change"] = [change(r) for r in rows]
    out["95% interval"] = [
        "" if r["ci_low"] is None else
        (f"{r['ci_low']:+.1f} .. {r['ci_high']:+.1f}" if r["unit"] in ("percent", "points")
         else f"{shown(r['ci_low'], r['unit'])} .. {shown(r['ci_high'], r['unit'])}")
        for r in rows
    ]
    out["p"] = ["" if r["p_value"] is None else f"{r['p_value']:.3g}" for r in rows]
    out["verdict"] = ["no data before" if "no_data_before" in r["flags"] else
                      "" if r["significant"] is None else ("real change" if r["significant"] else "noise")
                      for r in rows]
    return pa.table({k: pa.array(v) if v else pa.array([], pa.string()) for k, v in out.items()})


def scorecard_for_screen(table: pa.Table) -> pa.Table:
    units = {"solved_tickets": "count", "frt_first_touch": "seconds", "frt": "seconds", "aht": "seconds",
             "fcr": "percent", "reopen_rate": "percent", "csat": "percent"}
    rows = table.to_pylist()
    out: dict[str, list[Any]] = {k: [r[k] for r in rows] for k in ("rank", "agent_id", "name", "type", "team")}
    for k, unit in units.items():
        out[k] = [shown(r[k], unit) for r in rows]
    out["csat n"] = [r["csat_n"] for r in rows]
    # what the rank rests on: the lower 95% bound of the ranking KPI (its value for a count)
    out["ranked on"] = ["" if r.get("rank_score") is None else f"{r['rank_score']:,.1f}" for r in rows]
    out["flags"] = [",".join(r["flags"]) for r in rows]
    return pa.table({k: pa.array(v) if v else pa.array([], pa.string()) for k, v in out.items()})
