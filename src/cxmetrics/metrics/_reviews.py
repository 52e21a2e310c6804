"""Review metrics that are not one aggregate: how much more likely a company is to answer a
complaint than praise (docs/studies.md, "Reviews").

review_negative_response_ratio = P(answered | 1-2 stars) / P(answered | 4-5 stars), a ratio
of two proportions (a relative risk) with the Katz log interval:

    ratio = (a / n1) / (c / n2)
    se    = sqrt(1/a - 1/n1 + 1/c - 1/n2)      (of ln ratio)
    95%   = ratio * exp(-/+ 1.96 se)

where a of n1 negative reviews and c of n2 positive ones were answered. No value without an
answered positive review (the ratio is unbounded); no interval when a = 0 or c = 0 (the log
is undefined). `n` is n1 + n2, the reviews compared (3-star reviews are in neither group).
"""

from __future__ import annotations

import textwrap
from typing import Any

from cxmetrics.errors import UserError
from cxmetrics.metrics import _custom
from cxmetrics.metrics._compile import check_applies
from cxmetrics.metrics._registry import MetricRef
from cxmetrics.metrics._sources import SOURCES
from cxmetrics.metrics._stats import Z95


def katz_sql(a: str, n1: str, c: str, n2: str) -> tuple[str, str, str]:
    """SQL of the ratio (a/n1)/(c/n2) and its Katz 95% bounds, over count expressions."""
    ratio = f"CASE WHEN {n1} > 0 AND {c} > 0 THEN ({a} / {n1}::DOUBLE) / ({c} / {n2}::DOUBLE) END"
    se = f"sqrt(1.0 / {a} - 1.0 / {n1} + 1.0 / {c} - 1.0 / {n2})"
    ok = f"{a} > 0 AND {c} > 0"
    return (ratio, f"CASE WHEN {ok} THEN {ratio} * exp(-{Z95} * {se}) END",
            f"CASE WHEN {ok} THEN {ratio} * exp({Z95} * {se}) END")


def negative_response_ratio(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object],
                            start: Any, end: Any) -> str:
    """Rows: the `by` columns, `period` with a grain, value, n, ci_low, ci_high."""
    check_applies(ref, [*by, *where])
    if "rating_band" in by:
        raise UserError(f"{ref.name} compares the negative and positive rating bands: it cannot be cut by "
                        "rating_band (review_response_rate can).")
    t = ref.spec.time
    keys, conds, group = _custom.frame(t, by, grain, where, start, end)
    ratio, lo, hi = katz_sql("a", "n1", "c", "n2")
    sql = f"""
        SELECT * EXCLUDE (a, n1, c, n2), {ratio} AS value, n1 + n2 AS n, {lo} AS ci_low, {hi} AS ci_high
        FROM (
            SELECT {''.join(k + ', ' for k in keys)}
                   count(*) FILTER (WHERE rating_band = 'negative' AND replied) AS a,
                   count(*) FILTER (WHERE rating_band = 'negative') AS n1,
                   count(*) FILTER (WHERE rating_band = 'positive' AND replied) AS c,
                   count(*) FILTER (WHERE rating_band = 'positive') AS n2
            FROM ({SOURCES[ref.spec.source].sql}) src
            WHERE {' AND '.join(conds)}
            {group}
        ) counts
    """
    return textwrap.dedent(sql).strip()  # (parsing it to print it again cost 50-150 ms a call)


_custom.BUILDERS["review_negative_response_ratio"] = negative_response_ratio
