"""The agent scorecard: humans and bots measured on the same KPIs, side by side, with a
leaderboard that ranks only agents with enough answers (ties share a rank)."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from cxmetrics.metrics._query import run_metrics

KPIS = ("solved_tickets", "frt_first_touch", "frt", "aht", "fcr", "reopen_rate", "csat")


def scorecard(con: duckdb.DuckDBPyConnection, *, start: Any = None, end: Any = None,
              where: dict[str, object] | None = None, min_n: int = 30, rank_by: str = "csat") -> pa.Table:
    """One row per agent (the ticket's assignee): the KPIs with their n, the agent's name,
    type and team, and a rank by `rank_by` among agents whose n for it is at least min_n."""
    result = run_metrics(con, list(KPIS), by=["assignee"], where=where, start=start, end=end).to_pylist()
    agents = {r["agent_id"]: r for r in con.sql(
        "SELECT agent_id, any_value(name) AS name, any_value(type) AS type, any_value(team) AS team "
        "FROM agents GROUP BY agent_id").to_arrow_table().to_pylist()}
    rows: dict[str, dict[str, Any]] = {}
    for r in result:
        if r["assignee"] is None:
            continue
        a = agents.get(r["assignee"], {})
        row = rows.setdefault(r["assignee"], {"agent_id": r["assignee"], "name": a.get("name"),
                                              "type": a.get("type") or "human", "team": a.get("team")})
        row[r["metric"]] = r["value"]
        row[f"{r['metric']}_n"] = r["n"]
    scores = [row[rank_by] for row in rows.values()
              if row.get(rank_by) is not None and row.get(f"{rank_by}_n", 0) >= min_n]
    for row in rows.values():
        v = row.get(rank_by)
        ok = v is not None and row.get(f"{rank_by}_n", 0) >= min_n
        # competition ranking: ties share the best rank, the next rank skips
        row["rank"] = 1 + sum(1 for s in scores if s > v) if ok else None
        row["flags"] = [] if ok else [f"{rank_by}_below_{min_n}"]
    cols = ["rank", "agent_id", "name", "type", "team"] + [c for k in KPIS for c in (k, f"{k}_n")] + ["flags"]
    out = sorted(rows.values(), key=lambda r: (r["rank"] is None, r["rank"] or 0, r["agent_id"]))
    types = {c: pa.float64() for k in KPIS for c in [k]} | {f"{k}_n": pa.int64() for k in KPIS}
    types |= {"rank": pa.int64(), "flags": pa.list_(pa.string())}
    return pa.table({c: pa.array([r.get(c) for r in out], types.get(c, pa.string())) for c in cols})
