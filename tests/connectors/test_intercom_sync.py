"""Intercom live sync (issue 12, item 2 and the "local fake API" bullet): `cxmetrics sync
intercom` against fake_intercom_api.py, a local fake of Intercom's REST API (search with
its stateless cursor, retrieval capped at 500 parts, admins, teams, Bearer auth, 429 with
X-RateLimit-Reset). Expected values are worked out by hand from the dataset's rules
(fake_intercom_api.generated) and the fixture's README, or compared with a file import of
the same objects (the importer is tested on its own in test_intercom_files.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from _connector_helpers import facts_by_ticket
from _fake_api import Faults, cli, kill_and_resume, serve, table_rows
from conftest import rows
from fake_intercom_api import ANA, FakeIntercom, dataset, generated, lookups, part

import cxmetrics
from cxmetrics.connectors import import_intercom, sync
from cxmetrics.connectors._http import Client, Retry
from cxmetrics.connectors.intercom_sync import OVERLAP_S
from cxmetrics.errors import ConnectorError

TOKEN = "ic-t0ken-s3cr3t-value"
ENV = "CXM_TEST_INTERCOM_TOKEN"
TABLES = ("agents", "tickets", "events", "surveys")
FAST = Retry(attempts=5)


def _no_sleep(seconds: float) -> None:
    """Retries go at once in-process: the tests check that they happen, not the waiting."""


def _workspace(path: Path, base_url: str | None, *, token_env: str = ENV) -> Path:
    """A New York workspace (the fixture's 103 spans the DST change) set up for the fake."""
    path.mkdir(parents=True)
    text = 'timezone = "America/New_York"\n'
    if base_url is not None:
        text += (f'\n[connectors.intercom]\nbase_url = "{base_url}"\ntoken_env = "{token_env}"\n'
                 'start = "2025-01-01"\n')
    (path / "settings.toml").write_text(text, encoding="utf-8")
    return path


@contextmanager
def _opened(path: Path) -> Iterator[cxmetrics.Workspace]:
    with cxmetrics.open(path, create=True) as ws:
        yield ws


def _import_as_files(tmp_path: Path, conversations: list[dict[str, Any]], name: str) -> Path:
    """A workspace holding a file import of these conversations (as retrieved) and the lookups."""
    folder = tmp_path / f"{name}-files"
    folder.mkdir()
    admins, teams = lookups()
    (folder / "conversations.jsonl").write_text("".join(json.dumps(c) + "\n" for c in conversations),
                                                encoding="utf-8")
    (folder / "admins.json").write_text(json.dumps({"type": "admin.list", "admins": admins}), encoding="utf-8")
    (folder / "teams.json").write_text(json.dumps({"type": "team.list", "teams": teams}), encoding="utf-8")
    ws_path = _workspace(tmp_path / name, None)
    with _opened(ws_path) as ws:
        import_intercom(ws, folder)
    return ws_path


def _same_tables(a: Path, b: Path) -> None:
    for table in TABLES:
        assert table_rows(a, table) == table_rows(b, table), table


def _reconciles(summary: Any) -> None:
    for name, s in summary.tables.items():
        assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined, name


def _fake(conversations: list[dict[str, Any]], **kw: Any) -> FakeIntercom:
    admins, teams = lookups()
    return FakeIntercom(conversations, admins, teams, token=TOKEN, **kw)


def test_sync_through_faults_stores_what_a_file_import_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    data = dataset(30)
    fake = _fake(data, page_size=4)
    # requests: 1 GET /teams, 2 GET /admins, 3 the first search, 4.. its conversations
    app = Faults(fake, {2: "500", 5: "drop", 9: "429"})
    with serve(app) as url:
        with _opened(_workspace(tmp_path / "synced", url)) as ws:
            summary = sync(ws, "intercom", retry=FAST, sleep=_no_sleep)
            facts = facts_by_ticket(ws, ("ticket_id", "status", "team", "frt_s", "frt_first_touch_s", "reopens",
                                         "bot_contained"))
            pending = rows(ws, "SELECT count(*) FROM connector_pages")
    _reconciles(summary)
    assert summary.retries == 3
    # 35 conversations, at most 4 a page: 9 search pages, each conversation retrieved once
    conv = summary.streams["conversations"]
    assert (conv.objects, conv.pages) == (35, 9)
    assert (summary.streams["teams"].objects, summary.streams["admins"].objects) == (2, 2)
    retrieved = sorted(path for _, method, path, _ in app.log if method == "GET" and path.startswith("/conversations/"))
    assert len(retrieved) == 35 + 2  # requests 5 (dropped) and 9 (429) were retrievals, each asked again
    assert pending == [(0,)]
    # every request named the API version; every search kept one query, sorted by updated_at ascending
    assert set(fake.versions) == {"2.11"}
    assert {json.dumps(s["query"]) for s in fake.searches} == {
        json.dumps({"field": "updated_at", "operator": ">", "value": 1735689600})}  # 2025-01-01 00:00 UTC
    assert all(s["sort"] == {"field": "updated_at", "order": "ascending"} for s in fake.searches)

    _same_tables(tmp_path / "synced", _import_as_files(tmp_path, data, "filed"))

    # by hand, from the fixture's README: 101's FRT 09:00 -> 09:20, Fin's first touch at 09:02, a reopen
    assert {k: facts["101"][k] for k in ("frt_s", "frt_first_touch_s", "reopens", "status", "team")} == {
        "frt_s": 1200, "frt_first_touch_s": 120, "reopens": 1, "status": "closed", "team": "Tier 1"}
    assert (facts["103"]["frt_s"], facts["103"]["status"]) == (47 * 3600, "pending")  # across the DST change
    assert facts["104"]["bot_contained"] is True
    # and from generated()'s rule: 201 (k=0) Ana replies after 10 min and closes; 202 (k=1) Ben after
    # 20 min, snoozed; 203 (k=2) Ana after 30 min, left open; teams by the assignee's team
    assert [(facts[t]["frt_s"], facts[t]["status"], facts[t]["team"]) for t in ("201", "202", "203")] == [
        (600, "closed", "Tier 1"), (1200, "pending", "Billing"), (1800, "open", "Tier 1")]
    # ratings: the fixture's 101 and 104, and k = 0, 4, ..., 28 of the generated ones
    with _opened(tmp_path / "synced") as ws:
        assert rows(ws, "SELECT count(*) FROM surveys") == [(2 + 8,)]
        assert rows(ws, "SELECT score FROM surveys WHERE ticket_id = '205'") == [(5.0,)]  # k=4: 4 % 5 + 1


def test_second_sync_reads_only_the_overlap_and_a_third_brings_exactly_a_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    fake = _fake(dataset(30), page_size=4)
    # the newest conversations: generated k=28 and k=29 (ids 229, 230) share k=29's last time,
    # created 1742036400 + 29 * 7 h and answered 600 * (29 % 5 + 1) s later
    newest = 1742036400 + 29 * 7 * 3600 + 3000
    with serve(fake) as url, _opened(_workspace(tmp_path / "ws", url)) as ws:
        sync(ws, "intercom", retry=FAST, sleep=_no_sleep)
        before = ws.counts()
        second = sync(ws, "intercom", retry=FAST, sleep=_no_sleep)
        assert fake.searches[-1]["query"]["value"] == newest - OVERLAP_S
        assert second.streams["conversations"].objects == 2  # 229 and 230, inside the overlap
        _reconciles(second)
        for name, s in second.tables.items():
            assert (s.inserted, s.updated, s.quarantined) == (0, 0, 0), name
        assert ws.counts() == before

        # Ana answers 103 (snoozed) and closes it, an hour after everything else
        at = newest + 3600
        fake.add_part("103", part("10303", "comment", at, ANA, "<p>It has shipped.</p>"))
        fake.add_part("103", part("10304", "close", at + 60, ANA), state="closed")
        third = sync(ws, "intercom", retry=FAST, sleep=_no_sleep)
        _reconciles(third)
        assert third.streams["conversations"].objects == 3  # 229, 230 again, and 103
        t, e = third.tables["tickets"], third.tables["events"]
        assert (t.read, t.inserted, t.updated, t.unchanged) == (3, 0, 1, 2)
        # the reply and the status change pending -> closed; the rest of 103, 229 and 230 unchanged
        assert (e.inserted, e.updated) == (2, 0)
        assert rows(ws, "SELECT event_id, kind, status_from, status_to FROM events WHERE ticket_id = '103' "
                        "AND event_id IN ('10303', '10304:status') ORDER BY event_id") == [
            ("10303", "message", None, None), ("10304:status", "status", "pending", "closed")]
        assert rows(ws, "SELECT status FROM tickets WHERE ticket_id = '103'") == [("closed",)]
    _same_tables(tmp_path / "ws", _import_as_files(tmp_path, list(fake.conversations.values()), "filed"))


def test_sigkilled_syncs_resume_to_what_one_uninterrupted_sync_stores(tmp_path: Path) -> None:
    fake = _fake(dataset(30), page_size=3)
    env = {**os.environ, ENV: TOKEN}
    with serve(Faults(fake, delay_s=0.04)) as url:
        killed_ws = _workspace(tmp_path / "killed", url)
        killed = kill_and_resume(cli(killed_ws, "sync", "intercom"), env, kills=4, seed=12)
        whole_ws = _workspace(tmp_path / "whole", url)
        done = subprocess.run(cli(whole_ws, "sync", "intercom", "--format", "json"), env=env, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert killed >= 1
    assert json.loads(done.stdout)["streams"]["conversations"] == {"pages": 12, "objects": 35}
    _same_tables(killed_ws, whole_ws)
    with _opened(killed_ws) as ws:
        assert rows(ws, "SELECT count(*) FROM connector_pages") == [(0,)]
        assert ws.counts()["tickets"] == 35


def test_credentials_missing_or_refused_name_the_setting_never_the_token(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake(dataset(0))
    with _opened(_workspace(tmp_path / "none", None)) as ws:
        with pytest.raises(ConnectorError, match=r"No \[connectors\.intercom\] section in settings\.toml"):
            sync(ws, "intercom", sleep=_no_sleep)
    monkeypatch.delenv(ENV, raising=False)
    with serve(fake) as url:
        with _opened(_workspace(tmp_path / "unset", url)) as ws:
            with pytest.raises(ConnectorError, match=rf"The environment variable {ENV} \(\[connectors\.intercom\] "
                                                     r"token_env\) is not set"):
                sync(ws, "intercom", sleep=_no_sleep)
        wrong = "wrong-" + TOKEN
        monkeypatch.setenv(ENV, wrong)
        ws_path = _workspace(tmp_path / "wrong", url)
        with _opened(ws_path) as ws:
            with pytest.raises(ConnectorError) as err:
                sync(ws, "intercom", sleep=_no_sleep)
        assert "intercom refused the credentials (401 on /teams)" in str(err.value)
        assert "[connectors.intercom]" in str(err.value) and wrong not in str(err.value)
        out = subprocess.run(cli(ws_path, "sync", "intercom"), env={**os.environ, ENV: wrong}, capture_output=True,
                             text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr.startswith("ConnectorError: intercom refused the credentials") or \
        "ConnectorError: intercom refused the credentials" in out.stdout + out.stderr
    assert wrong not in out.stdout + out.stderr


def test_client_waits_until_x_ratelimit_reset() -> None:
    # Intercom's 429 says when its window resets (Unix seconds), with no Retry-After
    reset = int(time.time()) + 5
    answers = iter([httpx.Response(429, headers={"X-RateLimit-Reset": str(reset), "X-RateLimit-Remaining": "0"}),
                    httpx.Response(200, json={"type": "team.list", "teams": []})])
    waits: list[float] = []
    with Client("intercom", "https://api.intercom.io", transport=httpx.MockTransport(lambda r: next(answers)),
                retry=Retry(base_s=0.01), sleep=waits.append) as c:
        assert c.get("/teams") == {"type": "team.list", "teams": []}
    assert len(waits) == 1 and 3.5 < waits[0] <= 5.0


def test_sync_through_the_fakes_rate_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 5 requests a second, as Intercom limits per window; backoff alone (1 ms here) would retry
    # inside the same window until the attempts run out
    monkeypatch.setenv(ENV, TOKEN)
    fake = _fake(generated(8), page_size=4, rate_limit=(5, 1.0))
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with serve(fake) as url, _opened(_workspace(tmp_path / "ws", url)) as ws:
        summary = sync(ws, "intercom", retry=Retry(attempts=4, base_s=0.001), sleep=sleep)
        assert ws.counts()["tickets"] == 8
    # 2 lookups + 2 search pages + 8 retrievals + 2 contacts searches (one a page) = 14 answered
    # requests, 5 a window: some got 429, and each was waited out to the window's end, so its retry
    # was answered
    assert fake.limited >= 1
    assert summary.retries == fake.limited and summary.requests == 14 + fake.limited
    assert all(0 < w <= 1.0 for w in waits)


def test_parts_beyond_intercoms_500_and_a_conversation_deleted_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    long, gone, kept = generated(3)
    created = long["created_at"]
    # 620 private notes by Ana, a minute apart: Intercom returns 500 of them (total_count 620)
    notes = [part(f"n{i}", "note", created + 60 * (i + 1), ANA, f"<p>note {i}</p>") for i in range(620)]
    long["conversation_parts"] = {"type": "conversation_part.list", "total_count": 620, "conversation_parts": notes}
    long["state"], long["updated_at"] = "open", notes[-1]["created_at"]
    fake = _fake([long, gone, kept], missing={gone["id"]})
    with serve(fake) as url, _opened(_workspace(tmp_path / "ws", url)) as ws:
        summary = sync(ws, "intercom", retry=FAST, sleep=_no_sleep)
        _reconciles(summary)
        # the search listed 3; 202 was gone when retrieved and is left out, the sync goes on
        assert rows(ws, "SELECT ticket_id FROM tickets ORDER BY 1") == [("201",), ("203",)]
        # 201: created + its opening message + the 500 notes Intercom returned
        assert rows(ws, "SELECT count(*), count(*) FILTER (kind = 'message' AND NOT public) FROM events "
                        "WHERE ticket_id = '201'") == [(502, 500)]


def test_pages_landed_one_at_a_time_still_name_teams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # each page lands alone (a long sync lands every 50 pages; a killed one lands what it left
    # first): conversations name their team from the teams kept when the teams page landed
    monkeypatch.setenv(ENV, TOKEN)
    data = dataset(6)
    with serve(_fake(data, page_size=2)) as url, _opened(_workspace(tmp_path / "ws", url)) as ws:
        summary = sync(ws, "intercom", retry=FAST, sleep=_no_sleep, land_every=1)
        assert summary.streams["conversations"].pages == 6  # 11 conversations, 2 a page
        assert rows(ws, "SELECT ticket_id, team FROM tickets WHERE ticket_id IN ('101', '202') ORDER BY 1") == [
            ("101", "Tier 1"), ("202", "Billing")]
    _same_tables(tmp_path / "ws", _import_as_files(tmp_path, data, "filed"))


def test_a_search_cursor_intercom_refuses_restarts_that_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a sync stopped mid-search and resumed when Intercom no longer takes its starting_after (400):
    # the same search again from its start, nothing skipped
    from cxmetrics.connectors import _state
    from cxmetrics.connectors.intercom_sync import SearchCursor

    monkeypatch.setenv(ENV, TOKEN)
    fake = _fake(generated(5), page_size=2)
    since = 1735689600  # 2025-01-01, the start setting
    with serve(fake) as url, _opened(_workspace(tmp_path / "ws", url)) as ws:
        _state.set_cursor(ws.con, "intercom", "conversations", SearchCursor(since, "c3RhbGU=", since).dump())
        summary = sync(ws, "intercom", retry=FAST, sleep=_no_sleep)
        assert ws.counts()["tickets"] == 5
    assert summary.streams["conversations"].objects == 5
    assert fake.searches[0]["pagination"]["starting_after"] == "c3RhbGU="
    assert "starting_after" not in fake.searches[1]["pagination"]
    assert {s["query"]["value"] for s in fake.searches} == {since}
