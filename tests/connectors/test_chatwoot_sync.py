"""Chatwoot live sync (issue 12, item 2, and the "local fake API" acceptance bullet):
`cxmetrics sync chatwoot` against fake_chatwoot_api, which pages, filters and throttles as
Chatwoot does. The reference for every comparison is the file import of the same objects
(test_chatwoot_files.py checks that one against values worked by hand)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from _fake_api import Faults, cli, kill_and_resume, serve, table_rows
from fake_chatwoot_api import FakeChatwoot

import cxmetrics
from cxmetrics.connectors import import_chatwoot, sync
from cxmetrics.connectors._http import Retry
from cxmetrics.connectors._sync import SyncSummary
from cxmetrics.errors import ConnectorError

FIXTURE = Path(__file__).parent / "fixtures" / "chatwoot"
TOKEN = "cw-test-token-9f8e7d"
ENV = "CXM_TEST_CHATWOOT_TOKEN"
TABLES = ("agents", "tickets", "events", "surveys")
BASE = 1740787200  # 2025-03-01T00:00:00Z
GENERATED = range(100, 156)  # 56 conversations beside the fixture's 41-44: 60 in all, 3 filter pages


def _json(name: str) -> Any:
    return json.loads((FIXTURE / name).read_text(encoding="utf-8"))


def _generated(cid: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A web-widget conversation in Chatwoot's list shape: the customer writes, Ana or Ben
    answers, every 10 minutes; every 7th has 45 messages (three messages pages), every
    3rd is resolved by its agent (an activity message)."""
    k = cid - 100
    created = BASE + k * 3 * 3600
    agent = {"id": 1, "name": "Ana Lima", "available_name": "Ana Lima", "role": "administrator"} if k % 2 else \
        {"id": 2, "name": "Benjamin Ortiz", "available_name": "Ben Ortiz", "role": "agent"}
    contact = {"id": 600 + k, "name": f"Customer {k}", "type": "contact"}
    n = 45 if k % 7 == 0 else 2 + k % 5
    messages = []
    for i in range(n):
        incoming = i % 2 == 0
        messages.append({
            "id": cid * 100 + i, "content": f"message {i} of {cid}", "inbox_id": 12, "conversation_id": cid,
            "message_type": 0 if incoming else 1, "content_type": "text", "content_attributes": {},
            "created_at": created + i * 600, "private": False, "source_id": None,
            "sender": contact if incoming else {"id": agent["id"], "name": agent["name"], "type": "user"}})
    status = "open"
    if k % 3 == 0:
        status = "resolved"
        messages.append({
            "id": cid * 100 + n, "content": f"Conversation was marked resolved by {agent['name']}", "inbox_id": 12,
            "conversation_id": cid, "message_type": 2, "content_type": "text", "content_attributes": {},
            "created_at": created + n * 600, "private": False, "source_id": None})
    last = messages[-1]["created_at"]
    conversation = {
        "id": cid, "account_id": 1, "uuid": f"00000000-0000-4000-8000-{cid:012d}", "inbox_id": 12,
        "additional_attributes": {}, "custom_attributes": {}, "labels": ["generated"] if k % 4 == 0 else [],
        "muted": False, "snoozed_until": None, "status": status, "priority": ["low", "high", None][k % 3],
        "created_at": created, "updated_at": float(last), "timestamp": last, "last_activity_at": last,
        "unread_count": 0, "can_reply": True,
        "meta": {"sender": contact, "channel": "Channel::WebWidget", "assignee": agent,
                 "team": {"id": 4, "name": "Tier 1"} if k % 2 else None, "hmac_verified": False},
        "messages": [messages[-1]]}
    if conversation["meta"]["team"] is None:
        del conversation["meta"]["team"]
    return conversation, messages


def _dataset() -> dict[str, Any]:
    """The fixture's objects (agents, bot, teams, inboxes, conversations 41-44 with their
    messages, CSAT 901-903) and 56 generated conversations with 27 CSAT responses."""
    conversations = {c["id"]: c for f in ("conversations-1.json", "conversations-2.json")
                     for c in _json(f)["data"]["payload"]}
    for c in conversations.values():
        c["last_activity_at"] = c["timestamp"]
    messages = {cid: _json(f"messages-{cid}.json")["payload"] for cid in (41, 42, 43)}
    messages[44] = [json.loads(line) for line in (FIXTURE / "messages-44.jsonl").read_text().splitlines() if line]
    csat = _json("csat_survey_responses.json")
    for cid in GENERATED:
        conversations[cid], messages[cid] = _generated(cid)
        if cid < 127:
            k = cid - 100
            csat.append({"id": 1000 + k, "rating": 1 + k % 5, "feedback_message": f"note {k}" if k % 2 else None,
                         "account_id": 1, "message_id": None, "contact": {"id": 600 + k}, "conversation_id": cid,
                         "assigned_agent": conversations[cid]["meta"]["assignee"],
                         "created_at": f"2025-03-{1 + k // 8:02d}T{k % 8 + 10}:00:00.000Z"})
    return {"agents": _json("agents.json"), "agent_bots": _json("agent_bots.json"), "teams": _json("teams.json"),
            "inboxes": _json("inboxes.json")["payload"], "conversations": list(conversations.values()),
            "messages": messages, "csat": csat}


def _fake(**kw: Any) -> FakeChatwoot:
    return FakeChatwoot(token=TOKEN, account_id=1, **_dataset(), **kw)


def _workspace(path: Path, base_url: str, **extra: str) -> Path:
    conf = {"base_url": base_url, "account_id": "1", "token_env": ENV, "start": "2025-01-01", **extra}
    path.mkdir(parents=True)
    body = "".join(f'{k} = "{v}"\n' for k, v in conf.items() if v is not None)
    (path / "settings.toml").write_text("[connectors.chatwoot]\n" + body, encoding="utf-8")
    with cxmetrics.open(path, create=True):
        pass
    return path


def _sync(path: Path) -> SyncSummary:
    with cxmetrics.open(path) as ws:
        return sync(ws, "chatwoot", sleep=lambda s: None)


def _imported(tmp: Path, data: dict[str, Any]) -> Path:
    """The same objects saved as the API's pages and imported as files: the reference."""
    pages = tmp / "pages"
    pages.mkdir()
    for kind in ("agents", "agent_bots", "teams"):
        (pages / f"{kind}.json").write_text(json.dumps(data[kind]))
    (pages / "inboxes.json").write_text(json.dumps({"payload": data["inboxes"]}))
    (pages / "conversations.json").write_text(json.dumps({"data": {"meta": {}, "payload": data["conversations"]}}))
    for cid, ms in data["messages"].items():
        (pages / f"messages-{cid}.json").write_text(json.dumps({"meta": {}, "payload": ms}))
    (pages / "csat_survey_responses.json").write_text(json.dumps(data["csat"]))
    with cxmetrics.open(tmp / "imported", create=True) as ws:
        import_chatwoot(ws, pages)
    return tmp / "imported"


def _reconciles(summary: SyncSummary) -> None:
    for s in summary.tables.values():
        assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined, s


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)


@contextmanager
def _served(fake: FakeChatwoot, plan: dict[int, str] | None = None,
            delay_s: float = 0.0) -> Iterator[tuple[str, Faults]]:
    faults = Faults(fake.app, plan, delay_s=delay_s)
    with serve(faults) as url:
        yield url, faults


def test_sync_through_faults_stores_what_the_file_import_stores(tmp_path: Path) -> None:
    fake = _fake()
    # a 500 on the first conversations page, a connection dropped on a messages page, a 429
    with _served(fake, {5: "500", 9: "drop", 14: "429"}) as (url, faults):
        ws = _workspace(tmp_path / "synced", url)
        summary = _sync(ws)
    assert summary.retries == 3
    hit = {n: (method, path) for n, method, path, _ in faults.log if n in (5, 9, 14)}
    assert hit[5] == ("POST", "/api/v1/accounts/1/conversations/filter")
    assert hit[9][1].endswith("/messages") and hit[14][1].endswith("/messages")
    _reconciles(summary)
    # 3 filter pages (25, 25, 10) and 3 CSAT pages' worth of objects: 25 + 5
    assert summary.streams["conversations"].objects == 60
    assert summary.streams["csat_survey_responses"].objects == 30
    assert summary.tables["tickets"].inserted == 60 and summary.tables["tickets"].quarantined == 0
    assert summary.tables["surveys"].inserted == 30
    assert not any(s.quarantined for s in summary.tables.values())
    reference = _imported(tmp_path, _dataset())
    for table in TABLES:
        assert table_rows(ws, table) == table_rows(reference, table), table
    with cxmetrics.open(ws) as w:
        # 45 messages need three pages (20, 20, 5): every one arrived, once
        assert w.con.execute("SELECT count(*) FROM events WHERE ticket_id = '107' AND kind = 'message'"
                             ).fetchone()[0] == 45
        # read against lookups landed earlier (Source.context): 43's channel comes only from
        # its inbox, 41's assignment names Ana and the team, 42 was opened by Ben's email
        t = dict(w.con.execute("SELECT ticket_id, channel FROM tickets WHERE ticket_id IN ('41', '43')").fetchall())
        assert t == {"41": "chat", "43": "messaging"}
        assert w.con.execute("SELECT assignee_id, team, actor_type, actor_id FROM events WHERE event_id = '4104'"
                             ).fetchone() == ("1", "Tier 1", "bot", "bot:7")
        assert w.con.execute("SELECT created_by FROM tickets WHERE ticket_id = '42'").fetchone() == ("agent",)
        assert w.con.execute("SELECT count(*) FROM connector_pages").fetchone()[0] == 0


def test_second_sync_stores_nothing_and_a_third_brings_exactly_the_change(tmp_path: Path) -> None:
    fake = _fake()
    with _served(fake) as (url, faults):
        ws = _workspace(tmp_path / "ws", url)
        _sync(ws)
        before = {t: table_rows(ws, t) for t in TABLES}
        second = _sync(ws)
        _reconciles(second)
        assert all(s.inserted == 0 and s.updated == 0 for s in second.tables.values()), second
        # the newest day is read again (Chatwoot filters whole days), but only the conversations
        # active within the 5-minute overlap of the last sync's newest activity are taken:
        # here the newest alone (the fixture's 44, 2025-03-15 08:00; the next, 42, is a day older)
        newest = max(c["last_activity_at"] for c in fake.conversations.values())
        assert [c["id"] for c in fake.conversations.values() if c["last_activity_at"] >= newest - 300] == [44]
        assert second.streams["conversations"].objects == 1
        asked = [f[2] for f in faults.log[-second.requests:] if f[2].endswith("/messages")]
        assert asked == ["/api/v1/accounts/1/conversations/44/messages"]
        assert {t: table_rows(ws, t) for t in TABLES} == before
        # a customer writes in open conversation 101; Ana resolves 105 (was open)
        assert (fake.conversations[101]["status"], fake.conversations[105]["status"]) == ("open", "open")
        fake.add_message(101, {"id": 999001, "content": "Any news?", "inbox_id": 12, "conversation_id": 101,
                               "message_type": 0, "content_type": "text", "content_attributes": {},
                               "created_at": newest + 3600, "private": False, "source_id": None,
                               "sender": {"id": 601, "name": "Customer 1", "type": "contact"}})
        fake.set_status(105, "resolved", "Conversation was marked resolved by Ana Lima", newest + 7200, 999002)
        third = _sync(ws)
    _reconciles(third)
    # 101 and 105, and 44 again: it is still within the overlap of the newest activity the
    # last sync saw (the floor moves with what a sync saw, not with what the fake holds now)
    assert third.streams["conversations"].objects == 3
    assert (third.tables["events"].inserted, third.tables["events"].updated) == (2, 0)
    assert (third.tables["tickets"].inserted, third.tables["tickets"].updated) == (0, 1)
    after = {t: table_rows(ws, t) for t in TABLES}
    assert after["agents"] == before["agents"] and after["surveys"] == before["surveys"]
    new_events = set(after["events"]) - set(before["events"])
    assert len(new_events) == 2 and len(after["events"]) == len(before["events"]) + 2
    with cxmetrics.open(ws) as w:
        assert w.con.execute("SELECT status FROM tickets WHERE ticket_id = '105'").fetchone() == ("solved",)
        assert w.con.execute("SELECT kind, status_to, actor_type, actor_id FROM events WHERE event_id = '999002'"
                             ).fetchone() == ("status", "solved", "agent", "1")
        assert w.con.execute("SELECT kind, actor_type, body FROM events WHERE event_id = '999001'"
                             ).fetchone() == ("message", "customer", "Any news?")


def test_sigkill_at_random_points_then_resume_equals_an_uninterrupted_sync(tmp_path: Path) -> None:
    fake = _fake()
    with _served(fake, delay_s=0.05) as (url, faults):
        killed_ws = _workspace(tmp_path / "killed", url)
        env = {**os.environ, ENV: TOKEN}
        killed = kill_and_resume(cli(killed_ws, "sync", "chatwoot"), env, kills=4, seed=12, max_wait_s=7.0)
        interrupted = len(faults.log)
        clean_ws = _workspace(tmp_path / "clean", url)
        clean = _sync(clean_ws).requests
    print(f"killed {killed} runs; {interrupted} requests against {clean} uninterrupted")
    assert killed >= 2
    # killed runs got as far as asking Chatwoot (a run asks for the lookups again, and
    # for the page it was killed on), not only as far as starting Python
    assert interrupted > clean
    for table in TABLES:
        assert table_rows(killed_ws, table) == table_rows(clean_ws, table), table
    assert len(table_rows(killed_ws, "tickets")) == 60


@pytest.mark.parametrize("retry_after", [False, True], ids=["backoff", "retry-after"])
def test_rack_attack_throttle_is_waited_out(tmp_path: Path, retry_after: bool) -> None:
    """Chatwoot's rack-attack answers 429 without Retry-After (the Client backs off);
    behind a proxy that adds one, the Client waits what it says."""
    fake = _fake(limit=40, period_s=1.0, retry_after=retry_after)
    waits: list[float] = []

    def wait(s: float) -> None:
        waits.append(s)
        time.sleep(s)  # really: the fake's window must pass

    with _served(fake) as (url, _):
        ws = _workspace(tmp_path / "ws", url)
        with cxmetrics.open(ws) as w:
            summary = sync(w, "chatwoot", retry=Retry(base_s=0.25), sleep=wait)
    assert fake.throttled > 0 and summary.retries == fake.throttled == len(waits)
    if retry_after:
        assert set(waits) == {1.0}
    else:
        assert all(0.125 <= s <= 0.25 * 2 ** 7 for s in waits)
    assert summary.tables["tickets"].inserted == 60


def test_credentials_and_account_errors_name_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake()
    with _served(fake) as (url, faults):
        ws = _workspace(tmp_path / "no-account", url, account_id="")
        with pytest.raises(ConnectorError, match=r"\[connectors.chatwoot\] needs account_id"):
            _sync(ws)
        ws = _workspace(tmp_path / "bad-account", url, account_id="acme")
        with pytest.raises(ConnectorError, match="account_id 'acme' is not an account number"):
            _sync(ws)
        ws = _workspace(tmp_path / "ws", url)
        monkeypatch.delenv(ENV)
        with pytest.raises(ConnectorError, match=f"{ENV} .*token_env.* is not set"):
            _sync(ws)
        assert faults.log == []  # nothing was sent without a token
        monkeypatch.setenv(ENV, "wrong-token-123")
        with pytest.raises(ConnectorError, match=r"chatwoot refused the credentials \(401") as err:
            _sync(ws)
        assert "wrong-token-123" not in str(err.value) and TOKEN not in str(err.value)
        monkeypatch.setenv(ENV, TOKEN)
        other = _workspace(tmp_path / "other-account", url, account_id="2")
        with pytest.raises(ConnectorError, match="refused the credentials"):
            _sync(other)
        assert _sync(ws).tables["tickets"].inserted == 60  # the right token and account
