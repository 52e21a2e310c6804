"""Top topics: volume per topic in a period, its share, and the change against the
period of the same length just before, tested (a Poisson z-test on the counts, whose
interval and p-value agree), with each topic's CSAT and median first response beside it.
A topic with no tickets before is not tested: `before` is 0 and `flags` holds
`no_data_before`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from cxmetrics.errors import UserError
from cxmetrics.metrics._compare import NO_DATA_BEFORE, compare
from cxmetrics.metrics._query import run_metrics


def _instant(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise UserError(f"{name} '{value}' is not a date such as 2025-03-01.") from None


def top_topics(con: duckdb.DuckDBPyConnection, *, start: Any, end: Any, where: dict[str, object] | None = None,
               limit: int = 10) -> pa.Table:
    s, e = _instant(start, "start"), _instant(end, "end")
    if e <= s:
        raise UserError("the period's end must be after its start.")
    before = (s - (e - s), s)
    found = run_metrics(con, ["tickets", "csat", "frt"], by=["topic"], where=where, start=s, end=e).to_pylist()
    now = {r["topic"]: r for r in found if r["metric"] == "tickets"}
    quality = {(r["metric"], r["topic"]): r for r in found if r["metric"] != "tickets"}
    change = {r["topic"]: r for r in compare(con, ["tickets"], before, (s, e), by=["topic"], where=where).to_pylist()}
    total = sum(r["value"] or 0 for r in now.values())
    rows = []
    for topic, r in sorted(now.items(), key=lambda kv: -(kv[1]["value"] or 0))[:limit]:
        c = change.get(topic, {})
        rows.append({
            "topic": topic, "tickets": int(r["value"] or 0), "share": 100 * (r["value"] or 0) / total if total else None,
            "before": c.get("a_value"), "change": c.get("change"), "p_value": c.get("p_value"),
            "significant": c.get("significant"), "ci_low": c.get("ci_low"), "ci_high": c.get("ci_high"),
            "flags": [f for f in c.get("flags", []) if f == NO_DATA_BEFORE],
            "csat": quality.get(("csat", topic), {}).get("value"), "csat_n": quality.get(("csat", topic), {}).get("n"),
            "frt": quality.get(("frt", topic), {}).get("value"),
        })
    schema = pa.schema([("topic", pa.string()), ("tickets", pa.int64()), ("share", pa.float64()),
                        ("before", pa.float64()), ("change", pa.float64()), ("p_value", pa.float64()),
                        ("significant", pa.bool_()), ("ci_low", pa.float64()), ("ci_high", pa.float64()),
                        ("flags", pa.list_(pa.string())), ("csat", pa.float64()), ("csat_n", pa.int64()),
                        ("frt", pa.float64())])
    return pa.Table.from_pylist(rows, schema=schema)


__all__ = ["top_topics"]
