"""refresh_facts: only changed tickets are recomputed, and the result is the same as
recomputing everything, whatever the order of the events or of the imports."""

from __future__ import annotations

import random

import duckdb
import pytest
from _facts_scenario import HEADER, expand, facts, import_events, intervals, load, snapshot

import cxmetrics
from cxmetrics.facts import CONTACT_COLUMNS, FACT_COLUMNS, REPLY_INTERVAL_COLUMNS, refresh_facts
from cxmetrics.facts import _sql

THREE = """
    A1,T1,3/08:00,created,customer,C1,,new,C1,billing,,,,,
    A2,T1,3/09:00,message,agent,A1,,,,,,,,,
    A3,T1,3/10:00,status,agent,A1,,solved,,,,,,,
    B1,T2,3/08:00,created,customer,C2,,new,C2,billing,,,,,
    B2,T2,3/08:30,message,agent,A1,,,,,,,,,
    C1,T3,3/08:00,created,customer,C3,,new,C3,login,,,,,
"""


def test_the_tables_have_the_declared_columns(ws):
    def columns(table: str) -> list[str]:
        return [r[0] for r in ws.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
        ).fetchall()]

    # + the text layer's discovered topic (migration 0012), carried over from ticket_text, and
    # the reopen the backlog counts from (0017) and the customer's wait the live queue shows (0019)
    assert columns("ticket_facts") == [c.name for c in FACT_COLUMNS] + ["_event_rows", "_ticket_row",
                                                                      "discovered_topic", "reopened_at",
                                                                      "waiting_since"]
    assert columns("reply_intervals") == [c.name for c in REPLY_INTERVAL_COLUMNS]
    assert columns("contacts") == [c.name for c in CONTACT_COLUMNS]
    assert all(c.name.endswith("_s") for c in FACT_COLUMNS if c.type == "number")


def test_an_incremental_refresh_touches_only_the_changed_ticket(ws, tmp_path):
    assert load(ws, tmp_path, THREE) == 3
    assert refresh_facts(ws.con) == 0
    before = facts(ws, "T1")
    # re-importing the same file changes nothing
    ws.import_file("events", tmp_path / "events.csv")
    assert refresh_facts(ws.con) == 0
    # T2: the customer writes at 09:00, the agent answers at 09:20 and solves at 09:30
    import_events(ws, tmp_path / "more.csv", """
        B3,T2,3/09:00,message,customer,C2,,,,,,,,,
        B4,T2,3/09:20,message,agent,A2,,,,,,,,,
        B5,T2,3/09:30,status,agent,A2,,solved,,,,,,,
    """)
    assert refresh_facts(ws.con) == 1
    f = facts(ws, "T2")
    assert (f["solved"], f["public_agent_replies"], f["full_resolution_s"], f["n_events"]) == (True, 2, 5400.0, 5)
    assert (f["resolver_id"], f["two_touch"], f["fcr"]) == ("A2", True, False)
    assert intervals(ws, "T2") == [(1, 1800.0), (2, 1200.0)]
    assert facts(ws, "T1") == before
    assert refresh_facts(ws.con) == 0


def test_an_updated_event_is_a_change(ws, tmp_path):
    load(ws, tmp_path, THREE)
    # A2 moves from 09:00 to 08:10: T1's frt drops from 3600 to 600
    import_events(ws, tmp_path / "fix.csv", "A2,T1,3/08:10,message,agent,A1,,,,,,,,,")
    assert refresh_facts(ws.con) == 1
    assert facts(ws, "T1")["frt_s"] == 600.0


def test_rows_deleted_without_a_new_import_are_found(ws, tmp_path):
    load(ws, tmp_path, THREE)
    # (what replacing a demo or deleting a source does: no new row, so no new import id)
    ws.con.execute("DELETE FROM events_stored WHERE event_id = 'A3'")
    assert refresh_facts(ws.con) == 1
    assert facts(ws, "T1")["solved"] is False
    ws.con.execute("DELETE FROM events_stored WHERE ticket_id = 'T3'")
    ws.con.execute("DELETE FROM tickets WHERE ticket_id = 'T3'")
    assert refresh_facts(ws.con) == 1
    assert ws.sql("SELECT ticket_id FROM ticket_facts ORDER BY 1").column("ticket_id").to_pylist() == ["T1", "T2"]


def test_an_event_moved_to_another_ticket_changes_both(ws, tmp_path):
    load(ws, tmp_path, THREE)
    # B2 (T2's reply) turns out to belong to T3: the new row names T3 only
    import_events(ws, tmp_path / "move.csv", "B2,T3,3/08:30,message,agent,A1,,,,,,,,,")
    assert refresh_facts(ws.con) == 2
    assert (facts(ws, "T2")["unanswered"], facts(ws, "T3")["frt_s"]) == (True, 1800.0)


def test_a_new_ticket_updates_the_fcr_of_its_requesters_earlier_ticket(ws, tmp_path):
    load(ws, tmp_path, THREE)
    assert facts(ws, "T1")["fcr"] is True
    # C1 writes again about billing two days later: T1 was not resolved on first contact
    import_events(ws, tmp_path / "again.csv", "D1,T4,5/08:00,created,customer,C1,,new,C1,billing,,,,,")
    assert refresh_facts(ws.con) == 1
    assert facts(ws, "T1")["fcr"] is False
    # and if that ticket turns out to be spam, T1 is fcr again
    import_events(ws, tmp_path / "spam.csv", "D2,T4,5/08:05,merged,agent,A1,,,,,,,,,")
    assert refresh_facts(ws.con) == 1
    assert facts(ws, "T1")["fcr"] is True


def test_a_new_ticket_leaves_the_fcr_of_its_requesters_later_tickets_as_they_were(ws, tmp_path):
    """An incremental refresh reads the requester's other tickets created up to 7 days around
    the new one (a repeat looks 7 days ahead); one of them whose own repeat lies further out
    must keep its flag, not get one computed from the tickets read."""
    load(ws, tmp_path, """
        A1,T1,1/08:00,created,customer,C1,,new,C1,billing,,,,,
        A2,T1,1/09:00,message,agent,A1,,,,,,,,,
        A3,T1,1/10:00,status,agent,A1,,solved,,,,,,,
        F1,T6,9/08:00,created,customer,C1,,new,C1,billing,,,,,
        F2,T6,9/09:00,message,agent,A1,,,,,,,,,
        F3,T6,9/10:00,status,agent,A1,,solved,,,,,,,
        G1,T7,14/08:00,created,customer,C1,,new,C1,billing,,,,,
    """)
    # T6's repeat is T7, 5 days later; T1's next ticket is T6, 8 days later: not a repeat
    assert (facts(ws, "T1")["fcr"], facts(ws, "T6")["fcr"]) == (True, False)
    import_events(ws, tmp_path / "again.csv", "D1,T4,3/08:00,created,customer,C1,,new,C1,billing,,,,,")
    assert refresh_facts(ws.con) == 1
    # T4 is a repeat of T1 (2 days later); T6, read as T4's neighbour, still has T7
    assert (facts(ws, "T1")["fcr"], facts(ws, "T6")["fcr"]) == (False, False)
    incremental = snapshot(ws)
    refresh_facts(ws.con, full=True)
    assert snapshot(ws) == incremental


def test_full_and_incremental_refreshes_agree(ws, tmp_path):
    rng = random.Random(7)
    lines = synthetic(rng, tickets=60)
    rng.shuffle(lines)
    for i in range(0, len(lines), 50):  # several imports, a refresh after each
        import_events(ws, tmp_path / f"part{i}.csv", "\n".join(lines[i:i + 50]))
        refresh_facts(ws.con)
    incremental = snapshot(ws)
    assert refresh_facts(ws.con, full=True) == 60
    assert snapshot(ws) == incremental
    assert len(incremental[0]) == 60 and any(seq > 1 for _, _, seq, *_ in incremental[1])
    assert any(no > 1 for _, _, no, *_ in incremental[2])  # call-backs


def test_time_in_status_adds_up_to_the_resolution_time(ws, tmp_path):
    # without reopens, every second from creation to the solve is waiting on the
    # company (new, open, on-hold) or on the customer (pending)
    import_events(ws, tmp_path / "e.csv", "\n".join(synthetic(random.Random(11), tickets=80)))
    refresh_facts(ws.con)
    checked = ws.sql("""
        SELECT count(*) AS n,
               count(*) FILTER (WHERE abs(requester_wait_s + agent_wait_s - full_resolution_s) > 1e-6) AS off,
               count(*) FILTER (WHERE on_hold_s > requester_wait_s OR agent_work_s > requester_wait_s) AS over
        FROM ticket_facts WHERE last_solved_at IS NOT NULL AND reopens = 0
    """).to_pylist()[0]
    assert checked["n"] > 10 and checked["off"] == 0 and checked["over"] == 0, checked


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_order_of_events_in_a_file_does_not_matter(tmp_path, seed):
    rng = random.Random(seed)
    lines = synthetic(rng, tickets=40)
    got = []
    for attempt in range(2):
        rng.shuffle(lines)
        with cxmetrics.open(tmp_path / f"ws{attempt}", create=True) as ws:
            import_events(ws, tmp_path / f"e{attempt}.csv", "\n".join(lines))
            refresh_facts(ws.con)
            got.append(snapshot(ws))
    assert got[0] == got[1]


def test_a_failed_refresh_leaves_the_facts_as_they_were(ws, tmp_path, monkeypatch):
    load(ws, tmp_path, THREE)
    before = snapshot(ws)
    state = ws.sql("SELECT * FROM facts_state").num_rows
    import_events(ws, tmp_path / "more.csv", "B3,T2,3/09:30,status,agent,A2,,solved,,,,,,,")
    monkeypatch.setattr(_sql, "reply_intervals", lambda *args, **kwargs: "SELECT * FROM no_such_table")
    with pytest.raises(duckdb.Error):
        refresh_facts(ws.con)
    assert snapshot(ws) == before
    assert ws.sql("SELECT * FROM facts_state").num_rows == state
    monkeypatch.undo()
    assert refresh_facts(ws.con) == 1
    assert facts(ws, "T2")["solved"] is True


def synthetic(rng: random.Random, tickets: int) -> list[str]:
    """Event lines (HEADER's columns) of random but plausible tickets: bots, hand-offs,
    notes, replies, pending and on-hold periods, reopens, calls, merges; with ties in ts."""
    lines = []
    for t in range(tickets):
        tid, req = f"T{t}", f"C{rng.randrange(tickets // 3)}"
        topic = rng.choice(["billing", "login", "bug"])
        day, minute = rng.randrange(1, 20), 0
        n = 0

        def add(kind: str, actor: str, actor_id: str = "", public: str = "", status: str = "", extra: str = ",,,,,,,"):
            nonlocal n
            n += 1
            lines.append(f"{tid}e{n},{tid},{day}/{8 + minute // 60:02d}:{minute % 60:02d},{kind},{actor},{actor_id},"
                         f"{public},{status},{extra}")

        add("created", "customer", req, "", "new", f"{req},{topic},Tier 1,,,{rng.choice(['chat', 'phone'])},")
        for _ in range(rng.randrange(1, 12)):
            minute += rng.choice([0, 0, 5, 30, 90])  # repeated timestamps on purpose
            if minute >= 14 * 60:
                break
            kind = rng.choice(["agent", "agent", "customer", "bot", "note", "status", "assign", "handoff", "hold",
                               "call"])
            if kind in ("agent", "customer", "bot"):
                add("message", kind, f"{kind[0].upper()}1")
            elif kind == "note":
                add("message", "agent", "A2", "false")
            elif kind == "status":
                add("status", "agent", "A1", "", rng.choice(["open", "pending", "on-hold", "solved", "solved", "closed"]))
            elif kind == "assign":
                add("assign", "system", "", "", "", f",,{rng.choice(['Tier 1', 'Tier 2'])},A{rng.randrange(3)},,,")
            elif kind == "handoff":
                add("handoff", "bot", "B1")
            elif kind == "call":  # a call (or a call-back), answered or not
                add("call_queued", "system")
                if rng.random() < 0.7:
                    add("call_answered", "agent", f"A{rng.randrange(3)}")
                    add("call_ended", "agent", "A1", "", "", f",,,,,,{rng.choice(['', '120'])}")
                else:
                    add("call_abandoned", "customer", req)
            else:
                add("hold_start", "agent", "A1")
                add("hold_end", "agent", "A1", "", "", f",,,,,,{rng.choice(['', '30'])}")
        if rng.random() < 0.05:
            add("merged", "agent", "A1")
    assert HEADER.count(",") == lines[0].count(","), lines[0]
    return [expand(line) for line in lines]


def test_tickets_sharing_a_hash_are_still_kept_apart(ws, tmp_path, monkeypatch):
    # the window passes key a ticket by a hash; should two tickets share one, the refresh
    # keys them by their texts instead (here every ticket shares the same hash)
    import_events(ws, tmp_path / "e.csv", "\n".join(synthetic(random.Random(5), tickets=40)))
    refresh_facts(ws.con)
    expected = snapshot(ws)
    monkeypatch.setattr(_sql, "HASH_KEY", "hash(e.source)")
    assert refresh_facts(ws.con, full=True) == 40
    assert snapshot(ws) == expected
    import_events(ws, tmp_path / "more.csv", "T1e99,T1,20/09:00,status,agent,A1,,solved,,,,,,,")
    assert refresh_facts(ws.con) >= 1
    incremental = snapshot(ws)
    monkeypatch.undo()
    refresh_facts(ws.con, full=True)
    assert snapshot(ws) == incremental


def test_a_small_incremental_refresh_joins_in_written_order_and_leaves_the_settings_as_they_were(
        ws, tmp_path, monkeypatch):
    """Up to _WRITTEN_ORDER_MAX tickets in scope the engine skips its join-order search (issue
    17: a live batch's refresh is many small statements); the session's settings, a user's
    own disabled optimizers among them, come back after the refresh, and the facts are those
    of the usual plans."""
    from cxmetrics.facts import _refresh

    load(ws, tmp_path, THREE)
    ws.con.execute("SET disabled_optimizers = 'top_n'")
    import_events(ws, tmp_path / "more.csv", """
        B3,T2,3/09:00,message,customer,C2,,,,,,,,,
        B4,T2,3/09:20,message,agent,A2,,,,,,,,,
        B5,T2,3/09:30,status,agent,A2,,solved,,,,,,,
    """)
    seen: list[str] = []
    real = _refresh._rederive

    def spy(con, *args, **kwargs):  # noqa: ANN001, ANN202
        seen.append(con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0])
        return real(con, *args, **kwargs)

    monkeypatch.setattr(_refresh, "_rederive", spy)
    assert refresh_facts(ws.con) == 1
    assert [set(s.split(",")) for s in seen] == [{"top_n", "join_order"}]
    assert ws.con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0] == "top_n"
    f = facts(ws, "T2")
    assert (f["solved"], f["public_agent_replies"], f["full_resolution_s"]) == (True, 2, 5400.0)
    # above the bound, the engine orders the joins itself
    monkeypatch.setattr(_refresh, "_WRITTEN_ORDER_MAX", 0)
    import_events(ws, tmp_path / "more2.csv", """
        C2,T3,3/09:00,message,agent,A2,,,,,,,,,
    """)
    assert refresh_facts(ws.con) == 1
    assert seen[-1] == "top_n"
