"""Speed metrics (speed.yaml, METRICS.md "Speed") on small hand-worked scenarios, read
through `ws.metrics`: every expected value and n is worked out by hand next to its
assert. Medians and p90 interpolate linearly between order statistics (DuckDB's
quantile_cont: the q-quantile of n sorted values sits at position q * (n - 1)).

Scenarios per metric: frt (median, _mean, _p90), frt_first_touch, frt_within_5m and
unanswered: inbox, flat, period. frt_after_handoff: three. next_reply_time and
avg_response_time: three. requester_wait, agent_wait, on_hold_time, agent_work_time:
statuses, reopen, period, flat. first/full_resolution_time: reopen, flat, period. aht:
calls, flat handle times, period, by team. asa, service_level, abandonment_rate: calls,
period, by team.
"""

from __future__ import annotations

import pytest
from pytest import approx

from _ticket_scenario import by, flat, got, load, per_day

pytestmark = pytest.mark.engines  # every scenario on DuckDB and on Spark (tests/_engines.py)

DAY3 = {"start": "2025-03-03", "end": "2025-03-04"}
DAY4 = {"start": "2025-03-04", "end": "2025-03-05"}


# --- first response ------------------------------------------------------------------


@pytest.fixture
def inbox(ws, tmp_path):
    load(ws, tmp_path, """
        T1  3/08:00:00 created customer C1 channel=chat
        T1  3/08:00:10 message bot B1          # a bot's reply: first touch (10 s), not frt
        T1  3/08:01:00 note    agent A1        # a private note does not stop the clock
        T1  3/08:04:00 message agent A1        # frt 240
        T2  3/08:00    created customer C2 channel=email
        T2  3/08:10    message agent A1        # frt 600
        T3  3/08:00    created customer C3 channel=email
        T3  3/08:05    message agent A2        # frt 300, exactly 5 minutes
        T4  3/08:00    created customer C4 channel=email
        T4  3/09:00    message agent A2        # frt 3600
        T5  3/08:00    created agent A3 requester=C5 channel=email   # outbound: no frt at all
        T5  3/08:00    message agent A3
        T5  3/08:30    message customer C5
        T5  3/08:45    message agent A3
        T6  3/08:00:00 created customer C6 channel=chat
        T6  3/08:00:30 message bot B1          # first touch 30 s; no human reply yet
        T6  3/08:20    message customer C6
        T6  3/08:40    note    agent A1        # unanswered (a note is no answer)
        T7  3/08:00    created customer C7 channel=email   # unanswered, nothing happened
        T8  3/08:00:00 created customer C8 channel=chat
        T8  3/08:00:20 message bot B1          # first touch 20 s
        T8  3/08:02:00 solved  bot B1          # solved by the bot alone: not unanswered
        T9  3/08:00:00 created customer C9 channel=email
        T9  3/08:00:30 message agent A1        # would be frt 30, but merged away: left out
        T9  3/08:01:00 merged  system
        T10 3/08:00    created customer C10 channel=email
        T10 3/08:05    merged  system          # unanswered but merged away: left out
    """)
    return ws


def test_frt_inbox_bots_notes_outbound_unanswered_and_merged(inbox):
    ws = inbox
    # frt over customer tickets with a human public reply: T1 240, T2 600, T3 300, T4 3600
    # (T5 outbound, T6 T7 unanswered, T8 bot only, T9 merged); sorted 240 300 600 3600
    assert got(ws, "frt") == (approx(450.0), 4)  # even-sized set: (300 + 600) / 2
    assert got(ws, "frt_median") == (approx(450.0), 4)
    assert got(ws, "frt_mean") == (approx(1185.0), 4)  # (240 + 300 + 600 + 3600) / 4 = 4740 / 4
    assert got(ws, "frt_p90") == (approx(2700.0), 4)  # position 0.9 * 3 = 2.7: 600 + 0.7 * (3600 - 600)
    assert got(ws, "frt_within_5m") == (approx(50.0), 4)  # 240 and 300 (<= 300 s): 2 / 4
    # by channel: chat {240}; email {600, 300, 3600} -> median 600
    assert by(ws, "frt", "channel") == {"chat": (approx(240.0), 1), "email": (approx(600.0), 3)}


def test_frt_first_touch_inbox_counts_bots(inbox):
    ws = inbox
    # first public company reply, bot included, customer tickets: T1 10, T2 600, T3 300,
    # T4 3600, T6 30, T8 20 (T5 outbound, T7 none, T9 merged); sorted 10 20 30 300 600 3600
    assert got(ws, "frt_first_touch") == (approx(165.0), 6)  # (30 + 300) / 2
    assert got(ws, "frt_first_touch_mean") == (approx(760.0), 6)  # 4560 / 6
    assert got(ws, "frt_first_touch_p90") == (approx(2100.0), 6)  # position 4.5: 600 + 0.5 * 3000


def test_unanswered_inbox(inbox):
    # customer tickets, not solved, no public human reply: T6 (bot and note only), T7;
    # not T5 (outbound), T8 (the bot solved it), T10 (merged)
    assert got(inbox, "unanswered") == (2.0, 2)
    # volume alongside: T1..T8; the merged T9 and T10 are left out
    assert got(inbox, "tickets") == (8.0, 8)


def test_frt_flat_tickets_odd_set(ws, tmp_path):
    flat(ws, tmp_path, """
        ticket_id,created_at,status,created_by,agent_type,first_reply_at,requester_id
        F1,3/08:00,open,,,3/08:01,C1
        F2,3/08:00,open,,,3/08:02,C2
        F3,3/08:00,open,,,3/08:04,C3
        F4,3/08:00,open,,,3/08:08,C4
        F5,3/08:00,open,,,3/08:16,C5
        F6,3/08:00,open,,bot,3/08:00:30,C6
        F7,3/08:00,open,agent,,3/08:00,C7
        F8,3/08:00,deleted,,,3/08:00:10,C8
        F9,3/08:00,spam,,,,C9
        F10,3/08:00,pending,,,,C10
    """)
    # human first replies: 60, 120, 240, 480, 960 (F6 bot, F7 outbound, F8 deleted)
    assert got(ws, "frt") == (approx(240.0), 5)  # the middle one
    assert got(ws, "frt_mean") == (approx(372.0), 5)  # 1860 / 5
    assert got(ws, "frt_p90") == (approx(768.0), 5)  # position 0.9 * 4 = 3.6: 480 + 0.6 * 480
    assert got(ws, "frt_within_5m") == (approx(60.0), 5)  # 60, 120, 240: 3 / 5
    # first touch adds F6's bot reply (30): 30 60 120 240 480 960
    assert got(ws, "frt_first_touch") == (approx(180.0), 6)  # (120 + 240) / 2
    assert got(ws, "frt_first_touch_mean") == (approx(315.0), 6)  # 1890 / 6
    # unanswered: F6 (only a bot replied) and F10; F9 is spam, F7 outbound
    assert got(ws, "unanswered") == (2.0, 2)


def test_frt_is_placed_by_creation(ws, tmp_path):
    load(ws, tmp_path, """
        P1 2/23:00 created customer C1
        P1 3/01:00 message agent A1      # 7200, created on the 2nd
        P2 3/10:00 created customer C2
        P2 4/10:00 message agent A1      # 86400, created on the 3rd, answered on the 4th
        P3 3/12:00 created customer C3
        P3 3/12:03 message agent A1      # 180
        P4 3/23:59 created customer C4   # unanswered, created on the 3rd
        P5 4/00:00 created customer C5
        P5 4/00:01 message agent A1      # 60, created on the 4th (the end is exclusive)
    """)
    # created on the 3rd: P2 86400, P3 180
    assert got(ws, "frt", **DAY3) == (approx(43290.0), 2)  # (180 + 86400) / 2
    assert got(ws, "frt_mean", **DAY3) == (approx(43290.0), 2)
    assert got(ws, "frt_p90", **DAY3) == (approx(77778.0), 2)  # 180 + 0.9 * 86220
    assert got(ws, "frt_within_5m", **DAY3) == (approx(50.0), 2)  # 180 only
    assert got(ws, "frt_first_touch", **DAY3) == (approx(43290.0), 2)  # no bots: same as frt
    assert got(ws, "unanswered", **DAY3) == (1.0, 1)  # P4
    assert per_day(ws, "frt") == {"2025-03-02": (approx(7200.0), 1), "2025-03-03": (approx(43290.0), 2),
                                  "2025-03-04": (approx(60.0), 1)}
    assert per_day(ws, "unanswered") == {"2025-03-03": (1.0, 1)}


# --- after a hand-off ---------------------------------------------------------------


def test_frt_after_handoff_restarts_at_the_handoff(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00:00 created customer C1 channel=chat
        T1 3/08:00:05 message bot B1
        T1 3/08:01:00 handoff bot B1
        T1 3/08:02:00 note    agent A1       # a private note is no reply
        T1 3/08:05:00 message agent A1       # 240 after the hand-off
        T2 3/08:00:00 created customer C2 channel=chat
        T2 3/08:00:05 message bot B1
        T2 3/08:02:00 handoff bot B1
        T2 3/08:03:00 message agent A1       # 60
        T3 3/08:00:00 created customer C3 channel=chat
        T3 3/08:00:30 message agent A2       # a human reply before the hand-off does not count
        T3 3/08:01:00 message bot B1
        T3 3/08:01:00 handoff bot B1
        T3 3/08:03:00 message agent A2       # 120 after the hand-off
        T4 3/08:00:00 created customer C4 channel=chat
        T4 3/08:00:05 message bot B1
        T4 3/08:01:00 handoff bot B1         # nobody replied yet: undefined, not counted
    """)
    # 60, 120, 240
    assert got(ws, "frt_after_handoff") == (approx(120.0), 3)
    assert got(ws, "frt_after_handoff_mean") == (approx(140.0), 3)  # 420 / 3
    assert got(ws, "frt_after_handoff_p90") == (approx(216.0), 3)  # position 1.8: 120 + 0.8 * 120


def test_frt_after_handoff_even_set_and_merged(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00:00 created customer C1 channel=chat
        T1 3/08:00:05 message bot B1
        T1 3/08:00:30 handoff bot B1
        T1 3/08:01:00 message agent A1       # 30
        T2 3/08:00:00 created customer C2 channel=chat
        T2 3/08:00:05 message bot B1
        T2 3/08:01:00 handoff bot B1
        T2 3/08:02:30 message agent A1       # 90
        T3 3/08:00:00 created customer C3 channel=chat
        T3 3/08:00:05 message bot B1
        T3 3/08:01:00 handoff bot B1
        T3 3/08:20:00 message agent A1       # 1140, but merged away: left out
        T3 3/08:30:00 merged  system
    """)
    assert got(ws, "frt_after_handoff") == (approx(60.0), 2)  # (30 + 90) / 2
    assert got(ws, "frt_after_handoff_mean") == (approx(60.0), 2)
    assert got(ws, "frt_after_handoff_p90") == (approx(84.0), 2)  # 30 + 0.9 * 60


def test_frt_after_handoff_is_placed_by_creation(ws, tmp_path):
    load(ws, tmp_path, """
        T1 2/23:50    created customer C1 channel=chat
        T1 2/23:50:05 message bot B1
        T1 3/00:10    handoff bot B1
        T1 3/00:20    message agent A1       # 600, created on the 2nd
        T2 3/09:00    created customer C2 channel=chat
        T2 3/09:00:05 message bot B1
        T2 3/09:01    handoff bot B1
        T2 3/09:31    message agent A1       # 1800
        T3 3/23:00    created customer C3 channel=chat
        T3 3/23:00:05 message bot B1
        T3 3/23:30    handoff bot B1
        T3 4/00:30    message agent A1       # 3600, created on the 3rd
    """)
    assert got(ws, "frt_after_handoff", **DAY3) == (approx(2700.0), 2)  # (1800 + 3600) / 2
    assert per_day(ws, "frt_after_handoff") == {"2025-03-02": (approx(600.0), 1), "2025-03-03": (approx(2700.0), 2)}


# --- next reply and average response --------------------------------------------------


def test_next_reply_and_average_response_across_a_reopen(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00 created customer C1
        T1 3/09:00 message agent A1       # first reply: seq 1, 3600 (frt's, not a next reply)
        T1 3/10:00 message customer C1
        T1 3/10:30 message customer C1
        T1 3/10:45 note    agent A1
        T1 3/11:00 message agent A1       # from the oldest unanswered (10:00): 3600
        T1 3/11:05 message agent A1       # answers nothing new
        T1 3/12:00 solved  agent A1
        T1 4/08:00 message customer C1    # reopen
        T1 4/08:00 open    system
        T1 4/08:15 message agent A1       # 900
        T1 4/09:00 solved  agent A1
        T2 3/08:00 created customer C2
        T2 3/08:10 message agent A2       # seq 1: 600
        T2 3/08:20 message customer C2
        T2 3/08:22 message agent A2       # 120
        T2 3/08:30 message customer C2
        T2 3/08:31 message bot B1         # a bot's message is no agent reply
        T2 3/08:40 message agent A2       # 600
    """)
    # next replies: 3600, 900, 120, 600; sorted 120 600 900 3600
    assert got(ws, "next_reply_time") == (approx(750.0), 4)  # (600 + 900) / 2
    assert got(ws, "next_reply_time_mean") == (approx(1305.0), 4)  # 5220 / 4
    assert got(ws, "next_reply_time_p90") == (approx(2790.0), 4)  # position 2.7: 900 + 0.7 * 2700
    # per ticket: T1 (3600 + 3600 + 900) / 3 = 2700; T2 (600 + 120 + 600) / 3 = 440;
    # over tickets (2700 + 440) / 2
    assert got(ws, "avg_response_time") == (approx(1570.0), 2)


def test_next_reply_unanswered_follow_up_and_waits_before_the_first_reply(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00    created customer C1
        T1 3/08:05    message agent A1       # seq 1: 300
        T1 3/08:10    message customer C1    # never answered: no interval yet
        T2 3/08:00    created customer C2
        T2 3/08:01    message agent A1       # 60
        T2 3/08:02    message customer C2
        T2 3/08:12    message agent A1       # 600
        T2 3/08:20    message customer C2
        T2 3/08:25    message customer C2
        T2 3/08:50    message agent A1       # 1800, from the oldest unanswered (08:20)
        T3 3/08:00    created customer C3    # merged away: left out
        T3 3/08:01    message agent A1
        T3 3/08:02    message customer C3
        T3 3/08:02:05 message agent A1
        T3 3/08:03    merged  system
        T4 3/08:00    created customer C4
        T4 3/08:10    message customer C4    # still the first wait
        T4 3/08:40    message agent A2       # seq 1: 2400; no next reply
    """)
    # next replies: T2's 600 and 1800
    assert got(ws, "next_reply_time") == (approx(1200.0), 2)  # (600 + 1800) / 2
    assert got(ws, "next_reply_time_mean") == (approx(1200.0), 2)
    assert got(ws, "next_reply_time_p90") == (approx(1680.0), 2)  # 600 + 0.9 * 1200
    # per ticket: T1 300; T2 (60 + 600 + 1800) / 3 = 820; T4 2400; (300 + 820 + 2400) / 3
    assert got(ws, "avg_response_time") == (approx(3520 / 3), 3)


def test_next_reply_is_placed_by_the_reply(ws, tmp_path):
    load(ws, tmp_path, """
        T1 2/20:00 created customer C1
        T1 2/20:10 message agent A1      # seq 1: 600 (the 2nd)
        T1 2/21:00 message customer C1
        T1 2/21:20 message agent A1      # 1200 (the 2nd)
        T2 3/09:00 created customer C2
        T2 3/09:30 message agent A1      # seq 1: 1800
        T2 3/10:00 message customer C2
        T2 3/10:05 message agent A1      # 300
        T2 3/11:00 message customer C2
        T2 3/11:10 message agent A1      # 600
        T3 3/22:00 created customer C3
        T3 3/22:30 message agent A1      # seq 1: 1800
        T3 3/23:00 message customer C3
        T3 4/01:00 message agent A1      # 7200, replied on the 4th
    """)
    assert got(ws, "next_reply_time", start="2025-03-02", end="2025-03-03") == (approx(1200.0), 1)
    assert got(ws, "next_reply_time", **DAY3) == (approx(450.0), 2)  # T2: (300 + 600) / 2
    assert got(ws, "next_reply_time", **DAY4) == (approx(7200.0), 1)  # T3's, created on the 3rd
    # per ticket: T1 (600 + 1200) / 2 = 900, T2 (1800 + 300 + 600) / 3 = 900,
    # T3 (1800 + 7200) / 2 = 4500; over tickets 6300 / 3
    assert got(ws, "avg_response_time") == (approx(2100.0), 3)
    # the 2nd holds T1 alone (all of its replies)
    assert got(ws, "avg_response_time", start="2025-03-02", end="2025-03-03") == (approx(900.0), 1)


# --- time in status --------------------------------------------------------------------


def test_time_in_status_pending_and_on_hold(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00 created customer C1   # new 600
        T1 3/08:10 open    agent A1      # open 3000
        T1 3/09:00 pending agent A1      # pending 7200
        T1 3/11:00 open    customer C1   # open 1800
        T1 3/11:30 on-hold agent A1      # on-hold 7200
        T1 3/13:30 open    agent A1      # open 1800
        T1 3/14:00 solved  agent A1
        T1 3/15:00 closed  system        # time solved does not count
        T2 3/08:00 created customer C2   # new 1800
        T2 3/08:30 open    agent A1      # open 1800
        T2 3/09:00 solved  agent A1
        T3 3/08:00 created customer C3   # new 1200
        T3 3/08:20 pending agent A1      # pending 7200
        T3 3/10:20 solved  system
        T4 3/08:00 created customer C4
        T4 3/09:00 pending agent A1      # never solved: left out
    """)
    # requester wait (new + open + on-hold): T1 600 + 3000 + 1800 + 7200 + 1800 = 14400,
    # T2 3600, T3 1200; sorted 1200 3600 14400
    assert got(ws, "requester_wait") == (approx(3600.0), 3)
    assert got(ws, "requester_wait_mean") == (approx(6400.0), 3)  # 19200 / 3
    assert got(ws, "requester_wait_p90") == (approx(12240.0), 3)  # position 1.8: 3600 + 0.8 * 10800
    # agent wait (pending): T1 7200, T2 0, T3 7200
    assert got(ws, "agent_wait") == (approx(7200.0), 3)
    assert got(ws, "agent_wait_mean") == (approx(4800.0), 3)
    # on hold: T1 7200, T2 0, T3 0
    assert got(ws, "on_hold_time") == (approx(0.0), 3)
    assert got(ws, "on_hold_time_mean") == (approx(2400.0), 3)
    # agent work (new + open): T1 600 + 3000 + 1800 + 1800 = 7200, T2 3600, T3 1200
    assert got(ws, "agent_work_time") == (approx(3600.0), 3)
    assert got(ws, "agent_work_time_mean") == (approx(4000.0), 3)  # 12000 / 3


def test_time_in_status_across_a_reopen(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00 created customer C1   # new 7200
        T1 3/10:00 solved  agent A1      # solved overnight: not counted
        T1 4/08:00 message customer C1
        T1 4/08:00 open    system        # open 3600
        T1 4/09:00 pending agent A1      # pending 3600
        T1 4/10:00 open    customer C1   # open 7200
        T1 4/12:00 solved  agent A1
        T2 3/08:00 created customer C2
        T2 3/09:00 solved  agent A1
        T2 3/10:00 open    customer C2   # reopened and still open: not solved now, left out
        T3 3/08:00 created customer C3   # new 1800
        T3 3/08:30 on-hold agent A1      # on-hold 7200
        T3 3/10:30 open    agent A1      # open 1800
        T3 3/11:00 solved  agent A1
    """)
    # T1: requester 7200 + 3600 + 7200 = 18000, pending 3600, on-hold 0, work 18000
    # T3: requester 1800 + 7200 + 1800 = 10800, pending 0, on-hold 7200, work 3600
    assert got(ws, "requester_wait") == (approx(14400.0), 2)  # (10800 + 18000) / 2
    assert got(ws, "agent_wait") == (approx(1800.0), 2)  # (0 + 3600) / 2
    assert got(ws, "on_hold_time") == (approx(3600.0), 2)  # (0 + 7200) / 2
    assert got(ws, "agent_work_time") == (approx(10800.0), 2)  # (3600 + 18000) / 2


def test_status_and_resolution_times_are_placed_by_the_latest_solve(ws, tmp_path):
    load(ws, tmp_path, """
        T1 1/08:00 created customer C1
        T1 3/08:00 solved  agent A1      # 48 h in new: 172800, solved on the 3rd
        T2 3/08:00 created customer C2   # new 3600
        T2 3/09:00 solved  agent A1      # first solve on the 3rd
        T2 3/10:00 open    customer C2   # open 86400
        T2 4/10:00 solved  agent A1      # latest solve on the 4th: full 93600
        T3 3/12:00 created customer C3   # new 1800
        T3 3/12:30 pending agent A1      # pending 1800
        T3 3/13:00 solved  customer C3   # 3600
    """)
    # the 3rd: T1 and T3 (T2's latest solve is on the 4th)
    assert got(ws, "requester_wait", **DAY3) == (approx(87300.0), 2)  # (172800 + 1800) / 2
    assert got(ws, "agent_wait", **DAY3) == (approx(900.0), 2)  # (0 + 1800) / 2
    assert got(ws, "on_hold_time", **DAY3) == (approx(0.0), 2)
    assert got(ws, "agent_work_time", **DAY3) == (approx(87300.0), 2)
    assert got(ws, "first_resolution_time", **DAY3) == (approx(88200.0), 2)  # (172800 + 3600) / 2
    assert got(ws, "full_resolution_time", **DAY3) == (approx(88200.0), 2)
    # the 4th: T2 alone: requester 3600 + 86400 = 90000
    assert got(ws, "requester_wait", **DAY4) == (approx(90000.0), 1)
    assert got(ws, "agent_wait", **DAY4) == (approx(0.0), 1)
    assert got(ws, "on_hold_time", **DAY4) == (approx(0.0), 1)
    assert got(ws, "agent_work_time", **DAY4) == (approx(90000.0), 1)
    assert got(ws, "first_resolution_time", **DAY4) == (approx(3600.0), 1)
    assert got(ws, "full_resolution_time", **DAY4) == (approx(93600.0), 1)
    assert per_day(ws, "full_resolution_time") == {"2025-03-03": (approx(88200.0), 2),
                                                   "2025-03-04": (approx(93600.0), 1)}


# --- resolution ------------------------------------------------------------------------


def test_first_and_full_resolution_with_reopens(ws, tmp_path):
    load(ws, tmp_path, """
        T1 3/08:00 created customer C1
        T1 3/10:00 solved  agent A1      # first 7200
        T1 4/08:00 message customer C1
        T1 4/08:00 open    system
        T1 4/12:00 solved  agent A1      # full 100800
        T2 3/08:00 created customer C2
        T2 3/08:30 solved  agent A1      # 1800 and 1800
        T3 3/08:00 created customer C3
        T3 3/09:00 solved  agent A1      # first 3600
        T3 3/11:00 open    customer C3   # reopened, still open: no full resolution
        T4 3/08:00 created customer C4
        T4 3/09:00 open    agent A1      # never solved: neither
        T5 3/08:00 created customer C5
        T5 3/12:00 solved  agent A1      # 14400 and 14400
        T5 3/20:00 closed  system        # closing is no new solve
        T6 3/08:00 created customer C6
        T6 3/08:10 solved  agent A1      # merged away: left out
        T6 3/08:20 merged  system
    """)
    # first: 7200, 1800, 3600, 14400; sorted 1800 3600 7200 14400
    assert got(ws, "first_resolution_time") == (approx(5400.0), 4)  # (3600 + 7200) / 2
    assert got(ws, "first_resolution_time_mean") == (approx(6750.0), 4)  # 27000 / 4
    assert got(ws, "first_resolution_time_p90") == (approx(12240.0), 4)  # position 2.7: 7200 + 0.7 * 7200
    # full: 100800, 1800, 14400; sorted 1800 14400 100800
    assert got(ws, "full_resolution_time") == (approx(14400.0), 3)
    assert got(ws, "full_resolution_time_mean") == (approx(39000.0), 3)  # 117000 / 3
    assert got(ws, "full_resolution_time_p90") == (approx(83520.0), 3)  # position 1.8: 14400 + 0.8 * 86400


def test_resolution_and_status_times_from_flat_tickets(ws, tmp_path):
    flat(ws, tmp_path, """
        ticket_id,created_at,status,solved_at,reopens
        F1,3/08:00,solved,3/09:00,
        F2,3/08:00,closed,3/10:00,
        F3,3/08:00,open,,
        F4,3/08:00,deleted,3/08:20,
        F5,3/08:00,open,3/11:00,1
    """)
    # first solves: F1 3600, F2 7200, F5 10800 (reopened since, still counts); F4 deleted
    assert got(ws, "first_resolution_time") == (approx(7200.0), 3)
    assert got(ws, "first_resolution_time_mean") == (approx(7200.0), 3)
    # solved now: F1 3600, F2 7200
    assert got(ws, "full_resolution_time") == (approx(5400.0), 2)
    # a flat ticket knows no status but new until its solve: all of it is requester wait and
    # agent work, none pending or on hold
    assert got(ws, "requester_wait") == (approx(5400.0), 2)
    assert got(ws, "agent_work_time") == (approx(5400.0), 2)
    assert got(ws, "agent_wait") == (approx(0.0), 2)
    assert got(ws, "on_hold_time") == (approx(0.0), 2)


# --- calls -----------------------------------------------------------------------------


def test_calls_service_level_at_20_s_and_short_abandons(ws, tmp_path):
    load(ws, tmp_path, """
        C1 3/09:00:00 created customer K1 channel=phone
        C1 3/09:00:00 call_queued system
        C1 3/09:00:20 call_answered agent A1         # exactly 20 s: within the service level
        C1 3/09:02:20 call_ended agent A1 dur=120
        C2 3/09:00:00 created customer K2 channel=phone
        C2 3/09:00:00 call_queued system
        C2 3/09:00:21 call_answered agent A1         # 21 s: missed
        C2 3/09:03:21 call_ended agent A1 dur=180
        C2 3/09:04:21 wrap_up_end agent A1 dur=60
        C3 3/09:00:00 created customer K3 channel=phone
        C3 3/09:00:00 call_queued system
        C3 3/09:00:05 call_answered agent A2
        C3 3/09:02:00 hold_start agent A2
        C3 3/09:02:30 hold_end agent A2              # 30 s on hold, from the pair
        C3 3/09:04:35 call_ended agent A2 dur=240
        C4 3/09:00:00 created customer K4 channel=phone
        C4 3/09:00:00 call_queued system
        C4 3/09:00:03 call_abandoned customer K4     # short abandon (< 5 s): left out
        C5 3/09:00:00 created customer K5 channel=phone
        C5 3/09:00:00 call_queued system
        C5 3/09:00:05 call_abandoned customer K5     # exactly 5 s: not short, abandoned
        C6 3/09:00:00 created customer K6 channel=phone
        C6 3/09:00:00 call_queued system
        C6 3/09:00:40 call_abandoned customer K6     # abandoned
        C7 3/09:00:00 created customer K7 channel=email
        C7 3/09:30:00 message agent A1               # no call
    """)
    # answered: 20, 21, 5
    assert got(ws, "asa") == (approx(46 / 3), 3)  # a mean by name
    assert got(ws, "asa_median") == (approx(20.0), 3)
    assert got(ws, "asa_p90") == (approx(20.8), 3)  # sorted 5 20 21, position 1.8: 20 + 0.8 * 1
    # offered: C1 C2 C3 C5 C6 (C4 short); within 20 s: C1, C3
    assert got(ws, "service_level") == (approx(40.0), 5)
    # abandoned of those offered: C5, C6
    assert got(ws, "abandonment_rate") == (approx(40.0), 5)
    # handled: C1 120; C2 180 + 60 = 240; C3 240 + 30 = 270
    assert got(ws, "aht") == (approx(210.0), 3)  # 630 / 3
    assert got(ws, "aht_median") == (approx(240.0), 3)
    assert got(ws, "aht_p90") == (approx(264.0), 3)  # position 1.8: 240 + 0.8 * 30


def test_aht_from_reported_handle_times(ws, tmp_path):
    flat(ws, tmp_path, """
        ticket_id,created_at,channel,status,handle_seconds
        F1,3/08:00,email,open,600
        F2,3/09:00,chat,open,300
        F3,3/10:00,email,open,0
        F4,3/11:00,chat,open,
        F5,3/12:00,email,deleted,900
        F6,3/13:00,chat,open,420
    """)
    # handled: F1 600, F2 300, F6 420 (F3 no handling, F4 none reported, F5 deleted)
    assert got(ws, "aht") == (approx(440.0), 3)  # 1320 / 3
    assert got(ws, "aht_median") == (approx(420.0), 3)
    assert by(ws, "aht", "channel") == {"email": (approx(600.0), 1), "chat": (approx(360.0), 2)}
    # no calls: nothing offered, undefined rather than 0
    assert got(ws, "asa") == (None, 0)
    assert got(ws, "service_level") == (None, 0)


def test_calls_are_placed_by_queueing(ws, tmp_path):
    load(ws, tmp_path, """
        D1 2/23:59:50 created customer K1 channel=phone   # created on the 2nd
        D1 3/00:00:05 call_queued system                  # queued on the 3rd
        D1 3/00:00:15 call_answered agent A1              # 10 s
        D1 3/00:05:15 call_ended agent A1 dur=300
        D2 3/10:00:00 created customer K2 channel=phone
        D2 3/10:00:00 call_queued system
        D2 3/10:00:30 call_answered agent A1              # 30 s: missed
        D2 3/10:01:10 call_ended agent A1 dur=40
        D3 3/11:00:00 created customer K3 channel=phone
        D3 3/11:00:00 call_queued system
        D3 3/11:00:10 call_answered agent A1              # 10 s
        D3 3/11:03:30 call_ended agent A1 dur=200
        D4 3/12:00:00 created customer K4 channel=phone
        D4 3/12:00:00 call_queued system
        D4 3/12:00:04.5 call_abandoned customer K4        # 4.5 s: short
        D5 3/13:00:00 created customer K5 channel=phone
        D5 3/13:00:00 call_queued system
        D5 3/13:01:00 call_abandoned customer K5          # abandoned after 60 s
        D6 4/00:00:00 created customer K6 channel=phone
        D6 4/00:00:00 call_queued system
        D6 4/00:00:02 call_answered agent A1              # 2 s, on the 4th
        D6 4/00:01:02 call_ended agent A1 dur=60
    """)
    # queued on the 3rd: D1 D2 D3 D4 D5; answered 10, 30, 10
    assert got(ws, "asa", **DAY3) == (approx(50 / 3), 3)
    assert got(ws, "asa_median", **DAY3) == (approx(10.0), 3)
    # offered D1 D2 D3 D5 (D4 short): within 20 s D1, D3; abandoned D5
    assert got(ws, "service_level", **DAY3) == (approx(50.0), 4)
    assert got(ws, "abandonment_rate", **DAY3) == (approx(25.0), 4)
    # handling by when the call was queued (not the ticket's creation): D1 300, D2 40, D3 200
    assert got(ws, "aht", **DAY3) == (approx(180.0), 3)
    # the 4th: D6
    assert got(ws, "asa", **DAY4) == (approx(2.0), 1)
    assert got(ws, "service_level", **DAY4) == (approx(100.0), 1)
    assert got(ws, "abandonment_rate", **DAY4) == (approx(0.0), 1)
    assert got(ws, "aht", **DAY4) == (approx(60.0), 1)


def test_calls_by_team(ws, tmp_path):
    load(ws, tmp_path, """
        A1 3/09:00:00 created customer K1 channel=phone team=Tier1
        A1 3/09:00:00 call_queued system
        A1 3/09:00:10 call_answered agent X1         # 10 s
        A1 3/09:01:50 call_ended agent X1 dur=100
        A2 3/09:00:00 created customer K2 channel=phone team=Tier1
        A2 3/09:00:00 call_queued system
        A2 3/09:00:30 call_abandoned customer K2     # abandoned after 30 s
        A3 3/09:00:00 created customer K3 channel=phone team=Tier1
        A3 3/09:00:00 call_queued system
        A3 3/09:00:02 call_abandoned customer K3     # short
        B1 3/09:00:00 created customer K4 channel=phone team=Tier2
        B1 3/09:00:00 call_queued system
        B1 3/09:00:25 call_answered agent X2         # 25 s
        B1 3/09:03:45 call_ended agent X2 dur=200
        B2 3/09:00:00 created customer K5 channel=phone team=Tier2
        B2 3/09:00:00 call_queued system
        B2 3/09:00:15 call_answered agent X2         # 15 s
        B2 3/09:05:15 call_ended agent X2 dur=300
        B2 3/09:06:55 wrap_up_end agent X2 dur=100
        B3 3/09:00:00 created customer K6 channel=phone team=Tier2
        B3 3/09:00:00 call_queued system
        B3 3/09:00:12 call_abandoned customer K6     # abandoned after 12 s
    """)
    # Tier1 offered A1, A2 (A3 short): 1 answered in time, 1 abandoned
    # Tier2 offered B1 B2 B3: in time B2 only, abandoned B3
    assert by(ws, "service_level", "team") == {"Tier1": (approx(50.0), 2), "Tier2": (approx(100 / 3), 3)}
    assert by(ws, "abandonment_rate", "team") == {"Tier1": (approx(50.0), 2), "Tier2": (approx(100 / 3), 3)}
    assert by(ws, "asa", "team") == {"Tier1": (approx(10.0), 1), "Tier2": (approx(20.0), 2)}  # (25 + 15) / 2
    # handle: Tier1 100; Tier2 200 and 300 + 100 = 400 -> 300
    assert by(ws, "aht", "team") == {"Tier1": (approx(100.0), 1), "Tier2": (approx(300.0), 2)}
    # overall: offered 5, in time A1 B2, abandoned A2 B3
    assert got(ws, "service_level") == (approx(40.0), 5)
    assert got(ws, "abandonment_rate") == (approx(40.0), 5)


# --- calls, not tickets; chats as well as calls ------------------------------------------

CALL_BACK = """
    M1 3/09:00:00 created customer K1 channel=phone
    M1 3/09:00:00 call_queued system
    M1 3/09:00:10 call_answered agent A1        # first call: 10 s to answer
    M1 3/09:05:10 call_ended agent A1 dur=300
    M1 3/10:00:00 call_queued system            # the customer calls back on the same ticket
    M1 3/10:00:40 call_answered agent A2        # second call: 40 s to answer
    M1 3/10:03:40 call_ended agent A2 dur=200
"""


def test_aht_counts_each_handled_call(ws, tmp_path):
    load(ws, tmp_path, CALL_BACK)
    assert got(ws, "aht") == (approx(250.0), 2)


def test_asa_and_service_level_count_each_call(ws, tmp_path):
    load(ws, tmp_path, CALL_BACK)
    assert got(ws, "asa") == (approx(25.0), 2)
    assert got(ws, "service_level") == (approx(50.0), 2)


CHATS = """
    H1 3/09:00:00 created customer K1 channel=chat
    H1 3/09:00:15 message agent A1               # answered in 15 s
    H1 3/09:10:00 solved  agent A1
    H2 3/09:00:00 created customer K2 channel=chat
    H2 3/09:00:30 message customer K2
    H2 3/09:02:00 closed  system                 # the customer left before any reply
"""


def test_abandonment_rate_counts_chats_left_before_the_first_reply(ws, tmp_path):
    load(ws, tmp_path, CHATS)
    assert got(ws, "abandonment_rate") == (approx(50.0), 2)


def test_service_level_counts_chats(ws, tmp_path):
    load(ws, tmp_path, CHATS)
    assert got(ws, "service_level") == (approx(50.0), 2)


def test_chats_with_bots_are_offered_at_the_hand_off(ws, tmp_path):
    load(ws, tmp_path, """
        J1 3/09:00:00 created customer K1 channel=chat
        J1 3/09:00:01 message bot B1
        J1 3/09:05:00 handoff bot B1                 # offered to agents at 09:05:00
        J1 3/09:05:12 message agent A1               # answered 12 s after the hand-off
        J1 3/09:20:00 solved agent A1
        J2 3/09:00:00 created customer K2 channel=chat
        J2 3/09:00:01 message bot B1
        J2 3/09:03:00 solved bot B1                  # bot-contained: never offered to agents
        J3 3/09:00:00 created customer K3 channel=chat
        J3 3/09:00:03 closed system                  # left after 3 s: a short abandon
        J4 3/09:00:00 created customer K4 channel=chat
        J4 3/09:00:50 message agent A2               # answered after 50 s
        J4 3/09:10:00 solved agent A2
        J5 3/09:00:00 created customer K5 channel=chat
        J5 3/09:00:40 message customer K5            # still waiting: neither answered nor left
        J6 3/09:00:00 created agent A1 channel=chat  # outbound: not offered
        J6 3/09:00:00 message agent A1
    """)
    # offered and settled: J1 (12 s), J4 (50 s); J2 never offered, J3 short, J5 waiting, J6 outbound
    assert got(ws, "service_level") == (approx(50.0), 2)
    assert got(ws, "abandonment_rate") == (approx(0.0), 2)
    # asa is for calls only
    assert got(ws, "asa") == (None, 0)


def test_holds_and_handling_belong_to_their_call(ws, tmp_path):
    load(ws, tmp_path, """
        P1 3/09:00:00 created customer K1 channel=phone team=T
        P1 3/09:00:00 call_queued system
        P1 3/09:00:05 call_answered agent A1
        P1 3/09:01:00 hold_start agent A1
        P1 3/09:01:30 hold_end agent A1              # 30 s on hold in call 1
        P1 3/09:04:05 call_ended agent A1 dur=240
        P1 3/09:05:05 wrap_up_end agent A1 dur=60    # call 1: 240 + 30 + 60 = 330
        P1 3/11:00:00 call_queued system
        P1 3/11:00:03 call_abandoned customer K1     # call 2: a short abandon, no handling
        P1 3/12:00:00 call_queued system
        P1 3/12:00:25 call_answered agent A2         # call 3: 25 s
        P1 3/12:02:00 hold_end agent A2 dur=45       # reported hold of 45 s
        P1 3/12:03:25 call_ended agent A2 dur=120    # call 3: 120 + 45 = 165
    """)
    # handled calls: 330 and 165 -> mean 247.5; by the agent who answered each
    assert got(ws, "aht") == (approx(247.5), 2)
    assert by(ws, "aht", "assignee") == {"A1": (approx(330.0), 1), "A2": (approx(165.0), 1)}
    # answered: 5 s and 25 s
    assert got(ws, "asa") == (approx(15.0), 2)
    # offered, short abandon left out: calls 1 and 3, one within 20 s
    assert got(ws, "service_level") == (approx(50.0), 2)
    assert got(ws, "abandonment_rate") == (approx(0.0), 2)
