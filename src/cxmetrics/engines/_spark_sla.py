"""The SLA clocks on Spark: `sla_targets` derived from the facts and events of an export,
under the `sla.toml` (and `schedules.toml`) that `cxmetrics export tables` ships beside the
tables, with every open clock evaluated at `now`.

No SLA rule is written here: each step is the statement of `cxmetrics.sla._clocks` that the
workspace's full SLA refresh runs (`cxmetrics.sla._refresh`, in its order), rendered by
`to_spark`, and business time is `BusinessTime`'s own SQL (`spans_query`, `dues_query`,
`runs_query`) over the calendar `_spark_business` materialises. Only the bookkeeping of the
incremental path is left out (`sla_tickets`' fingerprints, `sla_imports`, `sla_meta`): a
refresh on Spark always recomputes every ticket.

The work partitions by ticket, as the facts' does: every window is over one ticket's events,
statuses or cycles, and every join is on the ticket's keys or a cycle's key (`tkey`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from cxmetrics.calendar import ScheduleSet
from cxmetrics.engines._spark import CONFIG, SparkClient
from cxmetrics.sla import _clocks as q
from cxmetrics.sla._business import BusinessTime
from cxmetrics.sla._policy import POLICY_FILE, SlaMetric, SlaPolicies


def export_policies(tables: Path) -> SlaPolicies | None:
    """The SLA policies shipped with an export (its `sla.toml`), or None: no SLA clocks."""
    path = tables / CONFIG / POLICY_FILE
    return SlaPolicies.load(path) if path.is_file() else None


def derive_sla(client: SparkClient, policies: SlaPolicies, schedules: ScheduleSet, now: str,
               schema: list[tuple[str, str]]) -> Any:
    """`sla_targets` of every ticket of the `ticket_facts` view, evaluated at `now` (ISO text,
    as `cxmetrics.sla._refresh.now_literal` gives it), as a DataFrame; `schema` is the table's
    declared columns. Needs the calendar views (`_spark_business.register_calendar`) when a
    business-hours target's schedule is not 24/7."""
    from cxmetrics.engines._spark_facts import _view

    bt = BusinessTime(schedules, policies)
    _now_view(client, now)
    _config_view(client, policies)
    _view(client, "_sla_scope", "CREATE TEMP TABLE _sla_scope AS SELECT source, ticket_id FROM ticket_facts")
    # `_refresh._derive`, step by step; every temp table is kept: `cycles` numbers its rows
    # in no particular order, and later steps join on that number
    _view(client, "_sla_tk", q.ticket_rows(policies, bt.ticket_schedule_sql("f")), keep=True)
    _view(client, "_sla_tt", q.ticket_targets(), keep=True)
    bt.check_names(_schedules(client, "_sla_tt"))
    used = sorted({t.metric for p in policies.policies for t in p.targets}, key=list(SlaMetric).index)
    _view(client, "_sla_ev", q.clock_events(), keep=True)
    _view(client, "_sla_iv", q.status_intervals(), keep=True)
    _view(client, "_sla_cyc", q.cycles(used), keep=True)
    _view(client, "_sla_spans_raw", q.spans(), keep=True)
    _view(client, "_sla_spans", q.measured_spans(bt.spans_query(_schedules(client, "_sla_spans_raw"))), keep=True)
    _inside(client, bt, "_sla_spans", "business AND span_to IS NOT NULL AND dur IS NULL")
    _view(client, "_sla_new_raw", q.new_targets(), keep=True)
    _view(client, "_sla_new", q.due_times(bt.dues_query(_schedules(client, "_sla_new_raw"))), keep=True)
    _inside(client, bt, "_sla_new", "business AND due_from IS NOT NULL AND due_at IS NULL")
    _view(client, "sla_targets", q.insert_targets(), schema=schema, keep=True)
    return evaluate_open(client, policies, schedules, now)


def evaluate_open(client: SparkClient, policies: SlaPolicies, schedules: ScheduleSet, now: str) -> Any:
    """The `sla_targets` view with every target not completed evaluated at `now`: elapsed and
    remaining time, state (`refresh_sla`'s last step, which is all it does when no ticket
    changed). Needs the calendar views as `derive_sla` does."""
    from cxmetrics.engines._spark_facts import _view

    bt = BusinessTime(schedules, policies)
    _now_view(client, now)
    _view(client, "_sla_open_raw", q.open_raw(), keep=True)
    _view(client, "_sla_open", q.open_targets(bt.runs_query(_schedules(client, "_sla_open_raw"))), keep=True)
    _inside(client, bt, "_sla_open", "business AND _running_since IS NOT NULL AND run_s IS NULL")
    return _view(client, "sla_targets", q.evaluate(), keep=True)


def _now_view(client: SparkClient, now: str) -> None:
    """`_sla_now`, which `refresh_sla` makes from a parameter: the same cast of the same text."""
    from cxmetrics.engines._spark_facts import _view

    _view(client, "_sla_now", f"CREATE TEMP TABLE _sla_now AS SELECT CAST({q.lit(now)} AS TIMESTAMPTZ) AS now",
          keep=True)


def _schedules(client: SparkClient, table: str) -> list[str]:
    """The schedules the business rows of `table` use (`BusinessTime._used` on Spark)."""
    sql = client.render(f"SELECT DISTINCT schedule FROM {table} WHERE business")
    return [r[0] for r in client.spark.sql(sql).collect()]


def _inside(client: SparkClient, bt: BusinessTime, table: str, where: str) -> None:
    """`BusinessTime.verify` on Spark: no clock may fall outside the calendar."""
    bt.check_inside(client.spark.sql(client.render(f"SELECT count(*) FROM {table} WHERE {where}")).collect()[0][0])


def _config_view(client: SparkClient, policies: SlaPolicies) -> None:
    """`_sla_cfg`, the targets per policy, metric and priority: `config_rows`' DDL and rows,
    made in an in-memory DuckDB (the types as the workspace's) and handed to Spark."""
    ddl, rows = q.config_rows(policies)
    con = duckdb.connect()
    try:
        con.execute(ddl)
        if rows:
            con.executemany("INSERT INTO _sla_cfg VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        data = con.sql("SELECT * FROM _sla_cfg").to_arrow_table()
    finally:
        con.close()
    client.spark.createDataFrame(data).createOrReplaceTempView("_sla_cfg")
