"""Uploads import exactly the bytes they sent, and are named as the client named them
(issue 9, items 1 and 3).

Before: every upload of `tickets.csv` streamed to `uploads/<kind>/tickets.csv` and was
imported from there, so two at once overwrote each other (in 5 of 6 trials one file's rows
were never stored, both answering 200); and names were sanitised into one (`data€.csv`
and `data£.csv` both became `data_.csv`), so one upload wiped the other's quarantine."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cxmetrics
from tests.security._limits_helpers import Server, events_csv, multipart, request, server

TRIALS = 20
ROWS = 400


def upload(srv: Server, name: str, content: bytes, kind: str = "events", **params: str) -> tuple[int, dict[str, Any]]:
    headers, form = multipart(name, content)
    status, _, body = request(srv.host, srv.port, "POST", f"/api/v1/imports/{kind}",
                              headers={**headers, "Authorization": f"Bearer {srv.admin}"}, length=len(form),
                              body=[form], timeout=120)
    return status, json.loads(body)


def get(srv: Server, path: str) -> Any:
    status, _, body = request(srv.host, srv.port, "GET", path, headers={"Authorization": f"Bearer {srv.admin}"})
    assert status == 200, body
    return json.loads(body)


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[Server]:
    with server(tmp_path / "ws") as s:
        yield s


def test_concurrent_uploads_of_one_name_store_both_files_every_time(srv: Server) -> None:
    answers: list[tuple[str, int, dict[str, Any]]] = []
    for trial in range(TRIALS):
        files = {f"A{trial}": events_csv(f"A{trial}", ROWS), f"B{trial}": events_csv(f"B{trial}", ROWS)}
        start = threading.Barrier(2)

        def send(prefix: str, content: bytes) -> None:
            start.wait()
            status, body = upload(srv, "tickets.csv", content)
            answers.append((prefix, status, body))

        threads = [threading.Thread(target=send, args=item) for item in files.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert len(answers) == 2 * TRIALS
    for prefix, status, body in answers:
        # each upload read its own 400 new rows: none found the other's file in its place
        assert status == 200, (prefix, body)
        assert (body["read"], body["inserted"]) == (ROWS, ROWS), (prefix, body)
    log = get(srv, "/api/v1/imports?limit=1000")["rows"]
    assert {r["file"] for r in log} == {"upload:tickets.csv"}  # what the client called it
    assert len({r["checksum"] for r in log}) == 2 * TRIALS  # 40 different files were imported
    srv.proc.terminate()
    srv.proc.wait(30)
    with cxmetrics.open(srv.path, read_only=True) as ws:
        stored = dict(ws.con.execute("SELECT split_part(event_id, '-', 1), count(*) FROM events GROUP BY 1").fetchall())
    assert stored == {f"{side}{t}": ROWS for t in range(TRIALS) for side in "AB"}


def test_names_that_sanitise_alike_keep_their_own_quarantine(srv: Server) -> None:
    status, euro = upload(srv, "data€.csv", events_csv("EUR", 5, bad=2))
    assert status == 200 and euro["quarantined"] == 2
    status, pound = upload(srv, "data£.csv", events_csv("GBP", 5, bad=3))
    assert status == 200 and pound["quarantined"] == 3
    # the second upload did not replace the first one's quarantine entries
    euro_q = get(srv, f"/api/v1/imports/{euro['import_id']}/quarantine")["rows"]
    assert sorted(json.loads(r["raw"])["event_id"] for r in euro_q) == ["EUR-bad0", "EUR-bad1"]
    assert len(get(srv, f"/api/v1/imports/{pound['import_id']}/quarantine")["rows"]) == 3
    files = {r["import_id"]: r["file"] for r in get(srv, "/api/v1/imports")["rows"]}
    assert files[euro["import_id"]] == "upload:data€.csv" and files[pound["import_id"]] == "upload:data£.csv"


def test_the_same_name_again_replaces_its_quarantine_as_the_cli_does(srv: Server) -> None:
    _, first = upload(srv, "fix-me.csv", events_csv("FIX", 5, bad=2))
    _, other = upload(srv, "other.csv", events_csv("OTH", 5, bad=1))
    _, fixed = upload(srv, "fix-me.csv", events_csv("FIX", 5, bad=0))
    assert (first["quarantined"], fixed["quarantined"], fixed["unchanged"]) == (2, 0, 5)
    assert get(srv, f"/api/v1/imports/{first['import_id']}/quarantine")["rows"] == []
    assert len(get(srv, f"/api/v1/imports/{other['import_id']}/quarantine")["rows"]) == 1


def test_uploads_leave_no_files_behind(srv: Server) -> None:
    upload(srv, "a.csv", events_csv("LEFT", 3))
    upload(srv, "a.csv.gz", __import__("gzip").compress(events_csv("LEFTGZ", 3)))
    left = [p for p in (srv.path / "uploads").rglob("*") if p.is_file()] + \
        [p for p in (srv.path / "tmp").rglob("_cx_*") if p.is_file()]
    assert left == []


def test_a_file_name_with_control_characters_is_refused(srv: Server) -> None:
    status, body = upload(srv, "bad\x01name.csv", events_csv("CTL", 1))
    assert status == 400 and "control characters" in body["error"]["message"]
