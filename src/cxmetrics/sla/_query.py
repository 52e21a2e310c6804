"""Reading `sla_targets`: compliance, breaches, targets at risk, a ticket's targets.

Compliance is achieved / (achieved + breached) over the targets settled in the period:
an achieved target settles at its completion, a breached one at its breach (its due
time), so a target counts in the period its outcome became known. Active and paused
targets are not settled and count nowhere. Breaches count by breach time.

`compliance` and `breaches` take the workspace's connection or an engine's client
(`cxmetrics.engines.SqlClient`: Spark over an export, `cxmetrics --engine spark sla status`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from cxmetrics.errors import UnknownNameError, UserError
from cxmetrics.metrics._stats import wilson
from cxmetrics.sla._clocks import lit
from cxmetrics.sla._refresh import engine_errors

if TYPE_CHECKING:
    from cxmetrics.engines import SqlClient

# group-by names -> columns of sla_targets
GROUPS: dict[str, str] = {
    "policy": "policy",
    "metric": "metric",
    "priority": "priority",
    "channel": "channel",
    "team": "team",
    "agent": "assignee_id",
    "tier": "customer_tier",
    "source": "source",
    "business": "business",
}

TARGET_COLUMNS = (
    "source", "ticket_id", "policy", "metric", "cycle", "priority", "channel", "team", "assignee_id",
    "customer_tier", "business", "schedule", "target_s", "started_at", "due_at", "completed_at", "elapsed_s",
    "seconds_left", "state", "breached_at", "settled_at", "evaluated_at",
)


def _instant(value: date | datetime | str | None, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        raise UserError(f"{name} '{value}' is not a date or time such as 2025-03-01 or 2025-03-01T09:00.") from None
    return str(value)


def _arrow(con: duckdb.DuckDBPyConnection | SqlClient, query: str, params: list[Any] | None = None) -> pa.Table:
    if not isinstance(con, duckdb.DuckDBPyConnection):  # an engine's client: Spark over an export (docs/spark.md)
        if params:
            raise TypeError("a query with parameters runs on the workspace's DuckDB only")
        return con.query(query)
    with engine_errors():
        return con.sql(query, params=params).to_arrow_table()


def _groups(by: list[str] | str | None) -> list[str]:
    names = [by] if isinstance(by, str) else list(by or [])
    for name in names:
        if name not in GROUPS:
            raise UnknownNameError("SLA grouping", name, GROUPS)
    return names


def _period(column: str, start: Any, end: Any) -> str:
    conds = []
    if (s := _instant(start, "start (--from)")) is not None:
        conds.append(f"{column} >= CAST({lit(s)} AS TIMESTAMPTZ)")
    if (e := _instant(end, "end (--to)")) is not None:
        conds.append(f"{column} < CAST({lit(e)} AS TIMESTAMPTZ)")
    return " AND ".join(conds) or "true"


def compliance(
    con: duckdb.DuckDBPyConnection | SqlClient,
    by: list[str] | str | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    grain: str | None = None,
) -> pa.Table:
    """SLA compliance per group: achieved / (achieved + breached) in percent, over the
    targets settled in [start, end) (by `settled_at`: completion if achieved, breach if
    breached), with n = achieved + breached, the breaches, and a Wilson 95% interval.
    Groups: policy, metric, priority, channel, team, agent, tier, source, business. With a
    `grain` (hour, day, week, month, quarter, year), per period of settling too: a `period`
    column first, the period's start as the metrics' periods write it ('2025-11-03'), in one
    query rather than one per period."""
    names = _groups(by)
    cols = [f"{GROUPS[n]} AS {n}" for n in names]
    if grain is not None:
        from cxmetrics.metrics._compile import GRAINS, period_sql

        if grain not in GRAINS:
            raise UnknownNameError("grain", grain, GRAINS)
        cols.insert(0, f"{period_sql(grain, exp.column('settled_at')).sql(dialect='duckdb')} AS period")
    keys = [*(["period"] if grain is not None else []), *names]
    group = f"GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}" if keys else ""
    order = f"ORDER BY {', '.join(str(i + 1) for i in range(len(keys)))}" if keys else ""
    rows = _arrow(con, f"""
        SELECT {', '.join([*cols, ''])}
               count(*) FILTER (WHERE state = 'achieved') AS achieved,
               count(*) FILTER (WHERE state = 'breached') AS breached
        FROM sla_targets
        WHERE state IN ('achieved', 'breached') AND {_period('settled_at', start, end)}
        {group} {order}
    """).to_pylist()
    if not keys and rows and rows[0]["achieved"] + rows[0]["breached"] == 0:
        rows = [{"achieved": 0, "breached": 0}]
    out: dict[str, list[Any]] = {n: [] for n in [*keys, "compliance", "achieved", "breached", "n", "ci_low",
                                              "ci_high"]}
    for r in rows:
        k, b = r["achieved"], r["breached"]
        n = k + b
        low, high = wilson(k, n)
        for name in keys:
            out[name].append(r[name])
        out["compliance"].append(100.0 * k / n if n else None)
        out["achieved"].append(k)
        out["breached"].append(b)
        out["n"].append(n)
        out["ci_low"].append(None if low is None else 100.0 * low)
        out["ci_high"].append(None if high is None else 100.0 * high)
    return pa.table(out)


def breaches(
    con: duckdb.DuckDBPyConnection | SqlClient,
    by: list[str] | str | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
) -> pa.Table:
    """Breached targets per group whose breach time falls in [start, end)."""
    names = _groups(by)
    cols = [f"{GROUPS[n]} AS {n}" for n in names]
    group = f"GROUP BY {', '.join(str(i + 1) for i in range(len(names)))}" if names else ""
    order = f"ORDER BY {', '.join(str(i + 1) for i in range(len(names)))}" if names else ""
    return _arrow(con, f"""
        SELECT {', '.join([*cols, ''])} count(*) AS breaches
        FROM sla_targets
        WHERE state = 'breached' AND {_period('breached_at', start, end)}
        {group} {order}
    """)


def at_risk(
    con: duckdb.DuckDBPyConnection,
    now: date | datetime | str | None = None,
    within_s: float = 1800.0,
) -> pa.Table:
    """Active targets due after `now` and at most `within_s` seconds after it (calendar
    time), soonest first, with `due_in_s` (calendar seconds from now to the due time).
    Reads the table as the last refresh left it: refresh with the same `now` first
    (`refresh_sla`) for states as of then. Default `now`: the last refresh's clock."""
    if within_s < 0:
        raise UserError(f"within must be a time of 0 or more, not {within_s} seconds.")
    when = _instant(now, "now")
    clock = f"CAST({lit(when)} AS TIMESTAMPTZ)" if when is not None else \
        "coalesce((SELECT max(CAST(value AS TIMESTAMPTZ)) FROM sla_meta WHERE key = 'evaluated_at'), now())"
    return _arrow(con, f"""
        WITH c AS (SELECT {clock} AS now)
        SELECT {', '.join('s.' + col for col in TARGET_COLUMNS)},
               (epoch_us(s.due_at) - epoch_us(c.now)) / 1e6 AS due_in_s
        FROM sla_targets s, c
        WHERE s.completed_at IS NULL AND s.state = 'active' AND s.due_at > c.now
          AND s.due_at <= c.now + to_microseconds(CAST(round(? * 1e6) AS BIGINT))
        ORDER BY s.due_at, s.source, s.ticket_id, s.metric, s.cycle
    """, [float(within_s)])


def targets(
    con: duckdb.DuckDBPyConnection,
    ticket_id: str | None = None,
    *,
    source: str | None = None,
    state: str | None = None,
) -> pa.Table:
    """The targets in `sla_targets` (of one ticket, one source, one state), in order."""
    conds, params = [], []
    for col, value in (("ticket_id", ticket_id), ("source", source), ("state", state)):
        if value is not None:
            conds.append(f"{col} = ?")
            params.append(value)
    if state is not None and state not in ("active", "paused", "achieved", "breached"):
        raise UnknownNameError("SLA state", state, ["active", "paused", "achieved", "breached"])
    where = " AND ".join(conds) or "true"
    return _arrow(con, f"""
        SELECT {', '.join(TARGET_COLUMNS)} FROM sla_targets WHERE {where}
        ORDER BY source, ticket_id, started_at, metric, cycle
    """, params)
