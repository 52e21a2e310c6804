"""Business-hours SLA targets worked by hand, on Mon-Fri 09:00-17:00 schedules.

March 2025: Friday the 7th, Saturday the 8th, Monday the 10th.
"""

from __future__ import annotations

import pytest
from _sla_scenario import brief, load, one, policies, refresh, schedules

H = 3600.0

OFFICE = """
[schedules.default]
timezone = "UTC"
hours = { mon-fri = ["09:00-17:00"] }

[schedules.berlin]
timezone = "Europe/Berlin"
hours = { mon-fri = ["09:00-17:00"] }

[[schedule_rules]]
schedule = "berlin"
when = { team = ["Berlin"] }
"""

BUSINESS = """
[[policy]]
name = "Office hours"
[policy.targets]
first_reply = { normal = "4h", hours = "business" }
total_resolution = { normal = "4h", hours = "calendar" }
"""


@pytest.mark.engines(opt_in=True)
def test_a_4h_business_target_from_friday_16_is_due_monday_12(ws):
    schedules(ws, OFFICE)
    policies(ws, BUSINESS)
    load(ws, "T1 7/16:00 created customer C1 priority=normal")
    refresh(ws, "8/12:00")
    # Friday 16:00-17:00 is 1 business hour; the other 3 run Monday 09:00-12:00: due Monday 12:00.
    # Saturday noon: 1 h elapsed (no business time since Friday 17:00), 3 h left, active
    assert brief(ws, "T1", "first_reply") == ("active", "2025-03-10T12:00:00Z", None, H, 3 * H, None)
    t = one(ws, "T1", "first_reply")
    assert (t["business"], t["schedule"], t["target_s"]) == (True, "default", 4 * H)
    # the calendar-hours target of the same ticket: 16:00 + 4 h = 20:00 Friday, breached by Saturday
    assert brief(ws, "T1", "total_resolution") == (
        "breached", "2025-03-07T20:00:00Z", None, 20 * H, -16 * H, "2025-03-07T20:00:00Z")
    refresh(ws, "10/11:00")
    # Monday 11:00: Friday's hour + Monday 09-11 = 3 h, 1 h left
    assert brief(ws, "T1", "first_reply") == ("active", "2025-03-10T12:00:00Z", None, 3 * H, H, None)
    refresh(ws, "10/12:30")
    # past due: breached at Monday 12:00; 3.5 h + 1 = 4.5 h elapsed
    assert brief(ws, "T1", "first_reply") == (
        "breached", "2025-03-10T12:00:00Z", None, 4.5 * H, -0.5 * H, "2025-03-10T12:00:00Z")


@pytest.mark.engines(opt_in=True)
def test_a_business_target_replied_on_monday_morning_is_achieved(ws):
    schedules(ws, OFFICE)
    policies(ws, BUSINESS)
    load(ws, """
        T1 7/16:00 created customer C1 priority=normal
        T1 10/10:00 message agent A1
    """)
    refresh(ws, "10/13:00")
    # Friday 16-17 + Monday 09-10 = 2 business hours of 4: achieved; the due stays Monday 12:00
    # (projected from the reply: 2 h left after Monday 10:00)
    assert brief(ws, "T1", "first_reply") == (
        "achieved", "2025-03-10T12:00:00Z", "2025-03-10T10:00:00Z", 2 * H, 2 * H, None)


@pytest.mark.engines
def test_the_ticket_schedule_comes_from_the_calendar_rules_and_a_policy_may_name_one(ws):
    schedules(ws, OFFICE)
    policies(ws, """
        [[policy]]
        name = "UTC office"
        schedule = "default"
        conditions = { channel = ["phone"] }
        [policy.targets]
        first_reply = { normal = "2h", hours = "business" }

        [[policy]]
        name = "Own schedule"
        [policy.targets]
        first_reply = { normal = "2h", hours = "business" }
    """)
    load(ws, """
        T1 7/16:00 created customer C1 priority=normal team=Berlin channel=email
        T2 7/16:00 created customer C2 priority=normal team=Berlin channel=phone
    """)
    refresh(ws, "7/16:30")
    # T1: Berlin (UTC+1 in March): 09-17 local = 08:00-16:00 UTC; Friday 16:00 UTC is after hours,
    # so the 2 h run Monday 08:00-10:00 UTC: due Monday 10:00 UTC; nothing elapsed yet
    t1 = one(ws, "T1", "first_reply")
    assert (t1["schedule"], t1["due_at"], t1["elapsed_s"], t1["state"]) == (
        "berlin", "2025-03-10T10:00:00Z", 0.0, "active")
    # T2: the policy names the UTC schedule: Friday 16-17 (1 h) + Monday 09-10: due Monday 10:00 UTC,
    # 0.5 h elapsed at 16:30
    t2 = one(ws, "T2", "first_reply")
    assert (t2["schedule"], t2["due_at"], t2["elapsed_s"], t2["state"]) == (
        "default", "2025-03-10T10:00:00Z", 0.5 * H, "active")


@pytest.mark.engines(opt_in=True)
def test_pending_in_business_hours_pauses_only_the_business_time_it_covers(ws):
    schedules(ws, OFFICE)
    policies(ws, """
        [[policy]]
        name = "Wait"
        [policy.targets]
        requester_wait = { normal = "4h", hours = "business" }
    """)
    load(ws, """
        T1 7/15:00 created customer C1 priority=normal
        T1 7/16:00 pending agent A1
        T1 10/10:00 open customer C1
        T1 10/12:00 solved agent A1
    """)
    refresh(ws, "10/13:00")
    # new Fri 15:00-16:00 = 1 business h; pending Fri 16:00-Mon 10:00 paused; open Mon 10:00-12:00 = 2 h.
    # 3 h of 4: achieved; due projected 1 business h after the solve: Monday 13:00
    assert brief(ws, "T1", "requester_wait") == (
        "achieved", "2025-03-10T13:00:00Z", "2025-03-10T12:00:00Z", 3 * H, H, None)


# DuckDB only: which tickets a schedule change recomputes is the workspace's incremental refresh
# (a refresh on Spark recomputes every ticket, docs/spark.md)
def test_changing_a_schedule_recomputes_only_its_tickets(ws):
    schedules(ws, OFFICE)
    policies(ws, BUSINESS)
    load(ws, """
        T1 7/16:00 created customer C1 priority=normal team=Berlin
        T2 7/16:00 created customer C2 priority=normal
    """)
    refresh(ws, "7/16:30")
    # before: Berlin 09-17 local = 08:00-16:00 UTC, closed at Friday 16:00 UTC: 4 h from Monday 08:00 UTC
    assert one(ws, "T1", "first_reply")["due_at"] == "2025-03-10T12:00:00Z"
    # Berlin now works until 18:00 local (17:00 UTC): only T1 (team Berlin) changes
    before = 'hours = { mon-fri = ["09:00-17:00"] }\n\n[[schedule_rules]]'
    assert before in OFFICE
    schedules(ws, OFFICE.replace(before, 'hours = { mon-fri = ["09:00-18:00"] }\n\n[[schedule_rules]]'))
    assert refresh(ws, "7/16:30") == 1
    # T1: Friday 16-17 UTC = 1 h, then Monday 08:00-11:00 UTC: due Monday 11:00 UTC; 0.5 h elapsed
    assert one(ws, "T1", "first_reply")["due_at"] == "2025-03-10T11:00:00Z"
    assert one(ws, "T1", "first_reply")["elapsed_s"] == 0.5 * H
    # T2 unchanged: Friday 16-17 + Monday 09-12 -> Monday 12:00
    assert one(ws, "T2", "first_reply")["due_at"] == "2025-03-10T12:00:00Z"
    assert refresh(ws, "7/16:30") == 0


@pytest.mark.engines
def test_a_business_target_across_the_spring_dst_change_in_berlin(ws):
    schedules(ws, '[schedules.default]\ntimezone = "Europe/Berlin"\nhours = { mon-fri = ["09:00-17:00"] }\n')
    policies(ws, '[[policy]]\nname = "B"\n[policy.targets]\nfirst_reply = { default = "4h", hours = "business" }\n')
    # Friday 28 March 2025 15:00 UTC = 16:00 CET; clocks go forward on Sunday the 30th
    load(ws, "T1 28/15:00 created customer C1")
    refresh(ws, "29/12:00")
    # 1 h on Friday (16-17 CET); 3 h on Monday 09:00-12:00 CEST = 07:00-10:00 UTC: due Monday 10:00 UTC
    assert brief(ws, "T1", "first_reply") == ("active", "2025-03-31T10:00:00Z", None, H, 3 * H, None)
