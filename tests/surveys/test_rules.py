"""The send rules (issue 16, item 2), hand-worked on the small survey workspace with a clock
the test controls: who gets a survey when, and why the others do not.

The workspace (tests/surveys/conftest.py) plus four tickets chosen for the exclusions:
  BOT  solved by a bot alone on 4 Mar 08:02 (bot message, bot solve)   -> bot_solved
  D1   status deleted                                                   -> excluded
  M1   solved 4 Mar 11:00, then merged into another ticket              -> excluded
So at NOW (6 Mar 12:00) with a 1 h delay, after a first sight on 1 Mar:
  S1, S2, S3 due; S4 no address; S5 not solved; S6 spam, D1, M1 excluded; BOT bot-solved;
  S7 (C2 again, 4 Mar) throttled behind S2 (C2, 3 Mar) within the 7-day throttle.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import cxmetrics
from cxmetrics.surveys import SurveysConfig
from cxmetrics.surveys._rules import cycle_of
from cxmetrics.surveys._sends import run
from cxmetrics.surveys._tokens import send_id

from .conftest import NOW, SOURCE, make_workspace

FIRST_SIGHT = datetime(2026, 3, 1, tzinfo=UTC)
EXTRA_TICKETS = """ticket_id,created_at,channel,status,requester_id,assignee_id,team,first_reply_at,solved_at
D1,2026-03-04T09:00:00Z,email,deleted,del@example.com,A1,Support,,
M1,2026-03-04T10:00:00Z,email,solved,mrg@example.com,A1,Support,2026-03-04T10:30:00Z,2026-03-04T11:00:00Z
"""
EXTRA_EVENTS = """event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,requester_id,channel
b1,BOT,2026-03-04T08:00:00Z,created,customer,bot-cust@example.com,true,,bot-cust@example.com,chat
b2,BOT,2026-03-04T08:01:00Z,message,bot,bot1,true,,,
b3,BOT,2026-03-04T08:02:00Z,status,bot,bot1,,solved,,
m1,M1,2026-03-04T12:00:00Z,merged,system,,,,,
"""


def add_csv(ws: cxmetrics.Workspace, kind: str, text: str, tmp: Path) -> None:
    f = tmp / f"{kind}-{abs(hash(text))}.csv"
    f.write_text(text, encoding="utf-8")
    s = ws.import_file(kind, f)
    assert s.quarantined == 0, s
    ws.refresh()


@pytest.fixture
def ws(tmp_path: Path):
    path = make_workspace(tmp_path / "ws")
    with cxmetrics.open(path) as w:
        add_csv(w, "tickets", EXTRA_TICKETS, tmp_path)
        add_csv(w, "events", EXTRA_EVENTS, tmp_path)
        yield w


def cfg(throttle: str = "7d", **survey: object) -> SurveysConfig:
    return SurveysConfig.from_dict({"throttle": throttle, "base_url": "https://cx.example.com",
                                    "surveys": [{"name": "csat", "kind": "csat", "delay": "1h", **survey}]})


def requested(ws: cxmetrics.Workspace) -> list[str]:
    return sorted(r[0] for r in ws.con.execute("SELECT ticket_id FROM survey_requests").fetchall())


def test_the_fixture_tickets_are_what_the_rules_are_tested_on(ws) -> None:
    got = dict(((t, (e, b)) for t, e, b in ws.con.execute(
        "SELECT ticket_id, excluded, bot_contained FROM ticket_facts").fetchall()))
    assert got["BOT"] == (False, True) and got["M1"] == (True, False) and got["D1"] == (True, False)
    assert got["S6"] == (True, False) and got["S1"] == (False, False)


def test_each_ticket_is_surveyed_or_skipped_for_its_one_reason(ws) -> None:
    c = cfg()
    assert run(ws, now=FIRST_SIGHT, config=c, deliver=False).planned == 0  # nothing solved yet
    r = run(ws, now=NOW, config=c, deliver=False)
    assert requested(ws) == ["S1", "S2", "S3"]
    assert r.planned == 3
    assert r.skipped == {"excluded": 3, "not_solved": 1, "bot_solved": 1, "no_address": 1, "throttled": 1}
    # the send id is the contract's: one per ticket and definition
    assert sorted(r.send_ids) == sorted(send_id("csat", SOURCE, "ticket", t) for t in ("S1", "S2", "S3"))
    rows = ws.con.execute("SELECT ticket_id, customer_id, address, language, \"trigger\", delivery, due_at "
                          "FROM survey_requests ORDER BY ticket_id").fetchall()
    assert [(t, c_, a, lang, tr, d) for t, c_, a, lang, tr, d, _ in rows] == [
        ("S1", "C1", "ann@example.com", "de", "solved", "email"),  # locale de-AT
        ("S2", "C2", "bob@example.com", "en", "solved", "email"),
        ("S3", "cara@example.com", "cara@example.com", "en", "solved", "email")]  # the requester is the address
    assert [r_[6] for r_ in rows] == [datetime(2026, 3, 2, 16, tzinfo=UTC), datetime(2026, 3, 3, 17, tzinfo=UTC),
                                      datetime(2026, 3, 4, 18, tzinfo=UTC)]  # solve + 1 h


def test_a_bot_solved_ticket_is_surveyed_only_when_the_definition_asks(ws) -> None:
    run(ws, now=FIRST_SIGHT, config=cfg(include_bot_solved=True), deliver=False)
    r = run(ws, now=NOW, config=cfg(include_bot_solved=True), deliver=False)
    assert "BOT" in requested(ws) and "bot_solved" not in r.skipped


def test_a_customer_solved_twice_in_a_week_gets_one_survey(ws) -> None:
    c = cfg()
    run(ws, now=FIRST_SIGHT, config=c, deliver=False)
    # live: S2 (C2) goes at its due time; S7 (C2, a day later) is throttled, then and for good
    run(ws, now=datetime(2026, 3, 3, 17, tzinfo=UTC), config=c, deliver=False)
    assert "S2" in requested(ws)
    r = run(ws, now=datetime(2026, 3, 4, 20, tzinfo=UTC), config=c, deliver=False)
    assert r.skipped.get("throttled") == 1 and "S7" not in requested(ws)
    r = run(ws, now=datetime(2026, 3, 20, tzinfo=UTC), config=c, deliver=False)  # the week is over: still not
    assert "S7" not in requested(ws) and r.skipped.get("throttled") == 1
    # without a throttle both go
    with_none = cfg(throttle="0s")
    run(ws, now=datetime(2026, 3, 20, tzinfo=UTC), config=with_none, deliver=False)
    assert "S7" in requested(ws)


def test_throttle_spans_definitions_and_kinds(ws) -> None:
    c = SurveysConfig.from_dict({"surveys": [{"name": "csat", "kind": "csat", "delay": "1h"},
                                             {"name": "ces", "kind": "ces", "delay": "1h"}]})
    run(ws, now=FIRST_SIGHT, config=c, deliver=False)
    run(ws, now=NOW, config=c, deliver=False)
    got = ws.con.execute("SELECT ticket_id, survey FROM survey_requests ORDER BY ticket_id").fetchall()
    # each customer once, by the first definition in the file
    assert got == [("S1", "csat"), ("S2", "csat"), ("S3", "csat")]


def test_the_delay_counts_from_the_solve(ws) -> None:
    c = cfg(where={"channel": ["email"]})
    run(ws, now=FIRST_SIGHT, config=c, deliver=False)
    s3_solved = datetime(2026, 3, 4, 17, tzinfo=UTC)
    r = run(ws, now=s3_solved + timedelta(hours=1) - timedelta(seconds=1), config=c, deliver=False)
    assert "S3" not in requested(ws) and r.waiting >= 1
    run(ws, now=s3_solved + timedelta(hours=1), config=c, deliver=False)
    assert "S3" in requested(ws)


def test_where_compares_dimensions_case_blind(ws) -> None:
    run(ws, now=FIRST_SIGHT, config=cfg(where={"channel": ["CHAT"]}), deliver=False)
    r = run(ws, now=NOW, config=cfg(where={"channel": ["CHAT"]}), deliver=False)
    assert requested(ws) == ["S2"]  # the one chat ticket (BOT is chat too, but bot-solved)
    assert r.skipped["where"] == 4  # S1, S3, S4, S7 (M1, S6, D1 excluded first; S5 not solved)
    r = run(ws, now=NOW, config=SurveysConfig.from_dict({"surveys": [
        {"name": "billing", "kind": "csat", "delay": "1h", "where": {"team": ["billing"]}}]}), deliver=False)
    # a new definition is first seen now: S7 was solved days before, so it is not flooded...
    assert r.planned == 0 and r.skipped.get("before_start") == 1
    ws.con.execute("UPDATE survey_rule_starts SET started_at = ? WHERE survey = 'billing'", [FIRST_SIGHT])
    billing = SurveysConfig.from_dict({"throttle": "0s", "surveys": [
        {"name": "billing", "kind": "csat", "delay": "1h", "where": {"team": ["billing"]}}]})
    r = run(ws, now=NOW, config=billing, deliver=False)
    # ...and, seen since 1 Mar, it takes S7, the one ticket of team 'Billing'
    assert r.send_ids == [send_id("billing", SOURCE, "ticket", "S7")] and r.skipped["where"] == 4


def test_switching_surveys_on_does_not_survey_old_tickets(ws, tmp_path: Path) -> None:
    c = cfg()
    r = run(ws, now=NOW, config=c, deliver=False)  # first sight: 6 Mar 12:00
    assert r.planned == 0 and r.skipped["before_start"] == 5  # S1 S2 S3 S4 S7 solved before 11:00
    add_csv(ws, "tickets", """ticket_id,created_at,channel,status,requester_id,solved_at
N1,2026-03-06T10:00:00Z,email,solved,new1@example.com,2026-03-06T11:30:00Z
N2,2026-03-06T10:00:00Z,email,solved,new2@example.com,2026-03-06T10:59:00Z
""", tmp_path)
    r = run(ws, now=NOW + timedelta(hours=1), config=c, deliver=False)
    # N1 was solved after first sight minus one delay (11:00): surveyed at 12:30; N2 at 10:59 is not
    assert requested(ws) == ["N1"] and r.skipped["before_start"] == 6


def test_the_servers_runs_read_only_the_tickets_solved_since_the_start(ws, tmp_path: Path) -> None:
    from cxmetrics.surveys import _rules

    c = cfg()
    run(ws, now=datetime(2026, 3, 6, 10, tzinfo=UTC), config=c, deliver=False, skips=False)  # first sight
    add_csv(ws, "tickets", """ticket_id,created_at,channel,status,requester_id,solved_at
N1,2026-03-06T10:00:00Z,email,solved,new1@example.com,2026-03-06T11:30:00Z
N2,2026-03-06T08:00:00Z,email,solved,new2@example.com,2026-03-06T08:59:00Z
N3,2026-03-06T10:00:00Z,email,solved,new3@example.com,2026-03-06T12:30:00Z
""", tmp_path)
    # at 13:00: N1 due (11:30 + 1 h), N3 waiting (until 13:30); N2 before the start minus a delay (9:00),
    # as are the fixture's S1 S2 S3 S4 S7; all the server's run reads are N1 and N3, whose skips it counts
    full = _rules.plan(ws.con, c, datetime(2026, 3, 6, 13, tzinfo=UTC))
    recent = _rules.plan(ws.con, c, datetime(2026, 3, 6, 13, tzinfo=UTC), skips=False)
    assert [r["ticket_id"] for r in recent.due] == [r["ticket_id"] for r in full.due] == ["N1"]
    assert recent.waiting == full.waiting == 1 and recent.next_due == full.next_due == datetime(2026, 3, 6, 13, 30,
                                                                                                    tzinfo=UTC)
    assert full.skipped["before_start"] == 6 and "before_start" not in recent.skipped and not recent.skipped
    r = run(ws, now=datetime(2026, 3, 6, 13, 30, tzinfo=UTC), config=c, deliver=False, skips=False)
    assert requested(ws) == ["N1", "N3"] and r.planned == 2  # (plan() above wrote nothing)


def test_relationship_survey_goes_once_per_cycle_to_the_segment(ws) -> None:
    c = SurveysConfig.from_dict({"surveys": [{"name": "nps", "kind": "nps", "trigger": "relationship",
                                             "every": "30d", "segment": {"tier": ["PRO"]}}]})
    nps = c.survey("nps")
    r = run(ws, now=NOW, config=c, deliver=False)
    got = ws.con.execute("SELECT customer_id, address, language, ticket_id FROM survey_requests "
                         "ORDER BY customer_id").fetchall()
    assert got == [("C2", "bob@example.com", "en", None), ("C5", "dan@example.com", "fr", None)]  # tier pro
    cycle = int(NOW.timestamp() // (30 * 86400))
    assert cycle_of(nps, NOW) == cycle
    assert sorted(r.send_ids) == sorted(send_id("nps", SOURCE, "customer", c_, cycle) for c_ in ("C2", "C5"))
    assert run(ws, now=NOW + timedelta(days=1), config=c, deliver=False).planned == 0  # same cycle
    next_cycle = datetime.fromtimestamp((cycle + 1) * 30 * 86400, UTC)
    r = run(ws, now=next_cycle + timedelta(days=8), config=c, deliver=False)  # past the 7-day throttle too
    assert r.planned == 2
    assert sorted(r.send_ids) == sorted(send_id("nps", SOURCE, "customer", c_, cycle + 1) for c_ in ("C2", "C5"))


def test_embed_sends_exist_at_the_solve_without_an_email(ws) -> None:
    c = cfg(trigger="embed")
    run(ws, now=FIRST_SIGHT, config=c, deliver=False)
    r = run(ws, now=NOW, config=c)
    # no address needed (the help desk mailed it), no throttle (it went anyway): S1 S2 S3 S4 S7
    rows = ws.con.execute("SELECT ticket_id, sent_at, delivery, \"trigger\", delay_s FROM survey_sends "
                          "ORDER BY ticket_id").fetchall()
    assert [x[0] for x in rows] == ["S1", "S2", "S3", "S4", "S7"]
    assert rows[0][1:] == (datetime(2026, 3, 2, 15, tzinfo=UTC), "embed", "embed", 0.0)  # sent at the solve
    assert ws.con.execute("SELECT count(*) FROM survey_deliveries").fetchall()[0][0] == 0
    assert r.wrote == ["survey_sends"]


def test_a_definition_switched_off_and_on_again_does_not_survey_what_was_solved_meanwhile(ws) -> None:
    run(ws, now=FIRST_SIGHT, config=cfg(), deliver=False)
    off = cfg(enabled=False)
    run(ws, now=datetime(2026, 3, 2, tzinfo=UTC), config=off, deliver=False)  # off before any solve
    r = run(ws, now=NOW, config=cfg(), deliver=False)  # on again at NOW: every solve was before
    assert r.planned == 0 and r.skipped["before_start"] == 5
