"""Agent-created (proactive, outbound) tickets as Zendesk defines them, worked by hand
(issue 12, item 6).

Zendesk's documentation:
- "Calculating first reply time" (https://support.zendesk.com/hc/en-us/articles/4408821871642):
  "An agent creates a ticket. Timing starts when the ticket is created and ends at the agent's
  next public comment."
- "Ticket metrics" duration metrics (https://support.zendesk.com/hc/en-us/articles/4408834848154),
  first reply time: "If the ticket is created by an agent and the first comment is public the
  second timestamp shifts to the second public agent comment."
- "How are one-touch resolutions calculated?"
  (https://support.zendesk.com/hc/en-us/articles/4408820618266): "If a proactive ticket is
  created and immediately solved and the customer replies, the agent's initial comment does not
  count towards a one-touch ticket. Only a second agent comment on proactive tickets counts."
- First reply time "is calculated exclusively based on agent replies ... automated or bot-related
  actions in conversations aren't considered" (the first article again).

So on an agent-created ticket the opening comment (its first message, when public and the
agent's) is neither a reply (public_agent_replies, one/two-touch) nor its first reply: frt_s
runs from creation to the agent's next public comment. `frt` stays over customer-created
tickets; `frt_all` counts every ticket, and `created_by` cuts it.
"""

from __future__ import annotations

from pytest import approx

from cxmetrics.facts import refresh_facts

from _facts_scenario import facts, import_events, import_tickets, intervals, load, pick


def test_an_agent_created_tickets_opening_comment_is_not_a_reply(ws, tmp_path):
    # t0 08:00 the agent opens the ticket with a public comment; t1 09:00 the customer
    # answers; t2 10:00 the agent replies; t3 11:00 solved.
    load(ws, tmp_path, """
        E1,T1,3/08:00,created,agent,A1,,new,C1,billing,,,agent,email,
        E2,T1,3/08:00,message,agent,A1,,,,,,,,,
        E3,T1,3/09:00,message,customer,C1,,,,,,,,,
        E4,T1,3/10:00,message,agent,A1,,,,,,,,,
        E5,T1,3/11:00,status,agent,A1,,solved,,,,,,,
    """)
    f = facts(ws, "T1")
    assert f["created_by"] == "agent"
    # replies: E4 only (E2 opens the ticket) -> 1, not 2: one-touch, not two-touch
    assert (f["public_agent_replies"], f["one_touch"], f["two_touch"], f["multi_touch"]) == (1, True, False, False)
    # Zendesk's first reply time: creation (08:00) -> the agent's next public comment (10:00) = 2 h
    assert f["first_reply_at"].isoformat() == "2025-03-03T10:00:00+00:00"
    assert f["frt_s"] == 7200.0
    # first touch and the reply intervals stay customer-created measures
    assert (f["frt_first_touch_s"], f["unanswered"]) == (None, False)
    assert intervals(ws, "T1") == []
    # one reply, never reopened, no repeat contact: resolved in one contact
    assert (f["solved"], f["fcr"]) == (True, True)


def test_a_proactive_ticket_solved_at_once_has_no_reply(ws, tmp_path):
    # Zendesk's one-touch note: opened with a public comment and solved at once (08:05); the
    # customer says thanks (09:00) and nobody writes again -> 0 replies, not one-touch, no
    # first reply yet
    load(ws, tmp_path, """
        E1,T1,3/08:00,created,agent,A1,,new,C1,billing,,,agent,email,
        E2,T1,3/08:00,message,agent,A1,,,,,,,,,
        E3,T1,3/08:05,status,agent,A1,,solved,,,,,,,
        E4,T1,3/09:00,message,customer,C1,,,,,,,,,
    """)
    assert pick(ws, "T1", "public_agent_replies", "one_touch", "two_touch", "first_reply_at", "frt_s") == (
        0, False, False, None, None)


def test_a_private_opening_comment_leaves_the_first_public_comment_a_reply(ws, tmp_path):
    # Zendesk shifts the timestamp only "if the first comment is public": here the agent opens
    # with a private note (08:00), then writes publicly at 08:30 and again at 10:00 after the
    # customer (09:00): replies 08:30 and 10:00 = 2, first reply 08:30 = 1800 s
    load(ws, tmp_path, """
        E1,T1,3/08:00,created,agent,A1,,new,C1,billing,,,agent,email,
        E2,T1,3/08:00,message,agent,A1,false,,,,,,,,
        E3,T1,3/08:30,message,agent,A1,,,,,,,,,
        E4,T1,3/09:00,message,customer,C1,,,,,,,,,
        E5,T1,3/10:00,message,agent,A1,,,,,,,,,
        E6,T1,3/11:00,status,agent,A1,,solved,,,,,,,
    """)
    assert pick(ws, "T1", "public_agent_replies", "two_touch", "frt_s") == (2, True, 1800.0)


def test_the_first_of_messages_at_the_same_instant_is_by_event_order(ws, tmp_path):
    # The agent opens each ticket at 08:00 with a public comment and a private note stamped the
    # same instant; the customer writes at 09:00 and the agent at 10:00. Which came first is the
    # event order (a shorter id first: N9 before N10, although "N10" < "N9" as text).
    # T1: the public comment (N9) first: the opening comment, no reply; the first reply is 10:00
    #     (frt 2 h) and the only one.
    # T2: the private note (M9) first: no opening comment (Zendesk shifts only "if the first
    #     comment is public"), so the public comment at 08:00 is the first reply (frt 0), and
    #     10:00 the second.
    load(ws, tmp_path, """
        A1,T1,3/08:00,created,agent,A1,,new,C1,billing,,,agent,email,
        N9,T1,3/08:00,message,agent,A1,,,,,,,,,
        N10,T1,3/08:00,message,agent,A1,false,,,,,,,,
        A3,T1,3/09:00,message,customer,C1,,,,,,,,,
        A4,T1,3/10:00,message,agent,A1,,,,,,,,,
        A5,T1,3/11:00,status,agent,A1,,solved,,,,,,,
        B1,T2,3/08:00,created,agent,A1,,new,C2,billing,,,agent,email,
        M9,T2,3/08:00,message,agent,A1,false,,,,,,,,
        M10,T2,3/08:00,message,agent,A1,,,,,,,,,
        B3,T2,3/09:00,message,customer,C2,,,,,,,,,
        B4,T2,3/10:00,message,agent,A1,,,,,,,,,
        B5,T2,3/11:00,status,agent,A1,,solved,,,,,,,
    """)
    assert pick(ws, "T1", "public_agent_replies", "one_touch", "frt_s") == (1, True, 7200.0)
    assert pick(ws, "T2", "public_agent_replies", "two_touch", "frt_s") == (2, True, 0.0)


def test_a_customer_created_ticket_is_unchanged(ws, tmp_path):
    # T1: customer writes 08:00, agent 08:30 (frt 1800), customer 09:00, agent 10:00 (next
    # reply 3600), solved 11:00: 2 replies, two-touch
    # T2: created by the customer, but an agent's message comes first (08:10): that is the
    # first reply (frt 600), not an opening comment: 1 reply, one-touch
    load(ws, tmp_path, """
        E1,T1,3/08:00,created,customer,C1,,new,C1,billing,,,,email,
        E2,T1,3/08:00,message,customer,C1,,,,,,,,,
        E3,T1,3/08:30,message,agent,A1,,,,,,,,,
        E4,T1,3/09:00,message,customer,C1,,,,,,,,,
        E5,T1,3/10:00,message,agent,A1,,,,,,,,,
        E6,T1,3/11:00,status,agent,A1,,solved,,,,,,,
        F1,T2,3/08:00,created,customer,C2,,new,C2,login,,,,phone,
        F2,T2,3/08:10,message,agent,A2,,,,,,,,,
        F3,T2,3/08:20,status,agent,A2,,solved,,,,,,,
    """)
    assert pick(ws, "T1", "created_by", "public_agent_replies", "one_touch", "two_touch", "frt_s") == (
        "customer", 2, False, True, 1800.0)
    assert intervals(ws, "T1") == [(1, 1800.0), (2, 3600.0)]
    assert pick(ws, "T2", "created_by", "public_agent_replies", "one_touch", "frt_s") == (
        "customer", 1, True, 600.0)


def test_bot_messages_never_count_as_agent_replies(ws, tmp_path):
    # T1 (customer): bot 08:00:05 and 08:01:00, agent 08:05:00, solved: 1 reply (the agent's),
    # frt 300 s, first touch 5 s
    # T2 (customer): only the bot answers, solved: 0 replies, not one-touch, no frt
    # T3 (agent-created): the agent opens (08:00), a bot answers the customer (08:30), solved:
    # 0 replies, no first reply
    load(ws, tmp_path, """
        E1,T1,3/08:00:00,created,customer,C1,,new,C1,billing,,,,chat,
        E2,T1,3/08:00:05,message,bot,B1,,,,,,,,,
        E3,T1,3/08:01:00,message,bot,B1,,,,,,,,,
        E4,T1,3/08:05:00,message,agent,A1,,,,,,,,,
        E5,T1,3/08:10:00,status,agent,A1,,solved,,,,,,,
        F1,T2,3/08:00,created,customer,C2,,new,C2,billing,,,,chat,
        F2,T2,3/08:01,message,bot,B1,,,,,,,,,
        F3,T2,3/08:02,status,bot,B1,,solved,,,,,,,
        G1,T3,3/08:00,created,agent,A1,,new,C3,billing,,,agent,email,
        G2,T3,3/08:00,message,agent,A1,,,,,,,,,
        G3,T3,3/08:20,message,customer,C3,,,,,,,,,
        G4,T3,3/08:30,message,bot,B1,,,,,,,,,
        G5,T3,3/08:40,status,bot,B1,,solved,,,,,,,
    """)
    assert pick(ws, "T1", "public_agent_replies", "one_touch", "frt_s", "frt_first_touch_s") == (1, True, 300.0, 5.0)
    assert pick(ws, "T2", "public_agent_replies", "one_touch", "frt_s") == (0, False, None)
    assert pick(ws, "T3", "public_agent_replies", "one_touch", "first_reply_at", "frt_s") == (0, False, None, None)


def test_a_flat_agent_created_tickets_first_reply_is_the_sources(ws, tmp_path):
    # A flat row has no opening comment: its first_reply_at is the source's first reply (for
    # an agent-created Zendesk ticket, already the next comment) and its replies its count.
    # O1: created 08:00, first reply 09:30 -> 5400 s, 1 reply as reported
    # O2: no replies column value -> the one implied first reply counts: 1
    import_tickets(ws, tmp_path / "tickets.csv", """
        ticket_id,created_at,status,created_by,first_reply_at,solved_at,replies
        O1,3/08:00,solved,agent,3/09:30,3/10:00,1
        O2,3/08:00,solved,agent,3/08:45,3/10:00,
    """)
    refresh_facts(ws.con)
    assert pick(ws, "O1", "created_by", "frt_s", "public_agent_replies", "one_touch") == ("agent", 5400.0, 1, True)
    assert pick(ws, "O2", "frt_s", "public_agent_replies") == (2700.0, 1)


def test_frt_keeps_customer_tickets_and_frt_all_cuts_by_created_by(ws, tmp_path):
    # customer-created: C-T1 frt 600, C-T2 frt 1800; agent-created: A-T1 opening 08:00, next
    # public comment 09:00 -> 3600; system-created: S-T1 first agent comment 08:20 -> 1200
    load(ws, tmp_path, """
        E1,C-T1,3/08:00,created,customer,C1,,new,C1,billing,,,,email,
        E2,C-T1,3/08:10,message,agent,A1,,,,,,,,,
        F1,C-T2,3/08:00,created,customer,C2,,new,C2,billing,,,,email,
        F2,C-T2,3/08:30,message,agent,A1,,,,,,,,,
        G1,A-T1,3/08:00,created,agent,A1,,new,C3,billing,,,agent,email,
        G2,A-T1,3/08:00,message,agent,A1,,,,,,,,,
        G3,A-T1,3/08:30,message,customer,C3,,,,,,,,,
        G4,A-T1,3/09:00,message,agent,A1,,,,,,,,,
        H1,S-T1,3/08:00,created,system,,,new,C4,billing,,,system,email,
        H2,S-T1,3/08:00,message,system,,,,,,,,,,
        H3,S-T1,3/08:20,message,agent,A2,,,,,,,,,
    """)
    day = {"start": "2025-03-03", "end": "2025-03-04"}

    def value(metric: str, **kw) -> list[tuple]:
        return [(r.get("created_by"), r["value"], r["n"]) for r in ws.metrics([metric], **day, **kw).to_pylist()]

    # frt: customer tickets only, as before: median of 600, 1800 = 1200, n = 2
    assert value("frt") == [(None, approx(1200.0), 2)]
    assert value("frt_within_5m") == [(None, approx(0.0), 2)]
    # frt_all: 600, 1800, 3600, 1200 -> median of 600, 1200, 1800, 3600 = 1500, n = 4
    assert value("frt_all") == [(None, approx(1500.0), 4)]
    assert value("frt_all_mean") == [(None, approx(7200.0 / 4), 4)]
    assert value("frt_all", where={"created_by": "agent"}) == [(None, approx(3600.0), 1)]
    assert sorted(value("frt_all", by=["created_by"])) == [
        ("agent", approx(3600.0), 1), ("customer", approx(1200.0), 2), ("system", approx(1200.0), 1)]
    # the business-time twin counts the same tickets (no schedules: equal to calendar time)
    assert value("frt_all_bh") == [(None, approx(1500.0), 4)]
    assert value("frt_bh") == [(None, approx(1200.0), 2)]


def test_an_opening_comment_is_stamped_at_creation(ws, tmp_path):
    # The opening comment may come as the created event's body (as Zendesk's ticket audit
    # gives it): then it is no message, and the agent's first public message, 30 minutes
    # later, is a reply. T1: created 08:00 (the body is the opening comment), agent 08:30,
    # customer 09:00, agent 10:00 -> 2 replies (two-touch once solved), frt 08:00 -> 08:30 =
    # 1800 s. A first message stamped after creation is never an opening comment.
    import_events(ws, tmp_path / "events.csv", """
        E1,T1,3/08:00,created,agent,A1,,,C1,agent,We noticed your payment failed
        E2,T1,3/08:30,message,agent,A1,,,,,Any luck with the card?
        E3,T1,3/09:00,message,customer,C1,,,,,Updated it now
        E4,T1,3/10:00,message,agent,A1,,,,,Thanks - all set
        E5,T1,3/11:00,status,agent,A1,,solved,,,
    """, header="event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,requester_id,created_by,body")
    refresh_facts(ws.con)
    assert pick(ws, "T1", "created_by", "public_agent_replies", "two_touch", "frt_s") == ("agent", 2, True, 1800.0)


def test_an_upgraded_workspace_rebuilds_facts_stored_under_the_old_rule(ws, tmp_path, monkeypatch):
    # a workspace whose facts were refreshed before migration 0010 holds the old count
    # (the opening comment as a reply: 2); opening it with this version must not keep it
    import cxmetrics
    from cxmetrics.store import _migrations

    # 0010 alone is applied again (the later ones rebuild tables this schema has already)
    only = [m for m in _migrations.available() if m[0] == 10]
    monkeypatch.setattr(_migrations, "available", lambda: only)

    load(ws, tmp_path, """
        E1,T1,3/08:00,created,agent,A1,,new,C1,billing,,,agent,email,
        E2,T1,3/08:00,message,agent,A1,,,,,,,,,
        E3,T1,3/09:00,message,customer,C1,,,,,,,,,
        E4,T1,3/10:00,message,agent,A1,,,,,,,,,
    """)
    ws.con.execute("UPDATE ticket_facts SET public_agent_replies = 2, frt_s = NULL")  # as stored before
    ws.con.execute("DELETE FROM schema_migrations WHERE version >= 10")
    ws.close()
    with cxmetrics.open(ws.path) as again:
        assert again.schema_version >= 10
        again.refresh()
        assert pick(again, "T1", "public_agent_replies", "frt_s") == (1, 7200.0)
