"""Engines the metric queries run on, behind one small protocol (`SqlClient`: query, dry
run, close; metricflow's is the model): DuckDB, the embedded store every workspace has, and
Spark, for data that outgrows one machine (docs/spark.md).

The metric layer compiles each request once, to SQL in DuckDB's dialect; a client renders it
for its engine (`to_spark`: sqlglot, plus the mappings it lacks, in one place). Metrics
Spark cannot run yet are listed, each with its reason, in `NOTIMPL`.
"""

from __future__ import annotations

from cxmetrics.engines._duckdb import DuckDBClient
from cxmetrics.engines._notimpl import NOTIMPL
from cxmetrics.engines._protocol import SqlClient
from cxmetrics.engines._render import to_spark
from cxmetrics.engines._run import spark_conf, spark_metrics
from cxmetrics.engines._spark import DEFAULT_CONF, MANIFEST, Catalog, SparkClient, parse_conf

ENGINES = ("duckdb", "spark")

__all__ = ["DEFAULT_CONF", "ENGINES", "MANIFEST", "NOTIMPL", "Catalog", "DuckDBClient", "SparkClient", "SqlClient",
           "parse_conf", "spark_conf", "spark_metrics", "to_spark"]
