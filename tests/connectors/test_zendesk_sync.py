"""Zendesk live sync (issue 12, item 2 and the "local fake API" acceptance bullet): `cxmetrics
sync zendesk` against a local fake of Zendesk's API (fake_zendesk_api.py) with its
pagination, auth and rate limiting, and injected faults; compared with importing the same
objects as files, with values worked by hand, after a SIGKILL at random points, and with
bad credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from _fake_api import Faults, cli, kill_and_resume, serve, table_rows
from fake_zendesk_api import ZendeskData, ZendeskFake

import cxmetrics
from cxmetrics.connectors import import_zendesk, sync
from cxmetrics.connectors._http import Retry
from cxmetrics.errors import ConnectorError

EMAIL, TOKEN, TOKEN_ENV = "ana@example.com", "zd-test-token-9f8e7d", "CXM_TEST_ZENDESK_TOKEN"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
N = 30  # tickets 201..230
TABLES = ("agents", "tickets", "events", "surveys", "survey_sends")


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _solved(i: int) -> bool:
    return i % 6 != 5


def _dataset() -> ZendeskData:
    """30 tickets shaped as the fixture's (fixtures/zendesk/) and Zendesk's incremental exports:
    ticket i (id 201 + i) is created at T0 + 3 h * i by end user 1001 + i % 10 and has, as
    ticket events: the Create with the customer's comment; for i % 5 == 0 an AI agent's answer
    at +5 min; the agent's public reply at +(30 + i) min setting pending; for i % 4 == 1 a
    private note at +45 min; the customer's answer at +2 h reopening it; and, unless i % 6 == 5,
    the agent's solving reply at +3 h. Tickets with i % 3 == 0 (all solved) are rated good with a
    comment, with i % 3 == 1 offered a rating (the rating also embedded in the ticket).
    Ticket 205 has a comment by end user 1010, a CC: neither its requester nor an agent."""
    users = [
        {"id": 1001 + k, "name": f"Customer {k + 1}", "email": f"c{k + 1}@example.com", "role": "end-user",
         "created_at": "2024-01-10T10:00:00Z", "active": True} for k in range(10)
    ] + [
        {"id": 2001, "name": "Ana Agent", "email": EMAIL, "role": "agent", "default_group_id": 360001,
         "created_at": "2023-05-01T08:00:00Z", "active": True},
        {"id": 2002, "name": "Max Admin", "email": "max@example.com", "role": "admin", "default_group_id": 360002,
         "created_at": "2022-05-01T08:00:00Z", "active": True},
        {"id": 3001, "name": "AI Agent", "email": "ai@example.com", "role": "agent",
         "created_at": "2025-01-01T00:00:00Z", "active": True},
    ]
    groups = [{"id": 360001, "name": "Tier 1", "created_at": "2022-01-01T00:00:00Z", "deleted": False},
              {"id": 360002, "name": "Billing", "created_at": "2022-01-01T00:00:00Z", "deleted": False}]
    data = ZendeskData(users=users, groups=groups)
    channels = ("email", "web", "chat", "voice")
    for i in range(N):
        tid, created = 201 + i, T0 + timedelta(hours=3 * i)
        requester, agent, group = 1001 + i % 10, 2001 if i % 2 == 0 else 2002, 360001 if i % 3 else 360002
        eid = tid * 100
        events: list[tuple[datetime, int, str, list[dict[str, Any]]]] = [(created, requester, channels[i % 4], [
            {"id": eid + 1, "event_type": "Create", "status": "new"},
            {"id": eid + 2, "event_type": "Create", "priority": "normal"},
            {"id": eid + 3, "event_type": "Comment", "author_id": requester, "comment_public": True,
             "body": f"Question {tid}"}])]
        if i % 5 == 0:
            events.append((created + timedelta(minutes=5), 3001, "ai_agent", [
                {"id": eid + 11, "event_type": "Comment", "author_id": 3001, "comment_public": True,
                 "body": "This article may help."}]))
        events.append((created + timedelta(minutes=30 + i), agent, "web", [
            {"id": eid + 21, "event_type": "Comment", "author_id": agent, "comment_public": True, "body": "Looking"},
            {"id": eid + 22, "event_type": "Change", "status": "pending", "previous_value": "new"}]))
        if i % 4 == 1:
            events.append((created + timedelta(minutes=45), agent, "web", [
                {"id": eid + 31, "event_type": "Comment", "author_id": agent, "comment_public": False,
                 "body": "Internal note"}]))
        if tid == 205:
            events.append((created + timedelta(minutes=90), 1010, "email", [
                {"id": eid + 41, "event_type": "Comment", "author_id": 1010, "comment_public": True,
                 "body": "Same here (cc)"}]))
        events.append((created + timedelta(hours=2), requester, "email", [
            {"id": eid + 51, "event_type": "Comment", "author_id": requester, "comment_public": True, "body": "More"},
            {"id": eid + 52, "event_type": "Change", "status": "open", "previous_value": "pending"}]))
        if _solved(i):
            events.append((created + timedelta(hours=3), agent, "web", [
                {"id": eid + 61, "event_type": "Comment", "author_id": agent, "comment_public": True, "body": "Fixed"},
                {"id": eid + 62, "event_type": "Change", "status": "solved", "previous_value": "open"}]))
        for n, (at, who, via, children) in enumerate(events):
            data.ticket_events.append({"id": eid + 90 + n, "ticket_id": tid, "timestamp": int(at.timestamp()),
                                       "created_at": _iso(at), "updater_id": who, "via": {"channel": via},
                                       "event_type": "Audit", "child_events": children})
        updated = events[-1][0]
        ticket: dict[str, Any] = {
            "id": tid, "url": f"https://example.zendesk.com/api/v2/tickets/{tid}.json",
            "via": {"channel": channels[i % 4]}, "created_at": _iso(created), "updated_at": _iso(updated),
            "type": "question", "subject": f"Question {tid}", "priority": "normal",
            "status": "solved" if _solved(i) else "open", "requester_id": requester, "submitter_id": requester,
            "assignee_id": agent, "group_id": group, "tags": ["sync"], "satisfaction_rating": None}
        if _solved(i) and i % 3 in (0, 1):
            score = "good" if i % 3 == 0 else "offered"
            rated = updated + timedelta(hours=1)
            rating = {"id": 5000 + i, "url": f"https://example.zendesk.com/api/v2/satisfaction_ratings/{5000 + i}.json",
                      "assignee_id": agent, "group_id": group, "requester_id": requester, "ticket_id": tid,
                      "score": score, "comment": "Thanks!" if score == "good" else None, "reason": None,
                      "created_at": _iso(rated), "updated_at": _iso(rated + timedelta(minutes=30 if score == "good"
                                                                                     else 0))}
            data.ratings.append(rating)
            ticket["satisfaction_rating"] = {"id": rating["id"], "score": score, "comment": rating["comment"]}
            ticket["updated_at"] = rating["updated_at"]
        data.tickets.append(ticket)
        data.metric_sets.append({"id": 9000 + i, "ticket_id": tid, "reopens": 0, "replies": 2,
                                 "reply_time_in_minutes": {"calendar": 30 + i, "business": 30 + i},
                                 "created_at": _iso(created), "updated_at": ticket["updated_at"]})
    return data


def _expected_events() -> int:
    """Canonical events, counted from the dataset's description: the Create audit gives a
    created event and a message; every other comment a message; every status change one."""
    total = 0
    for i in range(N):
        total += 2 + (i % 5 == 0) + 2 + (i % 4 == 1) + 2 + (2 if _solved(i) else 0) + (201 + i == 205)
    return total


class Clock:
    """The fake's rate-limit clock, moved on by the client's sleeps (no real waiting)."""

    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _workspace(path: Path, base_url: str, **extra: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    lines = ["[connectors.zendesk]", f'base_url = "{base_url}"', f'email = "{EMAIL}"', f'token_env = "{TOKEN_ENV}"',
             'start = "2025-03-01"', *(f'{k} = "{v}"' for k, v in extra.items())]
    (path / "settings.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cxmetrics.open(path, create=True).close()
    return path


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    yield TOKEN


def _reconciles(summary: Any) -> None:
    for s in summary.tables.values():
        assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined, s


def _file_import(tmp: Path, data: ZendeskData) -> Path:
    """The same objects the fake serves, saved as API pages and imported as files."""
    folder = tmp / "pages"
    folder.mkdir()
    agents = [u for u in data.users if u["role"] in ("agent", "admin")]
    pages = {"1-agents.json": {"users": agents}, "2-groups.json": {"groups": data.groups},
             "3-tickets.json": {"tickets": data.tickets, "users": data.users, "groups": data.groups,
                                "metric_sets": data.metric_sets, "end_of_stream": True},
             "4-ticket_events.json": {"ticket_events": data.ticket_events, "end_of_stream": True},
             "5-ratings.json": {"satisfaction_ratings": data.ratings}}
    for name, body in pages.items():
        (folder / name).write_text(json.dumps(body), encoding="utf-8")
    ws_path = tmp / "files-ws"
    with cxmetrics.open(ws_path, create=True) as ws:
        _reconciles(import_zendesk(ws, folder))
    return ws_path


def test_sync_with_faults_equals_the_file_import_and_values_by_hand(tmp_path: Path, token: str) -> None:
    data = _dataset()
    clock = Clock()
    fake = ZendeskFake(data, email=EMAIL, token=TOKEN, page_cap=3, limit=(10, 60.0), clock=clock)
    app = Faults(fake, {3: "500", 7: "drop", 12: "429"})
    with serve(app) as url:
        ws_path = _workspace(tmp_path / "ws", url)
        with cxmetrics.open(ws_path) as ws:
            summary = sync(ws, "zendesk", sleep=clock.sleep)
            _reconciles(summary)
            ws.refresh()
            facts = {r[0]: r[1:] for r in ws.con.execute(
                "SELECT ticket_id, status, frt_s, frt_first_touch_s, public_agent_replies FROM ticket_facts"
            ).fetchall()}
            actors = dict(ws.con.execute("SELECT event_id, actor_type FROM events").fetchall())
            agent_types = {r[0]: r[1:] for r in ws.con.execute("SELECT agent_id, type, team FROM agents").fetchall()}
            kept = ws.con.execute("SELECT kind, count(*) FROM connector_objects GROUP BY kind ORDER BY kind").fetchall()
    # the faults were met and waited out: 500, the dropped connection, the injected 429 and the
    # fake's own rate limit (10 incremental-export requests a minute), whose Retry-After was slept
    assert fake.rate_limited >= 1 and fake.retry_afters[0] in clock.slept
    assert summary.retries >= 3 + fake.rate_limited
    assert fake.requests["/api/v2/incremental/tickets/cursor.json"] == N // 3 and summary.streams["tickets"].pages == 10
    # time-based event pages start at the second the last one ended: its events come twice
    assert summary.streams["ticket_events"].objects > len(data.ticket_events)
    assert {k: v.objects for k, v in summary.streams.items() if k != "ticket_events"} == {
        "agents": 3, "groups": 2, "tickets": N, "satisfaction_ratings": 20}
    # by hand: 30 tickets; events as counted from the dataset; 10 good answers (i = 0, 3, ..., 27; all
    # solved) of 20 offers (and i = 1, 4, ..., 28); agents 2001, 2002 and the AI agent 3001 (a bot by
    # its answers)
    stored = {t: summary.tables[t].inserted for t in TABLES}
    assert stored == {"agents": 3, "tickets": N, "events": _expected_events(), "surveys": 10, "survey_sends": 20}
    assert agent_types == {"2001": ("human", "Tier 1"), "2002": ("human", "Billing"), "3001": ("bot", None)}
    assert dict(kept) == {"groups": 2, "ticket_metrics": N, "users": 3}
    # 201: AI answer at +5 min (first touch 300 s), Ana's reply at +30 min (1800 s), replies at +30 min and +3 h
    assert facts["201"] == ("solved", 1800, 300, 2)
    assert facts["207"][:3] == ("solved", 36 * 60, 36 * 60)  # i = 6: no bot, reply at +36 min
    assert facts["206"][0] == "open"  # i = 5: never solved
    # 205's CC (end user 1010, not its requester, not an agent) is a customer, not an agent
    assert actors["20541"] == "customer" and actors["20503"] == "customer" and actors["20521"] == "agent"
    files = _file_import(tmp_path, data)
    for table in TABLES:
        assert table_rows(ws_path, table) == table_rows(files, table), table


def test_second_sync_stores_nothing_and_a_third_brings_exactly_one_change(tmp_path: Path, token: str) -> None:
    data = _dataset()
    fake = ZendeskFake(data, email=EMAIL, token=TOKEN, page_cap=4)
    with serve(fake) as url:
        ws_path = _workspace(tmp_path / "ws", url)
        with cxmetrics.open(ws_path) as ws:
            sync(ws, "zendesk", sleep=lambda s: None)
            again = sync(ws, "zendesk", sleep=lambda s: None)
            _reconciles(again)
            assert all(s.inserted == s.updated == s.quarantined == 0 for s in again.tables.values()), again
            assert again.streams["tickets"].objects == 0  # the saved after_cursor: nothing changed since
        before = {t: {repr(r) for r in table_rows(ws_path, t)} for t in TABLES}
        # ticket 202 (solved) is reopened: the customer writes again, a day after the account's last change
        t202 = next(t for t in data.tickets if t["id"] == 202)
        last = max(datetime.fromisoformat(t["updated_at"].replace("Z", "+00:00")) for t in data.tickets)
        at = last + timedelta(days=1)
        data.ticket_events.append({"id": 20299, "ticket_id": 202, "timestamp": int(at.timestamp()),
                                   "created_at": _iso(at), "updater_id": 1002, "via": {"channel": "email"},
                                   "event_type": "Audit", "child_events": [
                                       {"id": 20297, "event_type": "Comment", "author_id": 1002,
                                        "comment_public": True, "body": "It broke again"},
                                       {"id": 20298, "event_type": "Change", "status": "open",
                                        "previous_value": "solved"}]})
        t202.update(status="open", updated_at=_iso(at))
        with cxmetrics.open(ws_path) as ws:
            third = sync(ws, "zendesk", sleep=lambda s: None)
            _reconciles(third)
            ws.refresh()
            reopens = ws.con.execute("SELECT status, reopens FROM ticket_facts WHERE ticket_id = '202'").fetchone()
            new = ws.con.execute("SELECT event_id, kind, actor_type FROM events WHERE ticket_id = '202' AND ts > "
                                 "(SELECT max(ts) FROM events WHERE ticket_id = '202' AND kind = 'status' "
                                 "AND status_to = 'solved') ORDER BY event_id").fetchall()
    assert third.streams["tickets"].objects == 1
    assert {t: (s.inserted, s.updated) for t, s in third.tables.items() if s.inserted or s.updated} == {
        "tickets": (0, 1), "events": (2, 0)}
    after = {t: {repr(r) for r in table_rows(ws_path, t)} for t in TABLES}
    assert {t: len(after[t] - before[t]) for t in TABLES} == {"agents": 0, "tickets": 1, "events": 2, "surveys": 0,
                                                              "survey_sends": 0}
    assert new == [("20297", "message", "customer"), ("20298", "status", "customer")]
    assert reopens == ("open", 1)


def test_sigkill_at_random_points_leaves_what_an_uninterrupted_sync_leaves(tmp_path: Path) -> None:
    data = _dataset()
    env = {**os.environ, TOKEN_ENV: TOKEN}
    with serve(Faults(ZendeskFake(data, email=EMAIL, token=TOKEN, page_cap=3), delay_s=0.04)) as url:
        killed_ws = _workspace(tmp_path / "killed", url)
        killed = kill_and_resume(cli(killed_ws, "sync", "zendesk"), env, kills=5, seed=12, max_wait_s=4.0)
        clean_ws = _workspace(tmp_path / "clean", url)
        kill_and_resume(cli(clean_ws, "sync", "zendesk"), env, kills=0, seed=0)
    assert killed >= 2  # the runs were stopped mid-way, not only before or after
    for table in TABLES:
        assert table_rows(killed_ws, table) == table_rows(clean_ws, table), table
    assert len(table_rows(killed_ws, "events")) == _expected_events()
    with cxmetrics.open(killed_ws) as ws:
        assert ws.con.execute("SELECT count(*) FROM connector_pages").fetchone() == (0,)  # all landed


def test_bad_or_missing_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ZendeskFake(_dataset(), email=EMAIL, token=TOKEN)
    with serve(fake) as url:
        ws_path = _workspace(tmp_path / "ws", url)
        monkeypatch.delenv(TOKEN_ENV, raising=False)
        with cxmetrics.open(ws_path) as ws:
            with pytest.raises(ConnectorError, match=f"{TOKEN_ENV} .*token_env.* is not set"):
                sync(ws, "zendesk", sleep=lambda s: None)
            wrong = "not-the-right-token-123"
            monkeypatch.setenv(TOKEN_ENV, wrong)
            with pytest.raises(ConnectorError, match=r"refused the credentials \(401") as err:
                sync(ws, "zendesk", sleep=lambda s: None, retry=Retry(attempts=2))
            assert wrong not in str(err.value) and TOKEN not in str(err.value)
            assert "[connectors.zendesk]" in str(err.value)
            assert ws.counts()["tickets"] == 0
    # the CLI says the same as `TypeName: message`, exit 1
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    done = subprocess.run([sys.executable, "-m", "cxmetrics", "-w", str(ws_path), "sync", "zendesk"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "ConnectorError:" in done.stderr + done.stdout
