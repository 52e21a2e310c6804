"""Shared helpers of the business-time tests: run the SQL engine on rows of Python values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from cxmetrics.calendar import ScheduleSet, ensure_calendar, with_business_seconds, with_due_times


def epoch_us(t: datetime) -> int:
    d = t - datetime(1970, 1, 1, tzinfo=UTC)
    return (d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds


def from_us(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def _run(con: duckdb.DuckDBPyConnection, columns: dict[str, list], sql: str) -> list[tuple]:
    con.register("_bt_rows", pa.table(columns))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.unregister("_bt_rows")


def sql_business_seconds(con: duckdb.DuckDBPyConnection, ss: ScheduleSet,
                         rows: list[tuple[str, datetime | None, datetime | None]], *,
                         inline: bool = False) -> list[float | None]:
    """Business seconds of (schedule, start, end) rows through ensure_calendar + with_business_seconds
    (with the schedule names numbered in the SQL when `inline`)."""
    times = [t for _, a, b in rows for t in (a, b) if t is not None]
    ensure_calendar(con, ss, min(times), max(times))
    columns = {
        "i": list(range(len(rows))), "sched": [r[0] for r in rows],
        "s_us": pa.array([None if r[1] is None else epoch_us(r[1]) for r in rows], pa.int64()),
        "e_us": pa.array([None if r[2] is None else epoch_us(r[2]) for r in rows], pa.int64()),
    }
    rel = "SELECT i, sched, make_timestamptz(s_us) AS s, make_timestamptz(e_us) AS e FROM _bt_rows"
    sql = with_business_seconds(rel, {"bh": ("s", "e")}, "sched", schedule_set=ss if inline else None)
    return [r[0] for r in _run(con, columns, f"SELECT bh FROM ({sql}) ORDER BY i")]


def sql_due_times(con: duckdb.DuckDBPyConnection, ss: ScheduleSet,
                  rows: list[tuple[str, datetime, float | None]], *, inline: bool = False) -> list[datetime | None]:
    """Due times of (schedule, start, seconds) rows through with_due_times."""
    ensure_calendar(con, ss, min(r[1] for r in rows), max(r[1] for r in rows))
    columns = {
        "i": list(range(len(rows))), "sched": [r[0] for r in rows],
        "s_us": pa.array([epoch_us(r[1]) for r in rows], pa.int64()),
        "n": pa.array([r[2] for r in rows], pa.float64()),
    }
    rel = "SELECT i, sched, make_timestamptz(s_us) AS s, n FROM _bt_rows"
    sql = with_due_times(rel, {"due": ("s", "n")}, "sched", schedule_set=ss if inline else None)
    out = _run(con, columns, f"SELECT epoch_us(due) FROM ({sql}) ORDER BY i")
    return [None if r[0] is None else from_us(r[0]) for r in out]
