"""The check behind the renderer's mapping tests: a hand-worked query answers the same on
DuckDB and, rendered by the renderer, on Spark (both in Europe/London)."""

from __future__ import annotations

from typing import Any

import duckdb


def same_on_both(spark: Any, sql: str, expected: list[tuple[Any, ...]]) -> None:
    from cxmetrics.engines import SparkClient

    con = duckdb.connect()
    con.execute("SET TimeZone = 'Europe/London'")
    assert con.execute(sql).fetchall() == expected  # the hand-worked answer is DuckDB's...
    session = spark.spark.newSession()
    session.conf.set("spark.sql.session.timeZone", "Europe/London")
    assert [tuple(r) for r in session.sql(SparkClient(session).render(sql)).collect()] == expected  # ...and Spark's
