"""Freshdesk live sync (issue 12, item 2): `cxmetrics sync freshdesk` against a fake of
Freshdesk's API (fake_freshdesk_api.py) stores what importing the same API objects as files
stores, survives faults and SIGKILLs, and reads only what changed.

The dataset is hand-made in the API's shapes (those of fixtures/freshdesk/): 30 tickets, 3
per page (the fake's page size), so a sync spans many pages; seven tickets closed by one
bulk update at the same second (more than a page); a spam and two deleted tickets; a ticket
with six conversations (two pages of them); portal replies, whose `incoming` is false,
from the ticket's requester."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from _connector_helpers import facts_by_ticket, reconciles
from _fake_api import Faults, cli, kill_and_resume, serve, table_rows
from click.testing import CliRunner
from conftest import rows
from fake_freshdesk_api import FakeFreshdesk

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.connectors import import_freshdesk, sync
from cxmetrics.errors import ConnectorError

FIXTURE = Path(__file__).parent / "fixtures" / "freshdesk"
KEY = "fd-test-key-9c1e7a"  # the fake's API key; must never appear in a message
ENV = "CX_TEST_FRESHDESK_KEY"
TABLES = ("agents", "tickets", "events", "surveys")
BASE = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
BULK = "2025-03-25T12:00:00Z"  # seven tickets closed by one bulk update
CONTACTS = {7001: ("Alice Customer", "alice@example.com"), 7002: ("Bob Customer", "bob@example.com"),
            7003: ("Carol Customer", "carol@example.com"), 7004: ("Dan Customer", "dan@example.com")}
RATING_VALUES = (103, 102, 101, 100, -101, -102, -103)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _fixture(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURE / name).read_text(encoding="utf-8"))


def _conversation(cid: int, tid: int, at: datetime, *, user: int, incoming: bool, private: bool = False) -> dict:
    text = f"message {cid} on ticket {tid}"
    return {"body": f"<div>{text}</div>", "body_text": text, "id": cid, "incoming": incoming, "private": private,
            "user_id": user, "support_email": None, "source": 2 if private else 0, "category": 2 if private else 3,
            "ticket_id": tid, "to_emails": [], "from_email": None, "cc_emails": [], "bcc_emails": None,
            "attachments": [], "created_at": _iso(at), "updated_at": _iso(at)}


def dataset() -> dict[str, list[dict[str, Any]]]:
    """The help desk's objects as its view endpoints give them (tickets with stats,
    description and requester): what the fake serves and what the file import reads."""
    tickets, convs, ratings = [], [], []
    for i in range(30):
        tid, created = 301 + i, BASE + timedelta(hours=3 * i)
        requester = 7001 + i % 4
        group = 8001 if i % 2 == 0 else 8002
        agent = 5001 if group == 8001 else 5002
        source = (1, 2, 3, 7, 10)[i % 5]
        spam, deleted = i == 27, i in (28, 29)
        mine: list[dict[str, Any]] = []
        cid = 100 * tid
        if spam or deleted:
            pass  # no replies: spam is marked at once, the deleted ones were mistakes
        elif source == 10:  # outbound email: the customer answers, the agent replies
            mine += [_conversation(cid + 1, tid, created + timedelta(minutes=60), user=requester, incoming=True),
                     _conversation(cid + 2, tid, created + timedelta(minutes=90), user=agent, incoming=False)]
        elif source == 2:  # portal: the agent replies, the requester answers in the portal (incoming false)
            mine += [_conversation(cid + 1, tid, created + timedelta(minutes=20 + i), user=agent, incoming=False),
                     _conversation(cid + 2, tid, created + timedelta(minutes=60 + i), user=requester, incoming=False)]
        else:  # a private note, the public reply, the customer's answer by email
            mine += [_conversation(cid + 1, tid, created + timedelta(minutes=10), user=agent, incoming=False,
                                   private=True),
                     _conversation(cid + 2, tid, created + timedelta(minutes=20 + i), user=agent, incoming=False),
                     _conversation(cid + 3, tid, created + timedelta(hours=2), user=requester, incoming=True)]
            if i == 0:  # three more: two pages of conversations
                mine += [_conversation(cid + 4, tid, created + timedelta(hours=3), user=agent, incoming=False),
                         _conversation(cid + 5, tid, created + timedelta(hours=4), user=requester, incoming=True),
                         _conversation(cid + 6, tid, created + timedelta(hours=5), user=agent, incoming=False)]
        last = max((datetime.fromisoformat(c["created_at"].replace("Z", "+00:00")) for c in mine), default=created)
        public = [c for c in mine if not c["private"] and c["user_id"] == agent]
        status = 5 if 20 <= i <= 26 else 2 if spam or deleted else (2, 3, 4, 5, 6, 7)[i % 6]
        stats = {"agent_responded_at": public[-1]["created_at"] if public else None,
                 "requester_responded_at": None, "first_responded_at": public[0]["created_at"] if public else None,
                 "status_updated_at": _iso(last), "reopened_at": None, "resolved_at": None, "closed_at": None,
                 "pending_since": _iso(last) if status == 3 else None}
        updated = _iso(last + timedelta(minutes=5) if spam or deleted else last)
        if 20 <= i <= 26:
            stats.update(resolved_at=BULK, closed_at=BULK, status_updated_at=BULK)
            updated = BULK
        elif status in (4, 5):
            stats.update(resolved_at=_iso(last), closed_at=_iso(last) if status == 5 else None)
        name, email = CONTACTS[requester]
        tickets.append({
            "cc_emails": [], "fwd_emails": [], "reply_cc_emails": [], "ticket_cc_emails": [], "fr_escalated": False,
            "spam": spam, "deleted": deleted, "email_config_id": None, "group_id": group, "priority": 1 + i % 4,
            "requester_id": requester, "responder_id": agent, "source": source, "company_id": None, "status": status,
            "subject": f"Question {tid}", "association_type": None, "support_email": None, "to_emails": None,
            "product_id": None, "id": tid, "type": ("Question", "Incident", "Problem")[i % 3],
            "due_by": _iso(created + timedelta(days=1)), "fr_due_by": _iso(created + timedelta(hours=4)),
            "is_escalated": False, "custom_fields": {}, "tags": ["sync"] if i % 3 == 0 else [],
            "description": f"<div>Opening of {tid}</div>", "description_text": f"Opening of {tid}",
            "created_at": _iso(created), "updated_at": updated, "stats": stats,
            "requester": {"email": email, "id": requester, "mobile": None, "name": name, "phone": None},
        })
        convs += mine
        if status in (4, 5) and not (spam or deleted):
            at = datetime.fromisoformat(stats["resolved_at"].replace("Z", "+00:00")) + timedelta(hours=1, minutes=i)
            ratings.append({"id": 900 + i, "survey_id": 1, "user_id": requester, "agent_id": agent,
                            "feedback": None if i % 2 else f"feedback on {tid}", "group_id": group, "ticket_id": tid,
                            "ratings": {"default_question": RATING_VALUES[i % 7]}, "created_at": _iso(at),
                            "updated_at": _iso(at)})
    return {"tickets": tickets, "conversations": convs, "ratings": ratings, "agents": _fixture("agents.json"),
            "groups": _fixture("groups.json"), "ticket_fields": _fixture("ticket_fields.json")}


def _fake(data: dict[str, list[dict[str, Any]]], **kw: Any) -> FakeFreshdesk:
    return FakeFreshdesk(api_key=KEY, tickets=data["tickets"], conversations=data["conversations"],
                         agents=data["agents"], groups=data["groups"], ticket_fields=data["ticket_fields"],
                         ratings=data["ratings"], page_size=kw.pop("page_size", 3), **kw)


def _workspace(path: Path, base_url: str, *, token_env: str = ENV) -> Path:
    """A workspace whose [connectors.freshdesk] points at the fake, reading from 2025."""
    with cxmetrics.open(path, create=True):
        pass
    with (path / "settings.toml").open("a", encoding="utf-8") as f:
        f.write(f'\n[connectors.freshdesk]\nbase_url = "{base_url}"\ntoken_env = "{token_env}"\nstart = "2025-01-01"\n')
    return path


def _as_files(data: dict[str, list[dict[str, Any]]], folder: Path) -> Path:
    """The same objects saved as API responses, for `cxmetrics import freshdesk`."""
    folder.mkdir()
    for name, key in (("agents", "agents"), ("groups", "groups"), ("ticket_fields", "ticket_fields"),
                      ("tickets", "tickets"), ("conversations", "conversations"),
                      ("satisfaction_ratings", "ratings")):
        (folder / f"{name}.json").write_text(json.dumps(data[key]), encoding="utf-8")
    return folder


def _no_sleep(_: float) -> None:
    pass


def _all_rows(ws_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {t: table_rows(ws_path, t) for t in TABLES}


def test_sync_through_faults_stores_what_the_file_import_stores(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = dataset()
    fake = _fake(data)
    app = Faults(fake, {2: "500", 6: "drop", 9: "429", 15: "500"})
    monkeypatch.setenv(ENV, KEY)
    with serve(app) as url:
        ws_path = _workspace(tmp_path / "synced", url)
        with cxmetrics.open(ws_path) as ws:
            summary = sync(ws, "freshdesk", sleep=_no_sleep)
            facts = facts_by_ticket(ws, ("ticket_id", "status", "channel", "frt_s", "public_agent_replies"))
            events = {r[0]: r[1:] for r in rows(ws, "SELECT event_id, actor_type, public FROM events")}
            statuses = dict(rows(ws, "SELECT ticket_id, status FROM tickets"))
    for s in summary.tables.values():
        assert s.read == s.inserted + s.updated + s.unchanged + s.quarantined, s
        assert s.quarantined == 0, s
    # the four faults were retried, each once
    assert summary.retries == 4
    # every page was asked for as the API documents: updated_since and asc order by updated_at
    ticket_calls = [q for _, _, p, q in app.log if p == "/api/v2/tickets"]
    assert all("order_by=updated_at" in q and "order_type=asc" in q and "updated_since=" in q for q in ticket_calls)
    assert all("include=stats%2Cdescription%2Crequester" in q for q in ticket_calls)
    assert summary.streams["tickets"].objects == 27 and summary.streams["spam_tickets"].objects == 1
    assert summary.streams["deleted_tickets"].objects == 2

    # the same objects imported as files, into another workspace
    files = _as_files(data, tmp_path / "files")
    with cxmetrics.open(tmp_path / "imported", create=True) as ws:
        reconciles(import_freshdesk(ws, files))
    assert _all_rows(ws_path) == _all_rows(tmp_path / "imported")

    # worked by hand: 30 tickets; spam 328 and deleted 329, 330 are `deleted`
    assert len(facts) == 30
    assert [t for t, f in facts.items() if f["status"] == "deleted"] == ["328", "329", "330"]
    # 301: email, created 09:00; private note 09:10; public reply 09:20 (20 min after) -> 1200 s;
    # six conversations over two pages of them, three of them public agent replies
    assert (facts["301"]["channel"], facts["301"]["frt_s"], facts["301"]["public_agent_replies"]) == \
        ("email", 1200, 3)
    assert events["30101"] == ("agent", False) and events["30106"] == ("agent", True)
    # 302: portal; the requester's portal reply (incoming false) is the customer's
    assert facts["302"]["channel"] == "web" and events["30202"] == ("customer", True)
    # the bulk-closed tickets 321-327 (one second, more than a page): all seven arrive closed
    assert [t for t, s in sorted(statuses.items()) if s == "closed" and t >= "321"] == [str(t) for t in range(321, 328)]


def test_second_sync_stores_nothing_third_brings_exactly_the_change(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    data = dataset()
    fake = _fake(data)
    monkeypatch.setenv(ENV, KEY)
    with serve(fake) as url:
        ws_path = _workspace(tmp_path / "ws", url)
        with cxmetrics.open(ws_path) as ws:
            first = sync(ws, "freshdesk", sleep=_no_sleep)
            assert first.tables["tickets"].inserted == 30
            second = sync(ws, "freshdesk", sleep=_no_sleep)
            for name, s in second.tables.items():
                assert (s.inserted, s.updated, s.quarantined) == (0, 0, 0), (name, s)
            # only the overlap is read again: the bulk-closed seven (the newest change), not all 30
            assert second.streams["tickets"].objects == 7

            # 305 (chat, status 6 Waiting on Customer): the customer writes again, the agent resolves it
            fake.add_conversation(_conversation(30599, 305, datetime(2025, 4, 1, 10, 0, tzinfo=timezone.utc),
                                                user=7001, incoming=True))
            fake.update_ticket(305, "2025-04-01T10:30:00Z", status=4,
                               stats={"resolved_at": "2025-04-01T10:30:00Z",
                                      "status_updated_at": "2025-04-01T10:30:00Z"})
            third = sync(ws, "freshdesk", sleep=_no_sleep)
            status = rows(ws, "SELECT status FROM tickets WHERE ticket_id = '305'")
            new = rows(ws, "SELECT event_id, kind, actor_type, status_to FROM events WHERE ticket_id = '305' "
                           "AND ts >= TIMESTAMPTZ '2025-04-01 00:00:00+00' ORDER BY ts")
    t, e = third.tables["tickets"], third.tables["events"]
    assert (t.inserted, t.updated) == (0, 1)  # 305 pending -> solved; the overlap's seven unchanged
    assert (e.inserted, e.updated) == (2, 0)  # the message and the solve
    assert status == [("solved",)]
    assert new == [("30599", "message", "customer", None),
                   ("305:solved:20250401T103000Z", "status", "system", "solved")]
    assert third.streams["tickets"].objects == 1 + 7


def test_sigkilled_syncs_resume_to_the_same_store(tmp_path: Path) -> None:
    data = dataset()
    app = Faults(_fake(data), delay_s=0.04)  # slow enough to be killed mid-sync
    env = {**os.environ, ENV: KEY}
    with serve(app) as url:
        killed_ws = _workspace(tmp_path / "killed", url)
        killed = kill_and_resume(cli(killed_ws, "sync", "freshdesk"), env, kills=4, seed=12, max_wait_s=2.5)
        calm_ws = _workspace(tmp_path / "calm", url)
        done = subprocess.run(cli(calm_ws, "sync", "freshdesk", "--format", "json"), env=env,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["tables"]["tickets"]["inserted"] == 30 and printed["streams"]["tickets"]["objects"] == 27
    assert killed >= 2  # most runs were cut short
    calm = _all_rows(calm_ws)
    assert len(calm["tickets"]) == 30
    assert _all_rows(killed_ws) == calm


def test_rate_limit_is_waited_out_as_retry_after_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """10 credits a minute (a list with three includes costs 4): the sync meets 429s, sleeps
    what Retry-After says (the fake's clock moves as it sleeps), and finishes."""
    now = [0.0]
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(s)
        now[0] += s

    data = dataset()
    fake = _fake(data, rate_limit=10, window_s=60.0, clock=lambda: now[0])
    monkeypatch.setenv(ENV, KEY)
    with serve(fake) as url:
        with cxmetrics.open(_workspace(tmp_path / "ws", url)) as ws:
            summary = sync(ws, "freshdesk", sleep=sleep)
            assert ws.counts()["tickets"] == 30
    assert fake.throttled >= 5 and summary.retries == fake.throttled
    assert all(1 <= w <= 60 and w == int(w) for w in waits)  # Retry-After taken as given: whole seconds
    assert summary.requests > 60  # every conversation list is its own request


def test_credentials_missing_or_refused_say_which_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = dataset()
    with serve(_fake(data)) as url:
        # no [connectors.freshdesk]: the message says what to add
        with cxmetrics.open(tmp_path / "bare", create=True) as ws:
            with pytest.raises(ConnectorError, match=r"No \[connectors.freshdesk\] section"):
                sync(ws, "freshdesk", sleep=_no_sleep)
        # token_env names a variable that is not set
        monkeypatch.delenv(ENV, raising=False)
        with cxmetrics.open(_workspace(tmp_path / "unset", url)) as ws:
            with pytest.raises(ConnectorError, match=f"{ENV} .*token_env.* is not set"):
                sync(ws, "freshdesk", sleep=_no_sleep)
        # a wrong key: the fake answers 401; the message names the setting, never the key
        wrong = "wrong-key-55aa"
        monkeypatch.setenv(ENV, wrong)
        ws_path = _workspace(tmp_path / "wrong", url)
        with cxmetrics.open(ws_path) as ws:
            with pytest.raises(ConnectorError) as err:
                sync(ws, "freshdesk", sleep=_no_sleep)
            assert ws.counts()["tickets"] == 0
        assert "refused the credentials (401" in str(err.value) and "[connectors.freshdesk]" in str(err.value)
        assert wrong not in str(err.value) and KEY not in str(err.value)
        out = CliRunner().invoke(main, ["-w", str(ws_path), "sync", "freshdesk"])
    assert out.exit_code == 1
    assert out.output.startswith("ConnectorError: freshdesk refused the credentials") and wrong not in out.output


class _ChangeMidSync:
    """Passes requests to the fake; after the 2nd ticket-list request, ticket 301 (on the
    first page) changes, so it moves to the end of the updated_at order and every later
    ticket moves up one place: a sync that walked page numbers would skip one."""

    def __init__(self, fake: FakeFreshdesk) -> None:
        self.fake, self.lists = fake, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/v2/tickets" and b"filter=" not in scope["query_string"]:
            self.lists += 1
            if self.lists == 3:
                self.fake.update_ticket(301, "2025-04-02T08:00:00Z", status=4,
                                        stats={"resolved_at": "2025-04-02T08:00:00Z"})
        await self.fake(scope, receive, send)


def test_tickets_changing_mid_sync_are_not_skipped_and_the_300_page_cap_is_never_met(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cursor moves updated_since instead of walking page numbers: the fake refuses
    pages past the 3rd (Freshdesk: the 300th), which 27 tickets 3 a page would need 9 of."""
    fake = _fake(dataset(), max_ticket_page=3)
    monkeypatch.setenv(ENV, KEY)
    with serve(_ChangeMidSync(fake)) as url:
        with cxmetrics.open(_workspace(tmp_path / "ws", url)) as ws:
            sync(ws, "freshdesk", sleep=_no_sleep)
            stored = dict(rows(ws, "SELECT ticket_id, status FROM tickets"))
    assert sorted(stored) == [str(t) for t in range(301, 331)]  # none skipped
    assert stored["301"] == "solved"  # and 301 read again after its change


class _PurgeBeforeConversations:
    """Ticket 304 is deleted for good between the list naming it and its conversations."""

    def __init__(self, fake: FakeFreshdesk) -> None:
        self.fake = fake

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/v2/tickets/304/conversations" \
                and 304 in self.fake.tickets:
            self.fake.purge_ticket(304)
        await self.fake(scope, receive, send)


def test_a_ticket_deleted_for_good_mid_sync_lands_without_conversations(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake(dataset())
    monkeypatch.setenv(ENV, KEY)
    with serve(_PurgeBeforeConversations(fake)) as url:
        with cxmetrics.open(_workspace(tmp_path / "ws", url)) as ws:
            summary = sync(ws, "freshdesk", sleep=_no_sleep)
            kinds = rows(ws, "SELECT kind, count(*) FROM events WHERE ticket_id = '304' GROUP BY 1 ORDER BY 1")
    assert summary.tables["tickets"].inserted == 30
    # 304 as listed: created, its description, solved and closed (stats); its replies were never read
    assert kinds == [("created", 1), ("message", 1), ("status", 2)]
