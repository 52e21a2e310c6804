"""Exports of the library's answers: a metric query, and the rows behind a number.

Both run the same calls the CLI, the API and the dashboard use (`ws.metrics`, the
drill-down's `stream_behind`), so an exported number is the one shown elsewhere.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, BinaryIO

from cxmetrics._workspace import Workspace
from cxmetrics.exports._writers import Format, parse_format, write
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._spec import Kind

Instant = date | datetime | str | None


def _describe(parts: dict[str, Any]) -> str:
    return "; ".join(f"{k} {v}" for k, v in parts.items() if v not in (None, [], {}, ""))


def export_metrics(ws: Workspace, metrics: list[str], out: BinaryIO, fmt: Format | str, *,
                   by: list[str] | None = None, grain: str | None = None, where: dict[str, Any] | None = None,
                   start: Instant = None, end: Instant = None) -> int:
    """Write the answer of `ws.metrics(metrics, by=..., ...)` to `out` as csv, parquet or
    xlsx: one row per metric, group and period, with value, n, the 95% interval, flags and
    the value's unit. Returns the rows written.

    >>> import io, tempfile, cxmetrics
    >>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
    ...     buf = io.BytesIO()
    ...     export_metrics(ws, ["tickets"], buf, "csv"), buf.getvalue().decode().splitlines()[0]
    (1, '"metric","value","n","ci_low","ci_high","flags","unit"')
    """
    fmt = parse_format(fmt)  # a bad format fails before the query runs
    table = ws.metrics(metrics, by=by, grain=grain, where=where, start=start, end=end).table
    notes = {"query": _describe({"metrics": ", ".join(metrics), "by": ", ".join(by or []), "grain": grain,
                                 "from": start, "to (excluded)": end, "where": where}),
             "values": "value in the row's unit: seconds for durations, percent (0-100) for shares and rates; "
                       "ci_low/ci_high: its 95% interval; n: the observations behind it"}
    return write(table, out, fmt, timezone=ws.settings.timezone, notes=notes)


def export_tickets(ws: Workspace, metric: str, out: BinaryIO, fmt: Format | str, *,
                   where: dict[str, Any] | None = None, start: Instant = None, end: Instant = None,
                   order: str | None = None, batch_rows: int = 50_000) -> int:
    """Write every row behind `metric`'s number (the drill-down: its n rows for this group
    and period) to `out`, streamed in batches of `batch_rows`. Returns the rows written.
    An xlsx export of more rows than Excel holds is refused before anything is written."""
    from cxmetrics.api._drill import columns, count_behind, drill_query, stream_behind

    fmt = parse_format(fmt)
    q = drill_query(ws, metric, where, start, end)  # every name checked before any work
    expected = count_behind(ws, metric, where, start, end) if fmt is Format.XLSX else None
    spec = registry().resolve(metric).spec
    units = {"metric_value": spec.unit.value} if spec.kind in (Kind.DURATION, Kind.MEAN) else {}
    batches = stream_behind(ws, metric, where, start, end, order=order, batch_rows=batch_rows)
    first = next(batches, None)
    if first is None:  # no rows: the header still names the columns
        import pyarrow as pa

        cols = columns(ws, q)
        cols = [*cols, "subject"] if "ticket_id" in cols else cols
        with_types = ws.con.sql(f"WITH {q.sql} SELECT * FROM behind LIMIT 0", params=list(q.params)).arrow()
        schema = pa.schema([with_types.schema.field(c) if c in with_types.schema.names else pa.field(c, pa.string())
                            for c in cols])
        return write([], out, fmt, schema=schema, timezone=ws.settings.timezone, units=units, expected_rows=0)

    def all_batches() -> Any:
        yield first
        yield from batches

    notes = {"query": _describe({"rows behind": metric, "from": start, "to (excluded)": end, "where": where,
                                 "sorted by": order})}
    return write(all_batches(), out, fmt, timezone=ws.settings.timezone, units=units, notes=notes,
                 expected_rows=expected)
