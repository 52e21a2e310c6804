"""Zendesk file import (issue 12, item 1): the hand-written fixture in
fixtures/zendesk/ (see its README for the pages it follows and what each ticket covers)
goes through the import pipeline; every expected value below is worked out by hand
from the fixture's timestamps, not read back from our code."""

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
from cxmetrics.connectors import import_vendor, import_zendesk

FIXTURE = Path(__file__).parent / "fixtures" / "zendesk"
FACT_COLUMNS = ("ticket_id", "status", "excluded", "created_by", "channel", "team", "frt_s", "frt_first_touch_s",
                "reopens", "public_agent_replies", "one_touch", "on_hold_s", "agent_wait_s", "requester_wait_s")


def _facts(ws: cxmetrics.Workspace) -> dict[str, dict[str, object]]:
    return facts_by_ticket(ws, FACT_COLUMNS)


def test_fixture_counts_reconcile(ny: cxmetrics.Workspace) -> None:
    summary = import_zendesk(ny, FIXTURE)
    reconciles(summary)
    got = {t: (s.read, s.inserted, s.unchanged, s.quarantined) for t, s in summary.tables.items()}
    assert got == {
        # users 2001 (agent), 2002 (admin), 3001 (agent, authors ai_agent comments: a bot); end users are not agents
        "agents": (3, 3, 0, 0),
        # 101, 102, 103 on page 1; 103 (again, identical), 104, 105 on page 2
        "tickets": (6, 5, 1, 0),
        # each first audit: created + its opening comment (2)
        # 101: 2, bot msg, msg+pending+assign, msg+open, note, msg+solved, msg+open, msg+hold, solved = 16
        # 102: 2, msg, msg+solved = 5;  103: 2, msg+pending = 4
        # 104: 2, note+closed (the tags change is not modelled) + merged = 5
        "events": (30, 30, 0, 0),
        # 501 good, 503 bad; 502 was only offered
        "surveys": (2, 2, 0, 0),
        # each rating was offered: 501, 502, 503 (101's embedded 501 is the endpoint's, stored once)
        "survey_sends": (3, 3, 0, 0),
        # end users 1001 and 1002 (105's requester 1003 is on no users page: no row)
        "customers": (2, 2, 0, 0),
    }


def test_fixture_metrics_by_hand(ny: cxmetrics.Workspace) -> None:
    import_zendesk(ny, FIXTURE)
    f = _facts(ny)
    t101 = f["101"]
    # created 09:00; AI agent 09:05 (first touch 300 s); Ana's public reply 09:30 -> frt 1800 s
    assert (t101["frt_s"], t101["frt_first_touch_s"]) == (1800, 300)
    # public human replies 09:30, 10:30, next day 09:00; the bot's and the private note are not replies
    assert t101["public_agent_replies"] == 3
    # solved 10:30, reopened by the customer next day 08:00, solved again
    assert (t101["reopens"], t101["status"]) == (1, "solved")
    # pending 09:30-10:00 = 1800 s; on hold 09:00-12:00 = 10800 s; the requester waits while
    # new 09:00-09:30, open 10:00-10:30 and next day 08:00-09:00, and on hold: 1800+1800+3600+10800
    assert (t101["agent_wait_s"], t101["on_hold_s"], t101["requester_wait_s"]) == (1800, 10800, 18000)
    assert (t101["channel"], t101["team"], t101["created_by"]) == ("email", "Tier 1", "customer")
    # agent-created: submitter 2001 (agent) for requester 1002
    assert (f["102"]["created_by"], f["102"]["team"]) == ("agent", "Billing")
    # 2025-03-08 10:00 EST -> 2025-03-10 10:00 EDT: 48 h on the wall clock, 47 h elapsed
    assert (f["103"]["frt_s"], f["103"]["status"], f["103"]["channel"]) == (47 * 3600, "pending", "chat")
    # merged away (closed_by_merge) and deleted: stored, left out of every metric
    assert (f["104"]["status"], f["104"]["excluded"]) == ("closed", True)
    assert (f["105"]["status"], f["105"]["excluded"]) == ("deleted", True)
    assert f["101"]["excluded"] is False

    got = {r["metric"]: (r["value"], r["n"]) for r in ny.metrics(["csat", "reopen_rate"]).to_pylist()}
    # csat: 501 good, 503 bad -> 1/2; reopen_rate: solved 101 (reopened) and 102 -> 1/2
    assert got["csat"] == (pytest.approx(50.0), 2)
    assert got["reopen_rate"] == (pytest.approx(50.0), 2)


def test_agent_created_ticket_counts_as_zendesk_does(ny: cxmetrics.Workspace) -> None:
    # ticket 102, opened by agent 2001 with a public comment at 10:00 for customer 1002, who
    # answers at 11:00; the agent replies and solves at 11:30. As Zendesk counts it (issue 12,
    # item 6, in the facts), the opening comment is no reply: first reply is the agent's next
    # public comment, 11:30 -> 5400 s, and the ticket has one reply (one-touch)
    import_zendesk(ny, FIXTURE)
    t102 = _facts(ny)["102"]
    assert (t102["frt_s"], t102["public_agent_replies"], t102["one_touch"]) == (5400, 1, True)


def test_messages_notes_bots_and_surveys_as_stored(ny: cxmetrics.Workspace) -> None:
    import_zendesk(ny, FIXTURE)
    msgs = rows(ny, "SELECT event_id, actor_type, actor_id, public FROM events "
                    "WHERE ticket_id = '101' AND kind = 'message' ORDER BY ts")
    assert msgs[:5] == [("90011", "customer", "1001", True), ("90021", "bot", "3001", True),
                        ("90031", "agent", "2001", True), ("90041", "customer", "1001", True),
                        ("90051", "agent", "2001", False)]
    # the agent-created ticket: created by the agent, its opening comment a message at that instant
    assert rows(ny, "SELECT event_id, kind, actor_type, ts = TIMESTAMPTZ '2025-03-05 10:00:00Z' FROM events "
                    "WHERE ticket_id = '102' AND ts = (SELECT min(ts) FROM events WHERE ticket_id = '102') "
                    "ORDER BY event_id") == [("91011", "message", "agent", True), ("91012", "created", "agent", True)]
    assert rows(ny, "SELECT kind, status_from, status_to FROM events WHERE event_id = '90082'") == [
        ("status", "open", "on-hold")]
    assert rows(ny, "SELECT kind FROM events WHERE ticket_id = '104' AND kind = 'merged'") == [("merged",)]
    assert rows(ny, "SELECT response_id, kind, scale, score, comment FROM surveys ORDER BY response_id") == [
        ("501", "csat", "good/bad", 1.0, "Thanks Ana!"), ("503", "csat", "good/bad", 0.0, "Took two days")]
    assert rows(ny, "SELECT agent_id, type, team FROM agents ORDER BY agent_id") == [
        ("2001", "human", "Tier 1"), ("2002", "human", "Billing"), ("3001", "bot", None)]


def test_import_twice_changes_nothing(ny: cxmetrics.Workspace) -> None:
    import_zendesk(ny, FIXTURE)
    before = ny.counts()
    again = import_zendesk(ny, FIXTURE)
    reconciles(again)
    for table, s in again.tables.items():
        assert (s.inserted, s.updated, s.quarantined) == (0, 0, 0), table
        assert s.unchanged == s.read, table
    assert ny.counts() == before


def test_overlapping_pages_store_each_ticket_once(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # page 1 alone, then page 2 (which repeats ticket 103): 103 is unchanged the second time
    first = import_zendesk(ny, FIXTURE / "tickets-1.json")
    second = import_zendesk(ny, FIXTURE / "tickets-2.json")
    assert (first.tables["tickets"].inserted, first.tables["tickets"].read) == (3, 3)
    t = second.tables["tickets"]
    assert (t.read, t.inserted, t.unchanged) == (3, 2, 1)
    assert rows(ny, "SELECT count(*), count(DISTINCT ticket_id) FROM tickets") == [(5, 5)]


def test_malformed_objects_are_quarantined_with_position_and_reason(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    write(folder / "zz-broken.jsonl", "\n".join([
        json.dumps({"tickets": [
            {"id": 201, "created_at": "2025-03-11T09:00:00Z", "status": "open", "via": {"channel": "voice"}},
            {"id": 202, "created_at": "yesterday", "status": "open"},
            {"id": 203, "created_at": "2025-03-11T09:00:00Z", "status": "archived"},
        ]}),
        "{not json",
        json.dumps({"id": 9901, "created_at": "2025-03-11T09:00:00Z", "events": []}),  # an audit without ticket_id
        json.dumps({"satisfaction_ratings": [{"id": 601, "ticket_id": 201, "score": "meh",
                                              "created_at": "2025-03-11T10:00:00Z"}]}),
    ]) + "\n")
    summary = import_zendesk(ny, folder)
    reconciles(summary)
    assert summary.tables["tickets"].quarantined == 3
    assert summary.tables["tickets"].inserted == 6  # the fixture's five and 201
    assert (summary.tables["events"].quarantined, summary.tables["surveys"].quarantined) == (1, 1)
    got = sorted(rows(ny, "SELECT kind, line, reason FROM quarantine"))
    assert got == [
        ("events", 3, "zz-broken.jsonl line 3, audits[0]: ticket_id is missing"),
        ("surveys", 4, "zz-broken.jsonl line 4, satisfaction_ratings[0]: "
                       "score 'meh' is not good, bad, offered or unoffered"),
        ("tickets", 1, "zz-broken.jsonl line 1, tickets[1]: "
                       "created_at 'yesterday' is not an ISO 8601 time such as 2025-03-14T09:30:00Z"),
        ("tickets", 1, "zz-broken.jsonl line 1, tickets[2]: status 'archived' is not a Zendesk status "
                       "(new, open, pending, hold, solved, closed, deleted)"),
        ("tickets", 2, "zz-broken.jsonl line 2: the line is not JSON (Expecting property name "
                       "enclosed in double quotes)"),
    ]
    # the rest imported: 201 with its channel mapped (voice -> phone)
    assert rows(ny, "SELECT channel FROM tickets WHERE ticket_id = '201'") == [("phone",)]
    # fixing the file and importing again empties its quarantine
    (folder / "zz-broken.jsonl").unlink()
    import_zendesk(ny, folder)
    assert rows(ny, "SELECT count(*) FROM quarantine") == [(0,)]


def test_incremental_ticket_events_page(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # the incremental ticket event export's shape: each item an update with child_events
    # that carry the changed field as a key, times as Unix seconds in `timestamp`
    page = write(tmp_path / "ticket_events.json", json.dumps({"ticket_events": [
        {"id": 7001, "ticket_id": 301, "timestamp": 1741770000, "updater_id": 1001, "via": {"channel": "email"},
         "event_type": "Audit", "child_events": [
             {"id": 70011, "event_type": "Create", "status": "new"},
             {"id": 70012, "event_type": "Comment", "comment_public": True, "body": "Hello"}]},
        {"id": 7002, "ticket_id": 301, "timestamp": 1741770600, "updater_id": 2001, "via": {"channel": "web"},
         "event_type": "Audit", "child_events": [
             {"id": 70021, "event_type": "Comment", "comment_public": True, "body": "Hi, on it"},
             {"id": 70022, "event_type": "Change", "status": "solved", "previous_value": "new"}]},
    ], "end_of_stream": True}))
    shutil.copy(FIXTURE / "users.json", tmp_path / "users.json")
    summary = import_zendesk(ny, tmp_path)
    assert summary.tables["events"].inserted == 4  # created, the customer's comment, the agent's reply, the solve
    f = _facts(ny)["301"]
    # 1741770000 = 2025-03-12T09:00:00Z; the reply 600 s later
    assert (f["frt_s"], f["status"]) == (600, "solved")


def test_cli_import_and_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = str(tmp_path / "ws")
    out = runner.invoke(main, ["-w", ws, "import", "zendesk", str(FIXTURE), "--format", "json"])
    assert out.exit_code == 0, out.output
    tables = json.loads(out.output)["tables"]
    assert {k: v["read"] for k, v in tables.items()} == {"agents": 3, "tickets": 6, "events": 30, "surveys": 2,
                                                          "survey_sends": 3, "customers": 2}
    text = runner.invoke(main, ["-w", ws, "import", "zendesk", str(FIXTURE)])
    events = text.output[text.output.index("Imported events from zendesk:"):].splitlines()
    assert events[1].split() == ["read", "30"] and events[4].split() == ["unchanged", "30"]
    bad = runner.invoke(main, ["-w", ws, "import", "zendesk", str(FIXTURE), "--file-format", "csv"])
    assert bad.exit_code == 1
    assert "UserError: --file-format does not apply to a zendesk import" in bad.output
    missing = runner.invoke(main, ["-w", ws, "import", "zendesk", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "ImportFileError:" in missing.output
    assert "zendesk (cxmetrics import zendesk PATH)" in runner.invoke(main, ["formats"]).output


def test_unknown_vendor_suggests(ny: cxmetrics.Workspace) -> None:
    with pytest.raises(cxmetrics.UnknownNameError, match="zendesk"):
        import_vendor(ny, "zendsk", FIXTURE)


def test_an_interrupted_import_leaves_whole_tables_and_a_rerun_completes_it(
    ny: cxmetrics.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tables land one transaction each (agents, tickets, events, surveys): a failure while the
    # events land leaves agents and tickets whole, no event half-stored, and nothing of surveys
    from cxmetrics.ingest import _pipeline

    real = _pipeline.run

    def failing(con, kind, *args, **kwargs):  # type: ignore[no-untyped-def]
        if kind.name == "events":
            raise RuntimeError("killed while the events land")
        return real(con, kind, *args, **kwargs)

    monkeypatch.setattr(_pipeline, "run", failing)
    with pytest.raises(RuntimeError):
        import_zendesk(ny, FIXTURE)
    counts = ny.counts()
    assert (counts["agents"], counts["tickets"], counts["events"], counts["surveys"]) == (3, 5, 0, 0)
    monkeypatch.setattr(_pipeline, "run", real)
    again = import_zendesk(ny, FIXTURE)
    assert (again.tables["tickets"].unchanged, again.tables["events"].inserted) == (6, 30)
    assert again.tables["surveys"].inserted == 2


def test_a_page_that_is_not_json_is_refused_whole(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    write(folder / "tickets-3.json", '{"tickets": [{"id": 1,')
    with pytest.raises(cxmetrics.ImportFileError, match=r"tickets-3.json is not JSON .*save the API response"):
        import_zendesk(ny, folder)
    assert ny.counts()["tickets"] == 0


def test_a_json_array_of_pages_names_the_page(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    pages = [{"tickets": [{"id": 1, "created_at": "2025-03-03T08:00:00Z", "status": "open"}], "next_page": "p2"},
             {"tickets": [{"id": 2, "created_at": "2025-03-03T08:00:00Z", "status": "open"},
                          {"created_at": "2025-03-03T08:00:00Z", "status": "open"}], "next_page": None}]
    summary = import_zendesk(ny, write(tmp_path / "export.json", json.dumps(pages)))
    t = summary.tables["tickets"]
    assert (t.read, t.inserted, t.quarantined) == (3, 2, 1)
    assert rows(ny, "SELECT line, reason FROM quarantine") == [(1, "export.json page 2, tickets[1]: id is missing")]


# Ratings as sends and ratings embedded in tickets (issue 12, item 1). A ticket's
# `satisfaction_rating` is `{"id", "score", "comment"}` (score offered, unoffered, good or bad)
# as the Tickets API reference's JSON format and example show it:
# https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/ ; the same rating
# (same id) as /api/v2/satisfaction_ratings lists it:
# https://developer.zendesk.com/api-reference/ticketing/ticket-management/satisfaction_ratings/
def _rated_tickets_page(folder: Path) -> Path:
    def ticket(tid: int, updated: str, rating: dict[str, object]) -> dict[str, object]:
        return {"id": tid, "url": f"https://example.zendesk.com/api/v2/tickets/{tid}.json",
                "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": None}},
                "created_at": "2025-03-11T09:00:00Z", "updated_at": updated, "type": "question",
                "subject": "Where is my parcel?", "priority": "normal", "status": "solved", "requester_id": 1001,
                "submitter_id": 1001, "assignee_id": 2001, "group_id": 360001, "tags": [],
                "satisfaction_rating": rating}
    return write(folder / "tickets-3.json", json.dumps({"tickets": [
        ticket(106, "2025-03-12T09:00:00Z", {"id": 504, "score": "offered", "comment": None}),
        ticket(107, "2025-03-12T10:00:00Z", {"id": 505, "score": "bad", "comment": "Still broken"}),
        ticket(108, "2025-03-12T11:00:00Z", {"score": "unoffered"}),
    ], "after_cursor": None, "end_of_stream": True}))


def test_ratings_are_sends_and_the_response_rate_is_answered_over_offered(
        tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    folder = tmp_path / "export"
    shutil.copytree(FIXTURE, folder)
    _rated_tickets_page(folder)
    summary = import_zendesk(ny, folder)
    reconciles(summary)
    # offered: 501, 502, 503 (endpoint), 504, 505 (embedded); 101's embedded 501 is the endpoint's;
    # 108 was never offered (unoffered)
    assert rows(ny, "SELECT send_id, ticket_id, customer_id, kind FROM survey_sends ORDER BY send_id") == [
        ("501", "101", "1001", "csat"), ("502", "102", "1002", "csat"), ("503", "103", "1002", "csat"),
        ("504", "106", "1001", "csat"), ("505", "107", "1001", "csat")]
    # sent when offered: the endpoint's created_at; an embedded rating at its ticket's updated_at
    assert rows(ny, "SELECT strftime(sent_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') FROM survey_sends "
                    "WHERE send_id IN ('502', '504') ORDER BY send_id") == [("2025-03-05 12:00",), ("2025-03-12 09:00",)]
    # answers: 501 good, 503 bad (endpoint) and 505 bad (embedded, with its comment)
    assert rows(ny, "SELECT response_id, ticket_id, score, comment FROM surveys ORDER BY response_id") == [
        ("501", "101", 1.0, "Thanks Ana!"), ("503", "103", 0.0, "Took two days"), ("505", "107", 0.0, "Still broken")]
    got = {r["metric"]: (r["value"], r["n"]) for r in ny.metrics(["survey_response_rate", "csat"]).to_pylist()}
    # answered / offered = 3 / 5 (502 and 504 unanswered); csat: 1 good of 3 answers
    assert got["survey_response_rate"] == (pytest.approx(60.0), 5)
    assert got["csat"] == (pytest.approx(100 / 3), 3)


def test_a_rating_in_its_ticket_and_from_the_endpoint_is_stored_once(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # ticket 101 embeds rating 501 ({"id": 501, "score": "good", "comment": "Thanks Ana!"}), which
    # satisfaction_ratings.json lists with its times (offered 12:30, answered 13:00)
    ticket_page, ratings = FIXTURE / "tickets-1.json", FIXTURE / "satisfaction_ratings.json"
    first = import_zendesk(ny, ticket_page)  # the ticket alone: its embedded rating, without times
    assert (first.tables["surveys"].inserted, first.tables["survey_sends"].inserted) == (1, 1)
    assert rows(ny, "SELECT response_id, score, comment, responded_at FROM surveys") == [
        ("501", 1.0, "Thanks Ana!", None)]
    # then the endpoint: the same answer and send, now with their times: updated, not doubled
    second = import_zendesk(ny, ratings)
    assert (second.tables["surveys"].inserted, second.tables["surveys"].updated) == (1, 1)  # 503 new, 501 timed
    assert rows(ny, "SELECT response_id, strftime(responded_at AT TIME ZONE 'UTC', '%H:%M'), agent_id FROM surveys "
                    "WHERE response_id = '501'") == [("501", "13:00", "2001")]
    # the ticket page again (an incremental sync sees the ticket again): the endpoint's times
    # stay, nothing changes
    third = import_zendesk(ny, ticket_page)
    reconciles(third)
    for table in ("surveys", "survey_sends"):
        s = third.tables[table]
        assert (s.read, s.unchanged, s.inserted, s.updated) == (1, 1, 0, 0), table
    assert rows(ny, "SELECT count(*), strftime(max(responded_at) AT TIME ZONE 'UTC', '%H:%M') FROM surveys "
                    "WHERE response_id = '501'") == [(1, "13:00")]
    assert rows(ny, "SELECT strftime(sent_at AT TIME ZONE 'UTC', '%m-%d %H:%M') FROM survey_sends "
                    "WHERE send_id = '501'") == [("03-04 12:30",)]
    # and both in one import (the fixture folder): one answer and one send for 501
    both = import_zendesk(ny, FIXTURE)
    reconciles(both)
    assert rows(ny, "SELECT count(*) FROM surveys WHERE response_id = '501'") == [(1,)]
    assert rows(ny, "SELECT count(*) FROM survey_sends WHERE send_id = '501'") == [(1,)]


def test_rows_past_a_chunk_land_as_rows_within_one(ny: cxmetrics.Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # a Batch keeps rows as Arrow columns every CHUNK rows (a 100k-ticket export is a million
    # events): with chunks of 2, the fixture lands exactly as worked out by hand above
    from cxmetrics.connectors import _plumbing

    monkeypatch.setattr(_plumbing, "CHUNK", 2)
    summary = import_zendesk(ny, FIXTURE)
    reconciles(summary)
    assert {t: s.inserted for t, s in summary.tables.items()} == {
        "agents": 3, "tickets": 5, "events": 30, "surveys": 2, "survey_sends": 3, "customers": 2}
    t101 = _facts(ny)["101"]
    assert (t101["frt_s"], t101["public_agent_replies"], t101["requester_wait_s"]) == (1800, 3, 18000)
    assert rows(ny, "SELECT event_id, actor_type, public FROM events WHERE ticket_id = '101' AND kind = 'message' "
                    "ORDER BY ts LIMIT 2") == [("90011", "customer", True), ("90021", "bot", True)]


def test_a_json_lines_object_with_a_line_separator_in_a_comment(tmp_path: Path, ny: cxmetrics.Workspace) -> None:
    # JSON allows U+2028 unescaped in a string (json.dumps(ensure_ascii=False) writes it so);
    # it does not end a JSON Lines line: the audit is one object, its comment whole
    audit = {"id": 9901, "ticket_id": 301, "created_at": "2025-03-12T09:00:00Z", "author_id": 1001,
             "via": {"channel": "email"}, "events": [
                 {"id": 99011, "type": "Create", "field_name": "status", "value": "new"},
                 {"id": 99012, "type": "Comment", "author_id": 1001, "public": True, "body": "line one\u2028line two"}]}
    page = write(tmp_path / "audits.jsonl", json.dumps(audit, ensure_ascii=False) + "\n")
    summary = import_zendesk(ny, page)
    assert (summary.tables["events"].inserted, summary.tables["events"].quarantined) == (2, 0)
    assert rows(ny, "SELECT body FROM events WHERE event_id = '99012'") == [("line one\u2028line two",)]
