"""ticket_facts.waiting_since (migration 0019): for a ticket open now, since when its customer
waits for a reply, the live queue's "customers waiting" (issue 11 item 1) read from the facts
instead of every open ticket's messages on each request (issue 17: the overview's Queue tile)."""

from __future__ import annotations

from datetime import UTC, datetime

from _facts_scenario import import_events, load, pick

from cxmetrics.facts import refresh_facts

# columns: event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,requester_id,topic,team,
#          assignee_id,created_by,channel,duration_s
WAITS = """
    A1,T1,3/08:00,created,customer,C1,,new,C1,billing,,,customer,email,
    A2,T1,3/08:00,message,customer,C1,,,,,,,,,
    B1,T2,3/08:00,created,customer,C2,,new,C2,billing,,,customer,email,
    B2,T2,3/08:00,message,customer,C2,,,,,,,,,
    B3,T2,3/09:00,message,agent,A1,,open,,,,,,,
    B4,T2,3/10:00,message,customer,C2,,,,,,,,,
    B5,T2,3/10:30,message,bot,BOT,,,,,,,,,
    B6,T2,3/11:00,message,agent,A1,false,,,,,,,,
    B7,T2,3/11:30,message,customer,C2,,,,,,,,,
    C1,T3,3/08:00,created,customer,C3,,new,C3,login,,,customer,email,
    C2,T3,3/08:00,message,customer,C3,,,,,,,,,
    C3,T3,3/09:00,message,agent,A1,,pending,,,,,,,
    D1,T4,3/08:00,created,agent,A1,,new,C4,login,,,agent,email,
    D2,T4,3/08:00,message,agent,A1,,pending,,,,,,,
    E1,T5,3/08:00,created,customer,C5,,new,C5,login,,,customer,email,
    E2,T5,3/09:00,message,agent,A1,,,,,,,,,
    E3,T5,3/09:00,status,agent,A1,,solved,,,,,,,
    E4,T5,3/10:00,message,customer,C5,,,,,,,,,
"""


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


def test_the_first_customer_message_after_the_last_public_agent_reply(ws, tmp_path) -> None:
    load(ws, tmp_path, WAITS)
    assert pick(ws, "T1", "waiting_since")[0] == at(3, 8)  # created by the customer, nobody replied
    # replied at 09:00; the customer wrote at 10:00: a bot message (10:30) and a private note
    # (11:00) do not end the wait, so it runs from 10:00, not from 11:30
    assert pick(ws, "T2", "waiting_since")[0] == at(3, 10)
    assert pick(ws, "T3", "waiting_since")[0] is None  # the agent replied last: nobody waits
    assert pick(ws, "T4", "waiting_since")[0] is None  # an agent's outbound ticket, no customer message
    assert pick(ws, "T5", "waiting_since")[0] is None  # solved: done tickets have no wait


def test_an_incremental_refresh_sets_and_clears_it(ws, tmp_path) -> None:
    load(ws, tmp_path, WAITS)
    import_events(ws, tmp_path / "more.csv", """
        A3,T1,3/12:00,message,agent,A1,,pending,,,,,,,
        C4,T3,3/12:30,message,customer,C3,,open,,,,,,,
    """)
    assert refresh_facts(ws.con) == 2
    assert pick(ws, "T1", "waiting_since")[0] is None  # answered
    assert pick(ws, "T3", "waiting_since")[0] == at(3, 12, 30)  # the customer wrote again
    assert pick(ws, "T2", "waiting_since")[0] == at(3, 10)  # out of scope: kept
