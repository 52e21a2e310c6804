"""An import killed half-way (SIGKILL, a real subprocess) leaves the store exactly as
it was, and the workspace opens and imports normally afterwards (issue 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import cxmetrics
from conftest import write

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _data import write_flat  # noqa: E402

SNAPSHOT_TABLES = ("tickets", "events", "surveys", "quarantine", "imports")


def snapshot(path: Path) -> dict[str, list]:
    with cxmetrics.open(path, create=True) as ws:
        return {t: ws.sql(f"SELECT * FROM {t} ORDER BY ALL").to_pylist() for t in SNAPSHOT_TABLES}


CHILD = """
import sys, cxmetrics
ws = cxmetrics.open(sys.argv[1], create=True)
print("importing", flush=True)
ws.import_file("tickets", sys.argv[2])
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def big_file(tmp_path_factory) -> Path:
    return write_flat(tmp_path_factory.mktemp("big") / "flat.csv", 1_500_000)


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_sigkill_mid_import_leaves_store_unchanged(tmp_path, big_file, delay):
    ws_path = tmp_path / "ws"
    with cxmetrics.open(ws_path, create=True) as ws:
        ws.import_file("tickets", write(tmp_path / "small.csv", "ticket_id,created_at,csat\nS1,2025-01-01T00:00:00Z,4\nS2,bad,\n"))
    before = snapshot(ws_path)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ws_path), str(big_file)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "importing"
    time.sleep(delay)
    assert child.poll() is None, "the import finished before it could be killed; use a bigger file"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert snapshot(ws_path) == before
    # and the workspace still works: the same import now lands whole
    with cxmetrics.open(ws_path, create=True) as ws:
        s = ws.import_file("tickets", big_file)
        assert (s.read, s.inserted) == (1_500_000, 1_500_000)
        assert ws.counts()["tickets"] == 1_500_001
