"""Bots, hand-offs and routing, worked by hand (METRICS.md: bot_resolution_rate,
bot_handoff_rate, frt_after_handoff, escalation_rate)."""

from __future__ import annotations

from _facts_scenario import facts, import_events, intervals, load

from cxmetrics.facts import refresh_facts


def test_a_chat_the_bot_solved_alone_is_bot_contained(ws, tmp_path):
    # bot answers twice, the bot solves it: no hand-off, no human reply, no reopen
    load(ws, tmp_path, """
        E1,T1,3/08:00:00,created,customer,C1,,new,C1,billing,,,,chat,
        E2,T1,3/08:00:05,message,bot,B1,,,,,,,,,
        E3,T1,3/08:01:00,message,customer,C1,,,,,,,,,
        E4,T1,3/08:02:00,message,bot,B1,,,,,,,,,
        E5,T1,3/08:05:00,status,bot,B1,,solved,,,,,,,
    """)
    f = facts(ws, "T1")
    assert (f["bot_involved"], f["handed_off"], f["bot_contained"]) == (True, False, True)
    assert (f["resolved_by_type"], f["resolver_id"], f["solved"]) == ("bot", "B1", True)
    assert (f["frt_s"], f["frt_first_touch_s"], f["public_agent_replies"]) == (None, 5.0, 0)
    # no human ever replied: unanswered as METRICS.md counts it (the metric layer may
    # narrow it to unsolved tickets); not fcr-relevant replies either
    assert (f["unanswered"], f["fcr"], f["full_resolution_s"]) == (True, True, 300.0)
    assert intervals(ws, "T1") == []


def test_a_handoff_restarts_the_reply_clock_and_escalates(ws, tmp_path):
    # created on Tier 1; the bot hands off at 08:01; routed to Tier 2 / A7 at 08:02; the
    # first human reply at 08:05 is 240 s after the hand-off (frt 300 from creation);
    # reassigned to A8 at 08:10 (one assignee change after the first assignment)
    load(ws, tmp_path, """
        E1,T1,3/08:00:00,created,customer,C1,,new,C1,billing,Tier 1,,,chat,
        E2,T1,3/08:00:05,message,bot,B1,,,,,,,,,
        E3,T1,3/08:01:00,handoff,bot,B1,,,,,,,,,
        E4,T1,3/08:02:00,assign,system,,,,,,Tier 2,A7,,,
        E5,T1,3/08:05:00,message,agent,A7,,,,,,,,,
        E6,T1,3/08:10:00,assign,system,,,,,,,A8,,,
        E7,T1,3/09:00:00,status,agent,A8,,solved,,,,,,,
    """)
    f = facts(ws, "T1")
    assert (f["handed_off"], f["bot_contained"], f["frt_after_handoff_s"], f["frt_s"]) == (True, False, 240.0, 300.0)
    assert (f["team"], f["assignee_id"], f["team_changes"], f["assignee_changes"], f["escalated"]) == (
        "Tier 2", "A8", 1, 1, True)
    assert (f["resolved_by_type"], f["resolver_id"]) == ("human", "A8")


def test_a_handoff_without_a_human_reply_is_not_contained(ws, tmp_path):
    load(ws, tmp_path, """
        E1,T1,3/08:00:00,created,customer,C1,,new,C1,billing,,,,chat,
        E2,T1,3/08:00:05,message,bot,B1,,,,,,,,,
        E3,T1,3/08:01:00,handoff,bot,B1,,,,,,,,,
        E4,T1,3/08:30:00,status,customer,C1,,solved,,,,,,,
    """)
    f = facts(ws, "T1")
    assert (f["handed_off"], f["bot_contained"], f["frt_after_handoff_s"], f["resolved_by_type"]) == (
        True, False, None, "human")


def test_current_priority_and_routing_come_from_the_last_events(ws, tmp_path):
    import_events(ws, tmp_path / "p.csv", """
        E1,T1,3/08:00,created,customer,low,Tier 1,
        E2,T1,3/09:00,priority,agent,urgent,,
        E3,T1,3/09:30,assign,system,,,A1
        E4,T1,3/09:40,assign,system,,Tier 1,
    """, header="event_id,ticket_id,ts,kind,actor_type,priority,team,assignee_id")
    refresh_facts(ws.con)
    # E4 names the team it already had: no change; A1 is the first assignee: no change
    f = facts(ws, "T1")
    assert (f["priority"], f["team"], f["assignee_id"], f["team_changes"], f["assignee_changes"]) == (
        "urgent", "Tier 1", "A1", 0, 0)
