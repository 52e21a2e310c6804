"""The parts of live sync every vendor shares: [connectors.VENDOR] settings and where
credentials come from, the API client's retries, and the engine's resume after a crash."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

import cxmetrics
from cxmetrics.connectors import _state
from cxmetrics.connectors._http import Client, Retry, client_for, retry_after
from cxmetrics.connectors._plumbing import Batch, Page
from cxmetrics.connectors._sync import Fetched, Source, _land_pending, _store, SyncSummary
from cxmetrics.errors import ConnectorError, SettingsError
from cxmetrics.settings import Settings

TOKEN = "s3cr3t-token-value"


def _settings(tmp_path: Path, text: str) -> Settings:
    p = tmp_path / "settings.toml"
    p.write_text(text, encoding="utf-8")
    return Settings.load(p)


def test_connector_settings_round_trip_and_refuse_inline_credentials(tmp_path: Path) -> None:
    s = _settings(tmp_path, '[connectors.zendesk]\nsubdomain = "acme"\nemail = "a@acme.com"\ntoken_env = "ZD_TOKEN"\n')
    assert s.connectors == {"zendesk": {"subdomain": "acme", "email": "a@acme.com", "token_env": "ZD_TOKEN"}}
    s.save(tmp_path / "again.toml")
    assert Settings.load(tmp_path / "again.toml") == s  # saving keeps the section
    with pytest.raises(SettingsError, match="credentials never go in settings.toml"):
        _settings(tmp_path, '[connectors.zendesk]\napi_token = "abc"\n')
    with pytest.raises(SettingsError, match="not a help desk we connect to"):
        _settings(tmp_path, '[connectors.zenddesk]\nsubdomain = "acme"\n')
    with pytest.raises(SettingsError, match="unknown key"):
        _settings(tmp_path, '[connectors.zendesk]\nsubdomian = "acme"\n')


def test_credentials_from_env_or_file_and_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = _settings(tmp_path, '[connectors.freshdesk]\nsubdomain = "acme"\ntoken_env = "FD_KEY"\n')
    monkeypatch.delenv("FD_KEY", raising=False)
    with pytest.raises(ConnectorError, match="FD_KEY .* is not set"):
        _state.secret(s, "freshdesk")
    monkeypatch.setenv("FD_KEY", TOKEN)
    assert _state.secret(s, "freshdesk") == TOKEN
    key = tmp_path / "key.txt"
    key.write_text(TOKEN + "\n")
    s = _settings(tmp_path, f'[connectors.freshdesk]\nsubdomain = "acme"\ntoken_file = "{key}"\n')
    assert _state.secret(s, "freshdesk") == TOKEN
    with pytest.raises(ConnectorError, match=r"No \[connectors.intercom\] section"):
        _state.secret(s, "intercom")
    # Freshdesk signs in with the key as user and X as password, at the subdomain's address
    client = client_for(s, "freshdesk")
    assert str(client._http.base_url) == "https://acme.freshdesk.com"
    assert client._http.headers["Authorization"] == "Basic czNjcjN0LXRva2VuLXZhbHVlOlg="  # base64("s3cr3t-token-value:X")
    client.close()


def test_retry_after_header_forms() -> None:
    assert retry_after("30") == 30.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: go now
    assert retry_after("later") is None


def _client(handler: Any, waits: list[float], attempts: int = 8) -> Client:
    return Client("zendesk", "https://acme.zendesk.com", transport=httpx.MockTransport(handler),
                  retry=Retry(attempts=attempts), sleep=waits.append)


def test_client_waits_out_429_5xx_and_dropped_connections() -> None:
    answers = iter([
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(503),
        "drop",
        httpx.Response(200, json={"tickets": [{"id": 1}]}),
    ])

    def handler(request: httpx.Request) -> httpx.Response:
        a = next(answers)
        if a == "drop":
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")
        return a

    waits: list[float] = []
    with _client(handler, waits) as c:
        assert c.get("/api/v2/tickets.json") == {"tickets": [{"id": 1}]}
        assert (c.requests, c.retries) == (3, 3)  # 3 answered (429, 503, 200) + 1 dropped; 3 retries
    assert waits[0] == 7.0  # Retry-After taken as given
    assert 0.5 * 2 <= waits[1] <= 2.0 and 0.5 * 4 <= waits[2] <= 4.0  # then doubling backoff, with jitter


def test_client_refusal_names_the_setting_never_the_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s = _settings(tmp_path, '[connectors.zendesk]\nsubdomain = "acme"\nemail = "a@acme.com"\ntoken_env = "ZD"\n')
    monkeypatch.setenv("ZD", TOKEN)
    client = client_for(s, "zendesk", transport=httpx.MockTransport(lambda r: httpx.Response(401, json={})))
    with pytest.raises(ConnectorError) as err:
        client.get("/api/v2/tickets.json?cursor=abc")
    assert "refused the credentials" in str(err.value) and TOKEN not in str(err.value)
    assert "cursor=abc" not in str(err.value)


def test_client_gives_up_after_its_attempts_with_how_to_continue() -> None:
    waits: list[float] = []
    with _client(lambda r: httpx.Response(500), waits, attempts=3) as c:
        with pytest.raises(Exception, match="run the sync again later: it continues where it stopped"):
            c.get("/api/v2/tickets.json")
    assert len(waits) == 2


class _Numbers:
    """A toy stream: objects 1..n, two per page; the cursor is the last id landed."""

    name = "tickets"

    def __init__(self, n: int, crash_after: int | None = None) -> None:
        self.n, self.crash_after, self.calls = n, crash_after, 0

    def fetch(self, client: Any, cursor: str | None, since: datetime) -> Fetched:
        self.calls += 1
        if self.crash_after is not None and self.calls > self.crash_after:
            raise KeyboardInterrupt  # the process stops here, as a kill would
        start = int(cursor or 0)
        ids = list(range(start + 1, min(start + 2, self.n) + 1))
        body = {"tickets": [{"id": i, "created_at": "2025-03-03T08:00:00Z", "status": "open"} for i in ids]}
        return Fetched([body] if ids else [], len(ids), str(ids[-1]) if ids else cursor, ids[-1:] == [self.n] or not ids)


def test_engine_resumes_from_the_cursor_stored_with_the_pages(tmp_path: Path) -> None:
    """Pages and cursor commit together; a crash after 2 fetches keeps them (not yet
    landed); the next run lands them first, continues from the cursor, and nothing is doubled."""
    from cxmetrics.connectors import zendesk

    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        crashing = _Numbers(7, crash_after=2)
        summary = SyncSummary("zendesk")
        with pytest.raises(KeyboardInterrupt):
            for _ in range(10):
                step = crashing.fetch(None, _state.cursor(ws.con, "zendesk", "tickets"), datetime.now(timezone.utc))
                _store(ws, "zendesk", "tickets", step)
        assert _state.cursor(ws.con, "zendesk", "tickets") == "4"
        assert ws.con.execute("SELECT count(*) FROM connector_pages").fetchone()[0] == 2
        assert ws.counts()["tickets"] == 0  # fetched, not landed
        plan = Source("zendesk", (_Numbers(7),))
        _land_pending(ws, plan, zendesk.convert, summary, "zendesk")  # what the next run does first
        assert ws.counts()["tickets"] == 4
        assert ws.con.execute("SELECT count(*) FROM connector_pages").fetchone()[0] == 0
        rest = _Numbers(7)
        while True:
            step = rest.fetch(None, _state.cursor(ws.con, "zendesk", "tickets"), datetime.now(timezone.utc))
            _store(ws, "zendesk", "tickets", step)
            if step.done:
                break
        _land_pending(ws, plan, zendesk.convert, summary, "zendesk")
        ids = [r[0] for r in ws.con.execute("SELECT ticket_id FROM tickets ORDER BY ticket_id::INT").fetchall()]
        assert ids == ["1", "2", "3", "4", "5", "6", "7"]
        t = summary.tables["tickets"]
        assert (t.read, t.inserted, t.updated + t.unchanged + t.quarantined) == (7, 7, 0)
        # landing a page again (a crash between landing and forgetting it) changes nothing
        batch: Batch = zendesk.convert([Page(Path("p.json"), 1, 1, {"tickets": [{"id": 3, "created_at":
                                        "2025-03-03T08:00:00Z", "status": "open"}]})])
        from cxmetrics.connectors._plumbing import land

        again = land(ws, "zendesk", "sync pages 1-1", batch, source="zendesk").tables["tickets"]
        assert (again.read, again.unchanged) == (1, 1)


def test_split_moves_the_rows_of_one_line_with_their_weak_columns() -> None:
    batch = Batch()
    batch.add("agents", {"agent_id": "a", "type": "human"}, 0)
    batch.add("agents", {"agent_id": "b", "type": "bot", "_yields_to_stored": ("type",)}, 3)
    batch.add("agents", {"agent_id": "c", "type": "bot", "_yields_to_stored": ("type",)}, 0)
    batch.add("tickets", {"ticket_id": "1"}, 0)
    lookups = batch.split("agents", 0)
    assert [r["agent_id"] for r in lookups.rows["agents"]] == ["a", "c"]
    assert [r["agent_id"] for r in batch.rows["agents"]] == ["b"]
    assert lookups.yields["agents"] == {1: ("type",)} and batch.yields["agents"] == {0: ("type",)}
    assert batch.count("tickets") == 1 and lookups.count("tickets") == 0  # other tables stay


def test_a_sync_without_its_settings_section_says_which_section_to_add(tmp_path: Path) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        with pytest.raises(ConnectorError, match=r"No \[connectors.zendesk\] section"):
            from cxmetrics.connectors import sync

            sync(ws, "zendesk")
