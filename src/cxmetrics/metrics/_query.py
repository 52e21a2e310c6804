"""Running a metric request and shaping the answer into one tidy table:
metric, group values, period, value, n, ci_low, ci_high, flags, unit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from cxmetrics.errors import MissingDependencyError
from cxmetrics.metrics._compile import (
    QUANTILES,
    TIME_DIMENSIONS,
    CompiledQuery,
    compile_periods,
    compile_queries,
    instant,
)
from cxmetrics.metrics._custom import custom_rows, run_custom, run_custom_over
from cxmetrics.metrics._registry import MetricRef, registry
from cxmetrics.metrics._spec import Kind
from cxmetrics.metrics._stats import mean_interval, nps_interval, quantile_interval, wilson

if TYPE_CHECKING:
    from cxmetrics.engines import SqlClient  # (cxmetrics.engines imports this module)


@dataclass(frozen=True)
class MetricTable:
    """The answer to a metric request: Arrow underneath, pandas and Polars on demand."""

    table: pa.Table
    sql: tuple[str, ...]

    def to_pandas(self) -> Any:
        """A pandas DataFrame (needs the `pandas` extra: `pip install 'cxmetrics[pandas]'`)."""
        try:
            import pandas  # noqa: F401 - Arrow imports it itself; checked here for the message
        except ImportError:
            raise MissingDependencyError("to_pandas() needs pandas, which cxmetrics does not install by default: "
                                         "pip install 'cxmetrics[pandas]' (or .table for the Arrow table).") from None
        return self.table.to_pandas()

    def to_polars(self) -> Any:
        """A Polars DataFrame (needs the `polars` extra: `pip install 'cxmetrics[polars]'`)."""
        try:
            import polars as pl
        except ImportError:
            raise MissingDependencyError("to_polars() needs Polars, which cxmetrics does not install by default: "
                                         "pip install 'cxmetrics[polars]' (or .table for the Arrow table).") from None
        return pl.from_arrow(self.table)

    def to_pylist(self) -> list[dict[str, Any]]:
        return self.table.to_pylist()

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.table.__arrow_c_stream__(requested_schema)

    def __len__(self) -> int:
        return self.table.num_rows


# Within `shared_rows()`, each metric query's rows by its SQL: one request that asks the
# same query twice (an overview's tiles and the later period of their test of change) runs
# it once, and both answers come from the same snapshot.
_SHARED: ContextVar[dict[str, list[dict[str, Any]]] | None] = ContextVar("cxmetrics_shared_rows", default=None)


@contextmanager
def shared_rows() -> Iterator[None]:
    """Run identical metric queries once within the block (one request's work: the data
    must not be expected to change inside it)."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def query_rows(con: duckdb.DuckDBPyConnection | SqlClient, sql: str) -> list[dict[str, Any]]:
    """The rows of a metric query (shared within `shared_rows()`), run on a DuckDB connection
    (a workspace's, directly: the usual path pays nothing for the engine boundary) or on
    another engine's `SqlClient` (cxmetrics.engines: Spark), which renders the SQL for itself."""
    shared = _SHARED.get()
    if shared is not None and sql in shared:
        return shared[sql]
    if hasattr(con, "dry_run"):  # an engine client: it renders the SQL itself
        rows = con.query(sql).to_pylist()
    else:
        # a DuckDB connection (or anything standing in for one) runs it as it is, its rows fetched
        # as Python values directly: the same values as through Arrow, without binding the query a
        # second time for a relation (a sixth of an uncached overview's time)
        con.execute(sql)
        names = [d[0] for d in con.description]
        rows = [dict(zip(names, row, strict=True)) for row in con.fetchall()]
    if shared is not None:
        shared[sql] = rows
    return rows


def _value(part_roles: dict[str, str], row: dict[str, Any], ref: MetricRef) -> tuple[float | None, int, float | None, float | None]:
    got = {role: row[alias] for alias, role in part_roles.items()}
    n = int(got["n"] or 0)
    spec = ref.spec
    if spec.kind is Kind.COUNT:
        return float(n), n, None, None
    if n == 0 and spec.kind is not Kind.RATIO:
        return None, 0, None, None
    if spec.kind is Kind.PROPORTION:
        k = int(got["k"])
        lo, hi = wilson(k, n)
        return 100.0 * k / n, n, 100.0 * lo if lo is not None else None, 100.0 * hi if hi is not None else None
    if spec.kind is Kind.NPS:
        value, lo, hi = nps_interval(int(got["promoters"]), int(got["detractors"]), n)
        return value, n, lo, hi
    if "mean" in got:
        lo, hi = ref.spec.clip(*mean_interval(got["mean"], got["sd"], n))
        return got["mean"], n, lo, hi
    if "quantiles" in got:
        values = got["quantiles"]
        lo, hi = quantile_interval(QUANTILES[ref.stat or "median"], n, values)
        return values[0], n, lo, hi
    if spec.kind is Kind.RATIO:
        num, den = got["numerator"], got["denominator"]
        return (None if not den else float(num or 0) / float(den)), int(den or 0), None, None
    raise AssertionError(spec.kind)  # pragma: no cover - every kind handled above


def run_metrics(
    con: duckdb.DuckDBPyConnection | SqlClient, names: list[str], *, by: list[str] | None = None,
    grain: str | None = None, where: dict[str, object] | None = None, start: date | datetime | str | None = None,
    end: date | datetime | str | None = None, explain: bool = False,
) -> MetricTable:
    reg = registry()
    refs = [reg.resolve(n) for n in names]
    by, where = list(by or []), dict(where or {})
    queries = compile_queries(refs, by=by, grain=grain, where=where, start=start, end=end)
    records: list[dict[str, Any]] = []
    sqls = [q.sql for q in queries]
    if explain:
        return MetricTable(pa.table({}), tuple(sqls))
    for q in queries:
        records += _records(con, q, grain)
    if by or grain:
        # a group another metric of the same query has, with no rows for this one
        counts = {x.name for x in refs if x.spec.kind is Kind.COUNT}
        records = [r for r in records if r["n"] or r["metric"] in counts]
    for ref in refs:
        if ref.spec.kind is Kind.CUSTOM:
            sql, rows = run_custom(con, ref, by=by, grain=grain, where=where, start=start, end=end)
            sqls.append(sql)
            records += [_finish(ref, r) for r in rows]
    order = {r.name: i for i, r in enumerate(refs)}
    records.sort(key=lambda r: (order[r["metric"]], *[_sort_key(d, r.get(d)) for d in by], str(r.get("period"))))
    return MetricTable(_to_arrow(records, by, grain), tuple(sqls))


def _records(con: duckdb.DuckDBPyConnection | SqlClient, q: CompiledQuery, grain: str | None,
             keep_aggregates: bool = False) -> list[dict[str, Any]]:
    return _records_of(q, query_rows(con, q.sql), keep_aggregates)


def _records_of(q: CompiledQuery, rows: list[dict[str, Any]], keep_aggregates: bool = False) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        keys = {d: row[d] for d in q.dims}
        if q.has_period:
            keys["period"] = row["period"]
        for part in q.parts:
            value, n, lo, hi = _value(part.aliases, row, part.ref)
            record = _finish(part.ref, {**keys, "value": value, "n": n, "ci_low": lo, "ci_high": hi})
            if keep_aggregates:
                record["_agg"] = {role: row[alias] for alias, role in part.aliases.items()}
            out.append(record)
    return out


def aggregates(con: duckdb.DuckDBPyConnection, refs: list[MetricRef], *, by: list[str], where: dict[str, object],
               start: date | datetime | str | None, end: date | datetime | str | None) -> list[dict[str, Any]]:
    """Records with their raw aggregates (counts, sums, quantiles) under `_agg`, for tests
    of change; custom metrics carry none."""
    records: list[dict[str, Any]] = []
    for q in compile_queries(refs, by=by, grain=None, where=where, start=start, end=end):
        records += _records(con, q, None, keep_aggregates=True)
    for ref in refs:
        if ref.spec.kind is Kind.CUSTOM:
            _, rows = run_custom(con, ref, by=by, grain=None, where=where, start=start, end=end)
            records += [{**_finish(ref, r), "_agg": None} for r in rows]
    return records


def aggregates_over(con: duckdb.DuckDBPyConnection, refs: list[MetricRef], *, by: list[str],
                    where: dict[str, object], periods: list[tuple[Any, Any]]) -> list[list[dict[str, Any]]]:
    """`aggregates` of each period, the compiled metrics of all of them read in one query per
    source (a test of change reads its two periods' rows once). Within `shared_rows()`, the
    latest period's share is kept as the answer of that period's own query, so asking its
    metrics next runs nothing again."""
    if len(periods) < 2 or not _disjoint(periods):
        return [aggregates(con, refs, by=by, where=where, start=a, end=b) for a, b in periods]
    out: list[list[dict[str, Any]]] = [[] for _ in periods]
    merged = compile_periods(refs, by=by, where=where, periods=periods)
    shared = _SHARED.get()
    alone: dict[int, list[CompiledQuery]] = {}

    def own(i: int, k: int) -> CompiledQuery:  # the k-th query of period i alone (compiled when needed)
        if i not in alone:
            alone[i] = compile_queries(refs, by=by, grain=None, where=where, start=periods[i][0], end=periods[i][1])
        assert [x.aliases for x in alone[i][k].parts] == [x.aliases for x in merged[k].parts]
        return alone[i][k]

    for k, q in enumerate(merged):
        split: list[list[dict[str, Any]]] = [[] for _ in periods]
        for row in query_rows(con, q.sql):
            p = row["_cx_period"]
            if p is not None:
                split[p].append({c: v for c, v in row.items() if c != "_cx_period"})
        for i, rows in enumerate(split):
            if not by and not rows:  # a period without rows still gets its one row of zeros: ask it alone
                rows = query_rows(con, own(i, k).sql)
            elif shared is not None and i == len(periods) - 1:
                # (the latest period's: the one a view shows its figures for, next to the test)
                shared.setdefault(own(i, k).sql, rows)
            out[i] += _records_of(q, rows, keep_aggregates=True)
    for ref in (r for r in refs if r.spec.kind is Kind.CUSTOM):
        together = run_custom_over(con, ref, by=by, where=where, periods=periods)
        if together is None:  # its builder, period by period
            for i, (a, b) in enumerate(periods):
                out[i] += aggregates(con, [ref], by=by, where=where, start=a, end=b)
            continue
        for i, (sql, rows) in enumerate(together):
            if shared is not None and i == len(periods) - 1:
                shared.setdefault(sql, rows)  # (as above: the view's own query of that period)
            out[i] += [{**_finish(ref, r), "_agg": None} for r in custom_rows(ref, by, None, rows)]
    return out


def _disjoint(periods: list[tuple[Any, Any]]) -> bool:
    """Whether the periods are bounded and none overlaps another (only then is a row's period
    one). Bounds with and without a zone together are not compared (a bound without one is in
    the workspace's zone, which the engine applies): those periods are read one by one."""
    if any(a is None or b is None for a, b in periods):
        return False
    bounds = [instant(x) for p in periods for x in p]
    if len({t.tzinfo is None for t in bounds}) > 1:
        return False
    if bounds[0].tzinfo is not None:
        bounds = [t.astimezone(timezone.utc) for t in bounds]
    spans = sorted(zip(bounds[::2], bounds[1::2], strict=True))
    return all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))


def _finish(ref: MetricRef, row: dict[str, Any]) -> dict[str, Any]:
    flags = []
    if ref.spec.kind not in (Kind.COUNT, Kind.RATIO, Kind.CUSTOM) and row["n"] < ref.spec.min_n:
        flags.append("small_sample")
    if row["value"] is None:
        flags.append("undefined")
    return {"metric": ref.name, **row, "flags": flags, "unit": ref.spec.unit.value}


def period_value(text: object, grain: str) -> date | datetime | None:
    """A period's start as the engine names it ('2025-11-03', '2025-11-03T09:00', local
    time) as a date, or for hours a (local, naive) datetime.

    >>> period_value("2025-11-03", "week"), period_value("2025-11-03T09:00", "hour")
    (datetime.date(2025, 11, 3), datetime.datetime(2025, 11, 3, 9, 0))
    """
    if text is None:
        return None
    if isinstance(text, date):
        return text
    if grain == "hour":
        return datetime.fromisoformat(str(text))
    return date.fromisoformat(str(text)[:10])


def _to_arrow(records: list[dict[str, Any]], by: list[str], grain: str | None) -> pa.Table:
    cols = ["metric", *by, *(["period"] if grain else []), "value", "n", "ci_low", "ci_high", "flags", "unit"]
    types = {"metric": pa.string(), "value": pa.float64(), "n": pa.int64(), "ci_low": pa.float64(),
             "ci_high": pa.float64(), "flags": pa.list_(pa.string()), "unit": pa.string()}
    arrays = {}
    for c in cols:
        values = [r.get(c) for r in records]
        if c in types:
            arrays[c] = pa.array(values, types[c])
        elif c == "period" and grain:
            # dates (timestamps for hours) so that pandas, Polars and plots treat them as time;
            # hours are local wall-clock time in the workspace's time zone, as the buckets are
            arrays[c] = pa.array([period_value(v, grain) for v in values],
                                 pa.timestamp("us") if grain == "hour" else pa.date32())
        else:
            arrays[c] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(arrays)


__all__ = ["MetricTable", "run_metrics"]


def _sort_key(dimension: str, value: object) -> tuple[int, float, str]:
    """Groups in order: hours of the day and weekdays by number (2 before 10), the rest by
    text; a missing value last."""
    if value is None:
        return (1, 0.0, "")
    if dimension in TIME_DIMENSIONS:
        return (0, float(str(value)), "")
    return (0, 0.0, str(value))
