"""A flat ticket's implied events and survey answers are derived by the events and surveys
views (migration 0021), not stored; a workspace that stored them is migrated without a
visible change."""

from __future__ import annotations

import duckdb

import cxmetrics
from cxmetrics.store import _migrations
from tests.conftest import write

FLAT = (
    "ticket_id,created_at,first_reply_at,solved_at,assignee_id,requester_id,channel,csat,nps\n"
    "T1,2025-03-03T09:00:00Z,2025-03-03T09:30:00Z,2025-03-03T11:00:00Z,A1,C1,email,4,9\n"
    "T2,2025-03-03T10:00:00Z,,,A2,C2,chat,,\n"
)


def _rows(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_a_flat_import_stores_the_ticket_and_its_rows_are_derived(tmp_path):
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", write(tmp_path / "flat.csv", FLAT))
        con = ws.con
        assert con.execute("SELECT count(*) FROM events_stored").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM surveys_stored").fetchall() == [(0,)]
        # by hand: T1 created, first reply, solved; T2 created only
        assert con.execute("SELECT event_id, kind, actor_type, actor_id, status_to, channel, origin "
                           "FROM events ORDER BY ts").fetchall() == [
            ("T1:created", "created", "customer", "C1", "new", "email", "tickets"),
            ("T1:first_reply", "message", "agent", "A1", None, "email", "tickets"),
            ("T2:created", "created", "customer", "C2", "new", "chat", "tickets"),
            ("T1:solved", "status", "agent", "A1", "solved", "email", "tickets"),
        ]
        # T1's answers are placed at its solve, on the default scales
        assert con.execute("SELECT response_id, kind, scale, scale_min, scale_max, score, customer_id, agent_id, "
                           "strftime(responded_at AT TIME ZONE 'UTC', '%H:%M') FROM surveys ORDER BY kind").fetchall() == [
            ("T1:csat", "csat", "1-5", 1.0, 5.0, 4.0, "C1", "A1", "11:00"),
            ("T1:nps", "nps", "0-10", 0.0, 10.0, 9.0, "C1", "A1", "11:00"),
        ]
        # a solve removed from the file removes its event; the csat answer moves to the first reply
        s = ws.import_file("tickets", write(tmp_path / "flat.csv", FLAT.replace("2025-03-03T11:00:00Z", "")))
        assert (s.updated, s.unchanged) == (1, 1)
        assert [r[0] for r in con.execute("SELECT event_id FROM events ORDER BY ALL").fetchall()] == [
            "T1:created", "T1:first_reply", "T2:created"]
        assert con.execute("SELECT DISTINCT strftime(responded_at AT TIME ZONE 'UTC', '%H:%M') "
                           "FROM surveys").fetchall() == [("09:30",)]


def test_a_workspace_that_stored_implied_rows_reads_the_same_after_migrating(tmp_path, monkeypatch):
    """Rows as the import before 0021 wrote them (its SQL, by hand) read the same through the views."""
    path = tmp_path / "ws"
    shipped = _migrations.available()
    before = [m for m in shipped if m[0] < 21]
    monkeypatch.setattr(_migrations, "available", lambda: before)
    cxmetrics.open(path, create=True).close()
    con = duckdb.connect(str(path / "cxmetrics.duckdb"))
    con.execute("""
        INSERT INTO tickets (source, ticket_id, created_at, channel, requester_id, assignee_id, created_by,
                             _hash, _import_id)
        VALUES ('default', 'T1', '2025-03-03 09:00:00+00', 'email', 'C1', 'A1', 'customer', 11, 'i1'),
               ('default', 'E1', '2025-03-03 10:00:00+00', 'chat', 'C2', NULL, 'customer', 12, 'i2')""")
    ev = ("hash(ticket_id, ts, kind, actor_type, actor_id, public, status_from, status_to, body, channel, "
          "duration_s, assignee_id, team, priority, origin)")
    con.execute(f"""
        INSERT INTO events
        SELECT source, event_id, ticket_id, ts, kind, actor_type, actor_id, public, status_from, status_to, body,
               channel, duration_s, assignee_id, team, priority, origin, {ev}, _import_id
        FROM (VALUES
            ('default', 'T1:created', 'T1', TIMESTAMPTZ '2025-03-03 09:00:00+00', 'created', 'customer', 'C1',
             NULL::BOOLEAN, NULL, 'new', NULL, 'email', NULL::DOUBLE, NULL, NULL, NULL, 'tickets', 'i1'),
            ('default', 'T1:first_reply', 'T1', TIMESTAMPTZ '2025-03-03 09:30:00+00', 'message', 'agent', 'A1',
             true, NULL, NULL, NULL, 'email', NULL, NULL, NULL, NULL, 'tickets', 'i1'),
            ('default', 'T1:solved', 'T1', TIMESTAMPTZ '2025-03-03 11:00:00+00', 'status', 'agent', 'A1',
             NULL, NULL, 'solved', NULL, 'email', NULL, NULL, NULL, NULL, 'tickets', 'i1'),
            ('default', 'e1', 'E1', TIMESTAMPTZ '2025-03-03 10:00:00+00', 'created', 'customer', 'C2',
             NULL, NULL, NULL, NULL, 'chat', NULL, NULL, NULL, NULL, 'events', 'i2')
        ) v(source, event_id, ticket_id, ts, kind, actor_type, actor_id, public, status_from, status_to, body,
            channel, duration_s, assignee_id, team, priority, origin, _import_id)""")
    sv = ("hash(ticket_id, customer_id, agent_id, kind, scale, scale_min, scale_max, score, comment, sent_at, "
          "responded_at, origin, send_id)")
    con.execute(f"""
        INSERT INTO surveys
        SELECT source, response_id, ticket_id, customer_id, agent_id, kind, scale, scale_min, scale_max, score,
               comment, sent_at, responded_at, origin, send_id, {sv}, _import_id
        FROM (VALUES
            ('default', 'T1:csat', 'T1', 'C1', 'A1', 'csat', '1-5', 1.0::DOUBLE, 5.0::DOUBLE, 4.0::DOUBLE, NULL, NULL::TIMESTAMPTZ,
             TIMESTAMPTZ '2025-03-03 11:00:00+00', 'tickets', NULL, 'i1'),
            ('default', 'R9', 'E1', 'C2', NULL, 'csat', '1-5', 1.0, 5.0, 2.0, 'slow', NULL,
             TIMESTAMPTZ '2025-03-04 08:00:00+00', 'surveys', NULL, 'i3')
        ) v(source, response_id, ticket_id, customer_id, agent_id, kind, scale, scale_min, scale_max, score,
            comment, sent_at, responded_at, origin, send_id, _import_id)""")
    events, surveys = _rows(con, "events"), _rows(con, "surveys")
    hashes = con.execute("SELECT ticket_id, _hash FROM tickets ORDER BY ticket_id").fetchall()
    con.close()

    monkeypatch.setattr(_migrations, "available", lambda: shipped)
    with cxmetrics.open(path) as ws:
        assert _rows(ws.con, "events") == events
        assert _rows(ws.con, "surveys") == surveys
        # only the given rows are stored; the ticket keeps what its rows were made of
        assert [r[0] for r in ws.con.execute("SELECT event_id FROM events_stored").fetchall()] == ["e1"]
        assert [r[0] for r in ws.con.execute("SELECT response_id FROM surveys_stored").fetchall()] == ["R9"]
        assert ws.con.execute("SELECT ticket_id, _flat, csat_score, csat_scale FROM tickets ORDER BY ticket_id"
                              ).fetchall() == [("E1", False, None, None), ("T1", True, 4.0, "1-5")]
        assert ws.con.execute("SELECT ticket_id, _hash FROM tickets ORDER BY ticket_id").fetchall() == hashes


def test_an_export_of_flat_tickets_imports_without_doubling_their_implied_rows(tmp_path):
    from cxmetrics.exports._import_tables import import_tables
    from cxmetrics.exports._tables import export_tables

    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", write(tmp_path / "flat.csv", FLAT))
        ws.import_file("events", write(tmp_path / "ev.csv", "event_id,ticket_id,ts,kind,actor_type\n"
                                                            "m1,T2,2025-03-03T10:05:00Z,message,agent\n"))
        counts = export_tables(ws, tmp_path / "tables")
        events, surveys = _rows(ws.con, "events"), _rows(ws.con, "surveys")
        facts = _rows(ws.con, "ticket_facts")
    assert (counts["events"], counts["surveys"]) == (5, 2)  # the export holds the implied rows as rows
    with cxmetrics.open(tmp_path / "new", create=True) as ws:
        import_tables(ws, tmp_path / "tables")
        assert _rows(ws.con, "events") == events
        assert _rows(ws.con, "surveys") == surveys
        assert [r[0] for r in ws.con.execute("SELECT event_id FROM events_stored").fetchall()] == ["m1"]
        assert ws.con.execute("SELECT count(*) FROM surveys_stored").fetchall() == [(0,)]
        assert ws.refresh() == 0
        assert _rows(ws.con, "ticket_facts") == facts


def test_the_views_derive_only_once_a_flat_ticket_is_stored(tmp_path):
    # each metric query reads them: without a flat ticket they are the stored rows alone
    from cxmetrics.store._implied import derives

    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        assert derives(ws.con) is False
        ws.import_file("events", write(tmp_path / "ev.csv", "event_id,ticket_id,ts,kind\n"
                                                            "e1,E1,2025-03-03T10:00:00Z,created\n"))
        assert derives(ws.con) is False
        ws.import_file("tickets", write(tmp_path / "flat.csv", FLAT))
        assert derives(ws.con) is True
        assert ws.con.execute("SELECT count(*) FROM events").fetchall() == [(5,)]
    with cxmetrics.open(tmp_path / "ws") as ws:  # kept as they are at the next open
        assert derives(ws.con) is True
        ws.con.execute("DELETE FROM tickets WHERE _flat")
    with cxmetrics.open(tmp_path / "ws") as ws:  # and plain again when no flat ticket is left
        assert derives(ws.con) is False
        assert ws.con.execute("SELECT event_id FROM events").fetchall() == [("e1",)]
