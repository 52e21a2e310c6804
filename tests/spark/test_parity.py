"""Every metric of the catalogue, by channel x week, on Spark equals DuckDB (issue 18).

Both engines read the same data: DuckDB the demo workspace, Spark its Parquet export. Counts,
shares and exact percentiles must be identical; means (and sums of fractional seconds, which
floating-point addition in another order may change in the last bits) to 1e-9 relative. A
metric Spark cannot run yet is named in `cxmetrics.engines.NOTIMPL` with its reason, and this
test checks that it does fail there (so the list cannot go stale); no metric is skipped.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from cxmetrics.engines import NOTIMPL
from cxmetrics.errors import StoreError, UserError
from cxmetrics.metrics._compile import check_request
from cxmetrics.metrics._query import run_metrics
from cxmetrics.metrics._registry import MetricRef, registry
from cxmetrics.metrics._spec import Kind

NAMES = registry().names()
# the request each metric is compared on: channel x week where the metric has both, else the
# nearest it has (business metrics have no channel; costs are monthly)
REQUESTS: tuple[tuple[tuple[str, ...], str | None], ...] = ((("channel",), "week"), ((), "week"), ((), "month"),
                                                            ((), None))


def request_of(ref: MetricRef) -> tuple[tuple[str, ...], str | None]:
    for by, grain in REQUESTS:
        try:
            check_request([ref], by=list(by), grain=grain, where={}, start=None, end=None)
        except UserError:
            continue
        return by, grain
    raise AssertionError(f"{ref.name} takes none of the parity requests")


def tolerance(ref: MetricRef) -> float:
    """Relative tolerance of a metric's values: none for counts and shares; one unit in the
    last place for exact percentiles (both engines interpolate between the same two values,
    rounding in a different order: docs/spark.md); 1e-9 for means, ratios of sums and custom
    builders' values (sums of fractional seconds in another order)."""
    if ref.spec.kind in (Kind.COUNT, Kind.PROPORTION, Kind.NPS):
        return 0.0
    if ref.spec.kind is Kind.DURATION and ref.stat != "mean":
        return 1e-15
    return 1e-9


@pytest.fixture(scope="module")
def answers(demo_ws: Any, spark: Any) -> dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Each metric's rows on DuckDB and on Spark: the metrics of one request run together, as
    a user's request would (one query per source and time on each engine)."""
    reg = registry()
    batches: dict[tuple[tuple[str, ...], str | None], list[str]] = {}
    for name in NAMES:
        if name not in NOTIMPL:
            batches.setdefault(request_of(reg.resolve(name)), []).append(name)
    out: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for (by, grain), names in batches.items():
        duck = run_metrics(demo_ws.con, names, by=list(by), grain=grain).table.to_pylist()
        sparked = run_metrics(spark, names, by=list(by), grain=grain).table.to_pylist()
        for name in names:
            out[name] = ([r for r in duck if r["metric"] == name], [r for r in sparked if r["metric"] == name])
    return out


def _close(a: object, b: object, rel: float) -> bool:
    if isinstance(a, float) and isinstance(b, float) and rel:
        return math.isclose(a, b, rel_tol=rel)
    return a == b


@pytest.mark.parametrize("name", [n for n in NAMES if n not in NOTIMPL])
def test_metric_on_spark_equals_duckdb(name: str, answers: dict[str, Any]) -> None:
    ref = registry().resolve(name)
    duck, sparked = answers[name]
    assert duck, f"{name} has no rows on the demo: the comparison would prove nothing"
    assert len(sparked) == len(duck), f"{name}: {len(sparked)} rows on Spark, {len(duck)} on DuckDB"
    for d, s in zip(duck, sparked, strict=True):
        assert d.keys() == s.keys()
        for column in d:
            assert _close(d[column], s[column], tolerance(ref)), f"{name} {column}: DuckDB {d} != Spark {s}"


@pytest.mark.parametrize("name", sorted(NOTIMPL))
def test_notimpl_metric_does_fail_on_spark(name: str, spark: Any) -> None:
    """A metric listed as not runnable still fails on Spark (remove it from NOTIMPL once it runs)."""
    ref = registry().resolve(name)
    by, grain = request_of(ref)
    with pytest.raises(StoreError, match="DATATYPE_MISMATCH"):
        run_metrics(spark, [name], by=list(by), grain=grain)


def test_the_comparison_covers_every_kind_of_metric(answers: dict[str, Any]) -> None:
    """The compared rows hold real numbers of every kind (not only empty groups)."""
    reg = registry()
    kinds = {reg.resolve(n).spec.kind for n, (duck, _) in answers.items() if any(r["value"] for r in duck)}
    assert kinds >= {Kind.COUNT, Kind.PROPORTION, Kind.NPS, Kind.MEAN, Kind.DURATION, Kind.RATIO, Kind.CUSTOM}
