"""Freshdesk file import (issue 12, item 1): the hand-written fixture in
fixtures/freshdesk/ (see its README for the reference pages it follows and what each
ticket covers) goes through the import pipeline; every expected value below is worked
out by hand from the fixture's timestamps, not read back from our code."""

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
from cxmetrics.connectors import VENDORS, import_freshdesk, import_vendor

FIXTURE = Path(__file__).parent / "fixtures" / "freshdesk"
FACT_COLUMNS = ("ticket_id", "status", "excluded", "created_by", "channel", "team", "frt_s", "reopens",
                "public_agent_replies", "one_touch")


def _facts(ws: cxmetrics.Workspace) -> dict[str, dict[str, object]]:
    return facts_by_ticket(ws, FACT_COLUMNS)


def test_fixture_counts_reconcile(ny: cxmetrics.Workspace) -> None:
    summary = import_freshdesk(ny, FIXTURE)
    reconciles(summary)
    got = {t: (s.read, s.inserted, s.unchanged, s.quarantined) for t, s in summary.tables.items()}
    assert got == {
        # agents 5001 and 5002 (occasional); contacts are requesters, not agents
        "agents": (2, 2, 0, 0),
        # tickets-1: 201, 203; ticket-202.json: 202; tickets-2: 203 again (identical), 204, 205, 206
        "tickets": (7, 6, 1, 0),
        # 201: created, resolved, reopened + note, reply, customer reply = 6
        # 202: created, description, resolved + 2 embedded conversations = 5
        # 203: (created + on-hold) twice, the second time unchanged, + reply = 5
        # 204: created, pending + reply = 3;  205, 206: created = 1 each.  21 read, 2 unchanged
        "events": (21, 19, 2, 0),
        # 601 (103), 602 (-103), 603 (100)
        "surveys": (3, 3, 0, 0),
        # contacts 7001 and 7002
        "customers": (2, 2, 0, 0),
    }


def test_fixture_metrics_by_hand(ny: cxmetrics.Workspace) -> None:
    import_freshdesk(ny, FIXTURE)
    f = _facts(ny)
    t201 = f["201"]
    # created 09:00; private note 09:10 (no reply); Ana's public reply 09:30 -> 1800 s
    assert (t201["frt_s"], t201["public_agent_replies"]) == (1800, 1)
    # resolved 10:30 (stats.resolved_at), reopened next day 08:00 (stats.reopened_at): open again
    assert (t201["reopens"], t201["status"]) == (1, "open")
    assert (t201["channel"], t201["team"], t201["created_by"]) == ("email", "Tier 1", "customer")
    # outbound email (source 10) 10:00 by Olly; Bob answers 11:00; Olly replies and resolves 11:30.
    # The opening message is no reply: first reply 11:30 -> 5400 s, one reply
    assert (f["202"]["created_by"], f["202"]["frt_s"], f["202"]["public_agent_replies"]) == ("agent", 5400, 1)
    assert (f["202"]["status"], f["202"]["team"], f["202"]["one_touch"]) == ("solved", "Billing", True)
    # 2025-03-08 10:00 EST -> 2025-03-10 10:00 EDT: 48 h on the wall clock, 47 h elapsed;
    # custom status 7 "Waiting on Third Party" -> on-hold
    assert (f["203"]["frt_s"], f["203"]["status"], f["203"]["channel"]) == (47 * 3600, "on-hold", "chat")
    # custom status 6 "Waiting on Customer" -> pending; portal (source 2) -> web; reply after 20 min
    assert (f["204"]["status"], f["204"]["channel"], f["204"]["frt_s"]) == ("pending", "web", 1200)
    # spam and deleted: stored, left out of every metric
    assert (f["205"]["status"], f["205"]["excluded"]) == ("deleted", True)
    assert (f["206"]["status"], f["206"]["excluded"], f["206"]["channel"]) == ("deleted", True, "web")
    assert not any(f[t]["excluded"] for t in ("201", "202", "203", "204"))

    got = {r["metric"]: (r["value"], r["n"]) for r in ny.metrics(["csat", "frt"]).to_pylist()}
    # csat: 103 (7 on 1-7, top box), -103 (1), 100 (4, neutral) -> 1 of 3
    assert got["csat"] == (pytest.approx(100 / 3), 3)
    # frt over customer-created tickets 201 (1800), 203 (169200), 204 (1200): median 1800
    assert got["frt"] == (pytest.approx(1800.0), 3)


def test_conversations_notes_and_surveys_as_stored(ny: cxmetrics.Workspace) -> None:
    import_freshdesk(ny, FIXTURE)
    assert rows(ny, "SELECT event_id, kind, actor_type, actor_id, public, status_to FROM events "
                    "WHERE ticket_id = '201' ORDER BY ts, event_id") == [
        ("201:created", "created", "customer", "7001", None, "open"),
        ("90001", "message", "agent", "5001", False, None),  # the private note
        ("90002", "message", "agent", "5001", True, None),
        ("201:solved:20250303T103000Z", "status", "system", None, None, "solved"),
        ("201:open:20250304T080000Z", "status", "system", None, None, "open"),
        ("90003", "message", "customer", "7001", True, None),
    ]
    # the outbound ticket: created by its agent, the description its opening message
    assert rows(ny, "SELECT event_id, kind, actor_type, actor_id FROM events WHERE ticket_id = '202' "
                    "AND ts = TIMESTAMPTZ '2025-03-05 10:00:00Z' ORDER BY event_id") == [
        ("202:created", "created", "agent", "5002"), ("202:description", "message", "agent", "5002")]
    assert rows(ny, "SELECT response_id, kind, scale, score, comment, agent_id FROM surveys ORDER BY response_id") == [
        ("601", "csat", "1-7", 7.0, "Quick fix, thanks Olly", "5002"),
        ("602", "csat", "1-7", 1.0, "Still broken", "5001"),
        ("603", "csat", "1-7", 4.0, None, "5001")]
    # Ana is in both groups: her team is the first group listing her
    assert rows(ny, "SELECT agent_id, name, type, team FROM agents ORDER BY agent_id") == [
        ("5001", "Ana Agent", "human", "Tier 1"), ("5002", "Olly Occasional", "human", "Billing")]
    assert rows(ny, "SELECT priority, topic, tags FROM tickets WHERE ticket_id = '201'") == [
        ("medium", "Incident", ["billing"])]


def test_import_twice_changes_nothing(ny: cxmetrics.Workspace) -> None:
    import_freshdesk(ny, FIXTURE)
    before = ny.counts()
    again = import_freshdesk(ny, FIXTURE)
    reconciles(again)
    for table, s in again.tables.items():
        assert (s.inserted, s.updated, s.quarantined) == (0, 0, 0), table
        assert s.unchanged == s.read, table
    assert ny.counts() == before


def test_a_later_export_adds_to_the_status_history(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # Freshdesk's stats keep only the latest time of each change: 201 exported again after
    # being resolved a second time (2025-03-04 12:00) keeps the first solve stored, so the
    # reopen still counts and the ticket is solved
    import_freshdesk(ny, FIXTURE)
    later = json.loads((FIXTURE / "tickets-1.json").read_text())[0]
    later.update(status=4, updated_at="2025-03-04T12:00:00Z")
    later["stats"].update(resolved_at="2025-03-04T12:00:00Z", status_updated_at="2025-03-04T12:00:00Z")
    summary = import_freshdesk(ny, write(tmp_path / "later.json", json.dumps([later])))
    assert (summary.tables["tickets"].updated, summary.tables["events"].inserted) == (1, 1)
    t201 = _facts(ny)["201"]
    assert (t201["status"], t201["reopens"]) == ("solved", 1)


def test_later_exports_add_to_the_status_history(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # 204 was exported while Waiting on Customer (since 09:20); the customer answered at 10:00 and a
    # later export shows it open with status_updated_at 10:00: it is open from 10:00, not still pending
    import_freshdesk(ny, FIXTURE)
    later = json.loads((FIXTURE / "tickets-2.json").read_text())[1]
    later.update(status=2, updated_at="2025-03-11T10:00:00Z")
    later["stats"].update(status_updated_at="2025-03-11T10:00:00Z", requester_responded_at="2025-03-11T10:00:00Z")
    import_freshdesk(ny, write(tmp_path / "later.json", json.dumps([later])))
    assert rows(ny, "SELECT event_id, status_from, status_to FROM events WHERE ticket_id = '204' AND kind = 'status' "
                    "ORDER BY ts") == [("204:pending:20250311T092000Z", None, "pending"),
                                       ("204:open:20250311T100000Z", None, "open")]
    # a third export: resolved at 10:30. Time in pending (counted once solved): 09:20-10:00 only,
    # 2400 s; had the middle export been missed, pending would run to the solve (4200 s)
    later.update(status=4, updated_at="2025-03-11T10:30:00Z")
    later["stats"].update(status_updated_at="2025-03-11T10:30:00Z", resolved_at="2025-03-11T10:30:00Z")
    import_freshdesk(ny, write(tmp_path / "latest.json", json.dumps([later])))
    ny.refresh()
    assert rows(ny, "SELECT status, agent_wait_s FROM ticket_facts WHERE ticket_id = '204'") == [("solved", 2400)]


def test_malformed_objects_are_quarantined_with_position_and_reason(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    write(folder / "zz-broken.jsonl", "\n".join([
        json.dumps([
            {"id": 301, "created_at": "2025-03-13T09:00:00Z", "status": 2, "source": 3, "requester_id": 7001},
            {"id": 302, "created_at": "yesterday", "status": 2},
            {"id": 303, "created_at": "2025-03-13T09:00:00Z", "status": 12},
        ]),
        "{not json",
        json.dumps({"id": 94001, "incoming": True, "private": False, "created_at": "2025-03-13T09:05:00Z"}),
        json.dumps({"id": 604, "ticket_id": 301, "ratings": {"default_question": 5},
                    "created_at": "2025-03-13T10:00:00Z"}),
        json.dumps({"hello": "world"}),
    ]) + "\n")
    summary = import_freshdesk(ny, folder)
    reconciles(summary)
    assert (summary.tables["tickets"].quarantined, summary.tables["tickets"].inserted) == (4, 7)  # 6 and 301
    assert (summary.tables["events"].quarantined, summary.tables["surveys"].quarantined) == (1, 1)
    got = sorted(rows(ny, "SELECT kind, line, reason FROM quarantine"))
    assert got == [
        ("events", 3, "zz-broken.jsonl line 3, conversations[0]: ticket_id is missing"),
        ("surveys", 4, "zz-broken.jsonl line 4, satisfaction_ratings[0]: ratings.default_question 5 is not one of "
                       "Freshdesk's ratings (103, 102, 101, 100, -101, -102, -103)"),
        ("tickets", 1, "zz-broken.jsonl line 1, tickets[1]: "
                       "created_at 'yesterday' is not an ISO 8601 time such as 2025-03-14T09:30:00Z"),
        ("tickets", 1, "zz-broken.jsonl line 1, tickets[2]: status 12 is not a Freshdesk status (2 open, 3 pending, "
                       "4 resolved, 5 closed) nor a custom one named in ticket_fields; add the ticket_fields "
                       "response to the import"),
        ("tickets", 2, "zz-broken.jsonl line 2: the line is not JSON (Expecting property name "
                       "enclosed in double quotes)"),
        ("tickets", 5, "zz-broken.jsonl line 5, objects[0]: not a Freshdesk object (a ticket, conversation, agent, "
                       "contact, group, ticket field or satisfaction rating)"),
    ]
    # the rest imported: 301 with its channel mapped (source 3 -> phone)
    assert rows(ny, "SELECT channel FROM tickets WHERE ticket_id = '301'") == [("phone",)]
    (folder / "zz-broken.jsonl").unlink()
    import_freshdesk(ny, folder)
    assert rows(ny, "SELECT count(*) FROM quarantine") == [(0,)]


def test_a_bare_array_names_the_item(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # the list endpoints answer a bare array: a bad item is named by its index in it
    page = write(tmp_path / "tickets.json", json.dumps([
        {"id": 1, "created_at": "2025-03-03T08:00:00Z", "status": 2},
        {"created_at": "2025-03-03T08:00:00Z", "status": 2}]))
    summary = import_freshdesk(ny, page)
    assert (summary.tables["tickets"].inserted, summary.tables["tickets"].quarantined) == (1, 1)
    assert rows(ny, "SELECT line, reason FROM quarantine") == [(1, "tickets.json, tickets[1]: id is missing")]


def test_custom_status_without_ticket_fields_uses_freshdesk_defaults(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # without ticket_fields, 6 and 7 are Freshdesk's shipped "Waiting on Customer" / "... Third Party";
    # the fixture's own custom status 8 ("Escalated to engineering") is work in progress: open
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    tickets = [{"id": n, "created_at": "2025-03-03T08:00:00Z", "status": n} for n in (6, 7)]
    import_freshdesk(ny, write(tmp_path / "a" / "tickets.json", json.dumps(tickets)))
    assert rows(ny, "SELECT ticket_id, status FROM tickets ORDER BY ticket_id") == [("6", "pending"), ("7", "on-hold")]
    write(tmp_path / "b" / "tickets.json", json.dumps([{"id": 8, "created_at": "2025-03-03T08:00:00Z", "status": 8}]))
    shutil.copy(FIXTURE / "ticket_fields.json", tmp_path / "b" / "ticket_fields.json")
    import_freshdesk(ny, tmp_path / "b")
    assert rows(ny, "SELECT status FROM tickets WHERE ticket_id = '8'") == [("open",)]


def test_search_results_envelope(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    page = write(tmp_path / "search.json", json.dumps({"results": [
        {"id": 11, "created_at": "2025-03-03T08:00:00Z", "status": 5, "source": 3, "priority": 4}], "total": 1}))
    import_freshdesk(ny, page)
    assert rows(ny, "SELECT status, channel, priority FROM tickets") == [("closed", "phone", "urgent")]


def test_cli_import_and_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = str(tmp_path / "ws")
    out = runner.invoke(main, ["-w", ws, "import", "freshdesk", str(FIXTURE), "--format", "json"])
    assert out.exit_code == 0, out.output
    tables = json.loads(out.output)["tables"]
    assert {k: v["read"] for k, v in tables.items()} == {"agents": 2, "tickets": 7, "events": 21, "surveys": 3,
                                                          "customers": 2}
    bad = runner.invoke(main, ["-w", ws, "import", "freshdesk", str(FIXTURE), "--file-format", "csv"])
    assert bad.exit_code == 1
    assert "UserError: --file-format does not apply to a freshdesk import" in bad.output
    assert "freshdesk (cxmetrics import freshdesk PATH)" in runner.invoke(main, ["formats"]).output
    assert "freshdesk" in VENDORS


def test_unknown_vendor_suggests(ny: cxmetrics.Workspace) -> None:
    with pytest.raises(cxmetrics.UnknownNameError, match="freshdesk"):
        import_vendor(ny, "freshdsk", FIXTURE)
