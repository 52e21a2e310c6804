"""Downloads of a table's or chart's data: `/export/data.csv` and `/export/data.xlsx`.

A page's data module knows the library query behind each table and chart; it puts that
query in the page (`query(f, metrics, by=..., grain=...)`), the `export_links` macro turns
it into links, and the route runs the same query again and writes its answer
(cxmetrics.exports). The period is sent as explicit dates, so a download matches the page
it came from even after new data moves a preset period.

Parameters: `metrics` (comma-separated or repeated), `by`, `grain`, the dashboard's
filters (`from`/`to` or `period`, `channel`, `team`, ...) and `where=DIM:VALUE` for any
other dimension; or `table=scorecard` (with `min_n`, `rank_by`) for the agents' scorecard.

>>> f = Filters.parse({"channel": ["email"]}, anchor=date(2026, 11, 1))
>>> query(f, ["frt", "csat"], by=["team"], grain="week")
'metrics=frt%2Ccsat&by=team&grain=week&from=2026-10-04&to=2026-11-01&channel=email'
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from urllib.parse import urlencode

from cxmetrics._workspace import Workspace
from cxmetrics.errors import UserError
from cxmetrics.exports import Format, export_metrics, parse_format, write
from cxmetrics.web._filters import DIMENSIONS, Filters

#: Formats the dashboard offers (Parquet is for programs: the CLI and the API have it).
WEB_FORMATS = (Format.CSV, Format.XLSX)
TABLES = ("metrics", "scorecard")


def query(f: Filters, metrics: Sequence[str], *, by: Sequence[str] | None = None, grain: str | None = None,
          **where: str | Sequence[str] | None) -> str:
    """The export query string of `ws.metrics(metrics, by=by, grain=grain)` in view `f`;
    `where` adds filters on other dimensions (sent as where=DIM:VALUE)."""
    params: list[tuple[str, str]] = [("metrics", ",".join(metrics))]
    if by:
        params.append(("by", ",".join(by)))
    if grain:
        params.append(("grain", grain))
    return urlencode(params + _view(f, where))


def scorecard_query(f: Filters, *, min_n: int | None = None, rank_by: str = "csat") -> str:
    """The export query string of the agents' scorecard in view `f`."""
    params = [("table", "scorecard"), ("rank_by", rank_by)] + ([("min_n", str(min_n))] if min_n else [])
    return urlencode(params + _view(f, {}))


def _view(f: Filters, where: Mapping[str, str | Sequence[str] | None]) -> list[tuple[str, str]]:
    out = [("from", f.start.isoformat()), ("to", f.end.isoformat())]
    for name, values in f.dims.items():
        out += [(name, v) for v in values]
    for name, value in where.items():
        if value is None:
            continue
        for v in [value] if isinstance(value, str) else value:
            out.append(("where", f"{name}:{v}"))
    return out


def _values(params: Mapping[str, Sequence[str]], name: str) -> list[str]:
    return [v.strip() for item in params.get(name, ()) for v in item.split(",") if v.strip()]


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [v.strip() for v in params.get(name, ()) if v.strip()]
    return values[-1] if values else None


def _where(f: Filters, params: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    from cxmetrics.api._params import parse_where

    where: dict[str, list[str]] = {k: list(v) for k, v in f.dims.items()}
    for name, values in parse_where(list(params.get("where", ()))).items():
        if name in DIMENSIONS and name in where:
            raise UserError(f"'{name}' is filtered twice (as {name}= and as where={name}:); give it once.")
        where.setdefault(name, []).extend(values)
    return where


def file_name(params: Mapping[str, Sequence[str]], fmt: Format) -> str:
    """A download's file name: what it holds and its period, e.g. `frt-csat-2026-10-04-2026-11-01.xlsx`."""
    table = _one(params, "table") or "metrics"
    what = "scorecard" if table == "scorecard" else "-".join(_values(params, "metrics")[:4]) or "metrics"
    period = "-".join(p for p in (_one(params, "from"), _one(params, "to")) if p)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{what}-{period}".strip("-"))
    return f"{safe[:120]}.{fmt.value}"


def download(ws: Workspace, fmt_text: str, params: Mapping[str, Sequence[str]], anchor: date) -> tuple[bytes, Format]:
    """The file of an export request: (its bytes, its format). Bad parameters are UserErrors
    (the API's 400), raised before any file is written."""
    fmt = parse_format(fmt_text)
    if fmt not in WEB_FORMATS:
        raise UserError(f"the dashboard exports csv or xlsx, not {fmt.value}; for parquet use "
                        "`cxmetrics export metrics ... --format parquet`.")
    f = Filters.parse(params, anchor=anchor)
    table = _one(params, "table") or "metrics"
    if table not in TABLES:
        raise UserError(f"table '{table}' is not one of {', '.join(TABLES)}.")
    out = io.BytesIO()
    if table == "scorecard":
        from cxmetrics.web._agents import check

        min_n, rank_by = check(_one(params, "min_n"), _one(params, "rank_by"))
        result = ws.scorecard(start=f.start, end=f.end, where=f.where, min_n=min_n, rank_by=rank_by)
        notes = {"query": f"agents' scorecard from {f.start} to {f.end} (excluded), ranked by {rank_by}"}
        write(result, out, fmt, timezone=ws.settings.timezone, notes=notes)
        return out.getvalue(), fmt
    metrics = _values(params, "metrics")
    if not metrics:
        raise UserError("give the metrics to export, e.g. metrics=frt,csat (`cxmetrics catalogue` lists them).")
    export_metrics(ws, metrics, out, fmt, by=_values(params, "by"), grain=_one(params, "grain"),
                   where=_where(f, params), start=f.start, end=f.end)
    return out.getvalue(), fmt


__all__ = ["WEB_FORMATS", "download", "file_name", "query", "scorecard_query"]
