"""Targets and industry references beside a metric's value, with the gap.

Targets are the workspace's own (`targets.toml`, cxmetrics.targets): the one that
applies to a row is its dimension value's, else the metric's; `target_met` follows the
metric's direction. References are published figures, each labelled with the kind of
source it comes from (`benchmark_kind`).

A reference is matched by the metric's benchmark keys and a segment (an industry such
as ecommerce, or a channel); the segment `channel` takes each row's own channel. When a
segment has several references, the most recent is shown (its source goes with it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from cxmetrics.benchmarks import SEGMENTS, SOURCE_KINDS, references
from cxmetrics.errors import UnknownNameError
from cxmetrics.metrics._registry import registry
from cxmetrics.targets import Targets


def _reference(keys: tuple[str, ...], segment: str | None) -> Any:
    found = [r for k in keys for r in references(k) if segment and r.segment == segment]
    return max(found, key=lambda r: r.year) if found else None


def attach(table: pa.Table, segment: str, targets: Targets | None = None,
           where: Mapping[str, Any] | None = None) -> pa.Table:
    """Add target, target_met, benchmark, benchmark_statistic, benchmark_source,
    benchmark_kind and gap columns. A row's target is found by its own group values and
    the filters in `where`."""
    if segment != "channel" and segment not in SEGMENTS:
        raise UnknownNameError("benchmark segment", segment, [*SEGMENTS, "channel"])
    reg = registry()
    rows = table.to_pylist()
    extra: dict[str, list[Any]] = {k: [] for k in ("target", "target_met", "benchmark", "benchmark_statistic",
                                                    "benchmark_source", "benchmark_kind", "gap")}
    for row in rows:
        spec = reg.resolve(row["metric"]).spec
        seg = row.get("channel") if segment == "channel" else segment
        ref = _reference(spec.benchmarks, seg)
        target = None if targets is None else targets.find(row["metric"], {**dict(where or {}), **row})
        extra["target"].append(None if target is None else target.value)
        extra["target_met"].append(None if target is None else target.met(row["value"], spec.direction.value))
        extra["benchmark"].append(None if ref is None else ref.value)
        extra["benchmark_statistic"].append(None if ref is None else ref.statistic)
        extra["benchmark_source"].append(None if ref is None else f"{ref.source} ({ref.year})")
        extra["benchmark_kind"].append(None if ref is None else SOURCE_KINDS[ref.source_kind])
        extra["gap"].append(None if ref is None or row["value"] is None else row["value"] - ref.value)
    out = table
    types = {"target": pa.float64(), "target_met": pa.bool_(), "benchmark": pa.float64(), "gap": pa.float64()}
    for name, values in extra.items():
        out = out.append_column(name, pa.array(values, types.get(name, pa.string())))
    return out
