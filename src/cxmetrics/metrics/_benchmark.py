"""Targets and industry references beside a metric's value, with the gap.

A reference is matched by the metric's benchmark keys and a segment (an industry such
as ecommerce, or a channel); the segment `channel` takes each row's own channel. When a
segment has several references, the most recent is shown (its source goes with it).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from cxmetrics.benchmarks import SEGMENTS, references
from cxmetrics.errors import UnknownNameError
from cxmetrics.metrics._registry import registry


def _reference(keys: tuple[str, ...], segment: str | None) -> Any:
    found = [r for k in keys for r in references(k) if segment and r.segment == segment]
    return max(found, key=lambda r: r.year) if found else None


def attach(table: pa.Table, segment: str) -> pa.Table:
    """Add target, benchmark, benchmark_statistic, benchmark_source and gap columns."""
    if segment != "channel" and segment not in SEGMENTS:
        raise UnknownNameError("benchmark segment", segment, [*SEGMENTS, "channel"])
    reg = registry()
    rows = table.to_pylist()
    extra: dict[str, list[Any]] = {k: [] for k in ("target", "benchmark", "benchmark_statistic", "benchmark_source", "gap")}
    for row in rows:
        spec = reg.resolve(row["metric"]).spec
        seg = row.get("channel") if segment == "channel" else segment
        ref = _reference(spec.benchmarks, seg)
        extra["target"].append(spec.target)
        extra["benchmark"].append(None if ref is None else ref.value)
        extra["benchmark_statistic"].append(None if ref is None else ref.statistic)
        extra["benchmark_source"].append(None if ref is None else f"{ref.source} ({ref.year})")
        extra["gap"].append(None if ref is None or row["value"] is None else row["value"] - ref.value)
    out = table
    types = {"target": pa.float64(), "benchmark": pa.float64(), "gap": pa.float64()}
    for name, values in extra.items():
        out = out.append_column(name, pa.array(values, types.get(name, pa.string())))
    return out
