"""A full refresh writes only what changed (facts/_write.py): the tickets (and sends) whose
rows differ are rewritten, the others stay where they are, and the tables end as a first
refresh of the same data would write them."""

from __future__ import annotations

from pathlib import Path

from _facts_scenario import import_events, snapshot

import cxmetrics
from cxmetrics.facts import refresh_facts

EVENTS = """
    A1,T1,3/08:00,created,customer,C1,,new,C1,billing,,,,,
    A2,T1,3/09:00,message,agent,A1,,,,,,,,,
    A3,T1,3/10:00,status,agent,A1,,solved,,,,,,,
    B1,T2,3/08:00,created,customer,C2,,new,C2,billing,,,,,
    B2,T2,3/08:30,message,agent,A1,,,,,,,,,
    C1,T3,3/08:00,created,customer,C3,,new,C3,login,,,,,
    C2,T3,3/08:10,message,customer,C3,,,,,,,,,
    C3,T3,3/09:10,message,agent,A2,,,,,,,,,
    C4,T3,3/09:30,message,customer,C3,,,,,,,,,
    C5,T3,3/09:50,message,agent,A2,,,,,,,,,
    D1,T4,3/08:00,created,customer,C4,,new,C4,login,,,,phone,
    D2,T4,3/08:01,call_queued,customer,C4,,,,,,,,phone,
    D3,T4,3/08:02,call_answered,agent,A3,,,,,,,,phone,
    D4,T4,3/08:09,call_ended,agent,A3,,,,,,,,phone,420
""" + "".join(  # six more tickets that nothing changes: most of the table stays as it is
    f"    G{i}a,T{i},3/08:00,created,customer,C{i},,new,C{i},billing,,,,,\n"
    f"    G{i}b,T{i},3/08:{10 + i},message,agent,A1,,,,,,,,,\n" for i in range(6, 12))
# T1 reopened by its customer, T3's last reply earlier (an edited event), T5 new
CHANGES = """
    A4,T1,3/12:00,status,customer,C1,,open,,,,,,,
    C5,T3,3/09:40,message,agent,A2,,,,,,,,,
    E1,T5,3/08:00,created,customer,C5,,new,C5,billing,,,,,
"""
SENDS = "send_id,ticket_id,customer_id,kind,sent_at\nS1,T1,C1,csat,2025-03-03T11:00:00Z\nS2,T4,C4,csat,2025-03-03T11:00:00Z\n"


def rowids(ws: cxmetrics.Workspace, table: str, key: str = "ticket_id") -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for k, rowid in ws.con.execute(f"SELECT {key}, rowid FROM {table} ORDER BY rowid").fetchall():
        out.setdefault(k, []).append(rowid)
    return out


def test_a_full_refresh_rewrites_only_the_rows_that_changed(tmp_path: Path) -> None:
    (tmp_path / "sends.csv").write_text(SENDS, encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        import_events(ws, tmp_path / "a.csv", EVENTS)
        ws.import_file("survey_sends", tmp_path / "sends.csv")
        refresh_facts(ws.con)
        before = {t: rowids(ws, t) for t in ("ticket_facts", "reply_intervals", "contacts")}
        fatigue_before = rowids(ws, "survey_fatigue", "send_id")
        import_events(ws, tmp_path / "b.csv", CHANGES)
        # T2 leaves the store without a row taking its place (its source deleted it)
        ws.con.execute("DELETE FROM events_stored WHERE ticket_id = 'T2'")
        ws.con.execute("DELETE FROM tickets WHERE ticket_id = 'T2'")
        refresh_facts(ws.con, full=True)
        after = {t: rowids(ws, t) for t in ("ticket_facts", "reply_intervals", "contacts")}
        got = snapshot(ws)
        fatigue = ws.con.execute("SELECT send_id, customer, nth FROM survey_fatigue ORDER BY send_id").fetchall()
        fatigue_after = rowids(ws, "survey_fatigue", "send_id")

    # the same tables as a first refresh of the final data writes (every row inserted)
    with cxmetrics.open(tmp_path / "fresh", create=True) as fresh:
        import_events(fresh, tmp_path / "c.csv", EVENTS.replace("    B1,T2,3/08:00,created,customer,C2,,new,C2,billing,,,,,\n", "")
                      .replace("    B2,T2,3/08:30,message,agent,A1,,,,,,,,,\n", "")
                      .replace("C5,T3,3/09:50", "C5,T3,3/09:40") + CHANGES.replace("C5,T3,3/09:40,message,agent,A2,,,,,,,,,", ""))
        fresh.import_file("survey_sends", tmp_path / "sends.csv")
        refresh_facts(fresh.con)
        assert got == snapshot(fresh)
        assert fatigue == fresh.con.execute("SELECT send_id, customer, nth FROM survey_fatigue ORDER BY send_id").fetchall()

    facts_before, facts_after = before["ticket_facts"], after["ticket_facts"]
    assert "T2" not in facts_after and "T5" in facts_after
    assert facts_after["T4"] == facts_before["T4"]  # unchanged: left where it was
    assert facts_after["T1"] != facts_before["T1"] and facts_after["T3"] != facts_before["T3"]
    # T3's two reply intervals were rewritten (the second one changed), T1's one was not
    assert after["reply_intervals"]["T1"] == before["reply_intervals"]["T1"]
    assert after["reply_intervals"]["T3"] != before["reply_intervals"]["T3"]
    assert after["contacts"]["T4"] == before["contacts"]["T4"]
    assert fatigue_after == fatigue_before  # no send's ordinal changed
