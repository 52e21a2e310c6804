"""Call times, worked by hand (METRICS.md: asa, aht, service_level's short abandons,
abandonment_rate)."""

from __future__ import annotations

from _facts_scenario import facts, load


def test_a_call_with_queue_hold_talk_and_wrap_up(ws, tmp_path):
    # queued 08:00:00, answered 08:00:25: asa = 25
    # hold 08:02:00-08:03:30 (no duration: 90 s from the pair) and a hold_end that says
    # 45 s (taken as given) = 135; talk 535 (call_ended); wrap-up 120: handle = 790
    load(ws, tmp_path, """
        E01,T1,3/08:00:00,created,customer,C1,,new,C1,billing,,,,phone,
        E02,T1,3/08:00:00,call_queued,system,,,,,,,,,,
        E03,T1,3/08:00:25,call_answered,agent,A1,,,,,,,,,
        E04,T1,3/08:02:00,hold_start,agent,A1,,,,,,,,,
        E05,T1,3/08:03:30,hold_end,agent,A1,,,,,,,,,
        E06,T1,3/08:05:00,hold_start,agent,A1,,,,,,,,,
        E07,T1,3/08:05:40,hold_end,agent,A1,,,,,,,,,45
        E08,T1,3/08:10:00,call_ended,agent,A1,,,,,,,,,535
        E09,T1,3/08:12:00,wrap_up_end,agent,A1,,,,,,,,,120
        E10,T1,3/08:12:00,status,agent,A1,,solved,,,,,,,
    """)
    f = facts(ws, "T1")
    assert (f["asa_s"], f["hold_s"], f["talk_s"], f["wrap_s"], f["handle_s"]) == (25.0, 135.0, 535.0, 120.0, 790.0)
    assert (f["call_abandoned"], f["short_abandon"], f["abandon_wait_s"]) == (False, False, None)
    assert f["call_queued_at"].isoformat() == "2025-03-03T08:00:00+00:00"
    assert f["call_answered_at"].isoformat() == "2025-03-03T08:00:25+00:00"


def test_abandoned_calls_short_and_long(ws, tmp_path):
    # T1 hangs up 3 s after being queued (a short abandon, < 5 s); T2 after 40 s.
    # Neither was handled: no handle time. T3 is no call at all.
    load(ws, tmp_path, """
        E1,T1,3/09:00:00,call_queued,system,,,,,,,,,phone,
        E2,T1,3/09:00:03,call_abandoned,customer,C1,,,,,,,,,
        F1,T2,3/09:00:00,call_queued,system,,,,,,,,,phone,
        F2,T2,3/09:00:40,call_abandoned,customer,C2,,,,,,,,,
        G1,T3,3/09:00:00,created,customer,C3,,new,C3,billing,,,,email,
    """)
    assert tuple(facts(ws, "T1")[k] for k in ("call_abandoned", "abandon_wait_s", "short_abandon", "asa_s", "handle_s")) == (
        True, 3.0, True, None, None)
    assert tuple(facts(ws, "T2")[k] for k in ("call_abandoned", "abandon_wait_s", "short_abandon")) == (True, 40.0, False)
    assert tuple(facts(ws, "T3")[k] for k in ("call_abandoned", "short_abandon", "talk_s", "handle_s")) == (
        None, None, None, None)
    # T1 and T2 have no tickets row and no created event: created at their first event
    assert facts(ws, "T1")["created_at"].isoformat() == "2025-03-03T09:00:00+00:00"
