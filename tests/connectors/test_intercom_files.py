"""Intercom file import (issue 12, item 1): the hand-written fixture in
fixtures/intercom/ (see its README for the API pages it follows and what each
conversation covers) goes through the import pipeline; every expected value below is
worked out by hand from the fixture's Unix times, not read back from our code."""

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
from cxmetrics.connectors import import_intercom, import_vendor

FIXTURE = Path(__file__).parent / "fixtures" / "intercom"
FACT_COLUMNS = ("ticket_id", "status", "excluded", "created_by", "channel", "team", "priority", "assignee_id", "frt_s",
                "frt_first_touch_s", "reopens", "public_agent_replies", "one_touch", "agent_wait_s",
                "requester_wait_s", "bot_contained")


def _facts(ws: cxmetrics.Workspace) -> dict[str, dict[str, object]]:
    return facts_by_ticket(ws, FACT_COLUMNS)


def test_fixture_counts_reconcile(ny: cxmetrics.Workspace) -> None:
    summary = import_intercom(ny, FIXTURE)
    reconciles(summary)
    got = {t: (s.read, s.inserted, s.unchanged, s.quarantined) for t, s in summary.tables.items()}
    assert got == {
        # admins 7001, 7002, and Fin (8001), seen only as a bot author; contacts are not agents
        "agents": (3, 3, 0, 0),
        # list pages: 101, 102, 103 and 103 (again), 104, 105; conversations.jsonl: the five retrieved
        "tickets": (11, 5, 6, 0),
        # every conversation: created + its source message (2), from each of its 11 appearances: 22;
        # parts: 101: Fin, assign, reply, note, snoozed, customer (+ unsnooze), reply, close,
        # customer (+ reopen), reply, close = 13; 102: 3; 103: reply, snoozed = 2; 104: 3; 105: assign = 1
        # -> 22 + 22 = 44 read; 5 x 2 + 22 = 32 distinct
        "events": (44, 32, 12, 0),
        # ratings of 101 (5) and 104 (2), each in a list page and in the retrieved conversation
        "surveys": (4, 2, 2, 0),
        # contacts c-1, c-2, c-3
        "customers": (3, 3, 0, 0),
    }


def test_fixture_metrics_by_hand(ny: cxmetrics.Workspace) -> None:
    import_intercom(ny, FIXTURE)
    f = _facts(ny)
    t101 = f["101"]
    # created 09:00; Fin answers 09:02 (first touch 120 s); Ana's reply 09:20 -> frt 1200 s
    assert (t101["frt_s"], t101["frt_first_touch_s"]) == (1200, 120)
    # Ana's public replies 09:20, 10:30, next day 09:00; Fin's answer and the note are not replies
    assert t101["public_agent_replies"] == 3
    # closed 10:30, the customer writes again next day 08:00 (a reopen), closed again 09:00
    assert (t101["reopens"], t101["status"]) == (1, "closed")
    # snoozed (pending) 09:30-10:00 = 1800 s; the requester waits while open:
    # 09:00-09:30, 10:00-10:30 and next day 08:00-09:00 = 1800 + 1800 + 3600
    assert (t101["agent_wait_s"], t101["requester_wait_s"]) == (1800, 7200)
    assert (t101["channel"], t101["team"], t101["created_by"], t101["bot_contained"]) == (
        "chat", "Tier 1", "customer", False)
    # 103: created Sat 2025-03-08 10:00 EST, Ana replies Mon 2025-03-10 10:00 EDT: 48 h on the
    # wall clock, 47 h elapsed; then snoozed, which is pending
    assert (f["103"]["frt_s"], f["103"]["status"], f["103"]["channel"]) == (47 * 3600, "pending", "messaging")
    # 104: Fin answered at +60 s and closed it: contained by the bot, no human reply
    assert (f["104"]["frt_first_touch_s"], f["104"]["frt_s"], f["104"]["bot_contained"]) == (60, None, True)
    # 105: Intercom's priority flag, assigned to Ana by Ben, no reply yet
    assert (f["105"]["priority"], f["105"]["assignee_id"], f["105"]["status"], f["105"]["frt_s"]) == (
        "high", "7001", "open", None)
    assert not any(t["excluded"] for t in f.values())

    got = {r["metric"]: (r["value"], r["n"]) for r in ny.metrics(["csat", "reopen_rate"]).to_pylist()}
    # csat: 101 rated 5 (top box), 104 rated 2 -> 1/2; reopen_rate: closed 101 (reopened), 102, 104 -> 1/3
    assert got["csat"] == (pytest.approx(50.0), 2)
    assert got["reopen_rate"] == (pytest.approx(100 / 3), 3)


def test_agent_initiated_conversation_counts_as_outbound(ny: cxmetrics.Workspace) -> None:
    # 102: Ben writes first (delivered_as admin_initiated) at 10:00; Mia answers 11:00; Ben replies
    # and closes 11:30. The opening message is no reply: first reply 11:30 -> 5400 s, one touch
    import_intercom(ny, FIXTURE)
    t102 = _facts(ny)["102"]
    assert (t102["created_by"], t102["team"], t102["channel"]) == ("agent", "Billing", "email")
    assert (t102["frt_s"], t102["public_agent_replies"], t102["one_touch"]) == (5400, 1, True)


def test_parts_notes_bots_and_ratings_as_stored(ny: cxmetrics.Workspace) -> None:
    import_intercom(ny, FIXTURE)
    msgs = rows(ny, "SELECT event_id, actor_type, actor_id, public FROM events "
                    "WHERE ticket_id = '101' AND kind = 'message' ORDER BY ts, event_id")
    assert msgs[:5] == [("101:source", "customer", "c-1", True), ("10101", "bot", "8001", True),
                        ("10103", "agent", "7001", True), ("10104", "agent", "7001", False),
                        ("10106", "customer", "c-1", True)]
    # the state changes, in order: snoozed, unsnoozed by the customer's reply, closed, reopened, closed
    assert rows(ny, "SELECT status_from, status_to FROM events WHERE ticket_id = '101' AND kind = 'status' "
                    "ORDER BY ts") == [("open", "pending"), ("pending", "open"), ("open", "closed"),
                                       ("closed", "open"), ("open", "closed")]
    # Fin hands over to the Tier 1 team; Ben assigns 105 to Ana
    assert rows(ny, "SELECT event_id, actor_type, assignee_id, team FROM events WHERE kind = 'assign' "
                    "ORDER BY event_id") == [("10102:assign", "bot", None, "Tier 1"),
                                             ("10501:assign", "agent", "7001", None)]
    assert rows(ny, "SELECT response_id, kind, scale, score, comment, agent_id FROM surveys ORDER BY 1") == [
        ("101:rating", "csat", "1-5", 5.0, "Fin pointed me to the right page and Ana sorted it", "7001"),
        ("104:rating", "csat", "1-5", 2.0, "Fin closed it before I could ask more", None)]
    # a rating's created_at is when Intercom asked for it (1741079400 = 2025-03-04 09:10 UTC)
    assert rows(ny, "SELECT sent_at = TIMESTAMPTZ '2025-03-04 09:10:00Z', responded_at IS NULL FROM surveys "
                    "WHERE response_id = '101:rating'") == [(True, True)]
    assert rows(ny, "SELECT agent_id, name, type, team FROM agents ORDER BY agent_id") == [
        ("7001", "Ana Costa", "human", "Tier 1"), ("7002", "Ben Okafor", "human", "Billing"),
        ("8001", None, "bot", None)]
    assert rows(ny, "SELECT tags, subject FROM tickets WHERE ticket_id = '105'") == [(["outage"], "Site down?")]


def test_import_twice_changes_nothing(ny: cxmetrics.Workspace) -> None:
    import_intercom(ny, FIXTURE)
    before = ny.counts()
    again = import_intercom(ny, FIXTURE)
    reconciles(again)
    for table, s in again.tables.items():
        assert (s.inserted, s.updated, s.quarantined) == (0, 0, 0), table
        assert s.unchanged == s.read, table
    assert ny.counts() == before


def test_overlapping_list_pages_store_each_conversation_once(ny: cxmetrics.Workspace) -> None:
    first = import_intercom(ny, FIXTURE / "conversations-1.json")
    second = import_intercom(ny, FIXTURE / "conversations-2.json")
    assert (first.tables["tickets"].read, first.tables["tickets"].inserted) == (3, 3)
    t = second.tables["tickets"]
    assert (t.read, t.inserted, t.unchanged) == (3, 2, 1)  # 103 is on both pages
    assert rows(ny, "SELECT count(*), count(DISTINCT ticket_id) FROM tickets") == [(5, 5)]
    # a list page has no parts: only each conversation's created event and opening message
    assert rows(ny, "SELECT count(*) FROM events") == [(10,)]


def test_the_newest_copy_of_a_conversation_wins_whatever_the_file_names(tmp_path: Path,
                                                                       ny: cxmetrics.Workspace) -> None:
    # 103 retrieved after it was snoozed (updated_at 1741615500) in a.jsonl, and an older list page
    # saved before anyone answered (updated_at 1741446000, open) in z-old.json, read after it
    retrieved = (FIXTURE / "conversations.jsonl").read_text(encoding="utf-8").splitlines()[2]
    write(tmp_path / "a.jsonl", retrieved + "\n")
    old = {**json.loads(retrieved), "updated_at": 1741446000, "state": "open", "open": True, "snoozed_until": None}
    del old["conversation_parts"]
    write(tmp_path / "z-old.json", json.dumps({"type": "conversation.list", "conversations": [old]}))
    summary = import_intercom(ny, tmp_path)
    assert (summary.tables["tickets"].read, summary.tables["tickets"].inserted) == (2, 1)
    assert rows(ny, "SELECT status FROM tickets WHERE ticket_id = '103'") == [("pending",)]


def test_malformed_objects_are_quarantined_with_position_and_reason(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    good = {"type": "conversation", "id": "201", "created_at": 1741770000, "state": "open",
            "source": {"type": "email", "delivered_as": "customer_initiated", "id": "50201",
                       "author": {"type": "user", "id": "c-1"}},
            "conversation_rating": {"rating": 7, "remark": "great", "created_at": 1741771000},
            "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [
                {"type": "conversation_part", "id": "20101", "part_type": "comment", "created_at": 1741770600,
                 "author": {"type": "admin", "id": "7001"}},
                {"type": "conversation_part", "id": "20102", "part_type": "comment", "created_at": 1741770700},
            ]}}
    write(folder / "zz-broken.jsonl", "\n".join([
        json.dumps({"type": "conversation.list", "conversations": [
            {"type": "conversation", "id": "202", "created_at": "yesterday", "state": "open"},
            {"type": "conversation", "id": "203", "created_at": 1741770000, "state": "archived"},
        ]}),
        "{not json",
        json.dumps(good),
        json.dumps({"type": "widget", "id": "1"}),
    ]) + "\n")
    summary = import_intercom(ny, folder)
    reconciles(summary)
    assert (summary.tables["tickets"].quarantined, summary.tables["tickets"].inserted) == (4, 6)
    assert (summary.tables["events"].quarantined, summary.tables["surveys"].quarantined) == (1, 1)
    got = sorted(rows(ny, "SELECT kind, line, reason FROM quarantine"))
    assert got == [
        ("events", 3, "zz-broken.jsonl line 3, conversations[0].conversation_parts[1]: "
                      "author is missing (its type must be user, lead, admin, bot or team)"),
        ("surveys", 3, "zz-broken.jsonl line 3, conversations[0].conversation_rating[0]: "
                       "rating 7 is not a whole number from 1 to 5"),
        ("tickets", 1, "zz-broken.jsonl line 1, conversations[0]: "
                       "created_at 'yesterday' is not a Unix time in seconds such as 1741600000"),
        ("tickets", 1, "zz-broken.jsonl line 1, conversations[1]: "
                       "state 'archived' is not an Intercom state (open, closed, snoozed)"),
        ("tickets", 2, "zz-broken.jsonl line 2: the line is not JSON (Expecting property name "
                       "enclosed in double quotes)"),
        ("tickets", 4, "zz-broken.jsonl line 4: not an Intercom page or object "
                       "(no conversations, admins, teams or contacts)"),
    ]
    # the rest of 201 landed: its ticket and its good part (Ana's reply 600 s after creation)
    assert rows(ny, "SELECT event_id FROM events WHERE ticket_id = '201' ORDER BY ts, event_id") == [
        ("201:created",), ("201:source",), ("20101",)]
    # fixing the file and importing again empties its quarantine
    (folder / "zz-broken.jsonl").unlink()
    import_intercom(ny, folder)
    assert rows(ny, "SELECT count(*) FROM quarantine") == [(0,)]


def test_cli_import_and_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = str(tmp_path / "ws")
    out = runner.invoke(main, ["-w", ws, "import", "intercom", str(FIXTURE), "--format", "json"])
    assert out.exit_code == 0, out.output
    tables = json.loads(out.output)["tables"]
    assert {k: v["read"] for k, v in tables.items()} == {"agents": 3, "tickets": 11, "events": 44, "surveys": 4,
                                                          "customers": 3}
    bad = runner.invoke(main, ["-w", ws, "import", "intercom", str(FIXTURE), "--file-format", "csv"])
    assert bad.exit_code == 1
    assert "UserError: --file-format does not apply to an intercom import" in bad.output
    assert "intercom (cxmetrics import intercom PATH)" in runner.invoke(main, ["formats"]).output


def test_import_vendor_reaches_intercom(ny: cxmetrics.Workspace) -> None:
    summary = import_vendor(ny, "intercom", FIXTURE / "conversations-1.json", source="intercom-eu")
    assert summary.vendor == "intercom"
    assert rows(ny, "SELECT DISTINCT source FROM tickets") == [("intercom-eu",)]
    with pytest.raises(cxmetrics.UnknownNameError, match="intercom"):
        import_vendor(ny, "intercon", FIXTURE)


def test_api_1x_admin_list_holds_teams(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # Intercom API 1.x lists teams among the admins ("type": "team"): a team, not an agent
    page = write(tmp_path / "admins.json", json.dumps({"type": "admin.list", "admins": [
        {"type": "admin", "id": "493881", "name": "Hoban Washburne", "team_ids": [814865]},
        {"type": "team", "id": "814865", "name": "SerenityTeam", "admin_ids": [493881]}]}))
    summary = import_intercom(ny, page)
    assert (summary.tables["agents"].read, summary.tables["agents"].inserted) == (1, 1)
    assert rows(ny, "SELECT agent_id, type, team FROM agents") == [("493881", "human", "SerenityTeam")]
