"""The engine: materialising the calendar (idempotent, rebuilt on change), the SQL builders
(NULLs, ranges, several schedules per query, status sums, expressions), and the tables in a
workspace."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
import sqlglot
from _bt_helpers import sql_business_seconds, sql_due_times

import cxmetrics
from cxmetrics.calendar import (
    ScheduleSet,
    business_time_sql,
    calendar_range,
    data_range,
    ensure_calendar,
    schedule_sql,
    with_business_seconds,
    with_business_times,
)
from cxmetrics.errors import UserError

OFFICE = ScheduleSet.from_toml('[schedules.default]\ntimezone = "UTC"\nhours = { mon-fri = ["09:00-17:00"] }')


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_ensure_calendar_is_idempotent_and_extends_its_range() -> None:
    con = duckdb.connect()
    assert calendar_range(con) is None
    assert ensure_calendar(con, OFFICE, utc(2026, 3, 1), utc(2026, 3, 31)) is True
    # whole years, from the start's year to the year after the end's
    assert calendar_range(con) == (utc(2026, 1, 1), utc(2028, 1, 1))
    rows = con.execute("SELECT count(*) FROM business_calendar").fetchall()[0][0]
    assert rows == (365 + 365) * 96 + 1  # 2026 and 2027 in 15-minute buckets, and the row of NULLs
    assert ensure_calendar(con, OFFICE, date(2026, 1, 1), date(2027, 12, 31)) is False
    assert ensure_calendar(con, OFFICE, "2025-06-01", "2026-02-01") is True  # earlier data: extended, not replaced
    assert calendar_range(con) == (utc(2025, 1, 1), utc(2028, 1, 1))
    assert ensure_calendar(con, OFFICE, utc(2025, 1, 1), utc(2027, 12, 31, 23, 59)) is False
    changed = ScheduleSet.from_toml('[schedules.default]\ntimezone = "UTC"\nhours = { mon-fri = ["08:00-17:00"] }')
    assert ensure_calendar(con, changed, utc(2026, 3, 1), utc(2026, 3, 2)) is True  # new fingerprint: rebuilt
    assert calendar_range(con) == (utc(2026, 1, 1), utc(2028, 1, 1))
    assert con.execute("SELECT count(*) FROM business_calendar_state").fetchall()[0][0] == 1


def test_an_interrupted_build_is_rebuilt() -> None:
    con = duckdb.connect()
    ensure_calendar(con, OFFICE, utc(2026, 3, 1), utc(2026, 3, 31))
    con.execute("DELETE FROM business_calendar_state")  # as if the build died before its last step
    assert ensure_calendar(con, OFFICE, utc(2026, 3, 1), utc(2026, 3, 31)) is True
    assert sql_business_seconds(con, OFFICE, [("default", utc(2026, 3, 6, 16), utc(2026, 3, 9, 10))]) == [7200.0]


def test_ensure_calendar_refuses_a_backwards_range() -> None:
    with pytest.raises(UserError, match="ends"):
        ensure_calendar(duckdb.connect(), OFFICE, utc(2026, 3, 2), utc(2026, 3, 1))


def test_nulls_ranges_and_unknown_schedules() -> None:
    con = duckdb.connect()
    rows = [
        ("default", utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)),  # 2 h
        ("default", None, utc(2026, 3, 9, 10)),  # NULL start -> NULL
        ("default", utc(2026, 3, 6, 16), None),  # NULL end -> NULL
        ("default", utc(2026, 3, 9, 12), utc(2026, 3, 9, 10)),  # end < start -> 0
        ("nope", utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)),  # a schedule the calendar does not hold -> NULL
    ]
    assert sql_business_seconds(con, OFFICE, rows) == [7200.0, None, None, 0.0, None]
    # outside the materialised range (2026-2027) B is unknown: NULL, never a wrong number
    rel = ("SELECT 'default' AS sched, TIMESTAMPTZ '2029-03-06 16:00Z' AS a, TIMESTAMPTZ '2029-03-09 10:00Z' AS b "
           "UNION ALL SELECT 'default', TIMESTAMPTZ '2027-12-31 16:00Z', TIMESTAMPTZ '2028-01-03 10:00Z'")
    got = con.execute(f"SELECT x FROM ({with_business_seconds(rel, {'x': ('a', 'b')}, 'sched')})").fetchall()
    assert got == [(None,), (None,)]


@pytest.mark.parametrize("inline", [False, True])
def test_unknown_schedules_and_times_out_of_range_keep_their_rows(inline: bool) -> None:
    con = duckdb.connect()
    rows = [("default", utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)), ("nope", utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)),
            ("default", utc(1969, 12, 31, 23), utc(2026, 3, 9, 10)), (None, utc(2026, 3, 6, 16), utc(2026, 3, 9, 10))]
    assert sql_business_seconds(con, OFFICE, rows, inline=inline) == [7200.0, None, None, None]


def test_sql_built_for_other_schedules_fails_clearly() -> None:
    con = duckdb.connect()
    ensure_calendar(con, OFFICE, utc(2026, 1, 1), utc(2026, 12, 31))
    other = ScheduleSet.from_toml('[schedules.default]\ntimezone = "UTC"\nhours = "24/7"')
    sql = with_business_seconds("SELECT 'default' AS s, now() AS a, now() AS b", {"x": ("a", "b")}, "s",
                                schedule_set=other)
    with pytest.raises(duckdb.Error, match="built from other schedules: call cxmetrics.calendar.ensure_calendar"):
        con.execute(sql).fetchall()


def test_due_times_null_negative_and_beyond_the_calendar() -> None:
    con = duckdb.connect()
    rows = [("default", utc(2026, 3, 6, 16), 4 * 3600.0), ("default", utc(2026, 3, 6, 16), None),
            ("default", utc(2026, 3, 6, 16), -5.0), ("default", utc(2026, 3, 6, 16), 10_000 * 3600.0)]
    # 10,000 business hours at 40 h a week is ~5 years: past the end of the calendar (2028-01-01)
    assert sql_due_times(con, OFFICE, rows) == [utc(2026, 3, 9, 12), None, None, None]


def test_several_schedules_in_one_query_follow_the_rules() -> None:
    ss = ScheduleSet.from_toml("""
[schedules.default]
timezone = "Europe/Berlin"
hours = { mon-fri = ["09:00-17:00"] }
holiday_calendars = [{ country = "DE", subdiv = "BE" }]
[schedules.us]
timezone = "America/New_York"
hours = { mon-fri = ["09:00-17:00"] }
[schedules.apac]
timezone = "Asia/Kolkata"
hours = { mon-sat = ["10:00-18:30"] }
[[schedule_rules]]
schedule = "us"
when = { team = "Tier 2 US" }
[[schedule_rules]]
schedule = "apac"
when = { region = "APAC" }
""")
    con = duckdb.connect()
    con.execute("CREATE TABLE tickets (id INT, team VARCHAR, region VARCHAR, created_at TIMESTAMPTZ, solved_at TIMESTAMPTZ)")
    spans = [(utc(2026, 4, 2, 14), utc(2026, 4, 7, 8)), (utc(2026, 3, 6, 16), utc(2026, 3, 9, 22)),
             (utc(2026, 10, 30, 12), utc(2026, 11, 3, 12))]
    dims = [("Tier 1", "EMEA"), ("Tier 2 US", "EMEA"), ("Tier 1", "APAC")]
    i = 0
    for team, region in dims:
        for a, b in spans:
            con.execute("INSERT INTO tickets VALUES (?, ?, ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ)",
                        [i, team, region, a.isoformat(), b.isoformat()])
            i += 1
    ensure_calendar(con, ss, *data_range(con, "tickets", ["created_at", "solved_at"]))
    rel = f"SELECT *, {schedule_sql(ss, 't')} AS schedule FROM tickets t"
    sql = with_business_seconds(rel, {"resolution_bh_s": ("created_at", "solved_at")}, "schedule")
    got = con.execute(f"SELECT schedule, resolution_bh_s FROM ({sql}) ORDER BY id").fetchall()
    want = [(ss.schedule_for(team=t, region=r).name, ss.schedule_for(team=t, region=r).business_seconds(a, b))
            for t, r in dims for a, b in spans]
    assert got == want
    # and by hand, for the Berlin row over Easter: Thu 2 April 16:00 CEST -> Tue 7 April 10:00 CEST,
    # Good Friday and Easter Monday are holidays: Thu 16-17 + Tue 9-10 = 2 h
    assert got[0] == ("default", 7200.0)


def test_business_times_sum_over_status_intervals() -> None:
    # a ticket pending from Fri 16:00 to Mon 10:00 and again Mon 15:00 to Tue 11:00: 2 h + (2 h + 2 h) = 6 h
    con = duckdb.connect()
    ensure_calendar(con, OFFICE, utc(2026, 1, 1), utc(2026, 12, 31))
    con.execute("CREATE TABLE pending (ticket VARCHAR, sched VARCHAR, since TIMESTAMPTZ, until TIMESTAMPTZ)")
    con.execute("""INSERT INTO pending VALUES
        ('T1', 'default', '2026-03-06 16:00Z', '2026-03-09 10:00Z'),
        ('T1', 'default', '2026-03-09 15:00Z', '2026-03-10 11:00Z')""")
    sql = with_business_times("pending", {"b_since": "since", "b_until": "until"}, "sched")
    got = con.execute(f"SELECT ticket, sum(b_until - b_since) FROM ({sql}) GROUP BY ticket").fetchall()
    assert got == [("T1", 6 * 3600.0)]


def test_expressions_are_allowed_and_share_joins() -> None:
    con = duckdb.connect()
    ensure_calendar(con, OFFICE, utc(2026, 1, 1), utc(2026, 12, 31))
    rel = "SELECT 'default' AS sched, TIMESTAMPTZ '2026-03-06 16:00Z' AS a, CAST(NULL AS TIMESTAMPTZ) AS b"
    sql = business_time_sql(rel, "sched", durations={
        "open_bh": ("a", "coalesce(b, TIMESTAMPTZ '2026-03-09 10:00Z')"),  # an open ticket measured to 'now'
        "to_b": ("a", "b"),
    }, points={"b_a": "a"}, dues={"due": ("a", "2 * 3600")})
    assert sql.count("JOIN business_calendar AS") == 3  # a, coalesce(...) and b: `a` joined once for all uses
    got = con.execute(f"SELECT open_bh, to_b, epoch_us(due) FROM ({sql})").fetchall()
    assert got == [(7200.0, None, int(utc(2026, 3, 9, 10).timestamp() * 1e6))]  # Fri 16-17 + Mon 9-10


def test_bad_expressions_and_dialects_are_user_errors() -> None:
    with pytest.raises(UserError, match="is not an SQL expression"):
        with_business_seconds("t", {"x": ("a +", "b")}, "s")
    with pytest.raises(UserError, match="dialect 'oracle' is not supported"):
        with_business_seconds("t", {"x": ("a", "b")}, "s", dialect="oracle")
    with pytest.raises(UserError, match="at least one"):
        business_time_sql("t", "s")


def test_minute_boundaries_get_60_second_buckets() -> None:
    con = duckdb.connect()
    # Kathmandu is UTC+05:45, so its local quarter hours are UTC quarter hours: 15-minute buckets.
    # Mon 9 March 2026 09:00 -> 13:00 local = 03:15 -> 07:15 UTC: 09:15-12:00 + 12:30-13:00 = 3 h 15 min
    ss = ScheduleSet.from_toml('[schedules.default]\ntimezone = "Asia/Kathmandu"\n'
                               'hours = { mon-fri = ["09:15-12:00", "12:30-17:45"] }')
    got = sql_business_seconds(con, ss, [("default", utc(2026, 3, 9, 3, 15), utc(2026, 3, 9, 7, 15))])
    assert got == [3.25 * 3600]
    assert con.execute("SELECT bucket_us FROM business_schedules WHERE sid >= 0").fetchall() == [(900_000_000,)]
    # boundaries off quarter hours need 60-second buckets:
    # 09:05-12:02 (2 h 57 min) + 12:08-13:00 (52 min) = 3 h 49 min
    ss = ScheduleSet.from_toml('[schedules.default]\ntimezone = "Asia/Kathmandu"\n'
                               'hours = { mon-fri = ["09:05-12:02", "12:08-17:01"] }')
    got = sql_business_seconds(con, ss, [("default", utc(2026, 3, 9, 3, 15), utc(2026, 3, 9, 7, 15))])
    assert got == [(3 * 60 + 49) * 60.0]
    assert con.execute("SELECT bucket_us FROM business_schedules WHERE sid >= 0").fetchall() == [(60_000_000,)]


def test_spark_sql_uses_only_equi_joins() -> None:
    sql = business_time_sql("tickets", "schedule", durations={"x": ("a", "b")}, dues={"d": ("a", "3600")},
                            dialect="spark")
    tree = sqlglot.parse_one(sql, read="spark")
    assert "ASOF" not in sql.upper() and "UNIX_MICROS" in sql and "TIMESTAMP_MICROS" in sql
    for join in tree.find_all(sqlglot.exp.Join):
        assert isinstance(join.args["on"], sqlglot.exp.EQ)
    sql = business_time_sql("tickets", "schedule", durations={"x": ("a", "b")}, schedule_set=OFFICE, dialect="spark")
    joins = list(sqlglot.parse_one(sql, read="spark").find_all(sqlglot.exp.Join))
    assert [j.args.get("kind") for j in joins] == ["CROSS", "INNER", "INNER", "INNER"]  # the one-row check, then equi-joins
    assert all(isinstance(j.args["on"], sqlglot.exp.EQ) for j in joins[1:]) and "RAISE_ERROR(" in sql


def test_the_workspace_has_the_tables(tmp_path: Path) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        assert ws.schema_version >= 4
        tables = {r[0] for r in ws.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert {"business_calendar", "business_calendar_due", "business_schedules",
                "business_calendar_state"} <= tables
        ss = ScheduleSet.load(ws.path / "schedules.toml")  # none yet: 24/7 UTC
        assert sql_business_seconds(ws.con, ss, [("default", utc(2026, 3, 6, 16), utc(2026, 3, 9, 10))]) == [
            66 * 3600.0]


def test_data_range() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT TIMESTAMPTZ '2025-02-03 04:05:06.5Z' AS a, "
                "CAST(NULL AS TIMESTAMPTZ) AS b UNION ALL SELECT NULL, TIMESTAMPTZ '2026-07-08 09:10:11Z'")
    assert data_range(con, "t", ["a", "b"]) == (utc(2025, 2, 3, 4, 5, 6), utc(2026, 7, 8, 9, 10, 11))
    assert data_range(con, "SELECT * FROM t WHERE false", ["a"]) is None


def test_a_slice_of_the_calendar_answers_every_timestamp_of_its_span_as_the_whole_calendar() -> None:
    """An incremental facts refresh looks its timestamps up in a slice of the calendar
    (`calendar_slice_sql`): for every timestamp of the span, under every schedule, B must be
    what the whole calendar gives (the reference); outside the calendar's range, the row of
    key -1 (NULL) as before. The slice holds a small part of the calendar."""
    import random

    from cxmetrics.calendar._engine import calendar_slice_sql

    two = ScheduleSet.from_toml(
        '[schedules.default]\ntimezone = "UTC"\nhours = { mon-fri = ["09:00-17:00"] }\n'
        '[schedules.berlin]\ntimezone = "Europe/Berlin"\nhours = { mon-fri = ["08:30-18:00"], sat = ["10:00-14:00"] }\n')
    con = duckdb.connect()
    ensure_calendar(con, two, utc(2026, 1, 1), utc(2026, 12, 31))
    lo, hi = utc(2026, 3, 27, 13, 5), utc(2026, 3, 30, 7, 59, 59)  # across a weekend and a clock change
    rng = random.Random(3)
    span_us = int((hi - lo).total_seconds() * 1e6)
    times = [lo, hi] + [datetime.fromtimestamp((lo.timestamp() * 1e6 + rng.randrange(span_us + 1)) / 1e6, UTC)
                        for _ in range(300)]
    con.execute("CREATE TABLE t (sched VARCHAR, ts TIMESTAMPTZ)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(s, ts) for ts in times for s in ("default", "berlin")]
                    + [("default", utc(2031, 1, 1))])  # past the calendar: NULL either way
    rows = con.execute("SELECT key_base, range_start_us, range_end_us, bucket_us FROM business_schedules "
                       "WHERE key_base IS NOT NULL").fetchall()
    con.execute(f"CREATE TABLE cal_slice AS {calendar_slice_sql(int(lo.timestamp() * 1e6), int(hi.timestamp() * 1e6), rows)}")
    whole = with_business_times("t", {"b": "ts"}, "sched", schedule_set=two)
    sliced = with_business_times("t", {"b": "ts"}, "sched", schedule_set=two, calendar="cal_slice")
    want = con.execute(f"SELECT sched, ts, b FROM ({whole}) ORDER BY ALL").fetchall()
    got = con.execute(f"SELECT sched, ts, b FROM ({sliced}) ORDER BY ALL").fetchall()
    assert len(want) == 2 * len(times) + 1 and got == want
    assert want[-1][1].year == 2031 and want[-1][2] is None  # the lookup outside the calendar: key -1
    kept, total = con.execute("SELECT (SELECT count(*) FROM cal_slice), (SELECT count(*) FROM business_calendar)"
                              ).fetchall()[0]
    assert kept < total / 50
