"""`cxmetrics serve` runs live syncs on an interval (issue 12, item 2: "cxmetrics serve can run the
sync on an interval"): against the fake Zendesk API, the server's scheduler syncs, and the
dashboard's refresher and live hub hear about what landed; failures are logged without the
token and tried again; a bad interval names the setting; stopping interrupts long waits."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from _fake_api import serve
from fake_zendesk_api import ZendeskFake
from fastapi.testclient import TestClient
from test_zendesk_sync import EMAIL, TOKEN, TOKEN_ENV, _dataset, _iso, _workspace

import cxmetrics
from cxmetrics.connectors._schedule import Scheduler, announce, due
from cxmetrics.errors import ConnectorError
from cxmetrics.settings import Settings


def _until(check: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        time.sleep(0.05)


def test_serve_syncs_on_its_interval_and_the_dashboard_hears(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cxmetrics.api._app import create_app

    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    data = _dataset()
    with serve(ZendeskFake(data, email=EMAIL, token=TOKEN, page_cap=10)) as url:
        ws_path = _workspace(tmp_path / "ws", url, interval="1s")
        app = create_app(ws_path, watch_alerts=False, refresh_delay_s=0.05)
        with TestClient(app):
            scheduler = app.state.sync_scheduler
            hub = app.state.hub
            first = scheduler.wait_runs("zendesk", 1)
            assert first.last_error is None and first.last.tables["tickets"].inserted == 30
            # the refresher brought the facts up to date (nobody else refreshes: reads here do not)
            # and published the change on the live hub that dashboards listen to
            _until(lambda: hub.version >= 1)
            assert "tickets" in hub.last_tables and "ticket_facts" in hub.last_tables
            with app.state.workspace.cursor(auto_refresh=False) as cur:
                assert cur.con.execute("SELECT count(*) FROM ticket_facts").fetchone() == (30,)
            # a change in the help desk arrives by itself at a later interval
            seen = hub.version
            t202 = next(t for t in data.tickets if t["id"] == 202)
            at = max(datetime.fromisoformat(t["updated_at"].replace("Z", "+00:00")) for t in data.tickets)
            t202.update(status="open", updated_at=_iso(at + timedelta(days=1)))
            _until(lambda: hub.version > seen)
            assert "tickets" in hub.last_tables

            def status() -> str:
                with app.state.workspace.cursor(auto_refresh=False) as cur:
                    return cur.con.execute("SELECT status FROM tickets WHERE ticket_id = '202'").fetchone()[0]

            assert status() == "open"  # published after it landed
            assert scheduler.vendors["zendesk"].failures == 0
        # the server stopped: so did its sync thread
        assert all(not t.is_alive() for t in scheduler._threads)


def test_a_failing_sync_is_logged_without_the_token_and_tried_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "wrong-token-abc-123"
    monkeypatch.setenv(TOKEN_ENV, wrong)
    changes: list[list[str]] = []
    with serve(ZendeskFake(_dataset(), email=EMAIL, token=TOKEN)) as url:
        ws_path = _workspace(tmp_path / "ws", url, interval="1s")
        with cxmetrics.open(ws_path) as ws, caplog.at_level(logging.WARNING, logger="cxmetrics.connectors"):
            scheduler = Scheduler(ws, changes.append).start()
            try:
                runs = scheduler.wait_runs("zendesk", 2)  # tried again at the next interval
            finally:
                scheduler.stop()
    assert runs.failures >= 2 and changes == []
    assert "refused the credentials (401" in (runs.last_error or "")
    logged = [r.getMessage() for r in caplog.records if "zendesk sync failed" in r.getMessage()]
    assert len(logged) >= 2 and all(wrong not in m and TOKEN not in m for m in logged)
    assert "[connectors.zendesk]" in logged[0]


def test_a_bad_interval_names_the_setting_and_leaves_the_server_up(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text('[connectors.zendesk]\nsubdomain = "acme"\ninterval = "15 minutes"\n', encoding="utf-8")
    with pytest.raises(ConnectorError, match=r"\[connectors.zendesk\] interval '15 minutes' is not a duration"):
        due(Settings.load(settings))
    assert announce(Settings.load(settings)).startswith("Live sync is off: [connectors.zendesk] interval")
    settings.write_text('[connectors.zendesk]\nsubdomain = "acme"\ninterval = "15m"\n', encoding="utf-8")
    assert due(Settings.load(settings)) == {"zendesk": 900.0}
    assert announce(Settings.load(settings)).startswith("Live sync: zendesk every 15m")
    assert announce(Settings()) is None


def test_stopping_interrupts_a_long_retry_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    # one incremental-export request an hour: the second waits on a Retry-After of 3600 s
    fake = ZendeskFake(_dataset(), email=EMAIL, token=TOKEN, page_cap=10, limit=(1, 3600.0))
    with serve(fake) as url:
        ws_path = _workspace(tmp_path / "ws", url, interval="1h")
        with cxmetrics.open(ws_path) as ws:
            scheduler = Scheduler(ws, lambda tables: None).start()
            _until(lambda: fake.rate_limited >= 1)
            started = time.monotonic()
            scheduler.stop()
            assert time.monotonic() - started < 5
            assert all(not t.is_alive() for t in scheduler._threads)
            # what it had fetched is kept with its cursor: the next sync continues from there
            assert ws.con.execute("SELECT cursor FROM connector_state WHERE stream = 'tickets'").fetchone()[0]
