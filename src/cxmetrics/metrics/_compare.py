"""Is a change real? Tests of a metric between two periods (or before/after an
annotation), each with the effect, its 95% interval and a p-value.

- proportions: difference in percentage points, unpooled interval, pooled z-test;
- NPS: difference in points with the variance of each score (+1/0/-1);
- means: difference with a normal (Welch) interval and z-test;
- medians and p90: difference of the statistics, interval from the two order-statistic
  intervals, and a Mann-Whitney U test (normal approximation, tie-corrected) over the
  values, ranked in the engine;
- counts: difference with a Poisson interval (sqrt(a + b)) and z-test; only meaningful
  between periods of equal length (flagged otherwise).
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot

from cxmetrics.errors import UserError
from cxmetrics.metrics._query import aggregates
from cxmetrics.metrics._registry import MetricRef, registry
from cxmetrics.metrics._sources import DIMENSIONS, SOURCES
from cxmetrics.metrics._spec import Kind
from cxmetrics.metrics._stats import Z95, nps_difference, two_proportion_test

ALPHA = 0.05

Period = tuple[date | datetime | str, date | datetime | str]


def _p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def mann_whitney(con: duckdb.DuckDBPyConnection, ref: MetricRef, a: Period, b: Period,
                 where: dict[str, object], keys: dict[str, Any]) -> float | None:
    """Two-sided p-value of the Mann-Whitney U test between the periods' values."""
    spec = ref.spec
    source = SOURCES[spec.source]
    t = spec.time

    def lit(v: object) -> str:
        return sqlglot.exp.Literal.string(str(v)).sql(dialect="duckdb")

    def within(p: Period) -> str:
        return f"({t} >= CAST({lit(p[0])} AS TIMESTAMPTZ) AND {t} < CAST({lit(p[1])} AS TIMESTAMPTZ))"

    conds = [f"({spec.where})", f"({within(a)} OR {within(b)})", f"{spec.expr} IS NOT NULL"]
    for d, value in {**where, **keys}.items():
        values = value if isinstance(value, list | tuple | set) else [value]
        col = DIMENSIONS[d]
        conds.append(f"{col} IS NULL" if values == [None] else f"{col} IN ({', '.join(lit(v) for v in values)})")
    sql = f"""
        WITH v AS (SELECT {spec.expr} AS x, {within(b)} AS in_b FROM ({source.sql}) src WHERE {' AND '.join(conds)}),
        r AS (SELECT in_b, rank() OVER (ORDER BY x) + (count(*) OVER (PARTITION BY x) - 1) / 2.0 AS rk FROM v),
        ties AS (SELECT sum(c * c * c - c) AS tie FROM (SELECT count(*) AS c FROM v GROUP BY x))
        SELECT count(*) FILTER (WHERE NOT in_b), count(*) FILTER (WHERE in_b),
               sum(rk) FILTER (WHERE NOT in_b), (SELECT tie FROM ties) FROM r
    """
    n1, n2, r1, tie = con.execute(sql).fetchall()[0]
    if not n1 or not n2:
        return None
    n = n1 + n2
    u1 = float(r1) - n1 * (n1 + 1) / 2
    var = n1 * n2 / 12 * ((n + 1) - float(tie or 0) / (n * (n - 1)))
    return 1.0 if var <= 0 else _p((u1 - n1 * n2 / 2) / math.sqrt(var))


def _test(con: duckdb.DuckDBPyConnection, ref: MetricRef, ra: dict[str, Any], rb: dict[str, Any], a: Period,
          b: Period, where: dict[str, object], keys: dict[str, Any]) -> dict[str, Any]:
    spec, ga, gb = ref.spec, ra.get("_agg"), rb.get("_agg")
    va, vb = ra["value"], rb["value"]
    out: dict[str, Any] = {"change": None, "ci_low": None, "ci_high": None, "p_value": None, "test": None}
    if va is None or vb is None or ga is None or gb is None:
        return out
    out["change"] = vb - va
    if spec.kind is Kind.PROPORTION:
        diff, lo, hi, p = two_proportion_test(int(ga["k"]), int(ga["n"]), int(gb["k"]), int(gb["n"]))
        out.update(change=100 * diff, ci_low=100 * lo, ci_high=100 * hi, p_value=p, test="two-proportion z")
    elif spec.kind is Kind.NPS:
        diff, lo, hi, p = nps_difference((ga["promoters"], ga["detractors"], ga["n"]), (gb["promoters"], gb["detractors"], gb["n"]))
        out.update(change=diff, ci_low=lo, ci_high=hi, p_value=p, test="NPS difference (variance of +1/0/-1)")
    elif "mean" in ga:
        se = math.sqrt((ga["sd"] or 0) ** 2 / ga["n"] + (gb["sd"] or 0) ** 2 / gb["n"]) if ga["n"] > 1 and gb["n"] > 1 else None
        if se:
            out.update(ci_low=out["change"] - Z95 * se, ci_high=out["change"] + Z95 * se,
                       p_value=_p(out["change"] / se), test="difference of means (Welch z)")
    elif "quantiles" in ga:
        half = [(r["ci_high"] - r["ci_low"]) / 2 for r in (ra, rb) if r["ci_low"] is not None]
        if len(half) == 2:
            se = math.sqrt(half[0] ** 2 + half[1] ** 2) / Z95
            out.update(ci_low=out["change"] - Z95 * se, ci_high=out["change"] + Z95 * se)
        out.update(p_value=mann_whitney(con, ref, a, b, where, keys),
                   test=f"Mann-Whitney U (difference of {ref.stat or 'median'}s)")
    elif spec.kind is Kind.COUNT and va + vb > 0:
        se = math.sqrt(va + vb)
        out.update(ci_low=out["change"] - Z95 * se, ci_high=out["change"] + Z95 * se,
                   p_value=_p(out["change"] / se), test="difference of counts (Poisson z)")
    return out


def compare(con: duckdb.DuckDBPyConnection, names: list[str], a: Period, b: Period, *, by: list[str] | None = None,
            where: dict[str, object] | None = None) -> pa.Table:
    """Each metric (and group) in period a and b, and whether the change is significant."""
    reg = registry()
    refs = [reg.resolve(n) for n in names]
    by, where = list(by or []), dict(where or {})
    for d in by:
        if d not in DIMENSIONS:
            raise UserError(f"compare groups by ticket dimensions ({', '.join(DIMENSIONS)}), not '{d}'.")
    rec_a = aggregates(con, refs, by=by, where=where, start=a[0], end=a[1])
    rec_b = aggregates(con, refs, by=by, where=where, start=b[0], end=b[1])
    key = lambda r: (r["metric"], *[r.get(d) for d in by])  # noqa: E731
    index_b = {key(r): r for r in rec_b}
    rows = []
    for ra in rec_a:
        rb = index_b.get(key(ra))
        if rb is None:
            continue
        ref = reg.resolve(ra["metric"])
        keys = {d: ra[d] for d in by}
        result = _test(con, ref, ra, rb, a, b, where, keys)
        flags = sorted(set(ra["flags"]) | set(rb["flags"]))
        if ref.spec.kind is Kind.COUNT and _length(a) != _length(b):
            flags.append("unequal_periods")
        p = result["p_value"]
        rows.append({
            "metric": ra["metric"], **keys, "a_value": ra["value"], "a_n": ra["n"], "b_value": rb["value"],
            "b_n": rb["n"], **result, "significant": None if p is None else p < ALPHA, "flags": flags,
            "unit": ref.spec.unit.value,
        })
    cols = ["metric", *by, "a_value", "a_n", "b_value", "b_n", "change", "ci_low", "ci_high", "p_value",
            "significant", "test", "flags", "unit"]
    return pa.Table.from_pylist(rows, schema=_schema(cols, by))


def around(ts: datetime, days: int) -> tuple[Period, Period]:
    """The `days` before an annotation and the `days` from it on."""
    return (ts - timedelta(days=days), ts), (ts, ts + timedelta(days=days))


def _length(p: Period) -> float | None:
    try:
        start, end = (x if isinstance(x, datetime) else datetime.fromisoformat(str(x)) for x in p)
    except ValueError:
        return None
    return (end - start).total_seconds()


def _schema(cols: list[str], by: list[str]) -> pa.Schema:
    types = {"metric": pa.string(), "a_value": pa.float64(), "a_n": pa.int64(), "b_value": pa.float64(),
             "b_n": pa.int64(), "change": pa.float64(), "ci_low": pa.float64(), "ci_high": pa.float64(),
             "p_value": pa.float64(), "significant": pa.bool_(), "test": pa.string(),
             "flags": pa.list_(pa.string()), "unit": pa.string()}
    return pa.schema([(c, types.get(c, pa.string())) for c in cols])


def parse_period(text: str) -> Period:
    start, sep, end = text.partition(":")
    if not sep or not start or not end:
        raise UserError(f"period '{text}' is not START:END, e.g. 2025-01-01:2025-02-01 (END excluded).")
    return start, end


__all__ = ["around", "compare", "parse_period"]
