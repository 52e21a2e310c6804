"""Quality, volume and automation metrics (quality.yaml; METRICS.md "Quality and
resolution", "Volume and cost", "People and automation") on small hand-worked scenarios,
read through `ws.metrics`: every expected value and n is worked out by hand next to its
assert.

Scenarios per metric: fcr, one_touch, reopen_rate, agent_touches: repeat rule, flat,
period. escalation_rate: reassignments, routing, period. tickets, solved_tickets,
tickets_per_customer: exclusions, period, by channel (and the fcr and flat scenarios).
bot_resolution_rate, bot_handoff_rate, bot_involvement_rate, automation_rate:
conversations, flat, period.
"""

from __future__ import annotations

import pytest
from pytest import approx

from conftest import write

from _ticket_scenario import by, flat, got, load, per_day

pytestmark = pytest.mark.engines  # every scenario on DuckDB and on Spark (tests/_engines.py)

DAY2 = {"start": "2025-03-02", "end": "2025-03-03"}
DAY3 = {"start": "2025-03-03", "end": "2025-03-04"}
DAY4 = {"start": "2025-03-04", "end": "2025-03-05"}


# --- first contact resolution, touches, reopens ------------------------------------------


def test_fcr_seven_day_repeat_rule_touches_and_reopens(ws, tmp_path):
    load(ws, tmp_path, """
        A1 3/08:00  created customer C1 topic=billing
        A1 3/08:10  message agent A1
        A1 3/08:20  solved  agent A1        # C1 writes again on billing 6 days later: not FCR
        A2 9/08:00  created customer C1 topic=billing
        A2 9/08:10  message agent A1
        A2 9/09:00  solved  agent A1        # C1's next billing ticket is 8 days later: FCR
        A3 17/08:00 created customer C1 topic=billing
        A3 17/08:05 message bot B1          # a bot's message is no agent reply
        A3 17/08:10 message agent A1
        A3 17/08:20 solved  agent A1        # FCR
        B1 3/08:00  created customer C2 topic=billing
        B1 3/08:10  message agent A2
        B1 3/08:20  solved  agent A2        # FCR: the next day's ticket is outbound, no repeat
        B2 4/08:00  created agent A2 requester=C2 topic=billing
        B2 4/08:00  message agent A2
        B2 4/08:05  pending agent A2        # not solved
        D1 3/08:00  created customer C3 topic=billing
        D1 3/09:00  solved  agent A2        # no public reply (at most one): FCR, not one-touch
        D2 4/08:00  created customer C3 topic=login    # another topic: no repeat
        E1 3/08:00  created customer C4 topic=billing
        E1 3/08:10  message agent A1
        E1 3/08:20  message customer C4
        E1 3/08:30  message agent A1
        E1 3/08:40  message customer C4
        E1 3/08:50  message agent A1
        E1 3/09:00  solved  agent A1        # three replies: not FCR, not one-touch
        G1 3/08:00  created customer C5 topic=billing
        G1 3/08:05  note    agent A1        # a private note is no reply
        G1 3/08:10  message agent A1
        G1 3/08:20  solved  agent A1        # FCR, one-touch
        H1 3/08:00  created customer C6 topic=billing
        H1 3/08:10  message agent A1
        H1 3/08:20  solved  agent A1
        H1 4/08:00  message customer C6
        H1 4/08:00  open    system
        H1 4/09:00  solved  agent A1        # reopened: not FCR (still one public reply)
    """)
    # solved: A1 A2 A3 B1 D1 E1 G1 H1 = 8; FCR: A2 A3 B1 D1 G1 = 5
    assert got(ws, "fcr") == (approx(62.5), 8)
    # exactly one public agent reply: A1 A2 A3 B1 G1 H1 = 6 (D1 none, E1 three)
    assert got(ws, "one_touch") == (approx(75.0), 8)
    # reopened: H1
    assert got(ws, "reopen_rate") == (approx(12.5), 8)
    # replies: A1 1, A2 1, A3 1, B1 1, D1 0, E1 3, G1 1, H1 1 = 9 over 8
    assert got(ws, "agent_touches") == (approx(1.125), 8)
    assert got(ws, "solved_tickets") == (8.0, 8)
    assert got(ws, "tickets") == (10.0, 10)  # with B2 (outbound) and D2
    # fcr per day of the latest solve: the 3rd A1 B1 D1 E1 G1 -> 3 / 5; the 4th H1 -> 0 / 1;
    # the 9th A2, the 17th A3 -> 1 / 1
    assert per_day(ws, "fcr") == {"2025-03-03": (approx(60.0), 5), "2025-03-04": (approx(0.0), 1),
                                  "2025-03-09": (approx(100.0), 1), "2025-03-17": (approx(100.0), 1)}


def test_fcr_touches_and_reopens_from_flat_tickets(ws, tmp_path):
    flat(ws, tmp_path, """
        ticket_id,created_at,status,requester_id,topic,first_reply_at,solved_at,replies,reopens
        F1,3/08:00,solved,C1,billing,3/08:10,3/09:00,1,0
        F2,3/08:00,solved,C2,billing,3/08:10,3/12:00,3,1
        F3,3/08:00,closed,C3,login,3/08:10,3/10:00,2,0
        F4,3/08:00,open,C4,billing,3/08:10,,,
        F5,3/08:00,deleted,C5,billing,3/08:10,3/08:20,1,0
        F6,3/08:00,solved,C6,billing,,3/08:30,0,0
        F7,3/08:00,solved,C7,login,3/08:10,3/08:40,,
        F8,6/08:00,open,C1,billing,,,,
    """)
    # solved: F1 F2 F3 F6 F7 (F4 open, F5 deleted). FCR: F1 no (C1 wrote again on billing
    # 3 days later: F8), F2 no (3 replies, reopened), F3 no (2 replies), F6 yes (0 replies),
    # F7 yes (no counts reported: its one implied reply) -> 2 / 5
    assert got(ws, "fcr") == (approx(40.0), 5)
    # one reply: F1, F7
    assert got(ws, "one_touch") == (approx(40.0), 5)
    # reopened: F2
    assert got(ws, "reopen_rate") == (approx(20.0), 5)
    # 1 + 3 + 2 + 0 + 1 = 7 over 5
    assert got(ws, "agent_touches") == (approx(1.4), 5)
    assert got(ws, "solved_tickets") == (5.0, 5)
    # created: all but the deleted F5 = 7, from C1 C2 C3 C4 C6 C7 = 6 customers
    assert got(ws, "tickets") == (7.0, 7)
    assert got(ws, "tickets_per_customer") == (approx(7 / 6), 6)


def test_quality_is_placed_by_the_latest_solve(ws, tmp_path):
    load(ws, tmp_path, """
        T1 2/10:00 created customer C1 topic=billing
        T1 2/10:10 message agent A1
        T1 3/10:00 solved  agent A1      # latest solve on the 3rd: one reply, FCR
        T2 3/08:00 created customer C2 topic=billing
        T2 3/08:10 message agent A1
        T2 3/09:00 solved  agent A1
        T2 3/12:00 message customer C2
        T2 3/12:00 open    system
        T2 3/12:10 message agent A1
        T2 4/10:00 solved  agent A1      # latest solve on the 4th: reopened, two replies
        T3 3/09:00 created customer C3 topic=billing
        T3 3/09:10 message agent A1
        T3 3/09:20 message customer C3
        T3 3/09:30 message agent A1
        T3 3/11:00 solved  agent A1      # two replies
        T4 3/10:00 created customer C4 topic=billing
        T4 3/10:10 message agent A1
        T4 3/10:30 solved  agent A1
        T4 3/15:00 open    customer C4   # reopened and still open: not solved, left out
    """)
    # the 3rd: T1 (FCR, one-touch, 1 reply), T3 (2 replies)
    assert got(ws, "fcr", **DAY3) == (approx(50.0), 2)
    assert got(ws, "one_touch", **DAY3) == (approx(50.0), 2)
    assert got(ws, "reopen_rate", **DAY3) == (approx(0.0), 2)  # T4's reopen: T4 is not solved
    assert got(ws, "agent_touches", **DAY3) == (approx(1.5), 2)  # (1 + 2) / 2
    assert got(ws, "solved_tickets", **DAY3) == (2.0, 2)
    # the 4th: T2 (first solved on the 3rd)
    assert got(ws, "fcr", **DAY4) == (approx(0.0), 1)
    assert got(ws, "one_touch", **DAY4) == (approx(0.0), 1)
    assert got(ws, "reopen_rate", **DAY4) == (approx(100.0), 1)
    assert got(ws, "agent_touches", **DAY4) == (approx(2.0), 1)
    assert got(ws, "solved_tickets", **DAY4) == (1.0, 1)
    # volume by creation: T2 T3 T4 on the 3rd, T1 on the 2nd
    assert got(ws, "tickets", **DAY3) == (3.0, 3)
    assert got(ws, "tickets", **DAY2) == (1.0, 1)


# --- escalation ------------------------------------------------------------------------


def test_escalation_is_a_reassignment_to_another_team(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00 created customer C1 team=Tier1
        T1 3/09:00 assign  system team=Tier2          # to another tier: escalated
        T2 3/08:00 created customer C2 team=Tier1
        T2 3/09:00 assign  system assignee=A1         # an assignee, no new team: not escalated
        T3 3/08:00 created customer C3
        T3 3/09:00 assign  system team=Tier1          # its first team: routing, not a reassignment
        T4 3/08:00 created customer C4
        T4 3/09:00 assign  system team=Tier1
        T4 3/10:00 assign  system team=Tier1          # the same team again: not escalated
        T5 3/08:00 created customer C5 team=Tier1
        T5 3/09:00 assign  system team=Tier2
        T5 3/10:00 assign  system team=Tier1          # there and back: one escalated ticket
        T6 3/08:00 created customer C6 team=Tier1
        T6 3/09:00 assign  system team=Tier2
        T6 3/10:00 merged  system                     # merged away: left out
    """)
    # T1, T5 of T1..T5
    assert got(ws, "escalation_rate") == (approx(40.0), 5)


def test_escalation_handoffs_and_agent_changes_are_not_escalations(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00    created customer C1 channel=chat
        T1 3/08:00:05 message bot B1
        T1 3/08:01    handoff bot B1
        T1 3/08:02    assign  system team=Tier1 assignee=A1   # a hand-off routed to its first team
        T1 3/08:05    message agent A1
        T2 3/08:00    created customer C2 team=Tier1 assignee=A1
        T2 3/09:00    assign  system team=Tier1 assignee=A2   # another agent, same team
        T3 3/08:00    created customer C3 team=Tier1
        T3 3/09:00    assign  system team=Billing             # escalated
    """)
    assert got(ws, "escalation_rate") == (approx(100 / 3), 3)  # T3 of 3


def test_escalation_is_placed_by_creation(ws, tmp_path):
    load(ws, tmp_path, """
        T1 2/23:00 created customer C1 team=Tier1
        T1 3/09:00 assign  system team=Tier2     # a ticket of the 2nd
        T2 3/10:00 created customer C2 team=Tier1
        T2 3/11:00 assign  system team=Tier2
        T3 3/12:00 created customer C3 team=Tier1
        T4 3/13:00 created customer C4 team=Tier1
        T4 4/09:00 assign  system team=Tier2     # escalated the next day: still the 3rd's
    """)
    assert got(ws, "escalation_rate", **DAY3) == (approx(200 / 3), 3)  # T2, T4 of T2 T3 T4
    assert got(ws, "escalation_rate", **DAY2) == (approx(100.0), 1)  # T1


# --- volume ----------------------------------------------------------------------------


def test_volume_leaves_out_deleted_spam_and_merged(ws, tmp_path):
    flat(ws, tmp_path, """
        ticket_id,created_at,status,requester_id,created_by,solved_at
        F1,3/08:00,solved,C1,,3/09:00
        F2,3/09:00,open,C1,,
        F3,3/10:00,closed,C2,,3/12:00
        F4,3/11:00,deleted,C3,,
        F5,3/12:00,spam,C4,,
        F6,3/13:00,pending,C2,agent,
    """)
    load(ws, tmp_path, """
        M1 3/14:00 created customer C5
        M1 3/14:05 solved  agent A1
        M1 3/14:10 merged  system
    """)
    # created: F1 F2 F3 F6 (an outbound ticket is a ticket too); F4 F5 M1 left out
    assert got(ws, "tickets") == (4.0, 4)
    # solved: F1, F3 (M1 merged)
    assert got(ws, "solved_tickets") == (2.0, 2)
    # 4 tickets from C1, C2 (C3, C4, C5 only have tickets left out); n = the customers
    assert got(ws, "tickets_per_customer") == (approx(2.0), 2)


def test_volume_by_creation_and_solves_by_the_latest_solve(ws, tmp_path):
    load(ws, tmp_path, """
        T1 2/10:00 created customer C1
        T1 3/10:00 solved  agent A1
        T2 3/10:00 created customer C1
        T2 3/11:00 solved  agent A1
        T3 3/12:00 created customer C2
        T3 4/09:00 solved  agent A1
        T4 3/13:00 created customer C3
        T5 3/14:00 created customer C1
        T5 3/15:00 solved  agent A1
        T5 3/16:00 open    customer C1     # reopened, not solved now
    """)
    # created on the 3rd: T2 T3 T4 T5, from C1 C2 C3
    assert got(ws, "tickets", **DAY3) == (4.0, 4)
    assert got(ws, "tickets_per_customer", **DAY3) == (approx(4 / 3), 3)
    # latest solve on the 3rd and solved now: T1, T2 (T5 reopened); on the 4th: T3
    assert got(ws, "solved_tickets", **DAY3) == (2.0, 2)
    assert got(ws, "solved_tickets", **DAY4) == (1.0, 1)
    assert per_day(ws, "tickets") == {"2025-03-02": (1.0, 1), "2025-03-03": (4.0, 4)}
    assert per_day(ws, "solved_tickets") == {"2025-03-03": (2.0, 2), "2025-03-04": (1.0, 1)}
    assert got(ws, "tickets", **DAY4) == (0.0, 0)


def test_volume_by_channel(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00 created customer C1 channel=email
        T1 3/09:00 solved  agent A1
        T2 3/08:00 created customer C1 channel=email
        T3 3/08:00 created customer C2 channel=email
        T4 3/08:00 created customer C1 channel=chat
        T4 3/08:30 solved  agent A1
        T5 3/08:00 created customer C2 channel=chat
        T6 3/08:00 created customer C3 channel=chat
        T6 3/08:10 merged  system
    """)
    assert got(ws, "tickets") == (5.0, 5)
    assert by(ws, "tickets", "channel") == {"email": (3.0, 3), "chat": (2.0, 2)}
    # overall 5 / {C1, C2}; email 3 / {C1, C2}; chat 2 / {C1, C2} (C3's ticket merged)
    assert got(ws, "tickets_per_customer") == (approx(2.5), 2)
    assert by(ws, "tickets_per_customer", "channel") == {"email": (approx(1.5), 2), "chat": (approx(1.0), 2)}
    assert by(ws, "solved_tickets", "channel") == {"email": (1.0, 1), "chat": (1.0, 1)}


# --- bots ------------------------------------------------------------------------------


def test_bot_rates_over_conversations(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00    created customer C1 channel=chat
        T1 3/08:00:05 message bot B1
        T1 3/08:01    message customer C1
        T1 3/08:02    message bot B1
        T1 3/08:05    solved  bot B1           # contained
        T2 3/08:00    created customer C2 channel=chat
        T2 3/08:00:05 message bot B1
        T2 3/08:01    handoff bot B1
        T2 3/08:05    message agent A1
        T2 3/08:30    solved  agent A1         # handed off
        T3 3/08:00    created customer C3 channel=chat
        T3 3/08:00:05 message bot B1
        T3 3/08:03    message agent A1         # a human took over without a handoff event
        T3 3/08:30    solved  agent A1
        T4 3/08:00    created customer C4 channel=chat
        T4 3/08:00:05 message bot B1
        T4 3/08:02    message customer C4      # left: involved, neither resolved nor handed off
        T5 3/08:00    created customer C5 channel=chat
        T5 3/08:00:05 message bot B1
        T5 3/08:05    solved  bot B1
        T5 3/09:00    message customer C5
        T5 3/09:00    open    system
        T5 3/09:01    message bot B1
        T5 3/09:05    solved  bot B1           # reopened: not contained
        T6 3/08:00    created customer C6 channel=email
        T6 3/08:10    message agent A1
        T6 3/08:20    solved  agent A1         # no bot
        T7 3/08:00    created customer C7 channel=email
        T7 3/08:01    note    bot B1           # a private bot note is no involvement
        T7 3/08:10    message agent A1
        T7 3/08:20    solved  agent A1
        T8 3/08:00    created customer C8 channel=chat
        T8 3/08:00:05 message bot B1
        T8 3/08:01    solved  bot B1
        T8 3/08:02    merged  system           # merged away: left out
    """)
    # conversations T1..T7; bot-involved T1..T5; contained T1; handed off T2, T3
    assert got(ws, "bot_resolution_rate") == (approx(20.0), 5)
    assert got(ws, "bot_handoff_rate") == (approx(40.0), 5)
    assert got(ws, "bot_involvement_rate") == (approx(500 / 7), 7)
    assert got(ws, "automation_rate") == (approx(100 / 7), 7)  # 5/7 x 1/5
    # the customer who left has had no human answer: unanswered
    assert got(ws, "unanswered") == (1.0, 1)


def test_bot_rates_from_flat_tickets(ws, tmp_path):
    flat(ws, tmp_path, """
        ticket_id,created_at,status,agent_type,first_reply_at,solved_at,reopens
        F1,3/08:00,solved,bot,3/08:00:10,3/08:05,
        F2,3/08:00,open,bot,3/08:00:10,,
        F3,3/08:00,solved,human,3/08:10,3/08:30,
        F4,3/08:00,solved,bot,3/08:00:10,3/09:00,1
        F5,3/08:00,deleted,bot,3/08:00:10,3/08:05,
    """)
    # conversations F1..F4; bot first replies F1 F2 F4; contained F1 (F2 unsolved, F4
    # reopened); a flat row cannot say it was handed off
    assert got(ws, "bot_resolution_rate") == (approx(100 / 3), 3)
    assert got(ws, "bot_handoff_rate") == (approx(0.0), 3)
    assert got(ws, "bot_involvement_rate") == (approx(75.0), 4)
    assert got(ws, "automation_rate") == (approx(25.0), 4)


def test_bot_rates_are_placed_by_creation(ws, tmp_path):
    load(ws, tmp_path, """
        T1 2/23:59    created customer C1 channel=chat
        T1 3/00:00:10 message bot B1
        T1 3/00:05    solved  bot B1           # contained, a conversation of the 2nd
        T2 3/09:00    created customer C2 channel=chat
        T2 3/09:00:05 message bot B1
        T2 3/09:03    solved  bot B1           # contained
        T3 3/10:00    created customer C3 channel=chat
        T3 3/10:00:05 message bot B1
        T3 3/10:01    handoff bot B1
        T3 3/10:05    message agent A1
        T3 3/10:30    solved  agent A1         # handed off
        T4 3/11:00    created customer C4 channel=email
        T4 3/11:10    message agent A1
        T4 3/11:20    solved  agent A1         # no bot
        T5 3/23:59:50 created customer C5 channel=chat
        T5 4/00:00:05 message bot B1
        T5 4/00:01    handoff bot B1           # created on the 3rd, handed off on the 4th
    """)
    # the 3rd: conversations T2..T5; involved T2 T3 T5; contained T2; handed off T3, T5
    assert got(ws, "bot_resolution_rate", **DAY3) == (approx(100 / 3), 3)
    assert got(ws, "bot_handoff_rate", **DAY3) == (approx(200 / 3), 3)
    assert got(ws, "bot_involvement_rate", **DAY3) == (approx(75.0), 4)
    assert got(ws, "automation_rate", **DAY3) == (approx(25.0), 4)
    # the 2nd: T1 alone
    assert got(ws, "bot_resolution_rate", **DAY2) == (approx(100.0), 1)
    assert got(ws, "bot_handoff_rate", **DAY2) == (approx(0.0), 1)
    assert got(ws, "bot_involvement_rate", **DAY2) == (approx(100.0), 1)
    assert got(ws, "automation_rate", **DAY2) == (approx(100.0), 1)
    # T3: 240 s from the hand-off to the human reply
    assert got(ws, "frt_after_handoff", **DAY3) == (approx(240.0), 1)


def test_touch_shares_partition_solved_tickets(ws, tmp_path):
    # flat tickets, all solved: replies 0, 1, 1, 2, 3, 5 -> one-touch 2/6, two-touch 1/6,
    # multi-touch (3+) 2/6, and the ticket with no reply is none of them
    rows = "ticket_id,created_at,solved_at,replies\n" + "".join(
        f"T{i},2025-03-03T08:00:00Z,2025-03-03T10:00:00Z,{r}\n" for i, r in enumerate([0, 1, 1, 2, 3, 5]))
    ws.import_file("tickets", write(tmp_path / "t.csv", rows))
    got = {r["metric"]: r["value"] for r in ws.metrics(["one_touch", "two_touch", "multi_touch"]).to_pylist()}
    assert got == {"one_touch": pytest.approx(100 * 2 / 6), "two_touch": pytest.approx(100 / 6),
                   "multi_touch": pytest.approx(100 * 2 / 6)}
