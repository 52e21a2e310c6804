"""`cxmetrics --engine spark --catalog DB`: the tables read by name from a database of the
Spark session's catalog (issue 18) give the answers the Parquet folder they were saved from
gives.

The tables are saved with `saveAsTable` into a database whose location is under the test's
tmp_path (a temporary warehouse: `spark.sql.warehouse.dir` is fixed when the JVM starts, and
the run shares one JVM, so the database names its own LOCATION). The session's catalog is
Spark's in-memory one; a Hive metastore, Delta or Iceberg catalog is read the same way, by
`SHOW TABLES IN DB` and `spark.table('DB.name')`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cxmetrics.cli import main
from cxmetrics.engines import Catalog, SparkClient
from cxmetrics.engines._spark import read_manifest
from cxmetrics.errors import UserError

from ._small import small_demo

DB = "cx_support"
ASKED = ["metrics", "tickets,fcr,frt_p90,csat,nps,sla_compliance,backlog", "--by", "channel", "--grain", "month",
         "--format", "json"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return small_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def catalog(demo: tuple[Path, Path], spark_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The export's tables saved as tables of the database DB (a temporary warehouse)."""
    _, tables = demo
    warehouse = tmp_path_factory.mktemp("warehouse")
    spark = spark_session.newSession()
    spark.sql(f"CREATE DATABASE {DB} LOCATION '{warehouse / (DB + '.db')}'")
    for name in read_manifest(tables)["tables"]:
        spark.read.parquet(str(tables / name)).write.saveAsTable(f"{DB}.{name}")
    spark.sql(f"CREATE DATABASE cx_empty LOCATION '{warehouse / 'cx_empty.db'}'")
    yield DB
    spark.sql(f"DROP DATABASE {DB} CASCADE")
    spark.sql("DROP DATABASE cx_empty CASCADE")


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_metrics_from_the_catalog_equal_those_from_the_parquet_folder(demo: tuple[Path, Path], catalog: str) -> None:
    ws, tables = demo
    from_catalog = run("-w", str(ws), "--engine", "spark", "--catalog", catalog, *ASKED)
    from_folder = run("-w", str(ws), "--engine", "spark", "--tables", str(tables), *ASKED)
    on_duckdb = run("-w", str(ws), *ASKED)
    assert {r["metric"] for r in from_catalog} == set(ASKED[1].split(","))
    assert from_catalog == from_folder
    # and what the workspace answers (counts exactly; the rest as tests/spark/test_parity.py allows)
    assert [(r["metric"], r["channel"], r["period"], r["n"]) for r in from_catalog] == \
        [(r["metric"], r["channel"], r["period"], r["n"]) for r in on_duckdb]
    for s, d in zip(from_catalog, on_duckdb, strict=True):
        assert s["value"] == pytest.approx(d["value"], rel=1e-9, nan_ok=True) or s["value"] == d["value"]


def test_the_time_zone_is_the_workspace_s_or_the_one_given(demo: tuple[Path, Path], catalog: str,
                                                           tmp_path: Path) -> None:
    """A catalog has no manifest: hours are read on the workspace's clock (Europe/London, as
    the workspace answers), or on the one --spark-conf gives (UTC: summer tickets an hour
    earlier)."""
    ws, _ = demo
    asked = ["metrics", "tickets", "--by", "hour_of_day", "--format", "json"]
    london = run("-w", str(ws), "--engine", "spark", "--catalog", catalog, *asked)
    utc = run("-w", str(tmp_path / "none"), "--engine", "spark", "--catalog", catalog,
              "--spark-conf", "spark.sql.session.timeZone=UTC", *asked)
    assert london == run("-w", str(ws), *asked)
    assert sum(r["value"] for r in london) == sum(r["value"] for r in utc)  # every ticket, at some hour
    assert {r["hour_of_day"]: r["value"] for r in london} != {r["hour_of_day"]: r["value"] for r in utc}


def test_an_unknown_or_empty_database_says_what_to_do(catalog: str, spark_session: Any) -> None:
    with pytest.raises(UserError, match="no database 'cx_nowhere'.*SHOW DATABASES"):
        SparkClient.over_tables(Catalog("cx_nowhere", "UTC"))
    with pytest.raises(UserError, match="cx_empty has no ticket_facts table.*saveAsTable"):
        SparkClient.over_tables(Catalog("cx_empty", "UTC"))


def test_the_cli_says_where_the_tables_come_from(demo: tuple[Path, Path]) -> None:
    ws, tables = demo
    both = CliRunner().invoke(main, ["-w", str(ws), "--engine", "spark", "--tables", str(tables), "--catalog", DB,
                                     "metrics", "fcr"])
    assert both.exit_code == 2 and "one of the two" in both.output
    alone = CliRunner().invoke(main, ["-w", str(ws), "--catalog", DB, "metrics", "fcr"])
    assert alone.exit_code == 2 and "--engine spark" in alone.output
    refresh = CliRunner().invoke(main, ["-w", str(ws), "--engine", "spark", "--catalog", DB, "refresh"])
    assert refresh.exit_code == 2 and "writes the facts as Parquet into --tables" in refresh.output
