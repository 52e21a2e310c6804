"""Metric requests on another engine than the workspace's DuckDB: the same compiled queries,
the same records, intervals and tidy table (`cxmetrics.metrics._query.run_metrics`), run
through a `SqlClient` over tables exported with `cxmetrics export tables`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from cxmetrics.engines._notimpl import NOTIMPL
from cxmetrics.engines._spark import Catalog, SparkClient, parse_conf, submitted
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
