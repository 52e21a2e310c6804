"""First reply, first touch and reply intervals, worked by hand (METRICS.md: frt,
frt_first_touch, next_reply_time, avg_response_time)."""

from __future__ import annotations

from _facts_scenario import facts, intervals, load, pick


def test_an_unanswered_ticket_has_no_frt_and_is_counted_as_unanswered(ws, tmp_path):
    load(ws, tmp_path, """
        E1,T1,3/08:00,created,customer,C1,,new,C1,billing,,,,,
        E2,T1,3/08:30,message,customer,C1,,,,,,,,,
    """)
    f = facts(ws, "T1")
    assert f["unanswered"] is True
    assert (f["first_reply_at"], f["frt_s"], f["first_touch_at"], f["frt_first_touch_s"]) == (None, None, None, None)
    assert (f["status"], f["solved"], f["fcr"], f["one_touch"]) == ("new", False, None, None)
    assert (f["public_agent_replies"], f["requester_wait_s"], f["n_events"]) == (0, None, 2)
    assert intervals(ws, "T1") == []


def test_an_agent_created_ticket_has_zendesks_frt_but_no_first_touch(ws, tmp_path):
    # outbound: the agent writes first (its opening comment, no reply); the customer's answer
    # gets a reply an hour later. Zendesk's first reply time runs to that next public agent
    # comment: 08:00 -> 10:00 = 7200 s (the frt metric still counts customer-created tickets
    # only; tests/facts/test_agent_created.py). First touch and the reply intervals stay
    # customer-created measures.
    load(ws, tmp_path, """
        E1,T1,3/08:00,created,agent,A1,,new,C1,billing,,,agent,,
        E2,T1,3/08:00,message,agent,A1,,,,,,,,,
        E3,T1,3/09:00,message,customer,C1,,,,,,,,,
        E4,T1,3/10:00,message,agent,A1,,,,,,,,,
    """)
    f = facts(ws, "T1")
    assert (f["created_by"], f["frt_s"], f["frt_first_touch_s"], f["unanswered"]) == ("agent", 7200.0, None, False)
    assert f["first_reply_at"].isoformat() == "2025-03-03T10:00:00+00:00"
    assert f["public_agent_replies"] == 1
    assert intervals(ws, "T1") == []


def test_a_bot_reply_is_a_first_touch_but_not_a_first_reply(ws, tmp_path):
    # bot at +5 s (first touch = 5), human at +5 min (frt = 300); the human after the bot
    # is a hand-off even without a handoff event
    load(ws, tmp_path, """
        E1,T1,3/08:00:00,created,customer,C1,,new,C1,billing,,,,chat,
        E2,T1,3/08:00:05,message,bot,B1,,,,,,,,,
        E3,T1,3/08:05:00,message,agent,A1,,,,,,,,,
    """)
    assert pick(ws, "T1", "frt_s", "frt_first_touch_s", "bot_involved", "handed_off") == (300.0, 5.0, True, True)
    # no handoff event: nothing to measure frt_after_handoff from
    assert pick(ws, "T1", "frt_after_handoff_s", "unanswered") == (None, False)
    assert intervals(ws, "T1") == [(1, 300.0)]


def test_a_private_note_does_not_stop_the_clock(ws, tmp_path):
    # note at 08:10 (private), public reply at 08:20: frt = 20 min = 1200 s, for both frts
    load(ws, tmp_path, """
        E1,T1,3/08:00,created,customer,C1,,new,C1,billing,,,,,
        E2,T1,3/08:10,message,agent,A1,false,,,,,,,,
        E3,T1,3/08:20,message,agent,A1,true,,,,,,,,
    """)
    assert pick(ws, "T1", "frt_s", "frt_first_touch_s", "public_agent_replies") == (1200.0, 1200.0, 1)


def test_replies_before_creation_do_not_count(ws, tmp_path):
    # clock skew: an agent message at 07:50 and a bot one at 07:55 precede the ticket's
    # creation at 08:00; the first reply at or after creation is 08:10 (frt 600)
    load(ws, tmp_path, """
        E0,T1,3/07:50,message,agent,A1,,,,,,,,,
        E1,T1,3/07:55,message,bot,B1,,,,,,,,,
        E2,T1,3/08:00,created,customer,C1,,new,C1,billing,,,,,
        E3,T1,3/08:10,message,agent,A1,,,,,,,,,
    """)
    f = facts(ws, "T1")
    assert f["created_at"].isoformat() == "2025-03-03T08:00:00+00:00"
    assert (f["frt_s"], f["frt_first_touch_s"]) == (600.0, 600.0)
    assert intervals(ws, "T1") == [(1, 600.0)]


def test_reply_intervals_pair_every_customer_wait_with_the_next_reply_across_a_reopen(ws, tmp_path):
    # seq 1: creation 08:00 -> first reply 09:00                          = 3600
    # the customer writes at 10:00 and again at 10:30; the reply at 11:00 answers the
    # oldest unanswered message: seq 2: 10:00 -> 11:00                     = 3600
    # a second agent message at 11:05 answers nothing new: no interval
    # solved 12:00; the customer writes on day 4 at 08:00 (reopen), reply 08:15:
    # seq 3: 4/08:00 -> 4/08:15                                            = 900
    load(ws, tmp_path, """
        E01,T1,3/08:00,created,customer,C1,,new,C1,billing,,,,,
        E02,T1,3/09:00,message,agent,A1,,,,,,,,,
        E03,T1,3/10:00,message,customer,C1,,,,,,,,,
        E04,T1,3/10:30,message,customer,C1,,,,,,,,,
        E05,T1,3/10:45,message,agent,A1,false,,,,,,,,
        E06,T1,3/11:00,message,agent,A1,,,,,,,,,
        E07,T1,3/11:05,message,agent,A1,,,,,,,,,
        E08,T1,3/12:00,status,agent,A1,,solved,,,,,,,
        E09,T1,4/08:00,message,customer,C1,,,,,,,,,
        E10,T1,4/08:00,status,system,,,open,,,,,,,
        E11,T1,4/08:15,message,agent,A1,,,,,,,,,
        E12,T1,4/09:00,status,agent,A1,,solved,,,,,,,
    """)
    assert intervals(ws, "T1") == [(1, 3600.0), (2, 3600.0), (3, 900.0)]
    assert pick(ws, "T1", "reopens", "public_agent_replies", "frt_s") == (1, 4, 3600.0)
    started = ws.sql("SELECT started_at, replied_at FROM reply_intervals WHERE seq = 2").to_pylist()[0]
    assert (started["started_at"].hour, started["replied_at"].hour) == (10, 11)
