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


def _rows_by_ticket(ws: cxmetrics.Workspace, table: str) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for row in ws.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall():
        out.setdefault(row[1], []).append(row)  # (source, ticket_id, ...)
    return out


def _differing(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> int:
    return sum(a.get(k) != b.get(k) for k in set(a) | set(b))


def test_a_full_refresh_says_how_many_tickets_rows_changed(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cxmetrics.cli import main
    from cxmetrics.facts import last_full_refresh

    (tmp_path / "sends.csv").write_text(SENDS, encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        assert last_full_refresh(ws.con) is None
        import_events(ws, tmp_path / "a.csv", EVENTS)
        ws.import_file("survey_sends", tmp_path / "sends.csv")
        refresh_facts(ws.con)  # the first: every row new
        first = last_full_refresh(ws.con)
        assert first is not None and first.first and first.tickets == 10 and first.facts_changed == 10
        assert (first.replies_changed, first.contacts_changed, first.sends_changed) == (
            len(_rows_by_ticket(ws, "reply_intervals")), len(_rows_by_ticket(ws, "contacts")), 2)
        tables = ("ticket_facts", "reply_intervals", "contacts")
        before = {t: _rows_by_ticket(ws, t) for t in tables}
        import_events(ws, tmp_path / "b.csv", CHANGES)
        ws.con.execute("DELETE FROM events_stored WHERE ticket_id = 'T2'")
        ws.con.execute("DELETE FROM tickets WHERE ticket_id = 'T2'")
        refresh_facts(ws.con, full=True)
        done = last_full_refresh(ws.con)
        after = {t: _rows_by_ticket(ws, t) for t in tables}
        # counted here by comparing every row before and after
        expected = tuple(_differing(before[t], after[t]) for t in tables)
        assert expected[0] >= 4  # T1 reopened, T3 edited, T2 gone, T5 new (and any neighbour's fcr)
        assert done is not None and not done.first and done.tickets == 10
        assert (done.facts_changed, done.replies_changed, done.contacts_changed, done.sends_changed) == (*expected, 0)
        refresh_facts(ws.con, full=True)  # nothing changed since
        again = last_full_refresh(ws.con)
        assert (again.facts_changed, again.replies_changed, again.contacts_changed, again.sends_changed) == (0, 0, 0, 0)
    out = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "refresh", "--full"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == [
        "facts refreshed (full): 10 tickets",
        "  changed (tickets): facts 0, reply intervals 0, contacts 0, business time 0; "
        "survey sends' fatigue ordinals: 0",
    ]
    out = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "refresh"], catch_exceptions=False)
    assert out.output == "facts refreshed: 0 tickets\n"


# open 0.1 s, pending 4.9 s, open 0.2 s, then solved: 0.1 + 0.2 in floating point is 0.30000000000000004
EXACT = """
    X1,T9,2025-03-03T08:00:00.000Z,created,customer,C9,,new,C9,billing,,,,,
    X2,T9,2025-03-03T08:00:00.000Z,status,agent,A1,,open,,,,,,,
    X3,T9,2025-03-03T08:00:00.100Z,status,agent,A1,,pending,,,,,,,
    X4,T9,2025-03-03T08:00:05.000Z,status,customer,C9,,open,,,,,,,
    X5,T9,2025-03-03T08:00:05.200Z,status,agent,A1,,solved,,,,,,,
"""


def test_time_in_status_is_summed_exactly_so_the_same_events_give_the_same_bits(tmp_path: Path) -> None:
    """Its intervals are summed in whole microseconds (a sum of DOUBLE seconds depends on the
    engine's order of addition, which varies between runs of a full refresh)."""
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        import_events(ws, tmp_path / "x.csv", EXACT)
        refresh_facts(ws.con)
        got = ws.con.execute("SELECT agent_work_s, requester_wait_s, agent_wait_s FROM ticket_facts "
                             "WHERE ticket_id = 'T9'").fetchall()[0]
    assert got == (0.3, 0.3, 4.9)
