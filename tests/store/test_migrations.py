"""The schema comes from versioned migrations; opening an old workspace upgrades it."""

from __future__ import annotations

import duckdb
import pytest

import cxmetrics
from cxmetrics.ingest._merge import store_columns
from cxmetrics.model import TABLES
from cxmetrics.store import _migrations


def test_migrated_schema_matches_the_model(ws):
    for name, table in TABLES.items():
        got = ws.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [name],
        ).fetchall()
        spelled = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}
        declared = {c.name for c in (*table.columns, *table.implied)}
        want = [(c, spelled.get(t, t)) for c in store_columns(table)
                for t in [table.column(c).sql_type if c in declared else "DATE"]]
        assert got[:-2] == want, name
        assert [g[0] for g in got[-2:]] == ["_hash", "_import_id"]


def test_opening_an_old_workspace_applies_new_migrations_once(tmp_path, monkeypatch):
    path = tmp_path / "ws"
    cxmetrics.open(path, create=True).close()
    shipped = _migrations.available()
    extra = (len(shipped) + 1, f"{len(shipped) + 1:04d}_test.sql", "ALTER TABLE agents ADD COLUMN shift VARCHAR;")
    monkeypatch.setattr(_migrations, "available", lambda: [*shipped, extra])
    with cxmetrics.open(path, create=True) as ws:
        assert ws.schema_version == extra[0]
        assert "shift" in ws.table("agents").column_names
    with cxmetrics.open(path, create=True) as ws:  # not applied twice
        assert ws.schema_version == extra[0]


def test_a_failing_migration_leaves_the_workspace_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "ws"
    cxmetrics.open(path, create=True).close()
    shipped = _migrations.available()
    good = (len(shipped) + 1, "good.sql", "ALTER TABLE agents ADD COLUMN shift VARCHAR;")
    bad = (len(shipped) + 2, "bad.sql", "ALTER TABLE nowhere ADD COLUMN x INT;")
    monkeypatch.setattr(_migrations, "available", lambda: [*shipped, good, bad])
    with pytest.raises(cxmetrics.StoreError):
        cxmetrics.open(path, create=True)
    monkeypatch.setattr(_migrations, "available", lambda: shipped)
    with cxmetrics.open(path, create=True) as ws:
        assert ws.schema_version == len(shipped)
        assert "shift" not in ws.table("agents").column_names


def test_engine_errors_become_store_errors(ws):
    with pytest.raises(cxmetrics.StoreError, match="nosuchtable"):
        ws.sql("SELECT * FROM nosuchtable")
    assert not isinstance(cxmetrics.StoreError("x"), duckdb.Error)


def test_second_writer_gets_a_clear_error(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "ws"
    with cxmetrics.open(path, create=True):
        out = subprocess.run(
            [sys.executable, "-m", "cxmetrics", "--workspace", str(path), "status"], capture_output=True, text=True
        )
    assert out.returncode == 1 and "open in another process" in out.stderr


def test_a_read_only_workspace_answers_from_its_facts_as_they_are(tmp_path):
    import cxmetrics
    from conftest import write

    with cxmetrics.open(tmp_path, create=True) as ws:
        ws.import_file("tickets", write(tmp_path / "t.csv", "ticket_id,created_at\nT1,2025-03-01T10:00:00Z\n"))
        assert ws.metrics("tickets").to_pylist()[0]["value"] == 1.0  # refreshed here
        ws.import_file("tickets", write(tmp_path / "u.csv", "ticket_id,created_at\nT2,2025-03-01T11:00:00Z\n"))
    with cxmetrics.open(tmp_path, read_only=True) as ro:
        # no refresh (it cannot write): T2 is not in the facts yet
        assert ro.metrics("tickets").to_pylist()[0]["value"] == 1.0
    with cxmetrics.open(tmp_path, create=True) as ws:
        assert ws.metrics("tickets").to_pylist()[0]["value"] == 2.0
