"""Large writes are stored in ticket order (store/_cluster.py), so that a live refresh's look-up
of a few tickets skips the row groups of the others: ticket ids without an order (UUIDs,
hashes) imported in time order otherwise spread every ticket's range over every row group.

The engine's row group (122,880 rows) is too large for a quick test, so the threshold the
writes use (`ROW_GROUP_ROWS`) is made small; what is checked is the order the rows are
stored in (`rowid`), which is what the engine's per-row-group statistics follow."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

import cxmetrics
from cxmetrics.store import _cluster


def _id(i: int) -> str:
    return hashlib.md5(str(i).encode()).hexdigest()[:12]


def _events_csv(path: Path, tickets: list[str]) -> Path:
    """Three events per ticket, in time order (ticket by ticket: the file's order is by ts)."""
    lines = ["event_id,ticket_id,ts,kind,actor_type,status_to,channel"]
    for n, t in enumerate(tickets):
        minute = f"2026-03-01T{8 + n // 60:02d}:{n % 60:02d}"
        lines += [f"{t}-1,{t},{minute}:00Z,created,customer,,email",
                  f"{t}-2,{t},{minute}:10Z,message,customer,,",
                  f"{t}-3,{t},{minute}:40Z,status,agent,solved,"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _stored(ws: cxmetrics.Workspace, table: str) -> list[str]:
    return [r[0] for r in ws.con.execute(f"SELECT ticket_id FROM {table} ORDER BY rowid").fetchall()]


@pytest.fixture
def small_row_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cluster, "ROW_GROUP_ROWS", 50)


def test_an_import_of_unordered_ticket_ids_is_stored_in_ticket_order(tmp_path: Path, small_row_groups: None) -> None:
    tickets = [_id(i) for i in range(200)]  # hex digests: no order
    assert tickets != sorted(tickets)
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        s = ws.import_file("events", _events_csv(tmp_path / "e.csv", tickets))
        assert (s.read, s.inserted, s.quarantined) == (600, 600, 0)
        events = _stored(ws, "events_stored")
        assert events == sorted(events)  # file order was by time: ticket order only if sorted
        assert sorted(events) == sorted(t for t in tickets for _ in range(3))
        # the tickets the events imply, and the facts a first refresh writes whole, too
        ws.refresh()
        assert ws.con.execute("SELECT count(*) FROM ticket_facts").fetchall() == [(200,)]
        for table in ("ticket_facts", "ticket_facts_bh"):
            stored = _stored(ws, table)
            assert stored == sorted(tickets), table
        # a small batch after it (a stream) is appended after the history, which stays in order
        more = [_id(i) for i in range(200, 210)]
        ws.import_file("events", _events_csv(tmp_path / "f.csv", more))
        after = _stored(ws, "events_stored")
        assert after[:600] == events and sorted(after[600:]) == sorted(t for t in more for _ in range(3))


def test_a_file_in_ticket_order_block_by_block_is_written_as_it_comes(tmp_path: Path, small_row_groups: None) -> None:
    con = duckdb.connect()
    # blocks of 50 rows (by position) whose ticket ranges do not overlap, though not sorted within
    con.execute("""CREATE TABLE r AS SELECT i AS pos, 'zd' AS source,
                   lpad((i // 50)::VARCHAR, 3, '0') || '-' || ((i * 7) % 50)::VARCHAR AS ticket_id FROM range(200) t(i)""")
    columns = ["source", "ticket_id"]
    assert _cluster.order_by(con, "SELECT * FROM r", columns, position="pos") == ""
    # the same rows read backwards block by block: still disjoint ranges, nothing to do
    assert _cluster.order_by(con, "SELECT 199 - pos AS pos, source, ticket_id FROM r", columns, position="pos") == ""
    # shuffled: the blocks' ranges overlap
    shuffled = "SELECT (pos * 37) % 200 AS pos, source, ticket_id FROM r"
    assert _cluster.order_by(con, shuffled, columns, position="pos") == " ORDER BY source, ticket_id"
    # one block's worth (50 rows) or fewer: one row group, nothing to gain
    assert _cluster.order_by(con, shuffled + " WHERE pos < 50", columns, position="pos") == ""
    # two sources in one block: ordered (by source first)
    two = "SELECT pos, CASE WHEN pos % 2 = 0 THEN 'a' ELSE 'b' END AS source, ticket_id FROM r"
    assert _cluster.order_by(con, two, columns, position="pos") == " ORDER BY source, ticket_id"
    # rows without a position (a GROUP BY's): ordered when they fill more than a block
    assert _cluster.order_by(con, "SELECT * FROM r", columns) == " ORDER BY source, ticket_id"
    assert _cluster.order_by(con, "SELECT * FROM r LIMIT 50", columns) == ""
    # no ticket_id: nothing to order by
    assert _cluster.order_by(con, "SELECT pos, source FROM r", ["source"], position="pos") == ""


def test_the_last_row_of_a_key_in_a_large_file_wins(tmp_path: Path) -> None:
    """Rows apply in file order, so the last row of a key is the one stored. The stage keeps
    the file's order only if nothing in it reorders rows: a status checked against its eight
    values became a join there (the optimizer's rewrite of long IN lists), which let later rows
    of a 200,000-row file land before earlier ones about one import in three; with 60 keys
    repeated at spread positions, some came out wrong in every import (checked before the fix)."""
    early = [i * 3_000 for i in range(60)]  # rows whose keys come back later in the file
    con = duckdb.connect()
    path = tmp_path / "t.parquet"
    last = 200_000 - 60  # the last 60 rows repeat the keys of rows 0, 3000, 6000...
    con.execute(f"""
        COPY (
            SELECT 'T' || lpad((CASE WHEN i >= {last} THEN (i - {last}) * 3000 ELSE i END)::VARCHAR, 7, '0') AS ticket_id,
                   '2026-01-01T00:00:00Z' AS created_at,
                   CASE WHEN i >= {last} THEN 'open' ELSE 'solved' END AS status
            FROM range(200000) t(i) ORDER BY i
        ) TO '{path}' (FORMAT PARQUET, ROW_GROUP_SIZE 5000)""")
    for n in range(2):
        with cxmetrics.open(tmp_path / f"ws{n}", create=True) as ws:
            s = ws.import_file("tickets", path)
            assert (s.read, s.inserted, s.updated, s.unchanged) == (200_000, 199_940, 60, 0)
            rows = dict(ws.con.execute("SELECT ticket_id, status FROM tickets").fetchall())
            assert len(rows) == 199_940
            repeated = {f"T{e:07d}" for e in early}
            assert {t: rows[t] for t in repeated} == {t: "open" for t in repeated}  # the later rows
            assert rows["T0000001"] == "solved"
