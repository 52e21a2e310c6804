"""Business time and SLA clocks derived on Spark equal DuckDB's (issue 18).

`cxmetrics --engine spark --tables DIR refresh` derives the business-time twins
(`ticket_facts_bh`, `reply_intervals_bh`) under the schedules.toml shipped with the export, and
`sla_targets` under its sla.toml, by the workspace's own statements rendered for Spark
(cxmetrics.engines._spark_business, _spark_sla). On the 20k-ticket demo (Europe/London, two
schedules with English holidays, three SLA policies with business and calendar targets) every
column of every row must equal the workspace's; `sla status` and `scorecard` on Spark must print
what the workspace's commands print. Then a small case worked out by hand, across the March
clock change, checked on Spark.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

import cxmetrics
from cxmetrics.cli import main
from tests.spark._render_check import same_on_both
from tests.spark.conftest import DERIVED, spark_cli

TABLES = ("ticket_facts_bh", "reply_intervals_bh", "sla_targets")


def _read(tables: Path | None, table: str, keys: tuple[str, ...], con: duckdb.DuckDBPyConnection) -> Any:
    source = table if tables is None else f"read_parquet('{tables / table}/*.parquet')"
    rel = con.execute(f"SELECT * FROM {source} ORDER BY {', '.join(keys)}")
    return [d[0] for d in rel.description], [str(d[1]) for d in rel.description], rel.fetchall()


@pytest.mark.parametrize("table", TABLES)
def test_table_on_spark_equals_duckdb(table: str, demo_ws: Any, spark_built: tuple[Path, str], sla_now: str) -> None:
    tables, output = spark_built
    keys = DERIVED[table]
    d_names, d_types, duck = _read(None, table, keys, demo_ws.con)
    s_names, s_types, sparked = _read(tables, table, keys, demo_ws.con)
    assert duck, f"{table} is empty on the demo: the comparison would prove nothing"
    assert (s_names, s_types) == (d_names, d_types), f"{table}: columns differ: {list(zip(s_names, s_types))}"
    assert f"{table} {len(sparked):,}" in output, output
    assert len(sparked) == len(duck)
    at = {name: i for i, name in enumerate(d_names)}
    now = dt.datetime.fromisoformat(sla_now)
    differences: dict[str, list[str]] = {}
    for d, s in zip(duck, sparked, strict=True):
        key = tuple(d[at[k]] for k in keys)
        assert key == tuple(s[at[k]] for k in keys), f"{table}: row {key} has no twin on Spark"
        for name, i in at.items():
            a, b = d[i], s[i]
            if table == "sla_targets" and name == "evaluated_at" and d[at["completed_at"]] is not None:
                # a completed target keeps the time of the refresh that computed it: the
                # workspace's refreshes came in turn, Spark's is one, evaluated at now
                same = b == now
            elif d_types[i] == "DOUBLE" and isinstance(a, float) and isinstance(b, float):
                same = math.isclose(a, b, rel_tol=1e-9)
            else:
                same = a == b
            if not same:
                differences.setdefault(name, []).append(f"{key}: DuckDB {a!r}, Spark {b!r}")
    report = {name: f"{len(rows)} rows, e.g. {rows[:3]}" for name, rows in differences.items()}
    assert not differences, f"{table} differs on Spark in {len(report)} columns: {report}"


def test_the_compared_tables_cover_the_hard_cases(demo_ws: Any) -> None:
    """What the parity above covers: both schedules, business time that differs from calendar
    time, targets in business and calendar hours, pausing metrics, repeated cycles, every state
    an export in the past can have (open targets are breached or paused by now), and due times
    across both clock changes."""
    con = demo_ws.con
    schedules = {r[0] for r in con.execute("SELECT DISTINCT schedule FROM ticket_facts_bh").fetchall()}
    assert schedules == {"office", "extended"}
    (shorter,) = con.execute("SELECT count(*) FROM ticket_facts f JOIN ticket_facts_bh b USING (source, ticket_id) "
                             "WHERE b.frt_bh_s < f.frt_s").fetchall()[0]
    assert shorter > 1000
    states = dict(con.execute("SELECT state, count(*) FROM sla_targets GROUP BY 1").fetchall())
    assert {"achieved", "breached", "paused"} <= set(states)
    kinds = con.execute("""
        SELECT count(*) FILTER (business), count(*) FILTER (NOT business), count(*) FILTER (cycle > 1),
               count(*) FILTER (metric IN ('requester_wait', 'agent_work_time', 'pausable_update')),
               count(*) FILTER (started_at < TIMESTAMPTZ '2026-03-29 01:00Z'
                                AND due_at > TIMESTAMPTZ '2026-03-29 01:00Z'),
               count(*) FILTER (started_at < TIMESTAMPTZ '2026-10-25 01:00Z'
                                AND due_at > TIMESTAMPTZ '2026-10-25 01:00Z')
        FROM sla_targets""").fetchall()[0]
    assert all(n > 0 for n in kinds), kinds


@pytest.fixture(scope="module")
def duck_copy(spark_demo: Any, demo_ws: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo workspace, for the DuckDB commands (which refresh before they read)."""
    path = tmp_path_factory.mktemp("duck-copy") / "ws"
    shutil.copytree(spark_demo.path, path)
    return path


@pytest.mark.parametrize("args", [("sla", "status", "--by", "policy,metric"),
                                  ("sla", "status", "--by", "channel", "--format", "json"),
                                  ("scorecard",), ("scorecard", "--hours", "business", "--format", "json")],
                         ids=["sla-status-by", "sla-status-json", "scorecard", "scorecard-business-json"])
def test_command_on_spark_prints_what_duckdb_prints(args: tuple[str, ...], duck_copy: Path, spark_demo: Any,
                                                    spark: Any, spark_built: tuple[Path, str], sla_now: str) -> None:
    """Over the tables Spark derived (facts, twins, clocks), the command prints the workspace's
    answer: the table as shown, character for character; JSON's full-precision floats to 1e-9
    relative (a mean sums in another order on Spark); the SLA clocks evaluated at the same now."""
    tables, _ = spark_built
    now = ("--now", sla_now) if args[0] == "sla" else ()
    duck = CliRunner().invoke(main, ["-w", str(duck_copy), *args, *now])
    assert duck.exit_code == 0, duck.output
    sparked = spark_cli(spark, spark_demo, tables, *args, *now)
    assert sparked.exit_code == 0, (sparked.output, str(sparked.exception)[:1500])
    if "json" not in args:
        assert sparked.output == duck.output
        return
    d_rows, s_rows = json.loads(duck.output), json.loads(sparked.output)
    assert len(d_rows) > 1 and [list(r) for r in s_rows] == [list(r) for r in d_rows]
    for d, s in zip(d_rows, s_rows, strict=True):
        for name, value in d.items():
            if isinstance(value, float) and isinstance(s[name], float):
                assert math.isclose(s[name], value, rel_tol=1e-9), (d, s, name)
            else:
                assert s[name] == value, (d, s, name)


def test_only_sla_status_runs_on_spark(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--engine", "spark", "--tables", str(tmp_path), "sla", "at-risk"])
    assert result.exit_code == 2
    assert "only `sla status` runs on Spark" in result.output


# -- by hand ----------------------------------------------------------------------------------

SCHEDULES = """
default = "office"
[schedules.office]
timezone = "Europe/London"
hours = { mon-fri = ["09:00-17:00"] }
"""
POLICIES = """
[[policy]]
name = "All"
[policy.targets]
first_reply      = { urgent = "1h", default = "2h", hours = "business" }
total_resolution = { default = "72h", hours = "calendar" }
"""
# London: GMT until Sunday 29 March 2026 01:00 UTC, BST (UTC+1) after; times in the zone's clock
TICKETS = """ticket_id,created_at,channel,priority,created_by,first_reply_at,solved_at
H1,2026-03-27T17:00:00,email,normal,customer,2026-03-30T10:00:00,2026-03-30T12:00:00
H2,2026-03-30T16:30:00,email,urgent,customer,2026-03-31T10:00:00,
"""
NOW = "2026-04-01T00:00:00+00:00"


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _hand_worked_export(tmp_path: Path) -> Path:
    """H1 and H2 (below) in a London workspace with SCHEDULES and POLICIES, exported."""
    from cxmetrics.exports._tables import export_tables

    ws_path, tables = tmp_path / "ws", tmp_path / "tables"
    with cxmetrics.open(ws_path, create=True) as ws:
        ws.configure(timezone="Europe/London")
        (ws_path / "schedules.toml").write_text(SCHEDULES)
        (ws_path / "sla.toml").write_text(POLICIES)
        (tmp_path / "tickets.csv").write_text(TICKETS)
        ws.import_file("tickets", tmp_path / "tickets.csv")
        export_tables(ws, tables)
    return tables


def test_hand_worked_business_time_and_clocks_on_spark(spark: Any, spark_demo: Any, tmp_path: Path) -> None:
    """Mon-Fri 09:00-17:00 London.

    H1, created Friday 27 March 17:00 GMT (the end of the day), first reply Monday 30 March
    10:00 BST: 64 elapsed hours (230,400 s), 1 business hour (Monday 09:00-10:00); solved at
    12:00 BST: 3 business hours (10,800 s). Its first-reply target (2 business hours) fell due
    Monday 11:00 BST (10:00 UTC), achieved with 3,600 s used and 3,600 s left; total resolution
    (72 calendar hours, elapsed across the clock change) fell due Monday 17:00 UTC (18:00 BST),
    achieved at 11:00 UTC.

    H2 (urgent), created Monday 16:30 BST, first reply Tuesday 10:00 BST: 30 business minutes
    on Monday, 60 on Tuesday (5,400 s). Its 1-hour target fell due Tuesday 09:30 BST (08:30
    UTC): breached there. Still open at NOW (1 April 00:00 UTC): total resolution has run 32.5
    hours (117,000 s) of its 72 and is active, due Thursday 2 April 15:30 UTC."""
    tables = _hand_worked_export(tmp_path)
    result = spark_cli(spark, spark_demo, tables, "refresh", "--now", NOW)
    assert result.exit_code == 0, (result.output, str(result.exception)[:1500])
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")

    def rows(table: str, cols: str, order: str) -> list[tuple[Any, ...]]:
        return con.execute(f"SELECT {cols} FROM read_parquet('{tables / table}/*.parquet') ORDER BY {order}").fetchall()

    assert rows("ticket_facts", "ticket_id, frt_s", "1") == [("H1", 230_400.0), ("H2", 63_000.0)]
    assert rows("ticket_facts_bh", "ticket_id, schedule, frt_bh_s, full_resolution_bh_s", "1") == [
        ("H1", "office", 3_600.0, 10_800.0), ("H2", "office", 5_400.0, None)]
    assert rows("reply_intervals_bh", "ticket_id, seconds_bh", "1") == [("H1", 3_600.0), ("H2", 5_400.0)]
    targets = rows("sla_targets", "ticket_id, metric, business, due_at, completed_at, elapsed_s, seconds_left, state, "
                   "breached_at", "1, 2")
    assert targets == [
        ("H1", "first_reply", True, _utc("2026-03-30T10:00"), _utc("2026-03-30T09:00"), 3_600.0, 3_600.0,
         "achieved", None),
        ("H1", "total_resolution", False, _utc("2026-03-30T17:00"), _utc("2026-03-30T11:00"), 237_600.0, 21_600.0,
         "achieved", None),
        ("H2", "first_reply", True, _utc("2026-03-31T08:30"), _utc("2026-03-31T09:00"), 5_400.0, -1_800.0,
         "breached", _utc("2026-03-31T08:30")),
        ("H2", "total_resolution", False, _utc("2026-04-02T15:30"), None, 117_000.0, 142_200.0, "active", None),
    ]


def test_refresh_on_spark_without_sla_clocks(tmp_path: Path, spark: Any, spark_demo: Any) -> None:
    """`refresh --no-sla` derives the facts and their twins (H1's and H2's, as above) and
    leaves the export's sla_targets as they were, file for file."""
    tables = _hand_worked_export(tmp_path)

    def sla_files() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((tables / "sla_targets").iterdir())}

    exported = sla_files()  # (the export ran the workspace's SLA clocks: DuckDB's four rows)
    result = spark_cli(spark, spark_demo, tables, "refresh", "--no-sla")
    assert result.exit_code == 0, (result.output, str(result.exception)[:1500])
    assert "ticket_facts_bh 2" in result.output and "sla_targets" not in result.output
    con = duckdb.connect()
    assert con.execute(f"SELECT ticket_id, frt_bh_s FROM read_parquet('{tables}/ticket_facts_bh/*.parquet') "
                       "ORDER BY 1").fetchall() == [("H1", 3_600.0), ("H2", 5_400.0)]
    assert sla_files() == exported  # (a refresh with the clocks writes the folder anew: other file names)


# -- the renderer's mappings the SLA clocks needed, each on both engines -----------------------

CASES = {
    # the nearest row at or after (>=: the least), or at or before (<=: the greatest); none: NULL
    "ASOF LEFT JOIN, at or after": (
        "SELECT a.k, a.t, b.t AS bt FROM (VALUES (1, 5), (1, 10), (2, 1)) a(k, t) ASOF LEFT JOIN "
        "(VALUES (1, 4), (1, 6), (1, 7)) b(k, t) ON a.k = b.k AND b.t >= a.t ORDER BY a.k, a.t",
        [(1, 5, 6), (1, 10, None), (2, 1, None)]),
    "ASOF LEFT JOIN, at or before": (
        "SELECT a.k, a.t, b.t AS bt FROM (VALUES (1, 5), (1, 10), (2, 1)) a(k, t) ASOF LEFT JOIN "
        "(VALUES (1, 4), (1, 6), (1, 7)) b(k, t) ON a.k = b.k AND b.t <= a.t ORDER BY a.k, a.t",
        [(1, 5, 4), (1, 10, 7), (2, 1, None)]),
    # 72 elapsed hours after Friday 27 March 2026 17:00 UTC is Monday 30 March 17:00 UTC, though
    # London's clocks went forward in between (Spark's day-time interval would give 16:00 UTC)
    "microseconds added as elapsed time across a clock change": (
        "SELECT epoch_us(TIMESTAMPTZ '2026-03-27 17:00:00+00' + to_microseconds(259200000000)) AS d",
        [(int(dt.datetime(2026, 3, 30, 17, tzinfo=dt.UTC).timestamp()) * 1_000_000,)]),
    # an hour's period (compliance per hour, --grain hour): 09:30 UTC on the day London's clocks
    # go forward is 10:30 BST; the 'T' is text (Spark's pattern needs it quoted)
    "strftime with a literal letter": (
        "SELECT strftime(date_trunc('hour', TIMESTAMPTZ '2026-03-29 09:30:00+00'), '%Y-%m-%dT%H:00') AS p",
        [("2026-03-29T10:00",)]),
    "row_number() OVER () numbers 1..n": (
        "SELECT count(DISTINCT n), min(n), max(n) FROM (SELECT row_number() OVER () AS n "
        "FROM (VALUES (1), (2), (3)) t(a))", [(3, 1, 3)]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_renderer_mapping_gives_duckdb_answer_on_spark(case: str, spark: Any) -> None:
    same_on_both(spark, *CASES[case])
