"""CSV, JSON Lines and Parquet of the same rows store the same data."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

import cxmetrics
from conftest import rows, write

RECORDS = [
    {"ticket_id": "T1", "created_at": "2025-03-03T08:00:00Z", "channel": "email", "first_reply_at": "2025-03-03T09:00:00Z",
     "solved_at": "2025-03-04T08:00:00Z", "csat": "5", "reopens": "1", "tags": "vip,refund", "subject": "Refund"},
    {"ticket_id": "T2", "created_at": "2025-03-03T10:00:00+01:00", "channel": "chat", "first_reply_at": None,
     "solved_at": None, "csat": None, "reopens": "0", "tags": None, "subject": "Hi, \"quoted\""},
]


def _stored(ws: cxmetrics.Workspace) -> dict[str, list[tuple]]:
    return {t: rows(ws, f"SELECT * EXCLUDE (_import_id) FROM {t} ORDER BY ALL") for t in ("tickets", "events", "surveys")}


def test_three_formats_store_the_same(tmp_path):
    cols = list(RECORDS[0])
    csv_text = ",".join(cols) + "\n" + "".join(
        ",".join("" if r[c] is None else '"' + r[c].replace('"', '""') + '"' for c in cols) + "\n" for r in RECORDS
    )
    files = {
        "csv": write(tmp_path / "t.csv", csv_text),
        "jsonl": write(tmp_path / "t.jsonl", "".join(json.dumps(r) + "\n" for r in RECORDS)),
    }
    pq.write_table(pa.Table.from_pylist(RECORDS), tmp_path / "t.parquet")
    files["parquet"] = tmp_path / "t.parquet"
    stored = {}
    for fmt, path in files.items():
        with cxmetrics.open(tmp_path / f"ws_{fmt}", create=True) as ws:
            s = ws.import_file("tickets", path)
            assert (s.read, s.inserted, s.quarantined) == (2, 2, 0), fmt
            stored[fmt] = _stored(ws)
    assert stored["csv"] == stored["jsonl"] == stored["parquet"]
    assert [r[0:2] for r in stored["csv"]["tickets"]] == [("default", "T1"), ("default", "T2")]


def test_typed_parquet_columns(ws, tmp_path):
    table = pa.table({
        "ticket_id": ["T1"],
        "created_at": pa.array([1741000000_000000], pa.timestamp("us", tz="UTC")),
        "reopens": pa.array([2], pa.int32()),
        "tags": pa.array([["a", "b"]]),
    })
    pq.write_table(table, tmp_path / "typed.parquet")
    assert ws.import_file("tickets", tmp_path / "typed.parquet").inserted == 1
    assert rows(ws, "SELECT strftime(timezone('UTC', created_at), '%Y-%m-%d %H:%M:%S'), reopens_reported, tags FROM tickets") == [
        ("2025-03-03 11:06:40", 2, ["a", "b"])
    ]


def test_jsonl_broken_line_is_quarantined_with_its_line(ws, tmp_path):
    text = (
        '{"ticket_id": "T1", "created_at": "2025-03-03T08:00:00Z"}\n'
        "\n"
        "{not json\n"
        '["an", "array"]\n'
        '{"ticket_id": "T2", "created_at": "2025-03-03T08:00:00Z", "csat": 4}\n'
    )
    s = ws.import_file("tickets", write(tmp_path / "t.jsonl", text))
    assert (s.read, s.inserted, s.quarantined) == (4, 2, 2)
    got = {r["line"]: (r["reason"], r["raw"]) for r in ws.quarantine().to_pylist()}
    assert got[3][1] == "{not json" and "not a JSON object" in got[3][0]
    assert got[4][1] == '["an", "array"]'
    assert rows(ws, "SELECT score FROM surveys") == [(4.0,)]


def test_unknown_extension_asks_for_a_format(ws, tmp_path):
    import pytest

    with pytest.raises(cxmetrics.ImportFileError, match=r"--file-format csv\|jsonl\|parquet"):
        ws.import_file("tickets", write(tmp_path / "t.dat", "ticket_id,created_at\n"))
    assert ws.import_file("tickets", write(tmp_path / "t.dat", "ticket_id,created_at\nT1,2025-01-01\n"), file_format="csv").inserted == 1
