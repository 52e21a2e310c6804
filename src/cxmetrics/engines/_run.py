"""Requests on another engine than the workspace's DuckDB: metrics, SLA compliance and the
agent scorecard, through the library's own functions (`run_metrics`, `sla.compliance`,
`scorecard`) given a `SqlClient` over tables exported with `cxmetrics export tables`
instead of the workspace's connection."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from cxmetrics.engines._notimpl import NOTIMPL
from cxmetrics.engines._spark import Catalog, SparkClient, parse_conf, read_manifest, submitted
from cxmetrics.errors import UserError
from cxmetrics.metrics._compile import check_request
from cxmetrics.metrics._query import MetricTable, run_metrics
from cxmetrics.metrics._registry import registry
from cxmetrics.settings import Settings


def spark_conf(settings: Settings | None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Spark conf of a run: the workspace's `spark_master` and `spark_conf` settings, then
    `extra` (--spark-conf) over them."""
    conf: dict[str, str] = {}
    if settings is not None:
        if not submitted():  # spark-submit's --master stands
            conf["spark.master"] = settings.spark_master
        conf.update(parse_conf([x for x in settings.spark_conf.split(",") if x.strip()]))
    conf.update(extra or {})
    return conf


def workspace_conf(workspace: Path, extra: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """`spark_conf` of the CLI: the settings of the workspace folder (when there is one) and
    --spark-conf's `key=value` items over them."""
    settings = Settings.load(workspace / "settings.toml") if (workspace / "settings.toml").exists() else None
    return spark_conf(settings, parse_conf(list(extra)))


def spark_metrics(tables: Path | Catalog, names: list[str], *, by: list[str] | None = None, grain: str | None = None,
                  where: dict[str, object] | None = None, start: date | datetime | str | None = None,
                  end: date | datetime | str | None = None, conf: Mapping[str, str] | None = None,
                  explain: bool = False) -> MetricTable:
    """`ws.metrics(...)` on Spark over the Parquet tables of `cxmetrics export tables` (in the
    export's time zone), or over a catalog database's tables (`Catalog`); `explain` gives the
    Spark SQL instead of running it."""
    reg = registry()
    refs = [reg.resolve(n) for n in names]
    by, where = list(by or []), dict(where or {})
    check_request(refs, by=by, grain=grain, where=where, start=start, end=end)  # before Spark starts
    for ref in refs:
        if ref.name in NOTIMPL:
            raise UserError(f"{ref.name} does not run on Spark yet: it {NOTIMPL[ref.name]}. Run it on the "
                            "workspace (without --engine spark).")
    client = SparkClient.over_tables(tables, conf)
    try:
        table = run_metrics(client, names, by=by, grain=grain, where=where, start=start, end=end, explain=explain)
        if explain:
            return MetricTable(table.table, tuple(client.render(sql, pretty=True) for sql in table.sql))
        return table
    finally:
        client.close()


def spark_sla_status(tables: Path, *, by: list[str] | None = None, start: date | datetime | str | None = None,
                     end: date | datetime | str | None = None, now: date | datetime | str | None = None,
                     conf: Mapping[str, str] | None = None) -> pa.Table:
    """`sla status` on Spark over an export: its `sla_targets` (as `refresh` on Spark or the
    export left them) with every open clock evaluated at `now` (default: the current time),
    then `compliance` on them, as the workspace's command refreshes and reads its table."""
    from cxmetrics.engines import _spark_business, _spark_sla
    from cxmetrics.sla import compliance
    from cxmetrics.sla._query import _groups
    from cxmetrics.sla._refresh import now_literal

    _groups(by)  # an unknown grouping, before Spark starts
    policies = _spark_sla.export_policies(tables)
    if policies is None:
        raise UserError(f"--tables {tables} has no sla.toml: export a workspace with SLA policies "
                        "(`cxmetrics export tables`) or copy its sla.toml there.")
    if "sla_targets" not in read_manifest(tables)["tables"]:
        raise UserError(f"--tables {tables} has no sla_targets: derive them with "
                        f"`cxmetrics --engine spark --tables {tables} refresh`.")
    stamp = now_literal(now)
    schedules = _spark_business.export_schedules(tables)
    client = SparkClient.over_tables(tables, conf)
    try:
        if _spark_business.needs_calendar(schedules):
            _spark_business.register_calendar(client, schedules, until=stamp)
        _spark_sla.evaluate_open(client, policies, schedules, stamp)
        return compliance(client, by=by, start=start, end=end)
    finally:
        client.close()


def spark_scorecard(tables: Path, *, start: date | datetime | str | None = None,
                    end: date | datetime | str | None = None, where: dict[str, object] | None = None,
                    min_n: int | None = None, rank_by: str = "csat", hours: str = "calendar",
                    conf: Mapping[str, str] | None = None) -> pa.Table:
    """`ws.scorecard(...)` on Spark over an export (`cxmetrics.metrics._scorecard.scorecard`
    given a client: the same metrics by assignee, the same ranking)."""
    from cxmetrics.metrics._scorecard import scorecard

    client = SparkClient.over_tables(tables, conf)
    try:
        return scorecard(client, start=start, end=end, where=where, min_n=min_n, rank_by=rank_by, hours=hours)
    finally:
        client.close()
