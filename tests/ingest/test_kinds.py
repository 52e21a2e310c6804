"""Each import kind stores what its format says, with the checks METRICS.md implies."""

from __future__ import annotations

from conftest import rows, write

EVENTS = """event_id,ticket_id,ts,kind,actor_type,actor_id,public,status_to,channel,priority,team,topic,requester_id,assignee_id,body,duration_s
E1,T1,2025-03-03T08:00:00Z,created,customer,C1,,new,chat,high,Tier 1,billing,C1,,,
E2,T1,2025-03-03T08:00:05Z,message,bot,B1,,,,,,,,,Hi! I am a bot,
E3,T1,2025-03-03T08:01:00Z,handoff,bot,B1,,,,,,,,,,
E4,T1,2025-03-03T08:02:00Z,assign,system,,,,,,Tier 2,,,A7,,
E5,T1,2025-03-03T08:03:00Z,message,agent,A7,false,,,,,,,,private note,
E6,T1,2025-03-03T08:05:00Z,message,agent,A7,,,,,,,,,public reply,
E7,T1,2025-03-03T09:00:00Z,status,agent,A7,,solved,,,,,,,,
E8,T1,2025-03-03T09:00:00Z,status,agent,A7,,,,,,,,,missing status_to,
E9,T1,2025-03-03T09:00:00Z,teleport,agent,A7,,,,,,,,,unknown kind,
E10,T2,2025-03-03T09:00:00Z,call_ended,agent,A7,,,phone,,,,,,,-5
"""


def test_events_store_rows_and_created_events_describe_their_ticket(ws, tmp_path):
    s = ws.import_file("events", write(tmp_path / "e.csv", EVENTS))
    assert (s.read, s.inserted, s.quarantined) == (10, 7, 3)
    reasons = {r["line"]: r["reason"] for r in ws.quarantine().to_pylist()}
    assert reasons == {
        9: "a status event needs status_to",
        10: "kind 'teleport' is not one of created, message, status, assign, handoff, priority, call_queued, "
        "call_answered, call_abandoned, call_ended, hold_start, hold_end, wrap_up_end, merged",
        11: "duration_s -5 is below 0",
    }
    # messages are public unless public=false; other events carry no public flag
    assert rows(ws, "SELECT event_id, public FROM events WHERE kind = 'message' ORDER BY 1") == [("E2", True), ("E5", False), ("E6", True)]
    assert rows(ws, "SELECT ticket_id, channel, priority, team, topic, requester_id, created_by FROM tickets") == [
        ("T1", "chat", "high", "Tier 1", "billing", "C1", "customer")
    ]


def test_events_arriving_later_keep_the_ticket(ws, tmp_path):
    ws.import_file("events", write(tmp_path / "a.csv", EVENTS))
    more = "event_id,ticket_id,ts,kind,actor_type,status_to\nE11,T1,2025-03-04T08:00:00Z,status,customer,open\n"
    s = ws.import_file("events", write(tmp_path / "b.csv", more))
    assert (s.inserted, s.updated) == (1, 0)
    assert ws.counts()["tickets"] == 1 and ws.counts()["events"] == 8


SURVEYS = """response_id,ticket_id,customer_id,kind,scale,score,comment,sent_at,responded_at
R1,T1,C1,csat,1-5,5,Great,2025-03-03T10:00:00Z,2025-03-03T11:00:00Z
R2,T1,C1,csat,,3,,2025-03-03T10:00:00Z,2025-03-03T11:00:00Z
R3,T2,C2,csat,1-5,9,,2025-03-03T10:00:00Z,
R4,,C3,nps,,6,meh,2025-03-03T10:00:00Z,
R5,,C4,nps,0-10,10,,2025-03-03T10:00:00Z,
R6,T3,C5,ces,,7,,2025-03-03T10:00:00Z,
R7,T3,C5,ces,1-7,0,,2025-03-03T10:00:00Z,
R8,T4,C6,csat,good/bad,good,,2025-03-03T10:00:00Z,
R9,T5,C7,csat,,bad,,2025-03-03T10:00:00Z,
R10,T6,C8,csat,1-5,4,,2025-03-03T10:00:00Z,2025-03-02T10:00:00Z
R11,T7,C9,csat,stars,4,,2025-03-03T10:00:00Z,
R12,T8,C9,wow,1-5,4,,2025-03-03T10:00:00Z,
"""


def test_surveys_keep_their_scale_and_reject_scores_off_it(ws, tmp_path):
    s = ws.import_file("surveys", write(tmp_path / "s.csv", SURVEYS))
    assert (s.read, s.inserted, s.quarantined) == (12, 7, 5)
    got = rows(ws, "SELECT response_id, kind, scale, scale_min, scale_max, score FROM surveys ORDER BY length(response_id), 1")
    assert got == [
        ("R1", "csat", "1-5", 1.0, 5.0, 5.0),
        ("R2", "csat", "1-5", 1.0, 5.0, 3.0),  # default csat scale
        ("R4", "nps", "0-10", 0.0, 10.0, 6.0),  # a 6 is stored as a 6 (a detractor, for the metric)
        ("R5", "nps", "0-10", 0.0, 10.0, 10.0),
        ("R6", "ces", "1-7", 1.0, 7.0, 7.0),  # default ces scale
        ("R8", "csat", "good/bad", 0.0, 1.0, 1.0),
        ("R9", "csat", "good/bad", 0.0, 1.0, 0.0),  # the word implies the scale
    ]
    reasons = {r["line"]: r["reason"] for r in ws.quarantine().to_pylist()}
    assert reasons[4] == "score 9 is outside its scale 1-5"
    assert reasons[8] == "score 0 is outside its scale 1-7"
    assert "responded_at (2025-03-02" in reasons[11] and "is before sent_at" in reasons[11]
    assert "scale 'stars' is not a scale" in reasons[12]
    assert "kind 'wow' is not one of csat, ces, nps, esat" in reasons[13]


def test_flat_ticket_scores_become_survey_answers(ws, tmp_path):
    text = "ticket_id,created_at,solved_at,requester_id,assignee_id,csat,ces,ces_scale,nps\nT1,2025-03-03T08:00:00Z,2025-03-03T09:00:00Z,C1,A1,4,4,1-5,6\n"
    ws.import_file("tickets", write(tmp_path / "t.csv", text))
    got = rows(ws, "SELECT response_id, kind, scale, score, customer_id, agent_id, strftime(timezone('UTC', responded_at), '%H:%M') FROM surveys ORDER BY 1")
    assert got == [
        ("T1:ces", "ces", "1-5", 4.0, "C1", "A1", "09:00"),
        ("T1:csat", "csat", "1-5", 4.0, "C1", "A1", "09:00"),
        ("T1:nps", "nps", "0-10", 6.0, "C1", "A1", "09:00"),
    ]


def test_agents_customers_activity(ws, tmp_path):
    ws.import_file("agents", write(tmp_path / "a.csv", "agent_id,name,type,team,hired_at,left_at\nA1,Ana,,Tier 1,2024-01-01,\nB1,Bot,bot,,,\nA2,Bo,human,Tier 2,2024-05-01,2024-04-01\n"))
    assert rows(ws, "SELECT agent_id, type FROM agents ORDER BY 1") == [("A1", "human"), ("B1", "bot")]
    assert "left_at" in ws.quarantine().to_pylist()[0]["reason"]
    ws.import_file("customers", write(tmp_path / "c.csv", "customer_id,created_at,tier,churned_at\nC1,2024-01-01,pro,\n"))
    act = "customer_id,ts,action\nC1,2025-01-01T10:00:00Z,login\nC1,2025-01-01T10:00:00Z,login\nC1,2025-01-02T10:00:00Z,login\n"
    s = ws.import_file("activity", write(tmp_path / "act.csv", act))
    # identical rows are one event
    assert (s.read, s.inserted, s.unchanged) == (3, 2, 1)


def test_funnel_and_costs_periods(ws, tmp_path):
    ws.configure(currency="USD")
    ws.import_file("costs", write(tmp_path / "c.csv", "period,category,amount,currency\n2025-01,salaries,1000,\n2025-Q1,tools,300,eur\n2025-W02,overhead,50,\n2025-13,x,1,\n"))
    got = rows(ws, "SELECT period, category, strftime(period_start, '%Y-%m-%d'), strftime(period_end, '%Y-%m-%d'), currency FROM costs ORDER BY 2")
    assert got == [
        ("2025-W02", "overhead", "2025-01-06", "2025-01-13", "USD"),
        ("2025-01", "salaries", "2025-01-01", "2025-02-01", "USD"),
        ("2025-Q1", "tools", "2025-01-01", "2025-04-01", "EUR"),
    ]
    assert "is not a period" in ws.quarantine().to_pylist()[0]["reason"]
    ws.import_file("funnel", write(tmp_path / "f.csv", "period,visits,conversions,revenue\n2025-01,100,5,50\n2025-02,10,50,\n"))
    assert rows(ws, "SELECT period, segment, visits, conversions FROM funnel") == [("2025-01", "all", 100, 5)]
