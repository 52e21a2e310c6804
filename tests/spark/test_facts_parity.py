"""The facts derived on Spark equal DuckDB's, row by row and column by column (issue 18).

`cxmetrics --engine spark --tables DIR refresh` derives ticket_facts, reply_intervals,
contacts and survey_fatigue on Spark from the exported canonical tables and writes them back
(cxmetrics.engines._spark_facts). Here, on the 20k-ticket demo (Europe/London: a clock change
inside the repeat-contact window of some tickets), every column of every row of each table must
equal the workspace's own (DuckDB) facts: exactly for counts, flags, texts and timestamps,
1e-9 relative for doubles. Then the renderer's mappings that the facts needed, each on a
tiny case, on both engines.

One SparkSession for the whole test session (conftest's); the derivation (`spark_built`, shared
with test_business_sla_parity.py) runs over a copy of the export, and the session's views go
back to the demo's export after it, so the other Spark tests keep theirs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from cxmetrics.cli import main
from cxmetrics.engines._spark import MANIFEST
from tests.spark._render_check import same_on_both
from tests.spark.conftest import DERIVED, spark_cli

KEYS = {t: DERIVED[t] for t in ("ticket_facts", "reply_intervals", "contacts", "survey_fatigue")}


def _cli(spark: Any, spark_demo: Any, tables: Path, *args: str) -> Any:
    return spark_cli(spark, spark_demo, tables, *args)


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
    rel = con.execute(query)
    names = [d[0] for d in rel.description]
    types = [str(d[1]) for d in rel.description]
    return names, types, rel.fetchall()


def _same(a: object, b: object, type_: str) -> bool:
    if type_ == "DOUBLE" and isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.mark.parametrize("table", list(KEYS))
def test_fact_table_on_spark_equals_duckdb(table: str, demo_ws: Any, spark_built: tuple[Path, str]) -> None:
    tables, output = spark_built
    keys = KEYS[table]
    order = ", ".join(keys)
    con = demo_ws.con
    d_names, d_types, duck = _rows(con, f"SELECT * FROM {table} ORDER BY {order}")
    s_names, s_types, sparked = _rows(con, f"SELECT * FROM read_parquet('{tables / table}/*.parquet') ORDER BY {order}")
    assert duck, f"{table} is empty on the demo: the comparison would prove nothing"
    assert s_names == d_names and s_types == d_types, f"{table}: columns differ: {list(zip(s_names, s_types))}"
    assert f"{table} {len(sparked):,}" in output, output
    assert len(sparked) == len(duck), f"{table}: {len(sparked)} rows on Spark, {len(duck)} on DuckDB"
    key_at = [d_names.index(k) for k in keys]
    differences: dict[str, list[str]] = {}
    for d, s in zip(duck, sparked, strict=True):
        key = tuple(d[i] for i in key_at)
        assert key == tuple(s[i] for i in key_at), f"{table}: row {key} has no twin on Spark"
        for i, name in enumerate(d_names):
            if not _same(d[i], s[i], d_types[i]):
                differences.setdefault(name, []).append(f"{key}: DuckDB {d[i]!r}, Spark {s[i]!r}")
    report = {name: f"{len(rows)} rows, e.g. {rows[:3]}" for name, rows in differences.items()}
    assert not differences, f"{table} differs on Spark in {len(report)} columns: {report}"


def test_the_compared_facts_cover_the_hard_cases(demo_ws: Any) -> None:
    """The demo exercises what the Spark rendering had to get right, so the parity above covers
    it: agent-created tickets whose opening comment is no reply, reopened and open tickets
    (reopened_at, waiting_since), a repeat contact just beyond 7 days of elapsed time across the
    October clock change (fcr), second calls on a ticket."""
    (agent_openers, reopened, waiting, calls) = demo_ws.con.execute("""
        SELECT (SELECT count(*) FROM ticket_facts WHERE created_by = 'agent' AND public_agent_replies = 0
                    AND first_reply_at IS NULL AND ticket_id IN (SELECT ticket_id FROM events WHERE kind = 'message'
                    AND actor_type = 'agent')),
               (SELECT count(*) FROM ticket_facts WHERE reopened_at IS NOT NULL),
               (SELECT count(*) FROM ticket_facts WHERE waiting_since IS NOT NULL),
               (SELECT count(*) FROM contacts WHERE kind = 'call' AND contact_no > 1)
    """).fetchall()[0]
    assert agent_openers > 0 and reopened > 0 and waiting > 0 and calls > 0
    # a customer's second ticket on a topic created between 167 and 169 hours after the first,
    # across the clock change: the calendar week and the 168 elapsed hours disagree on it
    (near,) = demo_ws.con.execute("""
        SELECT count(*) FROM ticket_facts a JOIN ticket_facts b
          ON a.source = b.source AND a.requester_id = b.requester_id AND a.topic = b.topic
        WHERE b.created_at > a.created_at + INTERVAL 167 HOUR AND b.created_at < a.created_at + INTERVAL 169 HOUR
          AND a.created_at < TIMESTAMPTZ '2026-10-25 01:00:00+00'
          AND b.created_at > TIMESTAMPTZ '2026-10-25 01:00:00+00'
    """).fetchall()[0]
    assert near > 0


# -- the renderer's mappings the facts needed, each on both engines -------------------------

CASES = {
    # DuckDB's arg_max skips rows whose value is NULL; Spark's max_by keeps them
    "arg_max skips NULL values": (
        "SELECT arg_max(a, b) AS x, arg_max_null(a, b) AS y FROM (VALUES (NULL, 2), (1, 1)) t(a, b)", [(1, None)]),
    # ... also when the value is a condition (NULL for the first row by the order: skipped)
    "arg_min of a condition": (
        "SELECT arg_min(a = 1 AND b, (c, d)) AS x FROM (VALUES (1, true, 2, 'z'), (NULL, true, 1, 'y')) t(a, b, c, d)",
        [(True,)]),
    # a named window with a frame of its own
    "named window with a frame": (
        "SELECT a, lag(a) OVER w AS p, max(a) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS m "
        "FROM (VALUES (1), (3), (2)) t(a) WINDOW w AS (ORDER BY a) ORDER BY a", [(1, None, 3), (2, 1, 3), (3, 2, 3)]),
    # 168 hours across the clock change of 2026-10-25 in London is 168 elapsed hours (DuckDB),
    # not 7 calendar days (Spark's day-time interval arithmetic)
    "RANGE frame of hours across a clock change": (
        "SELECT n, count(*) OVER (ORDER BY ts RANGE BETWEEN INTERVAL 1 MICROSECOND FOLLOWING "
        "AND INTERVAL 168 HOUR FOLLOWING) AS later FROM (VALUES (1, TIMESTAMPTZ '2026-10-23 17:36:53+00'), "
        "(2, TIMESTAMPTZ '2026-10-30 17:36:54+00')) t(n, ts) ORDER BY n", [(1, 0), (2, 0)]),
    "MATERIALIZED CTE, and UNION BY NAME inside a WITH": (
        "WITH a AS MATERIALIZED (SELECT 1 AS x, 'p' AS y), b AS (SELECT 'q' AS y, 2 AS x) "
        "SELECT x, y FROM (SELECT * FROM a UNION ALL BY NAME SELECT * FROM b) ORDER BY x", [(1, 'p'), (2, 'q')]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_renderer_mapping_gives_duckdb_answer_on_spark(case: str, spark: Any) -> None:
    same_on_both(spark, *CASES[case])


def test_hash_key_has_64_bits_on_spark(spark: Any) -> None:
    """The facts key a (ticket, stream) by hash(): 64 bits on Spark as on DuckDB (Spark's own
    hash() has 32, which would collide among tens of thousands of tickets)."""
    from cxmetrics.engines import to_spark

    sql = to_spark("SELECT hash('demo', 'T1', 'events') AS h")
    assert dict(spark.spark.sql(sql).dtypes)["h"] == "bigint"


def test_refresh_command_on_spark(spark_demo: Any, spark: Any, demo_ws: Any, spark_built: tuple[Path, str]) -> None:
    """`cxmetrics --engine spark --tables DIR refresh` wrote the facts, their twins and the SLA
    clocks back to DIR and says so; the manifest lists them as Spark's; `--engine spark metrics`
    reads them."""
    tables, output = spark_built
    assert "facts derived on Spark" in output and "ticket_facts 20,000" in output
    manifest = json.loads((tables / MANIFEST).read_text())
    assert manifest["facts"]["engine"] == "spark"
    assert set(manifest["facts"]["tables"]) == set(DERIVED) and set(DERIVED) <= set(manifest["tables"])
    with duckdb.connect() as con:
        (n,) = con.execute(f"SELECT count(*) FROM read_parquet('{tables}/reply_intervals/*.parquet')").fetchall()[0]
    assert n == manifest["rows"]["reply_intervals"] > 0
    result = _cli(spark, spark_demo, tables, "metrics", "fcr", "--format", "json")
    assert result.exit_code == 0, result.output
    sparked = [(r["value"], r["n"]) for r in json.loads(result.output)]
    assert sparked == [(r["value"], r["n"]) for r in demo_ws.metrics("fcr").table.to_pylist()]


def test_refresh_on_spark_refuses_an_export_without_events(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    tables.mkdir()
    (tables / "_cxmetrics.json").write_text('{"timezone": "UTC", "tables": ["tickets"]}')
    result = CliRunner().invoke(main, ["--engine", "spark", "--tables", str(tables), "refresh"])
    assert result.exit_code == 1
    assert "lacks events, ticket_text, survey_sends" in result.output and "cxmetrics export tables" in result.output
