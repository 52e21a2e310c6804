"""Real data nobody here wrote: the Anonymous Bank call centre, February 1999 (33,344
calls; docs/data.md says where to get it). Imported as flat tickets, the
Wednesday arrivals per hour must reproduce the published answer (T. W. Miller, Modeling
Techniques in Predictive Analytics, 2015, ch. 6) exactly."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from realdata._data import data_file, needs

DATA = data_file("anonymous_bank_callcenter_feb1999", "data_anonymous_bank_february.txt")
# without the data the tests are skipped, saying where it was looked for and how to get it
pytestmark = needs(DATA)

# Wednesdays (4 in Feb 1999), PHANTOM calls and negative VRU times dropped: calls per hour / 4
PUBLISHED = [6.75, 1.75, 1.25, 0, 0.5, 0.25, 4.75, 39.5, 97.25, 107.5, 124, 110.25, 95.5, 203.5, 115.75, 115.5,
             67.75, 75, 88.75, 85.5, 68, 61.5, 57.5, 44.25]



def flat_tickets(out: Path) -> Path:
    """The calls as flat tickets: arrival = date + vru_entry (local time), answered at
    ser_start, done at ser_exit (a time before the arrival's is the next day). PHANTOM
    (ghost) calls are spam, so the engine leaves them out; calls with a negative VRU time
    are dropped as the book does. The raw file keeps its quirks: tabs and CRLF."""
    ts = "strptime(date || ' ' || {col}, '%y%m%d %H:%M:%S') + CASE WHEN CAST({col} AS TIME) < vru_entry_t THEN INTERVAL 1 DAY ELSE INTERVAL 0 DAY END"
    con = duckdb.connect()
    con.execute(f"""
        COPY (
          SELECT "vru+line" || '-' || call_id AS ticket_id,
                 strftime(strptime(date || ' ' || vru_entry, '%y%m%d %H:%M:%S'), '%Y-%m-%dT%H:%M:%S') AS created_at,
                 'phone' AS channel,
                 CASE outcome WHEN 'PHANTOM' THEN 'spam' WHEN 'AGENT' THEN 'solved' ELSE 'closed' END AS status,
                 CASE WHEN customer_id <> '0' THEN customer_id END AS requester_id,
                 CASE WHEN server <> 'NO_SERVER' THEN server END AS assignee_id,
                 CASE WHEN outcome = 'AGENT' THEN strftime({ts.format(col='ser_start')}, '%Y-%m-%dT%H:%M:%S') END AS first_reply_at,
                 CASE WHEN outcome = 'AGENT' THEN strftime({ts.format(col='ser_exit')}, '%Y-%m-%dT%H:%M:%S') END AS solved_at,
                 CASE WHEN outcome = 'AGENT' THEN ser_time END AS handle_seconds,
                 type AS topic
          FROM (SELECT *, CAST(vru_entry AS TIME) AS vru_entry_t FROM read_csv('{DATA}', delim = '\t', header = true, all_varchar = true))
          WHERE CAST(vru_time AS INTEGER) >= 0
        ) TO '{out}' (HEADER, DELIMITER ',')
    """)
    return out


def test_wednesday_arrivals_per_hour_match_the_published_answer(ws, tmp_path):
    s = ws.import_file("tickets", flat_tickets(tmp_path / "bank.csv"))
    assert s.read == s.inserted and s.quarantined == 0  # 33,344 calls less the 25 negative VRU times
    assert s.read == 33_344 - 25
    rows = ws.metrics(["tickets"], by=["weekday", "hour_of_day"], where={"channel": "phone"}).to_pylist()
    per_hour = {int(r["hour_of_day"]): r["value"] / 4 for r in rows if r["weekday"] == "3"}  # ISO: Wednesday = 3
    assert [per_hour.get(h, 0.0) for h in range(24)] == PUBLISHED


def test_ghost_calls_are_left_out_and_handle_time_is_talk_time(ws, tmp_path):
    ws.import_file("tickets", flat_tickets(tmp_path / "bank.csv"))
    total = ws.metrics(["tickets"]).to_pylist()[0]
    # 33,319 calls imported, of which the PHANTOM ones are spam: counted by a plain reading
    con = duckdb.connect()
    phantom, mean_talk = con.execute(f"""
        SELECT count(*) FILTER (WHERE outcome = 'PHANTOM'),
               avg(CAST(ser_time AS DOUBLE)) FILTER (WHERE outcome = 'AGENT' AND CAST(ser_time AS DOUBLE) > 0)
        FROM read_csv('{DATA}', delim = '\t', header = true, all_varchar = true) WHERE CAST(vru_time AS INTEGER) >= 0
    """).fetchall()[0]
    assert total["value"] == 33_319 - phantom
    # AHT (a mean) over answered calls with talk time, from the flat handle seconds
    aht = ws.metrics(["aht"]).to_pylist()[0]
    assert aht["value"] == pytest.approx(mean_talk, rel=1e-12)


# --- the same file as call logs: `cxmetrics import calls FILE --mapping` with the shipped mapping ---

MAPPING = Path(__file__).resolve().parents[2] / "examples" / "mappings" / "anonymous_bank.toml"
RAW = f"read_csv('{DATA}', delim = '\t', header = true, all_varchar = true)"


def import_calls(ws):
    ws.configure(timezone="Asia/Jerusalem")  # the bank's clock: hours of day are Israeli hours
    return ws.import_file("calls", DATA, mapping=MAPPING)


def reference(sql: str) -> tuple:
    """A plain reading of the raw file, independent of the importer: times of day as seconds
    since midnight (`s`), a difference over 12 h apart is across midnight."""
    con = duckdb.connect()
    con.execute("""CREATE MACRO s(t) AS CAST(split_part(t, ':', 1) AS INTEGER) * 3600
                   + CAST(split_part(t, ':', 2) AS INTEGER) * 60 + CAST(split_part(t, ':', 3) AS INTEGER)""")
    con.execute("CREATE MACRO span(a, b) AS CASE WHEN s(b) - s(a) < -43200 THEN s(b) - s(a) + 86400 "
                "WHEN s(b) - s(a) > 43200 THEN s(b) - s(a) - 86400 ELSE s(b) - s(a) END")
    # the calls the book keeps and the engine measures: no negative VRU time, no PHANTOM
    con.execute(f"CREATE VIEW kept AS SELECT * FROM {RAW} "
                "WHERE CAST(vru_time AS INTEGER) >= 0 AND outcome <> 'PHANTOM'")
    return con.execute(sql).fetchall()[0]


def test_calls_import_reconciles_and_quarantines_the_negative_vru_times(ws):
    s = import_calls(ws)
    assert (s.read, s.inserted, s.updated, s.unchanged, s.quarantined) == (33_344, 33_319, 0, 0, 25)
    reasons = ws.quarantine(s.import_id).column("reason").to_pylist()
    assert len(reasons) == 25 and all(r.startswith("ivr_s -") and " is below 0" in r for r in reasons)
    # the same file again stores nothing twice
    again = ws.import_file("calls", DATA, mapping=MAPPING)
    assert (again.inserted, again.updated, again.unchanged, again.quarantined) == (0, 0, 33_319, 25)


def test_calls_wednesday_arrivals_per_hour_match_the_published_answer(ws):
    import_calls(ws)
    rows = ws.metrics(["tickets"], by=["weekday", "hour_of_day"]).to_pylist()
    per_hour = {int(r["hour_of_day"]): r["value"] / 4 for r in rows if r["weekday"] == "3"}  # ISO: Wednesday = 3
    assert [per_hour.get(h, 0.0) for h in range(24)] == PUBLISHED


def test_calls_aht_asa_abandonment_and_service_level_equal_a_plain_reading(ws):
    import_calls(ws)
    got = {r["metric"]: r for r in ws.metrics(["aht", "asa", "abandonment_rate", "service_level"]).to_pylist()}
    answered = "outcome = 'AGENT' AND ser_start <> '0:00:00'"  # 50 served calls carry no times
    # abandoned in the queue (a HANG in the IVR never reached it), after the 5 s of a short abandon
    abandoned = "outcome = 'HANG' AND q_start <> '0:00:00' AND CAST(q_time AS INTEGER) >= 5"
    wait = "greatest(span(vru_exit, ser_start), 0)"  # offered at the IVR exit; answered a little before it: 0
    # rates in percent, as the metrics give them
    aht, n_aht, asa, n_asa, rate, sl, n_offered = reference(f"""
        SELECT avg(CAST(ser_time AS DOUBLE)) FILTER (outcome = 'AGENT' AND CAST(ser_time AS INTEGER) > 0),
               count(*) FILTER (outcome = 'AGENT' AND CAST(ser_time AS INTEGER) > 0),
               avg({wait}) FILTER ({answered}), count(*) FILTER ({answered}),
               100 * count(*) FILTER ({abandoned}) / count(*) FILTER (({answered}) OR ({abandoned})),
               100 * count(*) FILTER (({answered}) AND {wait} <= 20) / count(*) FILTER (({answered}) OR ({abandoned})),
               count(*) FILTER (({answered}) OR ({abandoned}))
        FROM kept
    """)
    assert (got["aht"]["n"], got["asa"]["n"], got["abandonment_rate"]["n"]) == (n_aht, n_asa, n_offered)
    assert got["aht"]["value"] == pytest.approx(aht, rel=1e-12)
    assert got["asa"]["value"] == pytest.approx(asa, rel=1e-12)
    assert got["abandonment_rate"]["value"] == pytest.approx(rate, rel=1e-12)
    assert got["service_level"]["value"] == pytest.approx(sl, rel=1e-12)
    # the bank's own queue times say the same within the skew: ser_start runs 1-2 s before q_exit
    (q_time,) = reference(f"SELECT avg(CAST(q_time AS DOUBLE)) FILTER ({answered}) FROM kept")
    assert q_time - 2 <= asa <= q_time


def test_calls_ghost_calls_are_kept_but_left_out(ws):
    import_calls(ws)
    (phantom,) = reference(f"SELECT count(*) FROM {RAW} WHERE outcome = 'PHANTOM' AND CAST(vru_time AS INTEGER) >= 0")
    assert phantom == 276
    stored = ws.sql("SELECT count(*) AS n FROM tickets WHERE status = 'spam'").column("n").to_pylist()
    assert stored == [phantom]
    assert ws.metrics(["tickets"]).to_pylist()[0]["value"] == 33_319 - phantom
