"""Is a change real? Tests of a metric between two periods (or before/after an
annotation), each with the effect, its 95% interval and a p-value that come from ONE
method, so `significant` (p < 0.05) holds exactly when the interval excludes 0
(docs/statistics.md):

- proportions: difference in percentage points, Newcombe's hybrid score interval (the
  two Wilson intervals combined, MOVER) and the p-value of that interval's inversion;
- NPS: difference in points from the two NPS score intervals (MOVER), inverted likewise;
- means: Welch's t interval and Welch's t-test (one t statistic, one df);
- medians and p90: the two order-statistic intervals combined (MOVER), inverted likewise;
- counts: difference with a Poisson interval (sqrt(a + b)) and the same z; only
  meaningful between periods of equal length (flagged otherwise).

When the earlier period has no data the change is not tested and flagged
`no_data_before` (a rise from nothing is not a finding).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from cxmetrics.errors import UserError
from cxmetrics.metrics._compile import QUANTILES
from cxmetrics.metrics._query import aggregates_over
from cxmetrics.metrics._registry import MetricRef, registry
from cxmetrics.metrics._sources import DIMENSIONS
from cxmetrics.metrics._spec import Kind
from cxmetrics.metrics._stats import (
    Change,
    count_change,
    mean_change,
    nps_change,
    proportion_change,
    quantile_change,
    quantile_interval,
)

Period = tuple[date | datetime | str, date | datetime | str]
NO_DATA_BEFORE = "no_data_before"


def _change(ref: MetricRef, ga: dict[str, Any], gb: dict[str, Any], va: float, vb: float) -> Change | None:
    """The tested change for the metric's kind, or None when it has no sampling model."""
    spec = ref.spec
    if spec.kind is Kind.PROPORTION:
        c = proportion_change(int(ga["k"]), int(ga["n"]), int(gb["k"]), int(gb["n"]))
        return Change(100 * c.estimate, 100 * c.low, 100 * c.high, c.p_value, c.test)
    if spec.kind is Kind.NPS:
        return nps_change((int(ga["promoters"]), int(ga["detractors"]), int(ga["n"])),
                          (int(gb["promoters"]), int(gb["detractors"]), int(gb["n"])))
    if "mean" in ga:
        return mean_change((ga["mean"], ga["sd"] or 0.0, int(ga["n"])), (gb["mean"], gb["sd"] or 0.0, int(gb["n"])))
    if "quantiles" in ga:
        stat = ref.stat or "median"
        q = QUANTILES[stat]
        na, nb, qa, qb = int(ga["n"]), int(gb["n"]), ga["quantiles"], gb["quantiles"]
        if na < 2 or nb < 2:
            return None

        def side(n: int, values: list[float]) -> Any:  # the interval at any z, for the inversion
            return lambda z: quantile_interval(q, n, values, z)

        return quantile_change(va, side(na, qa), vb, side(nb, qb), stat)
    if spec.kind is Kind.COUNT:
        return count_change(va, vb)
    return None


def _test(ref: MetricRef, ra: dict[str, Any], rb: dict[str, Any]) -> dict[str, Any]:
    ga, gb = ra.get("_agg"), rb.get("_agg")
    va, vb = ra["value"], rb["value"]
    out: dict[str, Any] = {"change": None, "ci_low": None, "ci_high": None, "p_value": None, "significant": None,
                           "test": None}
    if va is None or vb is None or ga is None or gb is None:
        return out
    out["change"] = vb - va
    c = _change(ref, ga, gb, va, vb)
    if c is not None:
        out.update(change=c.estimate, ci_low=c.low, ci_high=c.high, p_value=c.p_value, significant=c.significant,
                   test=c.test)
    return out


def change_between(ref: MetricRef, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The test `compare` runs between two periods, between any two records of `ref` with
    their raw aggregates (`_agg`, from `_query.aggregates`), such as an agent and their
    team in one period: change (b - a), its 95% interval, p-value, significant, test."""
    return _test(ref, a, b)


def compare(con: duckdb.DuckDBPyConnection, names: list[str], a: Period, b: Period, *, by: list[str] | None = None,
            where: dict[str, object] | None = None) -> pa.Table:
    """Each metric (and group) in period a and b, and whether the change is significant."""
    reg = registry()
    refs = [reg.resolve(n) for n in names]
    by, where = list(by or []), dict(where or {})
    for d in by:
        if d not in DIMENSIONS:
            raise UserError(f"compare groups by ticket dimensions ({', '.join(DIMENSIONS)}), not '{d}'.")
    rec_a, rec_b = aggregates_over(con, refs, by=by, where=where, periods=[a, b])
    key = lambda r: (r["metric"], *[r.get(d) for d in by])  # noqa: E731
    index_b = {key(r): r for r in rec_b}
    index_a = {key(r): r for r in rec_a}
    rows = []
    # every group of the later period, and those of the earlier one that vanished
    for k in list(index_b) + [k for k in index_a if k not in index_b]:
        ra, rb = index_a.get(k), index_b.get(k)
        ref = reg.resolve(k[0])
        keys = dict(zip(by, k[1:], strict=True))
        before_empty = ra is None or not ra["n"]
        ra = ra or {"value": None, "n": 0, "flags": ["undefined"], "_agg": None}
        rb = rb or {"value": None, "n": 0, "flags": ["undefined"], "_agg": None}
        # a rise from nothing (the data starts, or the group is new) is not tested
        result = _test(ref, ra, rb) if not before_empty else \
            {"change": None, "ci_low": None, "ci_high": None, "p_value": None, "significant": None, "test": None}
        flags = sorted(set(ra["flags"]) | set(rb["flags"]))
        if before_empty:
            flags.append(NO_DATA_BEFORE)
        if ref.spec.kind is Kind.COUNT and _length(a) != _length(b):
            flags.append("unequal_periods")
        rows.append({
            "metric": k[0], **keys, "a_value": ra["value"] if not before_empty or ref.spec.kind is Kind.COUNT else None,
            "a_n": ra["n"], "b_value": rb["value"], "b_n": rb["n"], **result, "flags": flags,
            "unit": ref.spec.unit.value,
        })
    order = {r.name: i for i, r in enumerate(refs)}
    rows.sort(key=lambda r: (order[r["metric"]], *[str(r.get(d)) for d in by]))
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


__all__ = ["around", "change_between", "compare", "parse_period"]
