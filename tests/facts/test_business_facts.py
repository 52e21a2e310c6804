"""Business-time twins of the facts (facts/_business.py): hand-worked tickets under a
Mon-Fri 09:00-17:00 Europe/Berlin schedule, a team rule giving another schedule, and
properties: without schedules every twin equals its calendar duration; a business
duration never exceeds the calendar one; incremental and full refreshes agree; new
schedules recompute every ticket.

Times in the events are UTC (`7/15:00` is 2025-03-07T15:00Z). In March 2025 Berlin is
UTC+1 until the 30th (so 09:00-17:00 local is 08:00-16:00 UTC); New York is UTC-5 until
Sunday 9 March and UTC-4 (EDT) from then. 3 March 2025 is a Monday.
"""

from __future__ import annotations

import random

import pytest
from _facts_scenario import facts, import_events, intervals
from pytest import approx
from test_refresh import synthetic

import cxmetrics
from cxmetrics.calendar import SCHEDULES_FILE
from cxmetrics.facts import (
    BUSINESS_FACT_COLUMNS,
    BUSINESS_TWINS,
    REPLY_INTERVAL_BH_COLUMNS,
    last_business_refresh,
    refresh_facts,
)

BERLIN = """
[schedules.default]
timezone = "Europe/Berlin"
hours = { mon-fri = ["09:00-17:00"] }
holidays = ["2025-03-12"]

[schedules.us]
timezone = "America/New_York"
hours = { mon-fri = ["09:00-17:00"] }

[[schedule_rules]]
schedule = "us"
when = { team = ["Tier 2"] }
"""

EVENTS = """
    A1,T1,7/15:00,created,customer,C1,,new,C1,billing,Tier 1,,,email,
    A2,T1,10/09:00,message,agent,A1,,,,,,,,,
    A3,T1,10/15:30,message,customer,C1,,,,,,,,,
    A4,T1,11/08:30,message,agent,A1,,,,,,,,,
    B1,T2,6/09:00,created,customer,C2,,new,C2,login,Tier 1,,,email,
    B2,T2,6/10:00,message,agent,A1,,,,,,,,,
    B3,T2,6/10:00,status,agent,A1,,pending,,,,,,,
    B4,T2,10/08:00,status,customer,C2,,open,,,,,,,
    B5,T2,10/09:00,status,agent,A1,,solved,,,,,,,
    C1,T3,3/15:00,created,customer,C3,,new,C3,bug,Tier 1,,,email,
    C2,T3,3/15:30,message,agent,A1,,,,,,,,,
    C3,T3,3/15:30,status,agent,A1,,solved,,,,,,,
    C4,T3,4/07:00,status,customer,C3,,open,,,,,,,
    C5,T3,4/09:00,status,agent,A1,,solved,,,,,,,
    D1,T4,11/15:00,created,customer,C4,,new,C4,billing,Tier 1,,,email,
    D2,T4,13/09:00,message,agent,A1,,,,,,,,,
    E1,T5,10/12:00,created,customer,C5,,new,C5,billing,Tier 1,,,email,
    E2,T5,10/12:10,assign,system,,,,,,Tier 2,A2,,,
    E3,T5,10/14:00,message,agent,A2,,,,,,,,,
    F1,T6,7/15:00,created,customer,C6,,new,C6,bug,Tier 1,,,email,
    F2,T6,7/15:30,status,agent,A1,,on-hold,,,,,,,
    F3,T6,10/08:30,status,agent,A1,,open,,,,,,,
    F4,T6,10/09:00,status,agent,A1,,solved,,,,,,,
    G1,T7,7/15:50,created,customer,C7,,new,C7,login,Tier 1,,,chat,
    G2,T7,7/15:51,message,bot,B1,,,,,,,,,
    G3,T7,7/15:55,handoff,bot,B1,,,,,,,,,
    G4,T7,10/08:05,message,agent,A1,,,,,,,,,
"""
TWINS = list(BUSINESS_TWINS.items())


def bh(ws: cxmetrics.Workspace, ticket_id: str) -> dict:
    found = ws.sql("SELECT * FROM ticket_facts_bh WHERE ticket_id = ?", [ticket_id]).to_pylist()
    assert len(found) == 1, (ticket_id, found)
    return found[0]


def bh_intervals(ws: cxmetrics.Workspace, ticket_id: str) -> list[tuple[int, float]]:
    return [(r["seq"], r["seconds_bh"]) for r in ws.sql(
        "SELECT seq, seconds_bh FROM reply_intervals_bh WHERE ticket_id = ? ORDER BY seq", [ticket_id]).to_pylist()]


def snapshot_bh(ws: cxmetrics.Workspace) -> tuple[list[tuple], list[tuple]]:
    f = ws.sql("SELECT * FROM ticket_facts_bh ORDER BY source, ticket_id").to_pylist()
    r = ws.sql("SELECT * FROM reply_intervals_bh ORDER BY source, ticket_id, seq").to_pylist()
    return [tuple(x.values()) for x in f], [tuple(x.values()) for x in r]


@pytest.fixture
def berlin(ws, tmp_path):
    (ws.path / SCHEDULES_FILE).write_text(BERLIN, encoding="utf-8")
    import_events(ws, tmp_path / "events.csv", EVENTS)
    assert refresh_facts(ws.con) == 7
    return ws


def test_the_tables_have_the_declared_columns(ws):
    def columns(table: str) -> list[str]:
        return [r[0] for r in ws.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
        ).fetchall()]

    assert columns("ticket_facts_bh") == [c.name for c in BUSINESS_FACT_COLUMNS]
    assert columns("reply_intervals_bh") == [c.name for c in REPLY_INTERVAL_BH_COLUMNS]


def test_friday_afternoon_to_monday_morning_and_an_overnight_next_reply(berlin):
    # T1: created Fri 16:00 CET, answered Mon 10:00 CET: 66 h of calendar time, of which
    # business hours Fri 16-17 and Mon 09-10: 2 h
    assert facts(berlin, "T1")["frt_s"] == 66 * 3600
    t1 = bh(berlin, "T1")
    assert (t1["schedule"], t1["frt_bh_s"], t1["frt_first_touch_bh_s"]) == ("default", 7200.0, 7200.0)
    # not solved: resolution and time in status are NULL, as their calendar twins
    assert [t1[c] for c in ("first_resolution_bh_s", "full_resolution_bh_s", "requester_wait_bh_s",
                            "agent_wait_bh_s", "frt_after_handoff_bh_s")] == [None] * 5
    # reply 2: the customer writes Mon 16:30 CET, the agent answers Tue 09:30 CET: 17 h of
    # calendar, 30 min on Monday + 30 min on Tuesday of business time
    assert intervals(berlin, "T1") == [(1, 237600.0), (2, 61200.0)]
    assert bh_intervals(berlin, "T1") == [(1, 7200.0), (2, 3600.0)]


def test_pending_over_a_weekend(berlin):
    # T2: created Thu 10:00 CET, replied and pending at 11:00, open again Mon 09:00 CET,
    # solved Mon 10:00 CET
    f, b = facts(berlin, "T2"), bh(berlin, "T2")
    # pending Thu 11:00 -> Mon 09:00: 94 h of calendar; business Thu 11-17 (6 h) + Fri (8 h)
    assert (f["agent_wait_s"], b["agent_wait_bh_s"]) == (94 * 3600, 14 * 3600)
    # waiting on the company: new Thu 10-11 and open Mon 09-10, all in business hours
    assert (f["requester_wait_s"], b["requester_wait_bh_s"]) == (7200, 7200)
    assert (b["agent_work_bh_s"], b["on_hold_bh_s"], b["frt_bh_s"]) == (7200, 0, 3600)
    # creation -> solve: Thu 10-17 (7 h) + Fri (8 h) + Mon 09-10 (1 h) = 16 h = wait + work
    assert (f["full_resolution_s"], b["full_resolution_bh_s"], b["first_resolution_bh_s"]) == (
        96 * 3600, 16 * 3600, 16 * 3600)
    assert b["requester_wait_bh_s"] + b["agent_wait_bh_s"] == b["full_resolution_bh_s"]


def test_a_reopen_resolves_at_the_latest_solve(berlin):
    # T3: created Mon 3 Mar 16:00 CET, solved 16:30; reopened Tue 08:00 CET (before
    # hours), solved again Tue 10:00 CET
    f, b = facts(berlin, "T3"), bh(berlin, "T3")
    assert f["reopens"] == 1
    assert (f["first_resolution_s"], b["first_resolution_bh_s"]) == (1800, 1800)
    # to the latest solve: 18 h of calendar; Mon 16-17 + Tue 09-10 of business time
    assert (f["full_resolution_s"], b["full_resolution_bh_s"]) == (18 * 3600, 7200)
    # new 16:00-16:30 (30 min) + open Tue 08:00-10:00 (of which 09-10 in hours); the
    # solved night between counts for nothing
    assert (f["requester_wait_s"], b["requester_wait_bh_s"], b["agent_work_bh_s"]) == (9000, 5400, 5400)
    assert b["agent_wait_bh_s"] == 0


def test_a_holiday_in_between(berlin):
    # T4: created Tue 11 Mar 16:00 CET, answered Thu 13 Mar 10:00 CET; Wed 12 is a holiday:
    # 42 h of calendar, Tue 16-17 + Thu 09-10 of business time
    assert (facts(berlin, "T4")["frt_s"], bh(berlin, "T4")["frt_bh_s"]) == (42 * 3600, 7200)


def test_a_team_rule_gives_another_schedule_by_the_current_team(berlin):
    # T5 is created in Tier 1 and assigned to Tier 2, whose schedule is New York's
    # Mon-Fri 09:00-17:00: created Mon 10 Mar 12:00Z = 08:00 EDT, answered 14:00Z = 10:00
    # EDT: one business hour (under Berlin's it would have been 13:00-15:00: two)
    b = bh(berlin, "T5")
    assert (facts(berlin, "T5")["frt_s"], b["schedule"], b["frt_bh_s"]) == (7200, "us", 3600)


def test_on_hold_over_a_weekend(berlin):
    # T6: created Fri 16:00 CET, on-hold 16:30 until Mon 09:30 CET, open, solved Mon 10:00
    f, b = facts(berlin, "T6"), bh(berlin, "T6")
    # on-hold: 65 h of calendar; Fri 16:30-17:00 + Mon 09:00-09:30 of business time
    assert (f["on_hold_s"], b["on_hold_bh_s"]) == (65 * 3600, 3600)
    # requester wait = new (30 min) + on-hold (1 h) + open (30 min); agent work = new + open
    assert (b["requester_wait_bh_s"], b["agent_work_bh_s"], b["full_resolution_bh_s"]) == (7200, 3600, 7200)
    assert (f["frt_s"], b["frt_bh_s"]) == (None, None)  # no human reply


def test_frt_after_a_bot_hand_off(berlin):
    # T7: a chat created Fri 16:50 CET, the bot answers at 16:51 and hands off at 16:55;
    # an agent replies Mon 09:05 CET
    f, b = facts(berlin, "T7"), bh(berlin, "T7")
    # hand-off -> reply: 64 h 10 min of calendar; 5 min Friday + 5 min Monday of business
    assert (f["frt_after_handoff_s"], b["frt_after_handoff_bh_s"]) == (231000, 600)
    # creation -> human reply: 10 min Friday + 5 min Monday; first touch: the bot, 60 s
    assert (b["frt_bh_s"], b["frt_first_touch_bh_s"]) == (900, 60)


def test_without_schedules_every_twin_equals_its_calendar_duration(ws, tmp_path):
    import_events(ws, tmp_path / "e.csv", "\n".join(synthetic(random.Random(3), tickets=60)))
    refresh_facts(ws.con)
    assert _twins_differ(ws) == []


def test_a_schedule_open_around_the_clock_looks_up_the_calendar_and_agrees(ws, tmp_path):
    # a holiday far after the data makes the schedule not "24/7" as a whole, so business
    # time is looked up in the calendar; over the data it is still every second
    (ws.path / SCHEDULES_FILE).write_text('[schedules.default]\ntimezone = "Europe/Berlin"\nhours = "24/7"\n'
                                          'holidays = ["2090-01-01"]\n', encoding="utf-8")
    import_events(ws, tmp_path / "e.csv", "\n".join(synthetic(random.Random(4), tickets=60)))
    refresh_facts(ws.con)
    assert ws.sql("SELECT count(*) AS n FROM business_calendar").to_pylist()[0]["n"] > 0
    assert _twins_differ(ws, tolerance=1e-6) == []


def _twins_differ(ws: cxmetrics.Workspace, tolerance: float = 0.0) -> list[tuple]:
    """(ticket, column, calendar, business) of every twin that differs from its calendar value."""
    cols = ", ".join(f"f.{c}, b.{t}" for c, t in TWINS)
    rows = ws.sql(f"SELECT f.ticket_id, {cols} FROM ticket_facts f JOIN ticket_facts_bh b USING (source, ticket_id)"
                  ).to_pylist()
    assert len(rows) == ws.sql("SELECT count(*) AS n FROM ticket_facts").to_pylist()[0]["n"]
    out = []
    for r in rows:
        for c, t in TWINS:
            a, b = r[c], r[t]
            if (a is None) != (b is None) or (a is not None and abs(a - b) > tolerance):
                out.append((r["ticket_id"], c, a, b))
    replies = ws.sql("""
        SELECT r.ticket_id, r.seq, r.seconds, b.seconds_bh FROM reply_intervals r
        FULL JOIN reply_intervals_bh b USING (source, ticket_id, seq)
    """).to_pylist()
    assert any(r["seq"] > 1 for r in replies)
    out += [(r["ticket_id"], r["seq"], r["seconds"], r["seconds_bh"]) for r in replies
            if r["seconds"] is None or r["seconds_bh"] is None or abs(r["seconds"] - r["seconds_bh"]) > tolerance]
    assert any(r[c] is not None for r in rows for c in ("requester_wait_s", "frt_after_handoff_s"))
    return out


def test_business_time_never_exceeds_calendar_time_and_statuses_add_up(ws, tmp_path):
    (ws.path / SCHEDULES_FILE).write_text(BERLIN, encoding="utf-8")
    import_events(ws, tmp_path / "e.csv", "\n".join(synthetic(random.Random(5), tickets=150)))
    refresh_facts(ws.con)
    over = [(r["ticket_id"], c) for r in ws.sql(
        "SELECT * FROM ticket_facts f JOIN ticket_facts_bh b USING (source, ticket_id)").to_pylist()
        for c, t in TWINS if r[c] is not None and not -1e-6 <= r[t] <= r[c] + 1e-6]
    assert over == []
    # without reopens, every business second from creation to the solve is waiting on the
    # company or on the customer (as in calendar time)
    checked = ws.sql("""
        SELECT count(*) AS n,
               count(*) FILTER (WHERE abs(requester_wait_bh_s + agent_wait_bh_s - full_resolution_bh_s) > 1e-6) AS off
        FROM ticket_facts f JOIN ticket_facts_bh b USING (source, ticket_id)
        WHERE last_solved_at IS NOT NULL AND reopens = 0
    """).to_pylist()[0]
    assert checked["n"] > 10 and checked["off"] == 0, checked
    # and the synthetic days (1-19 March 2025) include weekends: some time was not business time
    assert ws.sql("SELECT count(*) AS n FROM ticket_facts_bh WHERE full_resolution_bh_s = 0 "
                  ).to_pylist()[0]["n"] > 0


def test_spans_agree_with_the_schedules_own_reckoning(ws, tmp_path):
    # every span's twin against Schedule.business_seconds (the calendar package's scalar
    # Python path, not the engine's lookups), under the schedule the rules give each ticket;
    # and requester wait = agent work + on-hold (new + open + on-hold), in business time too
    from cxmetrics.calendar import DIMENSIONS, ScheduleSet

    ss = ScheduleSet.from_toml(BERLIN)
    (ws.path / SCHEDULES_FILE).write_text(BERLIN, encoding="utf-8")
    import_events(ws, tmp_path / "e.csv", "\n".join(synthetic(random.Random(6), tickets=80)))
    refresh_facts(ws.con)
    spans = {"frt_bh_s": ("created_at", "first_reply_at"), "first_resolution_bh_s": ("created_at", "first_solved_at"),
             "frt_first_touch_bh_s": ("created_at", "first_touch_at")}
    rows = ws.sql("SELECT * FROM ticket_facts f JOIN ticket_facts_bh b USING (source, ticket_id)").to_pylist()
    checked, wrong = 0, []
    for r in rows:
        schedule = ss.schedule_for(**{d: r[d] for d in DIMENSIONS})
        assert r["schedule"] == schedule.name
        for twin, (a, b) in spans.items():
            if r[twin] is not None:
                checked += 1
                if r[twin] != approx(schedule.business_seconds(r[a], r[b]), abs=1e-6):
                    wrong.append((r["ticket_id"], twin))
        if r["requester_wait_bh_s"] is not None:
            assert r["requester_wait_bh_s"] == approx(r["agent_work_bh_s"] + r["on_hold_bh_s"], abs=1e-6)
    replies = ws.sql("SELECT r.*, b.seconds_bh, f.team FROM reply_intervals r JOIN reply_intervals_bh b "
                     "USING (source, ticket_id, seq) JOIN ticket_facts f USING (source, ticket_id)").to_pylist()
    for r in replies:
        expected = ss.schedule_for(team=r["team"]).business_seconds(r["started_at"], r["replied_at"])
        checked += 1
        if r["seconds_bh"] != approx(expected, abs=1e-6):
            wrong.append((r["ticket_id"], r["seq"]))
    assert checked > 100 and wrong == []
    assert {r["schedule"] for r in rows} == {"default", "us"}


def test_full_and_incremental_refreshes_agree(ws, tmp_path, caplog):
    (ws.path / SCHEDULES_FILE).write_text(BERLIN, encoding="utf-8")
    rng = random.Random(8)
    lines = synthetic(rng, tickets=60)
    rng.shuffle(lines)
    for i in range(0, len(lines), 60):
        import_events(ws, tmp_path / f"part{i}.csv", "\n".join(lines[i:i + 60]))
        refresh_facts(ws.con)
        assert not last_business_refresh(ws.con).recomputed_all or i == 0
    incremental = snapshot_bh(ws)
    # the incremental passes looked every timestamp up in their slice of the calendar
    assert not [r for r in caplog.records if "business-time lookup" in r.getMessage()]
    assert refresh_facts(ws.con, full=True) == 60
    assert snapshot_bh(ws) == incremental
    state = last_business_refresh(ws.con)
    assert (state.tickets, state.changed, state.recomputed_all) == (60, 0, True)


# rules on the dimensions of a ticket's own row, and no rule: the facts' status pass sums the
# business time in status itself (BusinessPlan.folded); a rule on team (BERLIN) cannot
BERLIN_BY_ROW = BERLIN.replace('when = { team = ["Tier 2"] }',
                               'when = { channel = ["phone"], topic = ["bug", "login"] }')
BERLIN_NO_RULE = BERLIN[:BERLIN.index("[[schedule_rules]]")]


@pytest.mark.parametrize("schedules", [BERLIN_BY_ROW, BERLIN_NO_RULE], ids=["row-rule", "no-rule"])
def test_the_status_pass_sums_business_time_in_status_as_a_pass_of_their_own_would(ws, tmp_path, monkeypatch,
                                                                                     schedules):
    from dataclasses import replace

    from cxmetrics.facts import _business

    (ws.path / SCHEDULES_FILE).write_text(schedules, encoding="utf-8")
    rng = random.Random(11)
    lines = synthetic(rng, tickets=300)
    rng.shuffle(lines)
    plan = _business.plan

    def no_pass_of_their_own(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the status pass was to sum the business time in status")

    # folded: every refresh (the first full, the next incremental) without status_sums
    with monkeypatch.context() as m:
        m.setattr(_business, "status_sums", no_pass_of_their_own)
        for i in range(0, len(lines), len(lines) // 3 + 1):
            import_events(ws, tmp_path / f"part{i}.csv", "\n".join(lines[i:i + len(lines) // 3 + 1]))
            refresh_facts(ws.con)
    folded = snapshot_bh(ws)
    # the same tickets with a pass of their own (as under a rule on team): the same twins
    monkeypatch.setattr(_business, "plan", lambda *a, **k: replace(plan(*a, **k), folded=False))
    assert refresh_facts(ws.con, full=True) == 300
    state = last_business_refresh(ws.con)
    assert (state.tickets, state.changed, state.recomputed_all) == (300, 0, True)
    assert snapshot_bh(ws) == folded
    # (and the time in status is not trivially the calendar's: weekends and nights are out)
    counts = ws.sql("""
        SELECT count(*) FILTER (WHERE b.requester_wait_bh_s > 0) AS some,
               count(*) FILTER (WHERE b.requester_wait_bh_s < f.requester_wait_s - 1) AS less,
               count(*) FILTER (WHERE b.agent_wait_bh_s > 0 OR b.on_hold_bh_s > 0) AS other
        FROM ticket_facts f JOIN ticket_facts_bh b USING (source, ticket_id)""").to_pylist()[0]
    assert counts["some"] > 20 and counts["less"] > 20 and counts["other"] > 0, counts


def test_the_status_pass_folds_business_time_only_under_rules_on_a_tickets_own_row(ws, tmp_path):
    from cxmetrics.calendar import ScheduleSet
    from cxmetrics.facts import _business

    import_events(ws, tmp_path / "events.csv", EVENTS)

    def folded(toml: str) -> bool:
        return _business.plan(ws.con, ScheduleSet.from_toml(toml), scoped=False).folded

    assert folded(BERLIN_BY_ROW) and folded(BERLIN_NO_RULE)
    assert not folded(BERLIN)  # team follows the assign events
    assert not folded(BERLIN.replace("team =", "priority ="))  # as priority the priority events
    # 24/7: no calendar, the twins are copies
    assert _business.plan(ws.con, ScheduleSet.all_hours(), scoped=False).copies


def test_new_schedules_recompute_every_ticket_on_the_next_refresh(berlin, tmp_path):
    ws = berlin
    before = snapshot_bh(ws)
    assert refresh_facts(ws.con) == 0  # nothing changed: nothing done
    # Tier 2 now works Berlin's hours too: only T5's twins change
    (ws.path / SCHEDULES_FILE).write_text(BERLIN.replace('schedule = "us"', 'schedule = "default"'), encoding="utf-8")
    assert refresh_facts(ws.con) == 7
    state = last_business_refresh(ws.con)
    assert (state.tickets, state.changed, state.recomputed_all) == (7, 1, True)
    # 13:00 -> 15:00 CET, all in business hours
    assert (bh(ws, "T5")["schedule"], bh(ws, "T5")["frt_bh_s"]) == ("default", 7200)
    # no schedules at all: business time is calendar time; every ticket changes but T5,
    # whose two hours (13:00-15:00 CET) were business hours already
    (ws.path / SCHEDULES_FILE).unlink()
    refresh_facts(ws.con)
    assert last_business_refresh(ws.con).changed == 6
    assert bh(ws, "T1")["frt_bh_s"] == 66 * 3600
    # and back: the same twins as at first
    (ws.path / SCHEDULES_FILE).write_text(BERLIN, encoding="utf-8")
    refresh_facts(ws.con)
    assert snapshot_bh(ws) == before


def test_schedules_passed_in_win_over_the_file(ws, tmp_path):
    from cxmetrics.calendar import ScheduleSet

    import_events(ws, tmp_path / "events.csv", EVENTS)
    refresh_facts(ws.con, schedules=ScheduleSet.from_toml(BERLIN))
    assert bh(ws, "T1")["frt_bh_s"] == approx(7200)
    refresh_facts(ws.con)  # no file: 24/7
    assert bh(ws, "T1")["frt_bh_s"] == 66 * 3600


def test_an_incremental_refresh_recomputes_the_touched_tickets_only(berlin, tmp_path):
    ws = berlin
    t3 = bh(ws, "T3")
    # T1 is solved Tue 11 Mar 10:00 CET: Fri 16-17 + Mon (8 h) + Tue 09-10 = 10 h
    import_events(ws, tmp_path / "more.csv", "A5,T1,11/09:00,status,agent,A1,,solved,,,,,,,")
    assert refresh_facts(ws.con) == 1
    state = last_business_refresh(ws.con)
    assert (state.tickets, state.changed, state.recomputed_all) == (1, 1, False)
    assert bh(ws, "T1")["full_resolution_bh_s"] == 10 * 3600
    assert bh(ws, "T3") == t3
