"""The alert ledger and its outbox, in the workspace's DuckDB file.

`record()` writes, in one transaction, every new alert (a state change not in `alerts`
yet) and one delivery row per destination whose filters take it. The alert id is
derived from the target and the kind, and is the table's primary key: the same state
change can never be recorded twice, whichever watcher, however often restarted, sees it.
Deliveries then move `pending` -> `delivered` or `failed`; a pending row waits for its
`next_attempt_at` (a retry's backoff, or the end of quiet hours).

Before each attempt the row is leased: its attempt count goes up and `next_attempt_at`
moves to the retry time, committed before the request goes out. A watcher killed in
mid-request therefore retries that delivery after the backoff (the receiver may see it
twice, with the same alert id), and never forgets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from cxmetrics.alerts._config import AlertsConfig
from cxmetrics.store import rollback

ALERT_COLUMNS = (
    "alert_id", "kind", "source", "ticket_id", "metric", "cycle", "policy", "priority", "channel", "team",
    "assignee_id", "subject", "business_hours", "due_at", "breached_at", "seconds_left", "timezone", "detected_at",
)


@dataclass(frozen=True)
class Due:
    """A delivery whose time has come, with everything its message needs."""

    alert: dict[str, Any]
    destination: str
    attempts: int
    held_until: datetime | None


def _destinations(cfg: AlertsConfig) -> pa.Table:
    lists = pa.list_(pa.string())
    rows = [{"name": d.name, "type": d.type, **d.filters()} for d in cfg.destinations]
    schema = pa.schema([("name", pa.string()), ("type", pa.string()), ("kinds", lists), ("policies", lists),
                        ("priorities", lists), ("teams", lists), ("metrics", lists)])
    return pa.Table.from_pylist(rows, schema=schema)


def record(con: duckdb.DuckDBPyConnection, candidates_sql: str, params: dict[str, Any], cfg: AlertsConfig,
           now: datetime) -> pa.Table:
    """Record the state changes `candidates_sql` finds that are not in the ledger yet,
    with their deliveries, and move the watch clock to `now`; returns the new alerts.

    `candidates_sql` selects ALERT_COLUMNS (one row per alert id)."""
    con.register("_al_dest", _destinations(cfg))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _al_new AS
            SELECT c.* FROM ({candidates_sql}) c
            WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.alert_id = c.alert_id)
        """, params)
        cols = ", ".join(ALERT_COLUMNS)
        con.execute(f"INSERT INTO alerts ({cols}, recorded_at) SELECT {cols}, now() FROM _al_new")
        con.execute("""
            INSERT INTO alert_deliveries (alert_id, destination, destination_type, status, attempts,
                                          next_attempt_at, created_at)
            SELECT n.alert_id, d.name, d.type, 'pending', 0, ?, now()
            FROM _al_new n, _al_dest d
            WHERE (d.kinds IS NULL OR list_contains(d.kinds, n.kind))
              AND (d.policies IS NULL OR coalesce(list_contains(d.policies, n.policy), false))
              AND (d.priorities IS NULL OR coalesce(list_contains(d.priorities, lower(n.priority)), false))
              AND (d.teams IS NULL OR coalesce(list_contains(d.teams, n.team), false))
              AND (d.metrics IS NULL OR coalesce(list_contains(d.metrics, n.metric), false))
        """, [now])
        con.execute("""
            INSERT INTO alert_watch VALUES (1, ?, ?, 1)
            ON CONFLICT (id) DO UPDATE SET last_now = excluded.last_now, runs = alert_watch.runs + 1
        """, [now, now])
        new = con.sql(f"SELECT {cols} FROM _al_new ORDER BY detected_at, kind DESC, due_at, alert_id").to_arrow_table()
        con.execute("DROP TABLE _al_new")
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    finally:
        con.unregister("_al_dest")
    return new


def last_now(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The watcher's clock at its last recorded evaluation, if any."""
    rows = con.execute("SELECT epoch(last_now) FROM alert_watch WHERE id = 1").fetchall()
    return datetime.fromtimestamp(rows[0][0], UTC) if rows else None


def due(con: duckdb.DuckDBPyConnection, now: datetime, destinations: list[str]) -> list[Due]:
    """Pending deliveries to configured destinations whose time has come: in the order
    the changes were seen, and among those seen at once, breaches first, then the
    earliest due."""
    if not destinations:
        return []
    rows = con.sql("""
        SELECT a.*, d.destination, d.attempts, d.held_until
        FROM alert_deliveries d JOIN alerts a USING (alert_id)
        WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND list_contains(?, d.destination)
        ORDER BY a.detected_at, a.kind DESC, a.due_at, a.alert_id, d.destination
    """, params=[now, destinations]).to_arrow_table().to_pylist()
    out = []
    for r in rows:
        dest, attempts, held = r.pop("destination"), r.pop("attempts"), r.pop("held_until")
        for k in ("due_at", "breached_at", "detected_at", "recorded_at"):
            if r.get(k) is not None:
                r[k] = r[k].astimezone(UTC)
        out.append(Due({k: r[k] for k in ALERT_COLUMNS}, dest, attempts,
                       held.astimezone(UTC) if held is not None else None))
    return out


def hold(con: duckdb.DuckDBPyConnection, alert_id: str, destination: str, until: datetime) -> None:
    """Quiet hours: the delivery waits until `until` (no attempt is counted)."""
    con.execute("UPDATE alert_deliveries SET next_attempt_at = ?, held_until = ? "
                "WHERE alert_id = ? AND destination = ?", [until, until, alert_id, destination])


def lease(con: duckdb.DuckDBPyConnection, alert_id: str, destination: str, now: datetime, retry_at: datetime) -> int:
    """Count an attempt and move the retry time before sending; returns the attempt number."""
    con.execute("UPDATE alert_deliveries SET attempts = attempts + 1, last_attempt_at = ?, next_attempt_at = ? "
                "WHERE alert_id = ? AND destination = ?", [now, retry_at, alert_id, destination])
    return con.execute("SELECT attempts FROM alert_deliveries WHERE alert_id = ? AND destination = ?",
                       [alert_id, destination]).fetchall()[0][0]


def delivered(con: duckdb.DuckDBPyConnection, alert_id: str, destination: str, now: datetime,
              note: str | None = None) -> None:
    """Delivered; an earlier attempt's error stays in last_error (unless `note` replaces it)."""
    con.execute("UPDATE alert_deliveries SET status = 'delivered', delivered_at = ?, "
                "last_error = coalesce(?, last_error) WHERE alert_id = ? AND destination = ?",
                [now, note, alert_id, destination])


def failed(con: duckdb.DuckDBPyConnection, alert_id: str, destination: str, error: str, *,
           final: bool, retry_at: datetime | None = None) -> None:
    """Record a failed attempt: for good (`final`), or to retry at `retry_at` (default:
    the time the lease set)."""
    con.execute(
        "UPDATE alert_deliveries SET last_error = ?, status = CASE WHEN ? THEN 'failed' ELSE status END, "
        "next_attempt_at = coalesce(?, next_attempt_at) WHERE alert_id = ? AND destination = ?",
        [error, final, retry_at, alert_id, destination],
    )


def pending_summary(con: duckdb.DuckDBPyConnection, destinations: list[str]) -> tuple[int, datetime | None]:
    """How many deliveries to these destinations are still pending, and when the next is due."""
    if not destinations:
        return 0, None
    n, nxt = con.execute(
        "SELECT count(*), epoch(min(next_attempt_at)) FROM alert_deliveries "
        "WHERE status = 'pending' AND list_contains(?, destination)", [destinations]
    ).fetchall()[0]
    return n, (datetime.fromtimestamp(nxt, UTC) if nxt is not None else None)
