"""The `calls` import kind (issue 14): call logs, one row per call, become tickets and the
call events their times imply; contacts, AHT, ASA, abandonment and service level then come
out of the facts. Every expected value below is worked out by hand from the rows."""

from __future__ import annotations

import pytest
from conftest import write

import cxmetrics

HEADER = ("call_id,ticket_id,arrived_at,queued_at,answered_at,abandoned_at,ended_at,outcome,direction,agent_id,"
          "customer_id,talk_s,hold_s,wrap_s,Queue")
GOOD = [
    # answered: waited 09:00:10 -> 09:00:40 (30 s), talked to 09:05:40 (300 s), + 30 hold + 60 wrap = 390 s
    "C1,,2025-03-03T09:00:00Z,2025-03-03T09:00:10Z,2025-03-03T09:00:40Z,,2025-03-03T09:05:40Z,answered,,A1,K1,,30,60",
    # abandoned after 60 s in the queue
    "C2,,2025-03-03T10:00:00Z,2025-03-03T10:00:05Z,,2025-03-03T10:01:05Z,,abandoned,,,K2,,,",
    # a ghost call: kept, as its own ticket marked spam, and in no metric
    "C3,,2025-03-03T10:30:00Z,,2025-03-03T10:30:02Z,,2025-03-03T10:30:04Z,ghost,,,,,,",
    # a ticket with two calls: abandoned after 30 s (queued at arrival), then a call-back answered after 20 s
    "C4,T9,2025-03-03T11:00:00Z,,,2025-03-03T11:00:30Z,,abandoned,,,K3,,,",
    "C5,T9,2025-03-03T11:10:00Z,,2025-03-03T11:10:20Z,,,answered,inbound,A2,K3,120,,",
    # answered 2 s before its queue entry (clock skew): no wait; talk from 12:00:10 to 12:02:08 = 118 s;
    # no outcome column value: answered, as it has answered_at
    "C6,,2025-03-03T12:00:00Z,2025-03-03T12:00:10Z,2025-03-03T12:00:08Z,,2025-03-03T12:02:08Z,,,A1,K4,,,",
    # abandoned after 45 s: the answer time and talk an ACD logged anyway do not count
    "C7,,2025-03-03T13:00:00Z,,2025-03-03T13:00:02Z,2025-03-03T13:00:45Z,,abandoned,,,K5,5,,",
    # served, with no time and no talk: an arrival, out of ASA, abandonment and service level
    "C15,,2025-03-03T15:00:00Z,,,,,answered,,A3,K6,,,",
]
BAD = {
    "C8,,2025-03-03T14:00:00Z,,2025-03-03T14:00:30Z,,2025-03-03T14:00:20Z,answered,,A1,,,,":
        "ended_at (2025-03-03 14:00:20+00) is 10 s before answered_at (2025-03-03 14:00:30+00), more than "
        "the 5 s clock skew allowed",
    "C9,,2025-03-03T14:00:00Z,,2025-03-03T14:00:30Z,,,answered,,A1,,-5,,": "talk_s -5 is below 0",
    "C10,,2025-03-03T14:00:00Z,,,,,answered,,A1,,60,,":
        "an answered call with talk, hold, wrap or ended_at needs answered_at",
    "C11,,2025-03-03T14:00:00Z,,,,,busy,,,,,,": "outcome 'busy' is not one of answered, abandoned, ghost",
    "C12,,2025-03-03T14:00:00Z,,2025-03-03T14:00:30Z,,,answered,outbound,A1,,,,":
        "an outbound call: the calls kind reads inbound calls",
    "C13,,,,,,,answered,,,,,,": "arrived_at is missing",
    "C14,,2025-03-03T14:00:00Z,,2025-03-03T13:59:00Z,,,answered,,A1,,,,":
        "answered_at (2025-03-03 13:59:00+00) is 60 s before arrived_at (2025-03-03 14:00:00+00)",
}


def calls_file(tmp_path, rows=None):
    # every call came through the Billing queue (the last column, `Queue`, feeds team)
    rows = [f"{r},Billing" for r in (GOOD + list(BAD) if rows is None else rows)]
    return write(tmp_path / "calls.csv", "\n".join([HEADER, *rows]) + "\n")


def values(ws, ids):
    return {r["metric"]: (r["value"], r["n"]) for r in ws.metrics(ids).to_pylist()}


def test_every_call_is_counted_and_bad_rows_say_why(ws, tmp_path):
    s = ws.import_file("calls", calls_file(tmp_path))
    assert (s.read, s.inserted, s.updated, s.unchanged, s.quarantined) == (15, 8, 0, 0, 7)
    got = {r["raw"]: r["reason"] for r in ws.quarantine(s.import_id).to_pylist()}
    assert len(got) == 7
    for row, reason in BAD.items():
        call_id = row.split(",")[0]
        (found,) = [g for raw, g in got.items() if f'"call_id":"{call_id}"' in raw]
        assert reason in found, (call_id, found)


def test_metrics_come_out_of_the_implied_events(ws, tmp_path):
    ws.import_file("calls", calls_file(tmp_path))
    got = values(ws, ["tickets", "asa", "aht", "abandonment_rate", "service_level"])
    # tickets: C1 C2 C6 C7 C15 and T9 (C3 is spam)
    assert got["tickets"] == (6, 6)
    # answered and offered: C1 30 s, C5 20 s, C6 0 s
    assert got["asa"] == (pytest.approx(50 / 3), 3)
    # handle: C1 300 + 30 + 60, C5 120, C6 118
    assert got["aht"] == (pytest.approx((390 + 120 + 118) / 3), 3)
    # answered C1 C5 C6, abandoned C2 C4 C7: 3 of 6
    assert got["abandonment_rate"] == (pytest.approx(50.0), 6)
    # answered within 20 s: C5 (20 s) and C6 (0 s)
    assert got["service_level"] == (pytest.approx(200 / 6), 6)


def test_a_call_back_is_the_tickets_second_contact(ws, tmp_path):
    ws.import_file("calls", calls_file(tmp_path))
    ws.refresh()
    rows = ws.sql("""SELECT contact_no, abandoned, wait_s, talk_s, agent_id FROM contacts
                     WHERE ticket_id = 'T9' ORDER BY contact_no""").to_pylist()
    # (an unanswered call's agent is its ticket's assignee, as for calls imported as events)
    assert [tuple(r.values()) for r in rows] == [(1, True, 30.0, None, "A2"), (2, False, 20.0, 120.0, "A2")]
    ticket = ws.sql("SELECT created_at, requester_id, assignee_id, status, channel, team FROM tickets "
                    "WHERE ticket_id = 'T9'").to_pylist()[0]
    assert ticket["created_at"].isoformat() == "2025-03-03T11:00:00+00:00"  # its first call's arrival
    assert (ticket["requester_id"], ticket["assignee_id"], ticket["status"], ticket["channel"], ticket["team"]) == (
        "K3", "A2", None, "phone", "Billing")
    statuses = {r["ticket_id"]: r["status"] for r in ws.sql("SELECT ticket_id, status FROM tickets").to_pylist()}
    assert statuses == {"C1": "solved", "C2": "closed", "C3": "spam", "T9": None, "C6": "solved", "C7": "closed",
                        "C15": "solved"}


def test_reimport_is_unchanged_and_a_changed_call_rebuilds_its_events(ws, tmp_path):
    ws.import_file("calls", calls_file(tmp_path))
    again = ws.import_file("calls", calls_file(tmp_path))
    assert (again.read, again.inserted, again.updated, again.unchanged, again.quarantined) == (15, 0, 0, 8, 7)
    # C1 now ends a minute earlier and has no wrap-up: talk 240 + hold 30 = 270 s
    changed = [GOOD[0].replace("09:05:40Z", "09:04:40Z").removesuffix(",60") + ",", *GOOD[1:]]
    s = ws.import_file("calls", calls_file(tmp_path, changed))
    assert (s.read, s.inserted, s.updated, s.unchanged, s.quarantined) == (8, 0, 1, 7, 0)
    kinds = ws.sql("SELECT kind FROM events WHERE ticket_id = 'C1' ORDER BY ts, kind").column("kind").to_pylist()
    assert kinds == ["call_queued", "call_answered", "call_ended", "hold_end"]
    assert values(ws, ["aht"])["aht"] == (pytest.approx((270 + 120 + 118) / 3), 3)
    # C2 turns out to be T9's first call: its own ticket goes, T9 starts at 10:00 with three contacts
    moved = [GOOD[1].replace("C2,,", "C2,T9,"), *GOOD[3:5]]
    s = ws.import_file("calls", calls_file(tmp_path, moved))
    assert (s.read, s.updated, s.unchanged) == (3, 1, 2)
    assert ws.sql("SELECT count(*) AS n FROM tickets WHERE ticket_id = 'C2'").column("n").to_pylist() == [0]
    ws.refresh()
    got = ws.sql("SELECT contact_no, wait_s FROM contacts WHERE ticket_id = 'T9' ORDER BY contact_no").to_pylist()
    assert [tuple(r.values()) for r in got] == [(1, 60.0), (2, 30.0), (3, 20.0)]
    assert values(ws, ["tickets"])["tickets"] == (5, 5)  # C1 C6 C7 C15 T9


ACD_MAPPING = """
[columns]
in = "arrived_at"
out = "queued_at"
start = "answered_at"
end = "ended_at"
result = "outcome"
agent = "agent_id"

[combine]
call_id = ["line", "id"]

[timestamps]
timezone = "Asia/Jerusalem"
date_column = "day"
date_format = "%y%m%d"
next_day_before = "arrived_at"
null = ["0:00:00"]

[values.outcome]
OK = "answered"
HANG = "abandoned"

[values.agent_id]
NOBODY = ""
"""


def test_a_call_log_with_a_date_column_and_times_of_day(ws, tmp_path):
    # an ACD export: the date in one column, times of day in others, 0:00:00 for none, ids
    # unique only per line, NOBODY for no agent; times are Israeli (UTC+2 in March 2025)
    text = "\n".join([
        "line\tid\tday\tin\tout\tstart\tend\tresult\tagent",
        # hung up with no time logged (0:00:00): queued, never answered
        "L1\t7\t250303\t9:00:00\t9:00:10\t0:00:00\t0:00:00\tHANG\tNOBODY",
        # arrives before midnight, answered and ended after it: the next day
        "L2\t7\t250303\t23:59:50\t23:59:55\t0:00:15\t0:01:15\tOK\tDANA",
        # answered 1 s before its queue entry (skew), not the next day
        "L2\t8\t250303\t10:00:00\t10:00:05\t10:00:04\t10:02:04\tOK\tDANA",
    ]) + "\n"
    mapping = write(tmp_path / "acd.toml", ACD_MAPPING)
    s = ws.import_file("calls", write(tmp_path / "acd.csv", text), mapping=mapping)
    assert (s.read, s.inserted, s.quarantined) == (3, 3, 0)
    assert s.ignored_columns == ()
    rows = ws.sql("""SELECT event_id, strftime(timezone('UTC', ts), '%Y-%m-%d %H:%M:%S') AS ts, actor_id
                     FROM events ORDER BY event_id""").to_pylist()
    assert [tuple(r.values()) for r in rows] == [
        ("L1-7:queued", "2025-03-03 07:00:10", None),
        ("L2-7:answered", "2025-03-03 22:00:15", "DANA"),  # 00:00:15 on the 4th in Israel
        ("L2-7:ended", "2025-03-03 22:01:15", "DANA"),
        ("L2-7:queued", "2025-03-03 21:59:55", None),
        ("L2-8:answered", "2025-03-03 08:00:05", "DANA"),
        ("L2-8:ended", "2025-03-03 08:02:04", "DANA"),
        ("L2-8:queued", "2025-03-03 08:00:05", None),
    ]
    # NOBODY mapped to "" is no agent
    tickets = ws.sql("SELECT ticket_id, assignee_id FROM tickets ORDER BY ticket_id").to_pylist()
    assert [tuple(r.values()) for r in tickets] == [("L1-7", None), ("L2-7", "DANA"), ("L2-8", "DANA")]


def test_a_time_or_id_mapped_to_none_is_missing(ws, tmp_path):
    text = "\n".join([
        "line\tid\tday\tin\tout\tstart\tend\tresult\tagent",
        "L1\t7\t250303\t0:00:00\t9:00:10\t0:00:00\t0:00:00\tHANG\tNOBODY",  # no arrival time
        "L1\t8\t250399\t9:00:00\t9:00:10\t0:00:00\t0:00:00\tHANG\tNOBODY",  # no such date
    ]) + "\n"
    s = ws.import_file("calls", write(tmp_path / "acd.csv", text), mapping=write(tmp_path / "acd.toml", ACD_MAPPING))
    assert (s.read, s.inserted, s.quarantined) == (2, 0, 2)
    reasons = ws.quarantine(s.import_id).column("reason").to_pylist()
    assert reasons[0] == "arrived_at is missing"
    assert reasons[1].startswith("arrived_at '9:00:00' is not a time of day (%H:%M:%S or %H:%M) with a date (%y%m%d) "
                                 "in column day")


def test_a_date_column_serves_any_kind(ws, tmp_path):
    # a flat ticket export with "Date" and "Opened"/"Solved" times of day (naive: workspace time, UTC)
    text = "Date,Ticket,Opened,Solved\n03.03.2025,T1,22:10,1:05\n03.03.2025,T2,8:00,9:30\n"
    mapping = write(tmp_path / "m.toml", """
[columns]
Ticket = "ticket_id"
Opened = "created_at"
Solved = "solved_at"

[timestamps]
date_column = "Date"
date_format = "%d.%m.%Y"
next_day_before = "created_at"
""")
    s = ws.import_file("tickets", write(tmp_path / "t.csv", text), mapping=mapping)
    assert (s.inserted, s.quarantined, s.ignored_columns) == (2, 0, ())
    # T1 solved 2 h 55 min later, past midnight; T2 after 1 h 30 min
    got = ws.metrics(["full_resolution_time_mean"]).to_pylist()[0]
    assert (got["value"], got["n"]) == ((175 + 90) * 60 / 2, 2)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[timestamps]\ndate_format = "%y%m%d"\n', "set date_column too"),
        ('[combine]\ncall_id = "x"\n', "must be a list of two or more file columns"),
        ('[combine]\nnope = ["a", "b"]\n', "makes 'nope', which is not a column of this import"),
        ('[timestamps]\ndate_column = "day"\nnext_day_before = "nope"\n', "next_day_before names 'nope'"),
        ('[timestamps]\nnull = 0\n', "null must be a string or a list of strings"),
    ],
)
def test_bad_mapping_says_what_to_fix(ws, tmp_path, toml, message):
    with pytest.raises(cxmetrics.MappingError, match=message):
        ws.import_file("calls", calls_file(tmp_path, GOOD[:1]), mapping=write(tmp_path / "m.toml", toml))


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[timestamps]\ndate_column = "day"\n', "has no column day, which the mapping's \\[timestamps\\] date_column"),
        ('[combine]\ncall_id = ["line", "call_id"]\n', "has no column line, which the mapping's \\[combine\\] call_id"),
    ],
)
def test_a_mapping_naming_a_missing_column_refuses_the_file(ws, tmp_path, toml, message):
    with pytest.raises(cxmetrics.ImportFileError, match=message):
        ws.import_file("calls", calls_file(tmp_path, GOOD[:1]), mapping=write(tmp_path / "m.toml", toml))
