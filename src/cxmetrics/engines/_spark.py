"""The Spark client: a SparkSession behind the `SqlClient` protocol, over tables exported as
Parquet (`cxmetrics export tables DIR`), each registered as a temporary view of its name.

The session is `local[*]` unless the workspace's `spark_master` setting or `--spark-conf
spark.master=...` says otherwise; under `spark-submit` (a cluster, Databricks, EMR) the
session the launcher made is used as it is. Spark never downloads anything here: only the
jars PySpark bundles are used (no `spark.jars.packages`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxmetrics.engines._render import to_spark
from cxmetrics.errors import MissingDependencyError, StoreError, UserError

#: what every session gets unless the caller's conf says otherwise: no web UI, few shuffle
#: partitions (metric answers are small), and Arrow for results
DEFAULT_CONF: dict[str, str] = {
    "spark.master": "local[*]",
    "spark.app.name": "cxmetrics",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.ansi.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "ERROR",
}
#: written by `cxmetrics export tables` beside the tables: what a run over them needs to know
MANIFEST = "_cxmetrics.json"


def parse_conf(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`key=value` items (from --spark-conf, or the spark_conf setting split at commas) as a dict.

    >>> parse_conf(["spark.master=local[2]", "spark.sql.shuffle.partitions = 4"])
    {'spark.master': 'local[2]', 'spark.sql.shuffle.partitions': '4'}
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"Spark setting '{item}' is not key=value, e.g. spark.master=local[2].")
        out[key.strip()] = value.strip()
    return out


def _pyspark() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise MissingDependencyError("the Spark engine needs PySpark, which cxmetrics does not install by default: "
                                     "pip install 'cxmetrics[spark]' (and Java 17 or newer).") from None
    return SparkSession


def submitted() -> bool:
    """Whether spark-submit (or a notebook's JVM) launched this Python: its master and conf stand."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def session(conf: Mapping[str, str], timezone: str) -> Any:
    """A SparkSession with `conf` over DEFAULT_CONF, its session time zone the workspace's
    (periods are bucketed on its clock, as DuckDB's are)."""
    builder = _pyspark().builder
    defaults = {k: v for k, v in DEFAULT_CONF.items() if not (submitted() and k == "spark.master")}
    for key, value in {**defaults, **conf, "spark.sql.session.timeZone": timezone}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # no java, a bad master...: PySpark raises plain exceptions
        raise UserError(f"Spark did not start ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                        "it needs Java 17 or newer on PATH (or JAVA_HOME) and a valid spark.master.") from None
    # an existing session (spark-submit's) keeps its conf; the zone is ours all the same
    spark.conf.set("spark.sql.session.timeZone", timezone)
    return spark


def read_manifest(tables: Path) -> dict[str, Any]:
    """The export's manifest (its time zone and tables); a folder without one is refused."""
    path = tables / MANIFEST
    if not path.is_file():
        raise UserError(f"--tables {tables} is not a cxmetrics tables export (no {MANIFEST}): write one with "
                        f"`cxmetrics export tables {tables}`.")
    return dict(json.loads(path.read_text(encoding="utf-8")))


class SparkClient:
    """`SqlClient` over a SparkSession; `query` renders cxmetrics' SQL for Spark (`to_spark`)."""

    name = "spark"

    def __init__(self, spark: Any, *, owns: bool = False) -> None:
        self.spark = spark
        self._owns = owns

    @classmethod
    def over_tables(cls, tables: Path, conf: Mapping[str, str] | None = None,
                    timezone: str | None = None) -> SparkClient:
        """A client over an export's Parquet tables, in the export's time zone unless `timezone`."""
        manifest = read_manifest(tables)
        # a session that was running already (spark-submit's, a notebook's) is the caller's to stop
        running = _pyspark().getActiveSession() is not None
        client = cls(session(conf or {}, timezone or str(manifest["timezone"])), owns=not running)
        client.register_parquet(tables, list(manifest["tables"]))
        return client

    def register_parquet(self, tables: Path, names: list[str]) -> None:
        """Each table's folder of Parquet files as a temporary view of its name."""
        for name in names:
            self.spark.read.parquet(str(tables / name)).createOrReplaceTempView(name)

    def columns_of(self, spark_sql: str) -> list[str]:
        """The columns a (Spark) query returns: analysed, not run."""
        with _spark_errors():
            return list(self.spark.sql(spark_sql).columns)

    def render(self, sql: str, *, pretty: bool = False) -> str:
        """`sql` (DuckDB dialect) as the Spark SQL this client runs."""
        return to_spark(sql, self.columns_of, pretty=pretty)

    def query(self, sql: str) -> pa.Table:
        """The rows of `sql` (DuckDB dialect), run on Spark, as an Arrow table."""
        rendered = self.render(sql)
        with _spark_errors():
            table = self.spark.sql(rendered).toArrow()
        return _like_duckdb(table)

    def dry_run(self, sql: str) -> None:
        """Analyse `sql` on Spark without running it (unknown tables, columns or functions raise)."""
        rendered = self.render(sql)
        with _spark_errors():
            self.spark.sql(rendered).schema  # noqa: B018 - analysis happens on access

    def close(self) -> None:
        """Stop the session if this client started it."""
        if self._owns:
            self.spark.stop()


@contextmanager
def _spark_errors() -> Iterator[None]:
    """Spark's errors as StoreError (the engine's own words, first line: its error class and
    message), as duckdb.Error is on the workspace's engine."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"Spark: {first}") from exc


def _like_duckdb(table: pa.Table) -> pa.Table:
    """Spark's answer typed as DuckDB's for the same query: Spark keeps DECIMAL through avg()
    and stddev() of a DECIMAL column where DuckDB answers DOUBLE, and the metric layer does
    arithmetic in floats on them."""
    fields = [pa.field(f.name, pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields)) if fields != list(table.schema) else table
