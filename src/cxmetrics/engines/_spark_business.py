"""Business time on Spark: the calendar B(t) is looked up in, and the business-time twins
(`ticket_facts_bh`, `reply_intervals_bh`).

The calendar is materialised on the driver by the very code that fills the workspace's
(`cxmetrics.calendar.ensure_calendar`, into an in-memory DuckDB) from the `schedules.toml`
that `cxmetrics export tables` ships beside the tables, over the range of the exported
events and `now`, and handed to Spark as four small temporary views (about 35,000 rows per
schedule and year). The definition travels rather than the workspace's calendar rows
because the rows only cover the range the workspace needed when it last refreshed: an
export whose events are appended to on the cluster (a lakehouse's) gets a calendar that
covers what Spark reads, and the schedule rules and names the SQL needs come from that
file anyway. Holidays of `holiday_calendars` come from the `holidays` package on the driver,
as in the workspace: the same version gives the same calendar.

The twins are `cxmetrics.facts._business`'s statements, rendered (`to_spark`), over the
views of the facts derivation (`_fx_tk`, `events`, `_fx_replies`, `ticket_facts`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from cxmetrics.calendar import SCHEDULES_FILE, ScheduleSet, ensure_calendar
from cxmetrics.engines._spark import CONFIG, SparkClient
from cxmetrics.facts import _business

#: the calendar's tables (`cxmetrics.calendar._materialise`), as views of the session
CALENDAR_TABLES = ("business_calendar", "business_calendar_due", "business_schedules", "business_calendar_state")


def export_schedules(tables: Path) -> ScheduleSet:
    """The schedules shipped with an export (its `schedules.toml`); without one, a single 24/7
    schedule, as a workspace without the file has."""
    path = tables / CONFIG / SCHEDULES_FILE
    return ScheduleSet.load(path) if path.is_file() else ScheduleSet.all_hours()


def needs_calendar(schedules: ScheduleSet) -> bool:
    """Whether B(t) must be looked up: some schedule is not 24/7 (else B(t) = t)."""
    return not all(s.is_always for s in schedules.schedules)


def register_calendar(client: SparkClient, schedules: ScheduleSet, until: str | None = None) -> None:
    """The business calendar over the exported events and tickets (and `until`, an instant
    in ISO text: the SLA clocks' now), as temporary views of `client`'s session."""
    bounds = "SELECT min(epoch_us(ts)) AS lo, max(epoch_us(ts)) AS hi FROM (" \
             "SELECT ts FROM events UNION ALL SELECT created_at AS ts FROM tickets)"
    lo, hi = client.spark.sql(client.render(bounds)).collect()[0]
    points = [datetime.fromtimestamp(us // 1_000_000, UTC) for us in (lo, hi) if us is not None]
    if until is not None:
        points.append(datetime.fromisoformat(until))
    if not points:
        points = [datetime.now(UTC)]
    points = [p if p.tzinfo is not None else p.replace(tzinfo=UTC) for p in points]
    con = duckdb.connect()
    try:
        ensure_calendar(con, schedules, min(points), max(points))
        for name in CALENDAR_TABLES:
            rows = con.sql(f"SELECT * FROM {name}").to_arrow_table()
            client.spark.createDataFrame(rows).createOrReplaceTempView(name)
    finally:
        con.close()


def derive_twins(client: SparkClient, schedules: ScheduleSet, key: str) -> dict[str, Any]:
    """`_bh_new` and `_bh_replies`, the rows of the twins of every ticket, as the workspace's
    full refresh computes them (`_business.refresh_business`, `scoped=False`); `key` is the
    (ticket, stream) key `_fx_tk._k` was derived with. Needs `register_calendar` first
    unless every schedule is 24/7."""
    from cxmetrics.engines._spark_facts import _view

    if not needs_calendar(schedules):
        new, replies = _business.calendar_copies(schedules, scoped=False)
        return {"ticket_facts_bh": _view(client, "_bh_new", new, keep=True),
                "reply_intervals_bh": _view(client, "_bh_replies", replies)}
    _view(client, "_bh_tk", _business.ticket_view(schedules))
    _view(client, "_bh_st", _business.status_sums(False, key, schedules), keep=True)
    new = _view(client, "_bh_new", _business.ticket_twins(schedules), keep=True)  # (the replies join it)
    replies = _view(client, "_bh_replies", _business.reply_twins(schedules))
    return {"ticket_facts_bh": new, "reply_intervals_bh": replies}
