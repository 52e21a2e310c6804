"""SLA clocks worked by hand: every expected value is computed in the comment beside it.

Calendar-hours targets (business hours: test_sla_business.py). `3/08:00` is Monday
2025-03-03 08:00 UTC; times in the comments are on the 3rd unless a day is given.

A scenario marked `engines` runs on DuckDB and on Spark (tests/_engines.py). A refresh on Spark
recomputes every ticket and returns how many: where a scenario asserts the count, every one of
its tickets changed.
"""

from __future__ import annotations

import pytest
from _sla_scenario import brief, load, one, policies, refresh, targets

H = 3600.0

REPLY_POLICY = """
[[policy]]
name = "Standard"
[policy.targets]
first_reply = { urgent = "1h", normal = "4h", hours = "calendar" }
"""


@pytest.mark.engines
def test_first_reply_achieved_and_breached(ws):
    policies(ws, REPLY_POLICY)
    load(ws, """
        T1 3/08:00 created customer C1 priority=urgent
        T1 3/08:30 message agent A1
        T2 3/08:00 created customer C2 priority=urgent
        T2 3/08:10 message bot B1          # a bot does not stop first reply
        T2 3/08:20 note agent A1           # nor does a private note
        T2 3/10:00 message agent A1
        T3 3/08:00 created agent A1 priority=urgent   # outbound: no first reply target
        T3 3/09:00 message agent A1
    """)
    assert refresh(ws, "3/12:00") == 3
    # T1: due 08:00 + 1h = 09:00; replied 08:30 -> achieved, elapsed 30 min, 30 min left
    assert brief(ws, "T1", "first_reply") == (
        "achieved", "2025-03-03T09:00:00Z", "2025-03-03T08:30:00Z", 0.5 * H, 0.5 * H, None)
    assert one(ws, "T1", "first_reply")["settled_at"] == "2025-03-03T08:30:00Z"
    # T2: due 09:00; replied 10:00 -> breached at the due time; elapsed 2 h, 1 h over
    assert brief(ws, "T2", "first_reply") == (
        "breached", "2025-03-03T09:00:00Z", "2025-03-03T10:00:00Z", 2 * H, -1 * H, "2025-03-03T09:00:00Z")
    assert one(ws, "T2", "first_reply")["settled_at"] == "2025-03-03T09:00:00Z"
    assert targets(ws, "T3") == []


@pytest.mark.engines(opt_in=True)
def test_an_open_target_is_active_until_its_due_time_then_breached(ws):
    policies(ws, REPLY_POLICY)
    load(ws, "T1 3/08:00 created customer C1 priority=normal")
    refresh(ws, "3/11:00")
    # due 08:00 + 4 h = 12:00; at 11:00: 3 h elapsed, 1 h left
    assert brief(ws, "T1", "first_reply") == ("active", "2025-03-03T12:00:00Z", None, 3 * H, 1 * H, None)
    refresh(ws, "3/12:00")
    # exactly at the due time: 4 h elapsed, 0 left, not yet breached
    assert brief(ws, "T1", "first_reply") == ("active", "2025-03-03T12:00:00Z", None, 4 * H, 0.0, None)
    assert one(ws, "T1", "first_reply")["evaluated_at"] == "2025-03-03T12:00:00Z"
    refresh(ws, "3/13:00")
    # past due: breached at 12:00, still open: 5 h elapsed, 1 h over
    assert brief(ws, "T1", "first_reply") == (
        "breached", "2025-03-03T12:00:00Z", None, 5 * H, -1 * H, "2025-03-03T12:00:00Z")
    # the reply comes at 14:00: completed, still breached (at 12:00), elapsed 6 h
    load(ws, "T1 3/14:00 message agent A1")
    assert refresh(ws, "3/15:00") == 1
    assert brief(ws, "T1", "first_reply") == (
        "breached", "2025-03-03T12:00:00Z", "2025-03-03T14:00:00Z", 6 * H, -2 * H, "2025-03-03T12:00:00Z")


@pytest.mark.engines
def test_the_first_policy_whose_conditions_match_applies(ws):
    policies(ws, """
        [[policy]]
        name = "VIP"
        conditions = { customer_tier = ["vip", "enterprise"] }
        [policy.targets]
        first_reply = { default = "30m" }

        [[policy]]
        name = "Email urgent"
        conditions = { channel = ["email"], priority = ["urgent", "high"] }
        [policy.targets]
        first_reply = { urgent = "1h", high = "2h" }

        [[policy]]
        name = "Tagged"
        conditions = { tags = ["outage", "security"] }
        [policy.targets]
        first_reply = { default = "3h" }

        [[policy]]
        name = "Everyone"
        [policy.targets]
        first_reply = { urgent = "4h", default = "8h" }
    """)
    load(ws, """
        T1 3/08:00 created customer C1 priority=urgent tier=VIP channel=email
        T2 3/08:00 created customer C2 priority=high tier=basic channel=email
        T3 3/08:00 created customer C3 priority=normal tier=basic channel=email tags=billing;outage
        T4 3/08:00 created customer C4 priority=urgent channel=chat
        T5 3/08:00 created customer C5 priority=low channel=email
        T6 3/08:00 created customer C6 channel=chat
    """)
    refresh(ws, "3/08:05")
    got = {t: (one(ws, t, "first_reply")["policy"], one(ws, t, "first_reply")["target_s"])
           for t in ("T1", "T2", "T3", "T4", "T5", "T6")}
    assert got == {
        "T1": ("VIP", 0.5 * H),              # tier matches case-blind; VIP comes first though email+urgent too
        "T2": ("Email urgent", 2 * H),       # not VIP; email and high
        "T3": ("Tagged", 3 * H),             # normal email: not 'Email urgent'; has the tag outage
        "T4": ("Everyone", 4 * H),           # chat: only the catch-all; urgent's own time
        "T5": ("Everyone", 8 * H),           # low: the catch-all's default
        "T6": ("Everyone", 8 * H),           # no priority at all: default
    }
    # due = 08:00 + target
    assert one(ws, "T3", "first_reply")["due_at"] == "2025-03-03T11:00:00Z"


@pytest.mark.engines(opt_in=True)
def test_a_policy_without_a_time_for_the_priority_gives_no_target_and_no_fallthrough(ws, engine):
    # Zendesk: the first matching policy applies even if it has no target for the priority
    policies(ws, """
        [[policy]]
        name = "Email"
        conditions = { channel = ["email"] }
        [policy.targets]
        first_reply = { urgent = "1h" }

        [[policy]]
        name = "All"
        [policy.targets]
        first_reply = { default = "8h" }
    """)
    load(ws, "T1 3/08:00 created customer C1 priority=low channel=email")
    refresh(ws, "3/09:00")
    assert targets(ws, "T1") == []
    if engine == "duckdb":  # (the policy a ticket fell under is the incremental refresh's bookkeeping)
        assert ws.sql("SELECT policy FROM sla_tickets WHERE ticket_id = 'T1'").to_pylist() == [{"policy": "Email"}]


UPDATES = """
[[policy]]
name = "Updates"
[policy.targets]
first_reply = { normal = "2h" }
next_reply = { normal = "2h" }
periodic_update = { normal = "2h" }
pausable_update = { normal = "2h" }
requester_wait = { normal = "3h" }
agent_work_time = { normal = "3h" }
total_resolution = { normal = "8h" }
"""


@pytest.mark.engines
def test_pending_pauses_the_pausable_targets_but_not_periodic_update(ws):
    policies(ws, UPDATES)
    load(ws, """
        T1 3/08:00 created customer C1 priority=normal
        T1 3/09:00 message agent A1
        T1 3/09:00 pending agent A1
        T1 3/12:00 message customer C1
        T1 3/12:00 open customer C1
        T1 3/13:00 message agent A1
        T1 3/14:00 solved agent A1
    """)
    refresh(ws, "3/15:00")
    # first reply 08:00 -> 09:00: 1 h, due 10:00
    assert brief(ws, "T1", "first_reply") == ("achieved", "2025-03-03T10:00:00Z", "2025-03-03T09:00:00Z", H, H, None)
    # periodic update 1: agent reply 09:00 -> next one 13:00, never pauses: 4 h; due 11:00 -> breached
    assert brief(ws, "T1", "periodic_update", 1) == (
        "breached", "2025-03-03T11:00:00Z", "2025-03-03T13:00:00Z", 4 * H, -2 * H, "2025-03-03T11:00:00Z")
    # pausable update 1: 09:00 -> 13:00, pending 09:00-12:00 does not count: runs 12:00-13:00 = 1 h;
    # achieved; its due is projected from the completion: 13:00 + the 1 h left = 14:00
    assert brief(ws, "T1", "pausable_update", 1) == (
        "achieved", "2025-03-03T14:00:00Z", "2025-03-03T13:00:00Z", H, H, None)
    # cycle 2 of both: agent reply 13:00 -> the solve at 14:00 completes it: 1 h, due 15:00
    for metric in ("periodic_update", "pausable_update"):
        assert brief(ws, "T1", metric, 2) == ("achieved", "2025-03-03T15:00:00Z", "2025-03-03T14:00:00Z", H, H, None)
    # next reply: the customer's 12:00 message after the agent's 09:00 one -> 13:00: 1 h of 2
    assert brief(ws, "T1", "next_reply") == ("achieved", "2025-03-03T14:00:00Z", "2025-03-03T13:00:00Z", H, H, None)
    # requester wait: new 08-09 (1 h) + open 12-14 (2 h) = 3 h, reached at 14:00 = the solve: achieved, 0 left
    assert brief(ws, "T1", "requester_wait") == (
        "achieved", "2025-03-03T14:00:00Z", "2025-03-03T14:00:00Z", 3 * H, 0.0, None)
    # agent work time: the same statuses here (no on-hold): 3 h
    assert brief(ws, "T1", "agent_work_time")[3] == 3 * H
    # total resolution 08:00 -> 14:00 = 6 h of 8, due 16:00
    assert brief(ws, "T1", "total_resolution") == (
        "achieved", "2025-03-03T16:00:00Z", "2025-03-03T14:00:00Z", 6 * H, 2 * H, None)
    assert [t["cycle"] for t in targets(ws, "T1", "periodic_update")] == [1, 2]


@pytest.mark.engines
def test_a_ticket_waiting_in_pending_is_paused_while_periodic_update_breaches(ws):
    policies(ws, UPDATES)
    load(ws, """
        T1 3/08:00 created customer C1 priority=normal
        T1 3/09:00 message agent A1
        T1 3/09:00 pending agent A1
    """)
    refresh(ws, "3/15:00")
    # pausable update since 09:00: pending all along -> paused, nothing elapsed, no due time
    assert brief(ws, "T1", "pausable_update") == ("paused", None, None, 0.0, 2 * H, None)
    # periodic update since 09:00 never pauses: due 11:00, at 15:00 6 h elapsed -> breached
    assert brief(ws, "T1", "periodic_update") == (
        "breached", "2025-03-03T11:00:00Z", None, 6 * H, -4 * H, "2025-03-03T11:00:00Z")
    # requester wait: new 08-09 = 1 h banked, paused in pending: 2 h left, no due time
    assert brief(ws, "T1", "requester_wait") == ("paused", None, None, H, 2 * H, None)
    # total resolution never pauses: due 16:00, 7 h elapsed at 15:00
    assert brief(ws, "T1", "total_resolution") == ("active", "2025-03-03T16:00:00Z", None, 7 * H, H, None)
    # the customer answers at 16:00 and the ticket opens: the pausable clocks run again
    load(ws, """
        T1 3/16:00 message customer C1
        T1 3/16:00 open customer C1
    """)
    refresh(ws, "3/16:30")
    # pausable update: runs from 16:00; 2 h left -> due 18:00; at 16:30 0.5 h elapsed
    assert brief(ws, "T1", "pausable_update") == ("active", "2025-03-03T18:00:00Z", None, 0.5 * H, 1.5 * H, None)
    # requester wait: 1 h banked + from 16:00: due 16:00 + 2 h = 18:00; at 16:30 1.5 h
    assert brief(ws, "T1", "requester_wait") == ("active", "2025-03-03T18:00:00Z", None, 1.5 * H, 1.5 * H, None)
    # next reply: the 16:00 message waits for an answer: due 18:00
    assert brief(ws, "T1", "next_reply") == ("active", "2025-03-03T18:00:00Z", None, 0.5 * H, 1.5 * H, None)


@pytest.mark.engines(opt_in=True)
def test_on_hold_pauses_agent_work_time_but_not_requester_wait(ws):
    policies(ws, """
        [[policy]]
        name = "Work"
        [policy.targets]
        agent_work_time = { normal = "2h" }
        requester_wait = { normal = "2h" }
    """)
    load(ws, """
        T1 3/08:00 created customer C1 priority=normal
        T1 3/08:30 message agent A1
        T1 3/08:30 on-hold agent A1
        T1 3/10:30 open agent A1
        T1 3/11:30 solved agent A1
    """)
    refresh(ws, "3/12:00")
    # agent work: new 08:00-08:30 (0.5 h), on-hold 08:30-10:30 paused, open 10:30-11:30 (1 h) = 1.5 h;
    # achieved, due projected 11:30 + 0.5 h = 12:00
    assert brief(ws, "T1", "agent_work_time") == (
        "achieved", "2025-03-03T12:00:00Z", "2025-03-03T11:30:00Z", 1.5 * H, 0.5 * H, None)
    # requester wait counts on-hold: 0.5 h new + 1.5 h of on-hold reach 2 h at 10:00 -> due 10:00;
    # total 0.5 + 2 + 1 = 3.5 h -> breached at 10:00
    assert brief(ws, "T1", "requester_wait") == (
        "breached", "2025-03-03T10:00:00Z", "2025-03-03T11:30:00Z", 3.5 * H, -1.5 * H, "2025-03-03T10:00:00Z")


@pytest.mark.engines(opt_in=True)
def test_an_open_ticket_on_hold_is_paused_for_agent_work_and_running_for_requester_wait(ws):
    policies(ws, """
        [[policy]]
        name = "Work"
        [policy.targets]
        agent_work_time = { normal = "2h" }
        requester_wait = { normal = "2h" }
    """)
    load(ws, """
        T1 3/08:00 created customer C1 priority=normal
        T1 3/08:30 on-hold agent A1
    """)
    refresh(ws, "3/09:00")
    # agent work: 0.5 h banked, on-hold -> paused; requester wait runs on: due 10:00, 1 h elapsed
    assert brief(ws, "T1", "agent_work_time") == ("paused", None, None, 0.5 * H, 1.5 * H, None)
    assert brief(ws, "T1", "requester_wait") == ("active", "2025-03-03T10:00:00Z", None, H, H, None)


@pytest.mark.engines
def test_a_reopen_runs_total_resolution_to_the_latest_solve_and_next_reply_across_it(ws):
    policies(ws, """
        [[policy]]
        name = "Resolution"
        [policy.targets]
        total_resolution = { normal = "24h" }
        next_reply = { normal = "1h" }
        first_reply = { normal = "2h" }
    """)
    load(ws, """
        T1 3/08:00 created customer C1 priority=normal
        T1 3/09:00 message agent A1
        T1 3/10:00 solved agent A1
    """)
    refresh(ws, "3/11:00")
    # solved at 10:00: 2 h of 24, due 4/08:00
    assert brief(ws, "T1", "total_resolution") == (
        "achieved", "2025-03-04T08:00:00Z", "2025-03-03T10:00:00Z", 2 * H, 22 * H, None)
    assert targets(ws, "T1", "next_reply") == []
    load(ws, """
        T1 4/09:00 message customer C1
        T1 4/09:00 open customer C1
    """)
    refresh(ws, "4/09:30")
    # reopened: total resolution runs again from creation: due 4/08:00 is past -> breached, 25.5 h
    assert brief(ws, "T1", "total_resolution") == (
        "breached", "2025-03-04T08:00:00Z", None, 25.5 * H, -1.5 * H, "2025-03-04T08:00:00Z")
    # next reply: the 4/09:00 message after the agent's 3/09:00 reply: due 4/10:00, active
    assert brief(ws, "T1", "next_reply") == ("active", "2025-03-04T10:00:00Z", None, 0.5 * H, 0.5 * H, None)
    load(ws, """
        T1 4/11:00 message agent A1
        T1 4/12:00 solved agent A1
    """)
    refresh(ws, "4/13:00")
    # latest solve 4/12:00: 28 h > 24 h -> breached at 4/08:00
    assert brief(ws, "T1", "total_resolution") == (
        "breached", "2025-03-04T08:00:00Z", "2025-03-04T12:00:00Z", 28 * H, -4 * H, "2025-03-04T08:00:00Z")
    # next reply 4/09:00 -> 4/11:00 = 2 h > 1 h -> breached at 4/10:00
    assert brief(ws, "T1", "next_reply") == (
        "breached", "2025-03-04T10:00:00Z", "2025-03-04T11:00:00Z", 2 * H, -1 * H, "2025-03-04T10:00:00Z")
    # first reply stays one cycle: 08:00 -> 09:00
    assert [(t["cycle"], t["elapsed_s"]) for t in targets(ws, "T1", "first_reply")] == [(1, H)]


@pytest.mark.engines(opt_in=True)
def test_next_reply_waits_from_the_oldest_unanswered_message(ws):
    policies(ws, """
        [[policy]]
        name = "Replies"
        [policy.targets]
        next_reply = { normal = "1h" }
    """)
    load(ws, """
        T1 3/08:00 created customer C1 priority=normal
        T1 3/08:10 message agent A1
        T1 3/09:00 message customer C1
        T1 3/09:40 message customer C1      # the same wait: it runs from 09:00
        T1 3/10:30 message agent A1
        T1 3/11:00 message customer C1
        T1 3/11:20 message agent A1
    """)
    refresh(ws, "3/12:00")
    got = [(t["cycle"], t["started_at"], t["completed_at"], t["state"]) for t in targets(ws, "T1", "next_reply")]
    assert got == [
        (1, "2025-03-03T09:00:00Z", "2025-03-03T10:30:00Z", "breached"),   # 1.5 h > 1 h
        (2, "2025-03-03T11:00:00Z", "2025-03-03T11:20:00Z", "achieved"),   # 20 min
    ]


@pytest.mark.engines(opt_in=True)
def test_excluded_tickets_have_no_targets(ws):
    policies(ws, REPLY_POLICY)
    load(ws, """
        T1 3/08:00 created customer C1 priority=urgent
        T1 3/08:30 merged system
        T2 3/08:00 created customer C2 priority=urgent
    """)
    refresh(ws, "3/12:00")
    assert targets(ws, "T1") == []
    assert [t["state"] for t in targets(ws, "T2")] == ["breached"]


@pytest.mark.engines
def test_a_priority_change_retargets_the_ticket(ws):
    policies(ws, REPLY_POLICY)
    load(ws, "T1 3/08:00 created customer C1 priority=normal")
    refresh(ws, "3/08:30")
    # normal: 4 h -> due 12:00
    assert one(ws, "T1", "first_reply")["due_at"] == "2025-03-03T12:00:00Z"
    load(ws, "T1 3/08:45 priority agent A1 priority=urgent")
    refresh(ws, "3/08:50")
    # urgent: 1 h from creation -> due 09:00, 50 min elapsed
    t = one(ws, "T1", "first_reply")
    assert (t["priority"], t["target_s"], t["due_at"], t["elapsed_s"]) == ("urgent", H, "2025-03-03T09:00:00Z", 50 * 60.0)


@pytest.mark.engines(opt_in=True)
def test_flat_tickets_get_first_reply_and_resolution_targets(ws):
    policies(ws, UPDATES)
    path = ws.path / "tickets.csv"
    path.write_text(
        "ticket_id,created_at,priority,first_reply_at,solved_at\n"
        "F1,2025-03-03T08:00:00Z,normal,2025-03-03T09:30:00Z,2025-03-03T17:00:00Z\n"
        "F2,2025-03-03T08:00:00Z,normal,,\n", encoding="utf-8")
    assert ws.import_file("tickets", path).quarantined == 0
    refresh(ws, "3/12:00")
    # F1: first reply 1.5 h of 2 -> achieved; resolution 9 h of 8 -> breached at 16:00
    assert brief(ws, "F1", "first_reply")[:4] == ("achieved", "2025-03-03T10:00:00Z", "2025-03-03T09:30:00Z", 1.5 * H)
    assert brief(ws, "F1", "total_resolution")[0:2] == ("breached", "2025-03-03T16:00:00Z")
    # F1 requester wait: new from 08:00 to the solve at 17:00 (no other status known) = 9 h > 3 h
    assert brief(ws, "F1", "requester_wait")[3] == 9 * H
    # F1's single reply opens an update cycle that the solve completes: 09:30 -> 17:00 = 7.5 h > 2 h
    assert brief(ws, "F1", "periodic_update")[:4] == (
        "breached", "2025-03-03T11:30:00Z", "2025-03-03T17:00:00Z", 7.5 * H)
    # F2: nothing yet at 12:00: first reply due 10:00 -> breached; resolution due 16:00 -> active
    assert brief(ws, "F2", "first_reply")[0] == "breached"
    assert brief(ws, "F2", "total_resolution")[:2] == ("active", "2025-03-03T16:00:00Z")
