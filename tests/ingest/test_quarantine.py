"""A file with broken rows: every broken row is quarantined with its line and a reason,
the summary reconciles, and re-importing changes nothing (issue 2)."""

from __future__ import annotations

import pytest

from conftest import rows, write

HEADER = "ticket_id,created_at,channel,first_reply_at,solved_at,csat,subject\n"
BROKEN = (
    HEADER
    + "T1,2025-01-06 09:00,email,2025-01-06 10:30,2025-01-07 09:00,5,Refund please\n"  # line 2
    + "T2,yesterday,chat,,,,bad timestamp\n"  # line 3
    + "T3,2025-01-06 09:00,chat,,2025-01-05 09:00,,solved before created\n"  # line 4
    + "T4,2025-01-06 09:00,phone,,,9,csat out of range\n"  # line 5
    + ",2025-01-06 09:00,phone,,,,no id\n"  # line 6
    + "T5,2025-01-06 09:00,phone,,,,too,many,fields\n"  # line 7
    + 'T6,2025-01-06 11:00,email,,,,"a subject\nover two lines"\n'  # lines 8-9
    + "T7,2025-01-06 12:00,email,,,3,fine\n"  # line 10
    + "T8,2025-01-06 12:00,email,,,x,csat not a number\n"  # line 11
)
EXPECTED_REASONS = {
    3: "created_at 'yesterday' is not an ISO 8601 timestamp",
    4: "solved_at (2025-01-05 09:00:00+00) is before created_at (2025-01-06 09:00:00+00)",
    5: "csat 9 is outside its scale 1-5",
    6: "ticket_id is missing",
    7: "the row has more fields than the header",
    11: "csat 'x' is not a number or good/bad",
}


def test_broken_rows_are_quarantined_with_line_and_reason(ws, tmp_path):
    summary = ws.import_file("tickets", write(tmp_path / "t.csv", BROKEN))
    # 9 data rows: T1, T6 and T7 are good; six are broken
    assert (summary.read, summary.inserted, summary.updated, summary.unchanged, summary.quarantined) == (9, 3, 0, 0, 6)
    got = {r["line"]: r for r in ws.quarantine().to_pylist()}
    assert sorted(got) == sorted(EXPECTED_REASONS)
    for line, reason in EXPECTED_REASONS.items():
        assert reason in got[line]["reason"], (line, got[line]["reason"])
        assert got[line]["file"].endswith("t.csv")
        assert got[line]["import_id"] == summary.import_id
    assert '"ticket_id":"T2"' in got[3]["raw"] and "yesterday" in got[3]["raw"]
    assert got[7]["raw"] == "T5,2025-01-06 09:00,phone,,,,too,many,fields"
    assert rows(ws, "SELECT ticket_id FROM tickets ORDER BY 1") == [("T1",), ("T6",), ("T7",)]
    assert rows(ws, "SELECT subject FROM tickets WHERE ticket_id = 'T6'") == [("a subject\nover two lines",)]


def test_reimport_changes_nothing(ws, tmp_path):
    path = write(tmp_path / "t.csv", BROKEN)
    ws.import_file("tickets", path)
    before = {t: rows(ws, f"SELECT * EXCLUDE (_import_id) FROM {t} ORDER BY ALL") for t in ("tickets", "events", "surveys")}
    again = ws.import_file("tickets", path)
    assert (again.read, again.inserted, again.updated, again.unchanged, again.quarantined) == (9, 0, 0, 3, 6)
    after = {t: rows(ws, f"SELECT * EXCLUDE (_import_id) FROM {t} ORDER BY ALL") for t in ("tickets", "events", "surveys")}
    assert after == before
    # the quarantine holds the latest import's rejects, not a second copy
    assert ws.quarantine().num_rows == 6
    assert {r["import_id"] for r in ws.quarantine().to_pylist()} == {again.import_id}


def test_changed_row_is_an_update_and_its_events_follow(ws, tmp_path):
    ws.import_file("tickets", write(tmp_path / "a.csv", HEADER + "T1,2025-01-06 09:00,email,2025-01-06 10:30,2025-01-07 09:00,5,x\n"))
    # the fix: solved later, reply removed
    s = ws.import_file("tickets", write(tmp_path / "b.csv", HEADER + "T1,2025-01-06 09:00,email,,2025-01-08 09:00,4,x\n"))
    assert (s.inserted, s.updated, s.unchanged) == (0, 1, 0)
    assert rows(ws, "SELECT event_id, strftime(ts, '%Y-%m-%d %H:%M') FROM events ORDER BY 1") == [
        ("T1:created", "2025-01-06 09:00"),
        ("T1:solved", "2025-01-08 09:00"),
    ]
    assert rows(ws, "SELECT score FROM surveys") == [(4.0,)]


def test_duplicate_ids_in_one_file_apply_in_order(ws, tmp_path):
    text = HEADER + "T1,2025-01-06 09:00,email,,,,first\nT1,2025-01-06 09:00,email,,,,first\nT1,2025-01-06 09:00,email,,,,second\n"
    s = ws.import_file("tickets", write(tmp_path / "d.csv", text))
    # as if applied one by one: insert, same again, then a change
    assert (s.read, s.inserted, s.unchanged, s.updated) == (3, 1, 1, 1)
    assert rows(ws, "SELECT subject FROM tickets") == [("second",)]


def test_missing_required_column_fails_the_file_and_stores_nothing(ws, tmp_path):
    from cxmetrics import ImportFileError

    with pytest.raises(ImportFileError, match="no column created_at"):
        ws.import_file("tickets", write(tmp_path / "x.csv", "ticket_id,channel\nT1,email\n"))
    assert ws.counts()["tickets"] == 0 and ws.imports().num_rows == 0
