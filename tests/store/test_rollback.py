"""A COMMIT that fails (a full disk, a write error) ends the transaction in the engine; the
error a user sees must be that one, not the second one a ROLLBACK would raise."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

import cxmetrics
from cxmetrics.errors import StoreError
from cxmetrics.store import rollback
from tests.conftest import write


class _FullDisk:
    """A connection whose COMMIT fails as DuckDB's does when the disk is full: the engine
    ends the transaction, then raises."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, query: str, *args: object) -> object:
        if query.strip().upper() == "COMMIT":
            self._con.execute("ROLLBACK")
            raise duckdb.TransactionException(
                'TransactionContext Error: Failed to commit: Could not write file "x.wal": No space left on device')
        return self._con.execute(query, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._con, name)


def test_an_import_whose_commit_fails_says_why_and_stores_nothing(tmp_path: Path) -> None:
    csv = write(tmp_path / "t.csv", "ticket_id,created_at,channel\nA1,2026-01-05T10:00:00Z,email\n")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        real = ws.con
        ws.con = _FullDisk(real)
        try:
            with pytest.raises(StoreError, match="No space left on device"):
                ws.import_file("tickets", csv)
        finally:
            ws.con = real
        assert ws.counts()["tickets"] == 0


def test_rollback_without_a_transaction_is_quiet() -> None:
    con = duckdb.connect()
    rollback(con)  # (the engine ended it already: nothing to do)
    con.execute("BEGIN TRANSACTION")
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    rollback(con)
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 't'").fetchall() == [(0,)]
