"""The agent scorecard: humans and bots measured on the same KPIs, side by side, with a
leaderboard that ranks by a statistic that accounts for sample size (docs/statistics.md):

- a rate or score ranks by the bound of its 95% interval on the unfavourable side (the
  lower bound when higher is better): 10 of 10 satisfied (Wilson lower bound 72%) ranks
  below 95 of 100 (89%), and a single 5-star answer ranks nowhere near the top;
- a count (tickets solved) has no sampling error and ranks by its value;
- only agents with at least `min_n` observations of the ranking KPI are ranked; by default
  min_n follows the period's volume: half the median observations per agent, between
  MIN_N_FLOOR and MIN_N_CAP, so that a typical agent is ranked in any period.
Ties (equal ranking statistic) share a rank.
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from cxmetrics.errors import UserError
from cxmetrics.metrics._query import run_metrics
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._spec import Direction

if TYPE_CHECKING:
    from cxmetrics.engines import SqlClient

KPIS = ("solved_tickets", "frt_first_touch", "frt", "aht", "fcr", "reopen_rate", "csat")
HOURS = ("calendar", "business")
MIN_N_FLOOR = 5
MIN_N_CAP = 30


def default_min_n(counts: list[int]) -> int:
    """The ranking minimum for a period: half the median observations per agent (of those
    with any), at least MIN_N_FLOOR and at most MIN_N_CAP.

    >>> default_min_n([7, 8, 9, 10, 400]), default_min_n([1, 2]), default_min_n([100] * 5)
    (5, 5, 30)
    """
    seen = [c for c in counts if c > 0]
    if not seen:
        return MIN_N_FLOOR
    return max(MIN_N_FLOOR, min(MIN_N_CAP, math.ceil(statistics.median(seen) / 2)))


def rank_statistic(rank_by: str) -> str:
    """How agents are ordered for `rank_by`, in words (shown beside the ranking)."""
    spec = registry().resolve(rank_by).spec
    if spec.unit.value == "count":
        return f"{spec.label.lower()} (a count: no sampling error)"
    side = "upper" if spec.direction is Direction.LOWER else "lower"
    return f"the {side} bound of the 95% interval of {spec.label}"


def scorecard(con: duckdb.DuckDBPyConnection | SqlClient, *, start: Any = None, end: Any = None,
              where: dict[str, object] | None = None, min_n: int | None = None, rank_by: str = "csat",
              hours: str = "calendar") -> pa.Table:
    """One row per agent (the ticket's assignee): the KPIs with their n, the ranking KPI's
    95% interval, the agent's name, type and team, and a rank by the ranking statistic
    (`rank_score`) among agents whose n for `rank_by` is at least min_n (None: from the
    period's volume, see `default_min_n`). The table's metadata holds the min_n used and
    the hours. `hours="business"`: the response times are their business-hours twins
    (`frt_bh`...: the ticket's schedule), under the same column names."""
    if hours not in HOURS:
        raise UserError(f"hours '{hours}' is not one of {', '.join(HOURS)}.")
    reg = registry()
    asked = {k: (f"{k}_bh" if hours == "business" and f"{k}_bh" in reg.specs else k) for k in KPIS}
    result = run_metrics(con, list(asked.values()), by=["assignee"], where=where, start=start, end=end).to_pylist()
    named = {v: k for k, v in asked.items()}
    for r in result:
        r["metric"] = named[r["metric"]]
    names = "SELECT agent_id, any_value(name) AS name, any_value(type) AS type, any_value(team) AS team " \
            "FROM agents GROUP BY agent_id"
    # (on another engine's client, Spark over an export: `cxmetrics --engine spark scorecard`)
    found = con.sql(names).to_arrow_table() if isinstance(con, duckdb.DuckDBPyConnection) else con.query(names)
    agents = {r["agent_id"]: r for r in found.to_pylist()}
    spec = registry().resolve(rank_by).spec
    lower_is_better = spec.direction is Direction.LOWER
    rows: dict[str, dict[str, Any]] = {}
    for r in result:
        if r["assignee"] is None:
            continue
        a = agents.get(r["assignee"], {})
        row = rows.setdefault(r["assignee"], {"agent_id": r["assignee"], "name": a.get("name"),
                                              "type": a.get("type") or "human", "team": a.get("team")})
        row[r["metric"]] = r["value"]
        row[f"{r['metric']}_n"] = r["n"]
        if r["metric"] == rank_by:
            row["ci_low"], row["ci_high"] = r["ci_low"], r["ci_high"]
            if spec.unit.value == "count":
                row["rank_score"] = r["value"]
            else:  # the unfavourable bound: what the data let us be confident of
                row["rank_score"] = r["ci_high"] if lower_is_better else r["ci_low"]
    if min_n is None:
        min_n = default_min_n([row.get(f"{rank_by}_n") or 0 for row in rows.values()])

    def key(row: dict[str, Any]) -> float | None:
        s = row.get("rank_score")
        if s is None or (row.get(f"{rank_by}_n") or 0) < min_n:
            return None
        # rounded so that equal records (10 of 10, 10 of 10) tie despite float noise
        return round(-s if lower_is_better else s, 9)

    scores = [k for k in map(key, rows.values()) if k is not None]
    for row in rows.values():
        k = key(row)
        # competition ranking: ties share the best rank, the next rank skips
        row["rank"] = None if k is None else 1 + sum(1 for s in scores if s > k)
        row["flags"] = [] if k is not None else [f"{rank_by}_below_{min_n}"]
    cols = (["rank", "agent_id", "name", "type", "team"] + [c for k in KPIS for c in (k, f"{k}_n")]
            + ["rank_score", "ci_low", "ci_high", "flags"])
    out = sorted(rows.values(), key=lambda r: (r["rank"] is None, r["rank"] or 0, r["agent_id"]))
    types = {c: pa.float64() for c in [*KPIS, "rank_score", "ci_low", "ci_high"]} | {f"{k}_n": pa.int64() for k in KPIS}
    types |= {"rank": pa.int64(), "flags": pa.list_(pa.string())}
    table = pa.table({c: pa.array([r.get(c) for r in out], types.get(c, pa.string())) for c in cols})
    return table.replace_schema_metadata({"min_n": str(min_n), "rank_by": rank_by, "hours": hours,
                                          "rank_statistic": rank_statistic(rank_by)})
