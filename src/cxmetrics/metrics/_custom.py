"""Custom metrics: those whose rows must be aggregated twice (per ticket, then over
tickets) or that need more than one table. Each is a named query builder; the
declaration names it in its `sql` field.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import duckdb
from sqlglot import exp

from cxmetrics.errors import InternalError
from cxmetrics.metrics._compile import TIME_DIMENSIONS, check_applies, check_dimensions, period_sql
from cxmetrics.metrics._registry import MetricRef
from cxmetrics.metrics._sources import DIMENSIONS, SOURCES, dimension_in
from cxmetrics.metrics._stats import mean_interval


def _literal(value: object) -> str:
    return exp.Literal.string(str(value)).sql(dialect="duckdb")


def frame(t: str, by: list[str], grain: str | None, where: dict[str, object], start: Any,
          end: Any) -> tuple[list[str], list[str], str]:
    """What every builder's query needs around its aggregates, over time column `t`: the
    SELECT keys (the `by` columns, and `period` with a grain), the WHERE conditions (the
    [start, end) window and the filters, case-blind) and the GROUP BY of those keys."""
    keys = [(TIME_DIMENSIONS[d].format(t=t) if d in TIME_DIMENSIONS else DIMENSIONS[d]) + f" AS {d}" for d in by]
    if grain:
        keys.append(f"{period_sql(grain, exp.column(t)).sql(dialect='duckdb')} AS period")
    conds = [f"{t} IS NOT NULL"]
    if start is not None:
        conds.append(f"{t} >= CAST({_literal(start)} AS TIMESTAMPTZ)")
    if end is not None:
        conds.append(f"{t} < CAST({_literal(end)} AS TIMESTAMPTZ)")
    for d, value in where.items():
        values = value if isinstance(value, list | tuple | set) else [value]
        conds.append(dimension_in(DIMENSIONS[d], values))  # case-blind
    group = f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}" if keys else ""
    return keys, conds, group


def _per_ticket_mean(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object],
                     start: Any, end: Any) -> str:
    """Mean of the per-ticket mean of `seconds`; a ticket sits in the period of its
    first interval's end (its first reply)."""
    check_applies(ref, [*by, *where])  # its rows are its source's, with their dimensions
    source = SOURCES[ref.spec.source]
    dims = sorted({DIMENSIONS[d] for d in [*by, *where] if d in DIMENSIONS})
    carried = "".join(f", any_value({c}) AS {c}" for c in dims)
    t = "t"
    keys, conds, group = frame(t, by, grain, where, start, end)
    sql = f"""
        SELECT {''.join(k + ', ' for k in keys)}avg(ticket_mean) AS mean, stddev_samp(ticket_mean) AS sd,
               count(*) AS n
        FROM (
            SELECT source, ticket_id, min({ref.spec.time}) AS {t}, avg(seconds) AS ticket_mean{carried}
            FROM ({source.sql}) src GROUP BY source, ticket_id
        ) per_ticket
        WHERE {' AND '.join(conds)}
        {group}
    """
    return textwrap.dedent(sql).strip()  # (parsing it to print it again cost 50-150 ms a call)


# name -> builder(ref, by, grain, where, start, end) -> SQL whose rows hold the `by`
# columns, `period` when a grain is given, and either (mean, sd, n) or (value, n[,
# ci_low, ci_high]). Builders of other modules register here too.
Builder = Callable[[MetricRef, list[str], "str | None", dict[str, object], Any, Any], str]
BUILDERS: dict[str, Builder] = {"per_ticket_mean": _per_ticket_mean}

# name -> builder(ref, by, where, periods) -> SQL whose rows hold the `by` columns and, for
# each period i, `value_i` and `n_i`: the metric of several periods in one query, for a
# builder whose periods would each read the same rows again (backlog). A test of change uses
# it (`run_custom_over`); the answers are those of BUILDERS' builder period by period.
OverPeriods = Callable[[MetricRef, list[str], dict[str, object], list[tuple[Any, Any]]], str]
OVER_PERIODS: dict[str, OverPeriods] = {}


def _builder(ref: MetricRef) -> Builder:
    try:
        return BUILDERS[ref.spec.sql or ""]
    except KeyError:
        raise InternalError(f"custom metric {ref.name} names the builder '{ref.spec.sql}', which no module "
                            "registers.") from None


def check_custom(ref: MetricRef, *, by: list[str], grain: str | None, where: dict[str, object], start: Any,
                 end: Any) -> None:
    """Check a custom metric's request by building its SQL (builders run no query): an
    unsupported dimension or grain is refused before any work."""
    check_dimensions(by, where)
    _builder(ref)(ref, by, grain, where, start, end)


def run_custom(con: duckdb.DuckDBPyConnection, ref: MetricRef, *, by: list[str], grain: str | None,
               where: dict[str, object], start: date | datetime | str | None,
               end: date | datetime | str | None) -> tuple[str, list[dict[str, Any]]]:
    check_dimensions(by, where)
    sql = _builder(ref)(ref, by, grain, where, start, end)
    from cxmetrics.metrics._query import query_rows  # (_query imports this module)

    return sql, custom_rows(ref, by, grain, query_rows(con, sql))


def custom_rows(ref: MetricRef, by: list[str], grain: str | None, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer rows of a custom metric's query rows (its builder's columns)."""
    out = []
    for row in rows:
        n = int(row["n"] or 0)
        if "mean" in row:  # a mean over units (tickets...): normal interval
            value = row["mean"]
            lo, hi = ref.spec.clip(*mean_interval(row["mean"], row["sd"], n))
        else:  # the builder computed the value (and its interval, if it has one)
            value, lo, hi = row["value"], row.get("ci_low"), row.get("ci_high")
        keys = {d: row[d] for d in by}
        if grain:
            keys["period"] = row["period"]
        out.append({**keys, "value": value, "n": n, "ci_low": lo, "ci_high": hi})
    return out


def run_custom_over(con: duckdb.DuckDBPyConnection, ref: MetricRef, *, by: list[str], where: dict[str, object],
                    periods: list[tuple[Any, Any]]) -> list[tuple[str, list[dict[str, Any]]]] | None:
    """`run_custom` of each period, in one query when the metric's builder has an
    OVER_PERIODS form (else None): per period, the SQL `run_custom` would have run and the rows
    its query would have given (value, n), then its answer rows."""
    over = OVER_PERIODS.get(ref.spec.sql or "")
    if over is None:
        return None
    check_dimensions(by, where)
    from cxmetrics.metrics._query import query_rows  # (_query imports this module)

    rows = query_rows(con, over(ref, by, where, periods))
    out = []
    for i, (a, b) in enumerate(periods):
        raw = [{**{d: row[d] for d in by}, "value": row[f"value_{i}"], "n": row[f"n_{i}"]} for row in rows]
        out.append((_builder(ref)(ref, by, None, where, a, b), raw))
    return out


from cxmetrics.metrics import _business  # noqa: F401,E402
from cxmetrics.metrics import _reviews  # noqa: F401,E402
