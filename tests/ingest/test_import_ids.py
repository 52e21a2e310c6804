"""Import ids: they start with the import's start time in milliseconds, 8 base-36 digits, so
that the engine's row-group statistics (a text's first 8 bytes) tell old imports' rows apart."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta

import pyarrow as pa

import cxmetrics
from cxmetrics.ingest._pipeline import new_import_id


def test_an_import_id_starts_with_its_start_in_milliseconds_in_base_36() -> None:
    start = datetime(2026, 12, 5, 22, 30, 0, 123000, tzinfo=UTC)
    ms = 1_796_509_800_123  # 2026-12-05T22:30:00.123Z: 20,792 days and 81,000.123 s after 1970
    assert (start - datetime(1970, 1, 1, tzinfo=UTC)) == timedelta(milliseconds=ms)
    found = new_import_id(start)
    assert int(found[:8], 36) == ms and found[8:25] == "_20261205_223000_"
    assert len(found) == 31 and int(found[25:], 16) >= 0


def test_import_ids_a_millisecond_apart_differ_in_their_first_8_characters_and_sort_by_start() -> None:
    start = datetime(2026, 12, 5, 23, 59, 59, 999000, tzinfo=UTC)
    ids = [new_import_id(start + timedelta(milliseconds=k)) for k in range(3)]
    assert len({i[:8] for i in ids}) == 3 and ids == sorted(ids)


def test_a_workspace_gives_its_imports_such_ids() -> None:
    with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
        before = datetime.now(UTC)
        s = ws.import_table("events", pa.table({
            "event_id": ["E1"], "ticket_id": ["T1"], "ts": ["2026-11-01T09:00:00Z"], "kind": ["created"]}))
        after = datetime.now(UTC)
        started = datetime.fromtimestamp(int(s.import_id[:8], 36) / 1000, UTC)
        assert before - timedelta(milliseconds=1) <= started <= after
        assert ws.sql("SELECT DISTINCT _import_id FROM events").column(0).to_pylist() == [s.import_id]
