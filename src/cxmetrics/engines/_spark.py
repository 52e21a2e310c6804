"""The Spark client: a SparkSession behind the `SqlClient` protocol, over tables exported as
Parquet (`cxmetrics export tables DIR`) or held by a database of the session's catalog
(`Catalog`: Hive, Delta, Iceberg tables by name), each registered as a temporary view of its
name, in a session of cxmetrics' own (a caller's running session keeps its views and zone).

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
from dataclasses import dataclass
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
#: the folder of an export that holds the workspace's configuration files (exports._tables)
CONFIG = "_config"


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


def session(conf: Mapping[str, str], timezone: str | None) -> Any:
    """A SparkSession with `conf` over DEFAULT_CONF, its session time zone the workspace's
    (periods are bucketed on its clock, as DuckDB's are; None: the session's own)."""
    builder = _pyspark().builder
    # under spark-submit (or a notebook's launcher) its master and `--conf` stand: our defaults
    # only fill in the SQL settings it left out, once its session is there
    defaults = {} if submitted() else DEFAULT_CONF
    zone = {"spark.sql.session.timeZone": timezone} if timezone else {}
    for key, value in {**defaults, **conf, **zone}.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # no java, a bad master...: PySpark raises plain exceptions
        raise UserError(f"Spark did not start ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                        "it needs Java 17 or newer on PATH (or JAVA_HOME) and a valid spark.master.") from None
    if submitted():
        launched = spark.sparkContext.getConf()
        for key, value in DEFAULT_CONF.items():
            if key.startswith("spark.sql.") and key not in conf and not launched.contains(key):
                spark.conf.set(key, value)
    # an existing session (spark-submit's) keeps its conf; the zone is ours all the same
    if timezone:
        spark.conf.set("spark.sql.session.timeZone", timezone)
    return spark


@dataclass(frozen=True)
class Catalog:
    """The tables of a database in the Spark session's catalog (`--catalog DB`), read by
    name: a Hive metastore's, Unity's or Glue's, a Delta or Iceberg catalog's (`cat.db`).
    `timezone`: the workspace's, which periods are bucketed in (None: the session's own,
    `spark.sql.session.timeZone`); a catalog has no manifest to say it."""

    database: str
    timezone: str | None = None


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
    def over_tables(cls, tables: Path | Catalog, conf: Mapping[str, str] | None = None,
                    timezone: str | None = None) -> SparkClient:
        """A client over an export's Parquet tables (in the export's time zone unless
        `timezone`), or over a catalog database's tables (`Catalog`)."""
        conf = dict(conf or {})
        if isinstance(tables, Catalog):
            zone = timezone or tables.timezone or conf.get("spark.sql.session.timeZone")
        else:
            manifest = read_manifest(tables)
            zone = timezone or str(manifest["timezone"])
        running = _pyspark().getActiveSession()
        if running is None:
            spark = session(conf, zone)
        else:
            # a running session (spark-submit's, a notebook's) is the caller's: to stop, and to
            # keep its temporary views, zone and settings; ours is a new session on its context
            spark = running.newSession()
            zoned = {"spark.sql.session.timeZone": zone} if zone else {}
            for key, value in {**DEFAULT_CONF, **conf, **zoned}.items():
                if spark.conf.isModifiable(key):
                    spark.conf.set(key, value)
        client = cls(spark, owns=running is None)
        if isinstance(tables, Catalog):
            client.register_catalog(tables.database)
        else:
            client.register_parquet(tables, list(manifest["tables"]))
        return client

    def register_parquet(self, tables: Path, names: list[str]) -> None:
        """Each table's folder of Parquet files as a temporary view of its name."""
        for name in names:
            self.spark.read.parquet(str(tables / name)).createOrReplaceTempView(name)

    def register_catalog(self, database: str) -> list[str]:
        """Each table of `database` that the metric layer reads as a temporary view of its
        name (the compiled queries name tables unqualified); returns their names."""
        from cxmetrics.exports._tables import metric_tables  # (it reads MANIFEST from here)

        quoted = ".".join(f"`{part.replace('`', '``')}`" for part in database.split("."))
        try:
            with _spark_errors():
                rows = self.spark.sql(f"SHOW TABLES IN {quoted}").collect()
        except StoreError as exc:
            if "NOT_FOUND" not in str(exc):
                raise
            raise UserError(f"--catalog {database}: the Spark session's catalog has no database '{database}' "
                            f"({exc}). List them with SHOW DATABASES; a Hive metastore needs --spark-conf "
                            "spark.sql.catalogImplementation=hive (docs/spark.md).") from None
        present = {r["tableName"] for r in rows if not r["isTemporary"]}
        names = sorted(present & set(metric_tables()))
        if "ticket_facts" not in names:
            raise UserError(f"--catalog {database} has no ticket_facts table (it has "
                            f"{', '.join(sorted(present)) or 'no tables'}): write the tables of `cxmetrics export "
                            "tables DIR` into it, e.g. with saveAsTable (docs/spark.md, \"A Spark catalog as the "
                            "source\").")
        for name in names:
            with _spark_errors():
                self.spark.table(f"{quoted}.`{name}`").createOrReplaceTempView(name)
        return names

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
