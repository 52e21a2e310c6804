"""The dashboard's cached pages renew on a cursor of their own (issue 9, item 13).

A page answer past the cache's ttl is served once more while it is renewed in the
background; the renewal used to run on the request's cursor, closed by then (tracebacks
in the log, or two threads on one connection), so the page stayed stale until the entry
expired (5 minutes instead of 30 s).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cxmetrics

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key

TTL_S = 0.3
HEADER = "ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,topic,first_reply_at,solved_at\n"
FIRST = ("T1,2026-03-02T09:00:00Z,email,normal,solved,C1,A1,Billing,billing,2026-03-02T09:30:00Z,2026-03-02T15:00:00Z\n"
         "T2,2026-03-03T10:00:00Z,email,high,solved,C2,A1,Billing,billing,2026-03-03T11:00:00Z,2026-03-03T16:00:00Z\n")
# created after the page was first cached, within the same period
LATER = "T3LATE,2026-03-03T12:00:00Z,chat,normal,solved,C3,A2,Tier 1,login,2026-03-03T13:00:00Z,2026-03-03T14:00:00Z\n"
PAGE = "/tickets?from=2026-03-01&to=2026-03-08"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    csv = tmp_path / "first.csv"
    csv.write_text(HEADER + FIRST, encoding="utf-8")
    with cxmetrics.Workspace(tmp_path / "ws") as ws:  # a new workspace
        ws.import_file("tickets", csv)
        ws.refresh()
    application = create_app(tmp_path / "ws", watch_alerts=False, cache_ttl_s=TTL_S)
    _, viewer = create_key(application.state.workspace, "cache viewer", "viewer")
    with TestClient(application) as client:
        r = client.post("/login", data={"key": viewer, "next": "/"}, follow_redirects=False)
        assert r.status_code == 303
        yield client, application


def test_a_renewed_page_shows_new_data_within_the_ttl_and_logs_no_error(
        app: tuple[TestClient, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client, application = app
    caplog.set_level(logging.WARNING)
    first = client.get(PAGE)
    assert first.status_code == 200 and "T1" in first.text and "T3LATE" not in first.text

    # new data the hub does not announce (as clock-driven figures change): only renewal shows it
    later = tmp_path / "later.csv"
    later.write_text(HEADER + LATER, encoding="utf-8")
    with application.state.workspace.cursor() as ws:
        ws.import_file("tickets", later)
        ws.refresh()
    assert "T3LATE" not in client.get(PAGE).text  # within the ttl: the cached page

    cache = application.state.cache
    renewals = cache.renewals
    time.sleep(TTL_S * 1.5)
    client.get(PAGE)  # past the ttl: served once more, renewed in the background
    deadline = time.monotonic() + 20
    while cache.renewals == renewals and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.renewals > renewals, "the page was not renewed"
    renewed = client.get(PAGE)
    assert renewed.status_code == 200 and "T3LATE" in renewed.text and "T1" in renewed.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]

