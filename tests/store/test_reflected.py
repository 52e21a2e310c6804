"""Which rows a refresh must read: those of logged imports its state has not noted (issue 17)."""

from __future__ import annotations

from conftest import write

from cxmetrics.store._reflected import new_rows

EVENTS = "event_id,ticket_id,ts,kind,actor_type\n"


def test_only_the_imports_not_yet_reflected_are_read(ws, tmp_path) -> None:
    first = ws.import_file("events", write(tmp_path / "a.csv", EVENTS + "a1,T1,2025-03-03T08:00:00Z,created,customer\n"))
    assert new_rows(ws.con, "facts_state") == "true"  # never refreshed: every row
    ws.refresh()
    assert new_rows(ws.con, "facts_state") == "_import_id IS NULL"  # nothing new
    # an import that writes no ticket rows is noted too, so it never lingers in the list
    ws.import_file("customers", write(tmp_path / "c.csv", "customer_id,name\nC1,Ann\n"))
    ws.refresh()
    assert new_rows(ws.con, "facts_state") == "_import_id IS NULL"
    second = ws.import_file("events", write(tmp_path / "b.csv", EVENTS + "b1,T2,2025-03-03T09:00:00Z,created,customer\n"))
    listed = new_rows(ws.con, "facts_state")
    assert second.import_id in listed and first.import_id not in listed
    ws.refresh()
    assert sorted(r["ticket_id"] for r in ws.sql("SELECT ticket_id FROM ticket_facts").to_pylist()) == ["T1", "T2"]


def test_a_row_no_logged_import_wrote_is_still_found(ws, tmp_path) -> None:
    ws.import_file("events", write(tmp_path / "a.csv", EVENTS + "a1,T1,2025-03-03T08:00:00Z,created,customer\n"
                                   "a2,T1,2025-03-03T09:00:00Z,message,agent\n"))
    ws.refresh()
    # a reply written behind the importer's back (no import log row): the row counts differ
    ws.con.execute("""INSERT INTO events_stored (source, event_id, ticket_id, ts, kind, actor_type, _hash, _import_id)
                      SELECT source, 'a3', ticket_id, ts + INTERVAL 1 HOUR, 'message', 'agent', 0, 'unlogged'
                      FROM events WHERE event_id = 'a2'""")
    ws.refresh()
    assert ws.sql("SELECT public_agent_replies FROM ticket_facts WHERE ticket_id = 'T1'").to_pylist() == [
        {"public_agent_replies": 2}]
