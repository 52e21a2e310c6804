"""Flat tickets: facts from the events their timestamps imply, and the counts their
source reported; an event stream for the same ticket takes over from the implied one."""

from __future__ import annotations

from _facts_scenario import facts, import_events, import_tickets, intervals

from cxmetrics.facts import refresh_facts

FLAT = """
ticket_id,created_at,channel,status,requester_id,assignee_id,team,topic,created_by,first_reply_at,solved_at,reopens,replies,handle_seconds
F1,3/08:00,email,solved,C1,A1,Tier 1,billing,customer,3/09:30,4/08:00,1,3,600
F2,3/08:00,email,open,C2,,,login,,,,,,
F3,3/08:00,email,closed,C3,A1,Tier 1,login,,3/08:20,3/09:00,,,
"""


def implied(ws, ticket_id: str) -> int:
    """How many events the import implied for a flat ticket."""
    return ws.sql("SELECT count(*) AS n FROM events WHERE origin = 'tickets' AND ticket_id = ?", [ticket_id]).to_pylist()[0]["n"]


def test_a_flat_ticket_uses_its_reported_replies_reopens_and_handle_time(ws, tmp_path):
    import_tickets(ws, tmp_path / "t.csv", FLAT)
    assert refresh_facts(ws.con) == 3
    # F1: frt 09:30 - 08:00 = 5400; solved a day later = 86400, all of it in new (the
    # implied events know no other status); the source counted 3 replies and 1 reopen
    f = facts(ws, "F1")
    assert (f["frt_s"], f["full_resolution_s"], f["first_resolution_s"], f["requester_wait_s"]) == (
        5400.0, 86400.0, 86400.0, 86400.0)
    assert (f["public_agent_replies"], f["reopens"], f["multi_touch"], f["fcr"], f["handle_s"]) == (3, 1, True, False, 600.0)
    assert (f["status"], f["resolver_id"], f["team"]) == ("solved", "A1", "Tier 1")
    assert f["n_events"] == implied(ws, "F1")
    assert intervals(ws, "F1") == [(1, 5400.0)]
    # F2: nothing happened yet
    g = facts(ws, "F2")
    assert (g["unanswered"], g["status"], g["created_by"], g["public_agent_replies"], g["reopens"]) == (
        True, "open", "customer", 0, 0)
    # F3: no counts reported: one reply (the implied first reply), never reopened;
    # its row says closed, newer than the implied solve
    h = facts(ws, "F3")
    assert (h["public_agent_replies"], h["reopens"], h["one_touch"], h["fcr"], h["status"], h["solved"]) == (
        1, 0, True, True, "closed", True)


def test_a_flat_ticket_reopened_after_its_solve_keeps_its_rows_status(ws, tmp_path):
    import_tickets(ws, tmp_path / "t.csv", """
ticket_id,created_at,status,first_reply_at,solved_at,reopens
F1,3/08:00,open,3/09:00,3/10:00,1
""")
    refresh_facts(ws.con)
    f = facts(ws, "F1")
    assert (f["status"], f["solved"], f["reopens"], f["first_resolution_s"], f["fcr"]) == ("open", False, 1, 7200.0, None)


def test_events_for_a_flat_ticket_replace_its_implied_events(ws, tmp_path):
    import_tickets(ws, tmp_path / "t.csv", FLAT)
    refresh_facts(ws.con)
    # the event stream of F1 says: first reply 08:10, solved 09:00, two replies
    import_events(ws, tmp_path / "e.csv", """
        E1,F1,3/08:00,created,customer,C1,,new,C1,billing,,,,,
        E2,F1,3/08:10,message,agent,A2,,,,,,,,,
        E3,F1,3/08:30,message,customer,C1,,,,,,,,,
        E4,F1,3/08:40,message,agent,A2,,,,,,,,,
        E5,F1,3/09:00,status,agent,A2,,solved,,,,,,,
    """)
    assert refresh_facts(ws.con) == 1
    f = facts(ws, "F1")
    # the counts come from the events now, not from what the flat source reported
    assert (f["frt_s"], f["full_resolution_s"], f["public_agent_replies"], f["reopens"]) == (600.0, 3600.0, 2, 0)
    assert (f["resolver_id"], f["n_events"], f["_event_rows"], f["fcr"]) == ("A2", 5, 5 + implied(ws, "F1"), False)
    assert intervals(ws, "F1") == [(1, 600.0), (2, 600.0)]
