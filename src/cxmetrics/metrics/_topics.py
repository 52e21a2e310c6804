"""Top topics: volume per topic in a period, its share, and the change against the
period of the same length just before, tested (a Poisson z-test on the counts, whose
interval and p-value agree), with each topic's CSAT and median first response beside it.
A topic with no tickets before is not tested: `before` is 0 and `flags` holds
`no_data_before`.

The topics are the help desk's tags (`topic`) or the topics cxmetrics discovered in the
texts (`discovered_topic`, docs/text.md). A topic is **emerging** when its share of the
tickets rose significantly from the period before: the difference of the two shares by
Newcombe's score interval, as `compare` tests a proportion (its interval excludes 0 and the
share went up). Shares, not counts: when every topic grows with the volume, none is emerging.
With no tickets at all in the period before, `emerging` is None (not tested)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from cxmetrics.errors import UnknownNameError, UserError
from cxmetrics.metrics._compare import NO_DATA_BEFORE, compare
from cxmetrics.metrics._query import run_metrics
from cxmetrics.metrics._stats import proportion_change

#: the dimensions top_topics ranks: the help desk's tags, or the topics discovered in the texts
TOPIC_DIMENSIONS = ("topic", "discovered_topic")


def _instant(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise UserError(f"{name} '{value}' is not a date such as 2025-03-01.") from None


def _emerging(before: float, total_before: float, now: float, total: float) -> tuple[float | None, bool | None]:
    """(share before in %, whether the share rose significantly); None when nothing to test."""
    if not total_before or not total:
        return None, None
    change = proportion_change(int(before), int(total_before), int(now), int(total))
    return 100 * before / total_before, change.significant and change.estimate > 0


def top_topics(con: duckdb.DuckDBPyConnection, *, start: Any, end: Any, where: dict[str, object] | None = None,
               limit: int = 10, dimension: str = "topic") -> pa.Table:
    """The `limit` largest topics of `dimension` ("topic" or "discovered_topic") in [start,
    end), each with its share, change, CSAT, FRT and whether it is emerging."""
    if dimension not in TOPIC_DIMENSIONS:
        raise UnknownNameError("topic dimension", dimension, list(TOPIC_DIMENSIONS))
    s, e = _instant(start, "start"), _instant(end, "end")
    if e <= s:
        raise UserError("the period's end must be after its start.")
    if dimension == "discovered_topic" and not con.execute(
            "SELECT EXISTS (SELECT 1 FROM text_models WHERE kind = 'topics' AND active)").fetchall()[0][0]:
        raise UserError("no topics have been discovered in this workspace yet: run `cxmetrics topics discover --auto` "
                        "(or --k N) first, or leave out --discovered for the help desk's topics.")
    before = (s - (e - s), s)
    d = dimension
    found = run_metrics(con, ["tickets", "csat", "frt"], by=[d], where=where, start=s, end=e).to_pylist()
    now = {r[d]: r for r in found if r["metric"] == "tickets"}
    quality = {(r["metric"], r[d]): r for r in found if r["metric"] != "tickets"}
    change = {r[d]: r for r in compare(con, ["tickets"], before, (s, e), by=[d], where=where).to_pylist()}
    total = sum(r["value"] or 0 for r in now.values())
    total_before = sum(r["a_value"] or 0 for r in change.values())
    rows = []
    for topic, r in sorted(now.items(), key=lambda kv: -(kv[1]["value"] or 0))[:limit]:
        c = change.get(topic, {})
        share_before, emerging = _emerging(c.get("a_value") or 0, total_before, r["value"] or 0, total)
        rows.append({
            "topic": topic, "tickets": int(r["value"] or 0), "share": 100 * (r["value"] or 0) / total if total else None,
            "before": c.get("a_value"), "change": c.get("change"), "p_value": c.get("p_value"),
            "significant": c.get("significant"), "ci_low": c.get("ci_low"), "ci_high": c.get("ci_high"),
            "flags": [f for f in c.get("flags", []) if f == NO_DATA_BEFORE],
            "csat": quality.get(("csat", topic), {}).get("value"), "csat_n": quality.get(("csat", topic), {}).get("n"),
            "frt": quality.get(("frt", topic), {}).get("value"),
            "share_before": share_before, "emerging": emerging,
        })
    schema = pa.schema([("topic", pa.string()), ("tickets", pa.int64()), ("share", pa.float64()),
                        ("before", pa.float64()), ("change", pa.float64()), ("p_value", pa.float64()),
                        ("significant", pa.bool_()), ("ci_low", pa.float64()), ("ci_high", pa.float64()),
                        ("flags", pa.list_(pa.string())), ("csat", pa.float64()), ("csat_n", pa.int64()),
                        ("frt", pa.float64()), ("share_before", pa.float64()), ("emerging", pa.bool_())])
    return pa.Table.from_pylist(rows, schema=schema)


__all__ = ["TOPIC_DIMENSIONS", "top_topics"]
