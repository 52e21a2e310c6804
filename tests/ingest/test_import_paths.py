"""The import's fast paths (issue 17, item 2) store and count exactly what the general
path does: a first import of a source skips the join with the stored rows, the raw text
of a row is built only when it goes to quarantine. Expected values are worked by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

import cxmetrics
from conftest import rows, write

HEADER = "ticket_id,created_at,channel,first_reply_at,solved_at,csat,subject\n"
REPEATED = (
    HEADER
    + "T1,2025-01-06 09:00,email,2025-01-06 10:00,,,first version\n"
    + "T2,2025-01-06 09:30,chat,,,,other\n"
    + "T1,2025-01-06 09:00,email,2025-01-06 10:00,2025-01-06 12:00,4,second version\n"
    + "T1,2025-01-06 09:00,email,2025-01-06 10:00,2025-01-06 12:00,4,second version\n"
)
UNIQUE = (  # one row per key: the first-import path
    HEADER
    + "T2,2025-01-06 09:30,chat,,,,other\n"
    + "T1,2025-01-06 09:00,email,2025-01-06 10:00,2025-01-06 12:00,4,second version\n"
)
STORED = {
    "tickets": "SELECT source, ticket_id, subject FROM tickets ORDER BY ALL",
    "events": "SELECT source, event_id, kind, strftime(ts, '%Y-%m-%d %H:%M') FROM events ORDER BY ALL",
    "surveys": "SELECT source, response_id, score, scale FROM surveys ORDER BY ALL",
}


def counts(s: cxmetrics.ImportSummary) -> tuple[int, ...]:
    return s.read, s.inserted, s.updated, s.unchanged, s.quarantined


def stored(ws: cxmetrics.Workspace) -> dict[str, list[tuple]]:
    return {table: rows(ws, sql) for table, sql in STORED.items()}


def test_a_first_import_with_a_repeated_key_counts_each_row_as_if_applied_in_order(ws, tmp_path):
    s = ws.import_file("tickets", write(tmp_path / "t.csv", REPEATED))
    # T1 inserted, T2 inserted, T1 again but solved: an update, T1 a third time as before: unchanged
    assert counts(s) == (4, 2, 1, 1, 0)
    assert stored(ws) == {
        "tickets": [("default", "T1", "second version"), ("default", "T2", "other")],
        "events": [
            ("default", "T1:created", "created", "2025-01-06 09:00"),
            ("default", "T1:first_reply", "message", "2025-01-06 10:00"),
            ("default", "T1:solved", "status", "2025-01-06 12:00"),
            ("default", "T2:created", "created", "2025-01-06 09:30"),
        ],
        "surveys": [("default", "T1:csat", 4.0, "1-5")],
    }


def test_the_first_import_of_a_source_stores_what_an_import_beside_stored_rows_does(ws, tmp_path):
    path = write(tmp_path / "t.csv", UNIQUE)
    first = ws.import_file("tickets", path)
    assert counts(first) == (2, 2, 0, 0, 0)
    with cxmetrics.open(tmp_path / "other", create=True) as beside:
        # a ticket of the same source is stored already: the import joins with it
        beside.import_file("tickets", write(tmp_path / "t9.csv", HEADER + "T9,2025-01-01 08:00,web,,,,earlier\n"))
        second = beside.import_file("tickets", path)
        assert counts(second) == counts(first)
        got = stored(beside)
        assert got["tickets"][-1] == ("default", "T9", "earlier")
        assert got["events"][-1] == ("default", "T9:created", "created", "2025-01-01 08:00")
        for table in STORED:
            assert [r for r in got[table] if "T9" not in r[1]] == stored(ws)[table]
        hashes = "SELECT ticket_id, _hash FROM tickets WHERE ticket_id <> 'T9' ORDER BY 1"
        assert rows(beside, hashes) == rows(ws, hashes)  # a later import compares equal to either


def test_a_second_source_with_the_same_ticket_ids_leaves_the_first_alone(ws, tmp_path):
    a = ws.import_file("tickets", write(tmp_path / "a.csv", HEADER + "T1,2025-01-06 09:00,email,,,,from a\n"), source="a")
    b = ws.import_file("tickets", write(tmp_path / "b.csv", HEADER + "T1,2025-01-07 09:00,chat,,,5,from b\n"), source="b")
    assert counts(a) == counts(b) == (1, 1, 0, 0, 0)
    assert stored(ws) == {
        "tickets": [("a", "T1", "from a"), ("b", "T1", "from b")],
        "events": [("a", "T1:created", "created", "2025-01-06 09:00"), ("b", "T1:created", "created", "2025-01-07 09:00")],
        "surveys": [("b", "T1:csat", 5.0, "1-5")],
    }


def test_a_file_of_two_sources_one_already_stored(ws, tmp_path):
    header = "source," + HEADER
    ws.import_file("tickets", write(tmp_path / "a.csv", header + "a,T1,2025-01-06 09:00,email,,,,same\n"))
    s = ws.import_file("tickets", write(tmp_path / "ab.csv", header + "a,T1,2025-01-06 09:00,email,,,,same\n"
                                        + "b,T1,2025-01-06 09:00,email,,,,new\n"))
    assert counts(s) == (2, 1, 0, 1, 0)
    assert stored(ws)["tickets"] == [("a", "T1", "same"), ("b", "T1", "new")]


def test_a_quarantined_row_keeps_its_raw_values_csv_and_parquet(ws, tmp_path):
    csv = write(tmp_path / "t.csv", "ticket_id,created_at,csat\nT1,2025-01-06 09:00,\nT2,yesterday,9\n")
    s = ws.import_file("tickets", csv)
    assert counts(s) == (2, 1, 0, 0, 1)
    [bad] = ws.quarantine(s.import_id).to_pylist()
    assert (bad["line"], json.loads(bad["raw"])) == (3, {"ticket_id": "T2", "created_at": "yesterday", "csat": "9"})
    parquet = tmp_path / "t.parquet"
    duckdb.sql("SELECT * FROM (VALUES ('P1', TIMESTAMPTZ '2025-01-06 09:00:00+00', NULL::BIGINT), "
               "('P2', NULL, 9::BIGINT)) t(ticket_id, created_at, csat)").write_parquet(str(parquet))
    s = ws.import_file("tickets", parquet)
    assert counts(s) == (2, 1, 0, 0, 1)
    [bad] = ws.quarantine(s.import_id).to_pylist()
    # row 2 of the file; a number stays a number, a missing value is null
    assert (bad["line"], json.loads(bad["raw"])) == (2, {"ticket_id": "P2", "created_at": None, "csat": 9})
    assert "created_at is missing" in bad["reason"] and "csat 9 is outside its scale 1-5" in bad["reason"]


def test_the_import_bench_runs_and_writes_every_implied_row(tmp_path):
    bench = Path(__file__).resolve().parents[2] / "bench" / "import_bench.py"
    out = subprocess.run([sys.executable, str(bench), "--rows", "2000", "--repeat", "2", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    results = json.loads((tmp_path / "import_2000.json").read_text())
    assert [r["format"] for r in results] == ["csv", "parquet"]
    # bench/_data.py's rows: 2000 tickets, each created and first replied (4000 events), 8 in
    # 10 solved (1600), csat on every 5th (400), ces on every 11th (182), nps on every 13th (154)
    assert {r["rows_in_model"] for r in results} == {2000 + 4000 + 1600 + 400 + 182 + 154}
    # of which only the tickets are written: the views derive the rest
    assert {r["rows_written"] for r in results} == {2000}
    assert all(r["ratio_to_duckdb"] > 0 for r in results)


def test_the_import_log_checksum_is_the_files_sha256(ws, tmp_path):
    import gzip
    import hashlib

    text = HEADER + "T1,2025-01-06 09:00,email,,,,one\n"
    plain = write(tmp_path / "t.csv", text)
    packed = tmp_path / "t2.csv.gz"
    packed.write_bytes(gzip.compress(text.replace("T1", "T2").encode()))
    parquet = tmp_path / "t3.parquet"
    duckdb.sql("SELECT 'T3' AS ticket_id, '2025-01-06 09:00' AS created_at").write_parquet(str(parquet))
    for path in (plain, packed, parquet):
        s = ws.import_file("tickets", path)
        [(checksum,)] = rows(ws, f"SELECT checksum FROM imports WHERE import_id = '{s.import_id}'")
        assert checksum == hashlib.sha256(path.read_bytes()).hexdigest(), path.name


_OPENED: list[str] | None = None  # while set, the paths opened for binary reading


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, os.PathLike)):
        _OPENED.append(os.fspath(args[0]))


sys.addaudithook(_audit)  # cannot be removed; records nothing unless a test sets _OPENED


def test_a_csv_file_is_read_once_before_the_engine_reads_it(ws, tmp_path):
    # the scan for over-long lines also computes the import log's checksum: one pass over
    # the file in Python, not a second just for the checksum. The other opens read its
    # start only: the binary sniff, the header line for the delimiter, the header's names
    global _OPENED
    path = write(tmp_path / "t.csv", UNIQUE)
    _OPENED = []
    try:
        ws.import_file("tickets", path)
        opened = [p for p in _OPENED if p == str(path)]
    finally:
        _OPENED = None
    assert len(opened) == 1 + 3, opened
