"""Chatwoot file import (issue 12, item 1): the hand-written fixture in
fixtures/chatwoot/ (see its README for the API pages it follows and what each
conversation covers) goes through the import pipeline; every expected value below is
worked out by hand from the fixture's Unix timestamps, not read back from our code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from _connector_helpers import facts_by_ticket, ny, reconciles  # noqa: F401  (ny: a fixture)
from conftest import rows, write

import cxmetrics
from cxmetrics.cli import main
from cxmetrics.connectors import import_chatwoot, import_vendor

FIXTURE = Path(__file__).parent / "fixtures" / "chatwoot"
FACT_COLUMNS = ("ticket_id", "status", "created_by", "channel", "team", "frt_s", "frt_first_touch_s", "reopens",
                "public_agent_replies", "one_touch", "agent_wait_s", "requester_wait_s")


def _facts(ws: cxmetrics.Workspace) -> dict[str, dict[str, object]]:
    return facts_by_ticket(ws, FACT_COLUMNS)


def test_fixture_counts_reconcile(ny: cxmetrics.Workspace) -> None:
    summary = import_chatwoot(ny, FIXTURE)
    reconciles(summary)
    got = {t: (s.read, s.inserted, s.unchanged, s.quarantined) for t, s in summary.tables.items()}
    assert got == {
        # agents 1 (administrator), 2 (agent) and agent bot 7
        "agents": (3, 3, 0, 0),
        # 41, 42 on page 1; 42 (again, identical), 43, 44 on page 2
        "tickets": (5, 4, 1, 0),
        # one created event per conversation row (42's twice: 5) and the messages:
        # 41: 17 messages, less the label activity ("Ana Lima added delivery"): 16 (its
        #     template 4116, also embedded in the conversation page, once);
        # 42: 4; 43: 3; 44: 2  ->  5 + 16 + 4 + 3 + 2 = 30, 42:created unchanged the second time
        "events": (30, 29, 1, 0),
        # 901 (4), 902 (2), 903 (5, no comment)
        "surveys": (3, 3, 0, 0),
        # the conversations' contacts (meta.sender): 501, 502 (42 twice: one row), 503, 504
        "customers": (4, 4, 0, 0),
    }


def test_fixture_metrics_by_hand(ny: cxmetrics.Workspace) -> None:
    import_chatwoot(ny, FIXTURE)
    f = _facts(ny)
    t41 = f["41"]
    # created 09:00; Helper Bot answers 09:02 (first touch 120 s); Ana's public reply 09:20 -> 1200 s
    assert (t41["frt_s"], t41["frt_first_touch_s"]) == (1200, 120)
    # public human replies 09:20, 10:30, next day 09:00; the bot's, the private note and the
    # CSAT template are not replies
    assert t41["public_agent_replies"] == 3
    # resolved 10:31, reopened by the customer's message next day 08:00, resolved again
    assert (t41["reopens"], t41["status"]) == (1, "solved")
    # snoozed 09:21-10:21 = 3600 s waiting on the customer; the customer waits while open:
    # 09:00-09:21, 10:21-10:31 and next day 08:00-09:01 = 1260 + 600 + 3660
    assert (t41["agent_wait_s"], t41["requester_wait_s"]) == (3600, 5520)
    # the web widget inbox is chat; the team from meta.team
    assert (t41["channel"], t41["team"], t41["created_by"]) == ("chat", "Tier 1", "customer")
    # 43: WhatsApp (its channel from the inboxes page), created Sat 2025-03-08 10:00 EST,
    # first reply Mon 2025-03-10 10:00 EDT: 48 h on the wall clock, 47 h elapsed; snoozed -> pending
    assert (f["43"]["frt_s"], f["43"]["status"], f["43"]["channel"]) == (47 * 3600, "pending", "messaging")
    # 44: still with the bot (Chatwoot's pending): no human reply, the bot touched it after 5 s
    assert (f["44"]["status"], f["44"]["frt_s"], f["44"]["frt_first_touch_s"]) == ("new", None, 5)

    got = {r["metric"]: (r["value"], r["n"]) for r in ny.metrics(["csat", "reopen_rate"]).to_pylist()}
    # csat: ratings 4, 2, 5 -> two in the 4-5 top box of three; reopen_rate: resolved 41 (reopened), 42 -> 1/2
    assert got["csat"] == (pytest.approx(200 / 3), 3)
    assert got["reopen_rate"] == (pytest.approx(50.0), 2)


def test_agent_created_conversation(ny: cxmetrics.Workspace) -> None:
    # 42: Ben wrote first (an outbound email at 10:00), Dana answered 11:00, Ben replied 11:30:
    # the opening message is no reply, so the first reply is 11:30 -> 5400 s, one touch
    import_chatwoot(ny, FIXTURE)
    t42 = _facts(ny)["42"]
    assert (t42["created_by"], t42["frt_s"], t42["public_agent_replies"], t42["one_touch"]) == (
        "agent", 5400, 1, True)
    assert rows(ny, "SELECT channel, team, priority, tags, subject FROM tickets WHERE ticket_id = '42'") == [
        ("email", "Billing", "normal", ["billing", "invoice"], "Your March invoice")]


def test_messages_notes_bots_activities_and_surveys_as_stored(ny: cxmetrics.Workspace) -> None:
    import_chatwoot(ny, FIXTURE)
    got = rows(ny, "SELECT event_id, kind, actor_type, actor_id, public, status_to, assignee_id, team "
                   "FROM events WHERE ticket_id = '41' AND event_id <> '41:created' ORDER BY ts, event_id")
    assert got[:8] == [
        ("4101", "message", "customer", "501", True, None, None, None),
        ("4102", "message", "bot", "bot:7", True, None, None, None),  # agent_bot sender
        ("4103", "message", "customer", "501", True, None, None, None),
        # "Assigned to Ana Lima via Tier 1 by Helper Bot"
        ("4104", "assign", "bot", "bot:7", None, None, "1", "Tier 1"),
        ("4105", "message", "agent", "1", False, None, None, None),  # private note
        ("4106", "message", "agent", "1", True, None, None, None),
        ("4107", "status", "agent", "1", None, "pending", None, None),  # snoozed by Ana Lima
        ("4108", "message", "customer", "501", True, None, None, None),
    ]
    # "System reopened the conversation due to a new incoming message."
    assert ("4113", "status", "system", None, None, "open", None, None) in got
    # the CSAT prompt is a template: an automated message, nobody's reply
    assert ("4116", "message", "system", None, True, None, None, None) in got
    # the label activity is not an event
    assert rows(ny, "SELECT count(*) FROM events WHERE event_id = '4117'") == [(0,)]
    # sender_type / sender_id (the swagger's form) read as the embedded sender is
    assert rows(ny, "SELECT event_id, actor_type, actor_id FROM events WHERE ticket_id = '42' AND kind = 'message' "
                    "ORDER BY ts") == [("4201", "agent", "2"), ("4202", "customer", "502"), ("4203", "agent", "2")]
    assert rows(ny, "SELECT response_id, ticket_id, customer_id, agent_id, scale, score, comment FROM surveys "
                    "ORDER BY response_id") == [
        # the CSAT messages' ids (responses 901, 902, 903): one response per CSAT message
        ("4116", "41", "501", "1", "1-5", 4.0, "Sorted in the end"),
        ("4205", "42", "502", "2", "1-5", 2.0, "Invoice still wrong"),
        ("4304", "43", "503", "2", "1-5", 5.0, None)]
    # the conversations' own statuses: resolved -> solved, snoozed -> pending, pending (with the bot) -> new
    assert rows(ny, "SELECT ticket_id, status FROM tickets ORDER BY ticket_id") == [
        ("41", "solved"), ("42", "solved"), ("43", "pending"), ("44", "new")]
    assert rows(ny, "SELECT agent_id, name, type FROM agents ORDER BY agent_id") == [
        ("1", "Ana Lima", "human"), ("2", "Ben Ortiz", "human"), ("bot:7", "Helper Bot", "bot")]


def test_import_twice_changes_nothing(ny: cxmetrics.Workspace) -> None:
    import_chatwoot(ny, FIXTURE)
    before = ny.counts()
    again = import_chatwoot(ny, FIXTURE)
    reconciles(again)
    for table, s in again.tables.items():
        assert (s.inserted, s.updated, s.quarantined) == (0, 0, 0), table
        assert s.unchanged == s.read, table
    assert ny.counts() == before


def test_malformed_objects_are_quarantined_with_position_and_reason(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    write(folder / "zz-broken.jsonl", "\n".join([
        json.dumps({"data": {"meta": {}, "payload": [
            {"id": 51, "inbox_id": 13, "status": "open", "created_at": 1741770000},
            {"id": 52, "inbox_id": 13, "status": "open", "created_at": "yesterday"},
            {"id": 53, "inbox_id": 13, "status": "archived", "created_at": 1741770000},
        ]}}),
        "{not json",
        json.dumps({"id": 5101, "content": "hi", "message_type": 0, "created_at": 1741770000}),  # no conversation
        json.dumps({"id": 5102, "conversation_id": 51, "message_type": 9, "created_at": 1741770000}),
        json.dumps({"id": 904, "rating": 7, "conversation_id": 51, "created_at": "2025-03-12T10:00:00Z"}),
        json.dumps({"hello": "world"}),
    ]) + "\n")
    summary = import_chatwoot(ny, folder)
    reconciles(summary)
    assert (summary.tables["tickets"].quarantined, summary.tables["tickets"].inserted) == (4, 5)
    assert (summary.tables["events"].quarantined, summary.tables["surveys"].quarantined) == (2, 1)
    got = sorted(rows(ny, "SELECT kind, line, reason FROM quarantine"))
    assert got == [
        ("events", 3, "zz-broken.jsonl line 3: conversation_id is missing"),
        ("events", 4, "zz-broken.jsonl line 4: message_type 9 is not 0 (incoming), 1 (outgoing), "
                      "2 (activity) or 3 (template)"),
        ("surveys", 5, "zz-broken.jsonl line 5: rating 7 is not a whole number from 1 to 5"),
        ("tickets", 1, "zz-broken.jsonl line 1, payload[1]: created_at 'yesterday' is neither Unix seconds "
                       "nor an ISO 8601 time such as 2025-03-14T09:30:00Z"),
        ("tickets", 1, "zz-broken.jsonl line 1, payload[2]: status 'archived' is not a Chatwoot status "
                       "(open, resolved, pending, snoozed)"),
        ("tickets", 2, "zz-broken.jsonl line 2: the line is not JSON (Expecting property name "
                       "enclosed in double quotes)"),
        ("tickets", 6, "zz-broken.jsonl line 6: not a Chatwoot object (a conversation, message, agent, "
                       "agent bot, team, inbox or CSAT survey response)"),
    ]
    # the rest imported: 51 with its channel from the inboxes page (WhatsApp -> messaging)
    assert rows(ny, "SELECT channel FROM tickets WHERE ticket_id = '51'") == [("messaging",)]
    # fixing the file and importing again empties its quarantine
    (folder / "zz-broken.jsonl").unlink()
    import_chatwoot(ny, folder)
    assert rows(ny, "SELECT count(*) FROM quarantine") == [(0,)]


def test_a_json_array_of_agents_names_the_page(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # agents, agent bots, teams and CSAT responses come as bare JSON arrays: each item is named by its place
    page = write(tmp_path / "agents.json", json.dumps([
        {"id": 1, "name": "Ana Lima", "role": "administrator"},
        {"id": 2, "name": "Guest", "role": "owner"},
    ]))
    summary = import_chatwoot(ny, page)
    assert (summary.tables["agents"].inserted, summary.tables["agents"].quarantined) == (1, 1)
    assert rows(ny, "SELECT reason FROM quarantine") == [
        ("agents.json page 2: role 'owner' is not administrator or agent",)]


def test_cli_import_and_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = str(tmp_path / "ws")
    out = runner.invoke(main, ["-w", ws, "import", "chatwoot", str(FIXTURE), "--format", "json"])
    assert out.exit_code == 0, out.output
    tables = json.loads(out.output)["tables"]
    assert {k: v["read"] for k, v in tables.items()} == {"agents": 3, "tickets": 5, "events": 30, "surveys": 3,
                                                          "customers": 4}
    bad = runner.invoke(main, ["-w", ws, "import", "chatwoot", str(FIXTURE), "--file-format", "csv"])
    assert bad.exit_code == 1
    assert "UserError: --file-format does not apply to a chatwoot import" in bad.output
    assert "chatwoot (cxmetrics import chatwoot PATH)" in runner.invoke(main, ["formats"]).output


def test_unknown_vendor_suggests_chatwoot(ny: cxmetrics.Workspace) -> None:
    with pytest.raises(cxmetrics.UnknownNameError, match="chatwoot"):
        import_vendor(ny, "chatwot", FIXTURE)


def test_a_bot_not_on_the_bots_page_still_gets_an_agents_row(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # only a conversation and its messages: the AgentBot and the Captain assistant that
    # answered become agents of type bot; an assignment to a name the export lacks is no event
    write(tmp_path / "conversation.json", json.dumps({
        "id": 61, "inbox_id": 12, "status": "open", "created_at": 1741770000,
        "meta": {"channel": "Channel::Api", "sender": {"id": 601}}}))
    write(tmp_path / "messages.json", json.dumps({"meta": {}, "payload": [
        {"id": 6101, "conversation_id": 61, "message_type": 0, "created_at": 1741770000, "private": False,
         "sender_type": "Contact", "sender_id": 601, "content": "Hello"},
        {"id": 6102, "conversation_id": 61, "message_type": 1, "created_at": 1741770030, "private": False,
         "sender_type": "AgentBot", "sender_id": 9, "content": "Hi, I am the bot"},
        {"id": 6103, "conversation_id": 61, "message_type": "outgoing", "created_at": 1741770060, "private": False,
         "sender_type": "Captain::Assistant", "sender_id": 2, "content": "And I am the AI assistant"},
        {"id": 6104, "conversation_id": 61, "message_type": 2, "created_at": 1741770090, "private": False,
         "content": "Assigned to Nobody Known by Ana Lima"},
    ]}))
    summary = import_chatwoot(ny, tmp_path)
    reconciles(summary)
    assert rows(ny, "SELECT agent_id, type FROM agents ORDER BY agent_id") == [("bot:2", "bot"), ("bot:9", "bot")]
    assert rows(ny, "SELECT event_id, kind, actor_type, actor_id FROM events ORDER BY ts, event_id") == [
        ("6101", "message", "customer", "601"), ("61:created", "created", "customer", "601"),
        ("6102", "message", "bot", "bot:9"), ("6103", "message", "bot", "bot:2")]
    # the bot answered after 30 s; no human has
    f = _facts(ny)["61"]
    assert (f["channel"], f["frt_first_touch_s"], f["frt_s"]) == ("api", 30, None)
