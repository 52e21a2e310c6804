"""Refreshing the facts: which tickets changed, and rewriting theirs in one transaction.

Which tickets changed since the last refresh: `facts_state` lists the imports whose
rows the facts already reflect, so every `tickets` or `events` row with another
`_import_id` is new, and its ticket is in scope. An import that updates a row deletes
the old one and inserts the new one under its own id, so updates are new rows too.

What that misses is a row that goes without a new row taking its place (a demo
replaced, a source deleted, an event moved to another ticket): the ticket losing it
has no new row. `ticket_facts` keeps, per ticket, how many event rows and whether a
ticket row it was derived from (`_event_rows`, `_ticket_row`), so the refresh checks
the totals: the stored counts of the tickets out of scope plus the current counts of
those in scope must add up to the tables' row counts. Rows of tickets out of scope can
only have gone (never come: a new row is in scope), so equal totals prove nothing
went; if they differ, a per-ticket comparison of the counts finds the tickets that
lost rows (a full scan, only then). The totals are one pass over
the tables' key columns (9-14 ms for 15M events).

Finding the new rows is one scan of the tables' `_import_id` column, tested against the few
logged imports not reflected yet (`cxmetrics.store._reflected`). Reading the events of the
tickets in scope is one scan of `events`, copied once to `_fx_ev`.

Facts of a ticket also depend on its requester's other tickets (fcr looks for a repeat
contact within 7 days), so the fcr of the tickets that share a (requester, topic) with
a refreshed ticket, before or after, is recomputed too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime

import duckdb

from cxmetrics.calendar import ScheduleSet
from cxmetrics.facts import _business, _fatigue, _sql
from cxmetrics.facts._write import write_changed
from cxmetrics.store import engine_settings, optimizers_off, rollback
from cxmetrics.store._reflected import new_rows, note_imports

_JOIN_FILTER_MAX = 20_000
# Up to this many tickets in scope, the engine joins in the order the statements are written
# rather than searching for the best order: a live batch's statements are many and small, and
# the search cost more than it found (at a million tickets, 250 new tickets' refresh 8-11%
# faster in alternating runs, 197 against 209-220 ms; 20,000 tickets' as fast either way). The
# statements are written with the tickets in scope on the side that drives the joins.
_WRITTEN_ORDER_MAX = 20_000


def refresh_facts(con: duckdb.DuckDBPyConnection, *, full: bool = False, schedules: ScheduleSet | None = None) -> int:
    """Recompute `ticket_facts`, `reply_intervals` and `contacts` for the tickets whose events or
    ticket row changed since the last refresh (all tickets with `full=True`, or when
    the facts were never refreshed), and their business-time twins (`ticket_facts_bh`,
    `reply_intervals_bh`) under `schedules` (default: the `schedules.toml` next to the
    database file, else 24/7 UTC); all tickets when the schedules changed since the last
    refresh. Returns how many tickets were refreshed: their facts rewritten, or removed
    when the ticket is gone (`last_business_refresh(con)` says how many tickets' twins
    changed).

    A full refresh derives every ticket again but writes only the rows that changed
    (`_write.write_changed`): after a schedule change or an upgrade most come out as stored.

    One transaction: a failure leaves the facts as they were."""
    if schedules is None:
        schedules = _business.workspace_schedules(con)
    # (a join whose build side has at most _JOIN_FILTER_MAX keys pushes them into the scan
    # of the other side as a list, so only matching rows are read whole: measured 2x
    # faster than the default min/max range for up to 10k tickets in scope, no gain at 100k)
    settings = {"preserve_insertion_order": "false", "dynamic_or_filter_threshold": str(_JOIN_FILTER_MAX)}
    with engine_settings(con, **settings), _transaction(con):
        if not full and _scalar(con, "SELECT count(*) FROM facts_state") == 0:
            full = True  # never refreshed: every row is new, and the full path is faster
        if not full and _business.stale(con, schedules):
            full = True  # new schedules (or none recorded): every ticket's business time changes
        n = _refresh_all(con, schedules) if full else _refresh_changed(con, schedules)
        # (a rollback drops them too)
        for name in _sql.TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {name}")
        return n


def _refresh_all(con: duckdb.DuckDBPyConnection, schedules: ScheduleSet) -> int:
    first = _scalar(con, "SELECT count(*) FROM ticket_facts") == 0
    business = _business.plan(con, schedules, scoped=False)
    key = _derive(con, business)
    con.execute(_sql.repeat_flags(scoped=False))
    con.execute(_sql.open_tickets(scoped=False))
    facts = write_changed(con, "ticket_facts", _sql.fact_rows())
    con.execute(_sql.reply_intervals(scoped=False, key=key))
    replies = write_changed(con, "reply_intervals", "_fx_replies", one_row=False)
    con.execute(_sql.contacts(scoped=False, key=key))
    contacts = write_changed(con, "contacts", "_fx_contacts", one_row=False)
    _business.refresh_business(con, business, key=key)
    sends = _fatigue.refresh(con, new=None) or 0
    tickets = _scalar(con, "SELECT count(*) FROM _fx_tk")
    con.execute("DELETE FROM facts_full_refresh")
    con.execute("INSERT INTO facts_full_refresh VALUES (now(), ?, ?, ?, ?, ?, ?)",
                [tickets, facts, replies, contacts, sends, first])
    con.execute("DELETE FROM facts_state")
    con.execute("""
        INSERT INTO facts_state
        SELECT DISTINCT _import_id, now() FROM (
            SELECT _import_id FROM events UNION ALL SELECT _import_id FROM tickets
        ) WHERE _import_id IS NOT NULL
    """)
    note_imports(con, "facts_state")
    return tickets


@dataclass(frozen=True)
class FullRefresh:
    """What the last full facts refresh changed (`facts_full_refresh`): it derives every ticket
    again and rewrites only the rows that differ from the stored ones."""

    refreshed_at: datetime
    tickets: int  # tickets derived
    facts_changed: int  # tickets whose ticket_facts row is new, gone or has other values
    replies_changed: int  # tickets whose reply intervals differ
    contacts_changed: int  # tickets whose contacts differ
    sends_changed: int  # survey sends whose fatigue ordinal differs
    first: bool  # nothing was stored before: every row is new


def last_full_refresh(con: duckdb.DuckDBPyConnection) -> FullRefresh | None:
    """What the last full refresh changed (see `FullRefresh`), or None if there was none. The
    business-time twins say their own (`last_business_refresh`)."""
    rows = con.execute("SELECT refreshed_at::VARCHAR, tickets, facts_changed, replies_changed, contacts_changed, "
                       "sends_changed, first FROM facts_full_refresh").fetchall()
    if not rows:
        return None
    at, *counts, first = rows[0]
    return FullRefresh(datetime.fromisoformat(at), *(int(c) for c in counts), bool(first))


def _refresh_changed(con: duckdb.DuckDBPyConnection, schedules: ScheduleSet) -> int:
    new = new_rows(con, "facts_state")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _fx_fresh AS
        SELECT DISTINCT source, ticket_id, _import_id FROM (
            SELECT source, ticket_id, _import_id FROM events WHERE ticket_id IS NOT NULL AND {new}
            UNION ALL
            SELECT source, ticket_id, _import_id FROM tickets WHERE {new}
        )
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE _fx_targets AS SELECT DISTINCT source, ticket_id FROM _fx_fresh")
    n = _scope(con)
    missing, stored = _rows_went_missing(con)
    if missing:
        _add_tickets_that_lost_rows(con)
        n = _scope(con)
        stored = n
    with optimizers_off(con, "join_order") if 0 < n <= _WRITTEN_ORDER_MAX else nullcontext():
        _rederive(con, schedules, n, stored)
    # the sends' ordinals: new sends, and the customer-less sends of the tickets just refreshed
    _fatigue.refresh(con, new=new)
    con.execute("""
        INSERT INTO facts_state
        SELECT DISTINCT _import_id, now() FROM _fx_fresh WHERE _import_id IS NOT NULL
    """)
    note_imports(con, "facts_state")
    return n


def _rederive(con: duckdb.DuckDBPyConnection, schedules: ScheduleSet, n: int, stored: int) -> None:
    """Derive and write again the facts of the `n` tickets in `_fx_targets` (`stored` of
    them have facts stored)."""
    if n:
        business = _business.plan(con, schedules, scoped=True)
        key = _derive(con, business)
        con.execute(_sql.repeat_groups())
        con.execute(_sql.repeat_flags(scoped=True, span=_repeat_span(con)))
        # (tickets new to the facts, as most of a live batch's are, have no rows to delete: a
        # ticket's reply intervals, contacts and twins are written with its facts row)
        if stored:
            con.execute(f"DELETE FROM ticket_facts f USING _fx_targets k WHERE {_sql.keys_match('f', 'k')}")
        con.execute(_sql.open_tickets(scoped=True))
        con.execute(_sql.insert_facts())
        con.execute(_sql.update_neighbour_fcr())
        con.execute(_sql.reply_intervals(scoped=True, key=key))
        if stored:
            con.execute(f"DELETE FROM reply_intervals r USING _fx_targets k WHERE {_sql.keys_match('r', 'k')}")
        con.execute("INSERT INTO reply_intervals BY NAME SELECT * FROM _fx_replies")
        con.execute(_sql.contacts(scoped=True, key=key))
        if stored:
            con.execute(f"DELETE FROM contacts c USING _fx_targets k WHERE {_sql.keys_match('c', 'k')}")
        con.execute("INSERT INTO contacts BY NAME SELECT * FROM _fx_contacts")
        _business.refresh_business(con, business, key=key, stored=bool(stored))


def _scope(con: duckdb.DuckDBPyConnection) -> int:
    """Copy the events of the tickets in `_fx_targets` to `_fx_ev`; returns how many tickets."""
    con.execute(_sql.scoped_events())
    return _scalar(con, "SELECT count(*) FROM _fx_targets")


def _derive(con: duckdb.DuckDBPyConnection, business: _business.BusinessPlan) -> str:
    """Steps 1 to 3 for the tickets in scope (`business.scoped`; with the business time in
    status when `business.folded`); returns the key of a (ticket, stream) they used (for the
    reply intervals)."""
    scoped, key = business.scoped, _sql.HASH_KEY
    con.execute(_sql.stream_aggregates(scoped, key, business.status_b()))
    if _scalar(con, "SELECT count(*) - count(DISTINCT _k) FROM _fx_agg"):
        # two (ticket, stream)s share a 64-bit hash (odds about 3 in 10^8 for a million
        # tickets): their events would mix, so key them by their texts instead
        key = _sql.STRUCT_KEY
        con.execute(_sql.stream_aggregates(scoped, key, business.status_b()))
    con.execute(_sql.ticket_rows(scoped, business=business.folded))
    if _scalar(con, "SELECT count(*) FROM _fx_tk WHERE first_touch_at < created_at OR first_reply_at < created_at"):
        con.execute(_sql.early_reply_fixup(scoped))
    return key


def _repeat_span(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """The first and last creation (epoch seconds, floor and ceiling) of the tickets in scope
    with a repeat group, as derived now and as stored; None when one has no creation time
    (then every stored ticket of their groups is read, as a full refresh would)."""
    lo, hi, undated = con.execute(f"""
        SELECT floor(min(epoch_us(created_at)) / 1e6)::BIGINT, ceil(max(epoch_us(created_at)) / 1e6)::BIGINT,
               count(*) FILTER (WHERE created_at IS NULL)
        FROM (
            SELECT created_at FROM _fx_tk WHERE requester_id IS NOT NULL AND topic IS NOT NULL
            UNION ALL
            SELECT f.created_at FROM ticket_facts f SEMI JOIN _fx_targets k ON {_sql.keys_match('f', 'k')}
            WHERE f.requester_id IS NOT NULL AND f.topic IS NOT NULL
        )""").fetchall()[0]
    return None if undated or lo is None else (int(lo), int(hi))


def _rows_went_missing(con: duckdb.DuckDBPyConnection) -> tuple[bool, int]:
    """Whether a ticket out of scope lost an event or its tickets row since its facts were
    derived (see the module docstring for why comparing totals is exact); and how many
    tickets in scope have stored facts (none: new tickets, whose old rows need no deleting)."""
    in_scope = f"SEMI JOIN _fx_targets k ON {_sql.keys_match('{t}', 'k')}"
    (events_now, tickets_now, events_stored, tickets_stored, stored_scoped,
     events_scoped, tickets_scoped) = con.execute(f"""
        SELECT (SELECT count(*) FROM events WHERE ticket_id IS NOT NULL),
               (SELECT count(*) FROM tickets),
               (SELECT coalesce(sum(_event_rows), 0) FROM ticket_facts),
               (SELECT count(*) FILTER (WHERE _ticket_row) FROM ticket_facts),
               -- the scope's stored facts, read once: [events, tickets rows, tickets]
               (SELECT [coalesce(sum(_event_rows), 0)::BIGINT, count(*) FILTER (WHERE _ticket_row), count(*)]
                FROM ticket_facts f {in_scope.format(t='f')}),
               (SELECT count(*) FROM _fx_ev),
               (SELECT count(*) FROM tickets t {in_scope.format(t='t')})
    """).fetchall()[0]
    events_stored_scoped, tickets_stored_scoped, facts_scoped = stored_scoped
    events_kept = events_stored - events_stored_scoped
    tickets_kept = tickets_stored - tickets_stored_scoped
    missing = events_now != events_kept + events_scoped or tickets_now != tickets_kept + tickets_scoped
    return missing, int(facts_scoped)


def _add_tickets_that_lost_rows(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        INSERT INTO _fx_targets
        SELECT coalesce(c.source, f.source), coalesce(c.ticket_id, f.ticket_id)
        FROM (
            SELECT source, ticket_id, sum(n) AS n, bool_or(tk) AS tk FROM (
                SELECT source, ticket_id, count(*) AS n, false AS tk FROM events
                WHERE ticket_id IS NOT NULL GROUP BY source, ticket_id
                UNION ALL
                SELECT source, ticket_id, 0, true FROM tickets
            ) GROUP BY source, ticket_id
        ) c
        FULL JOIN ticket_facts f ON {_sql.keys_match('c', 'f')}
        ANTI JOIN _fx_targets k
               ON k.source = coalesce(c.source, f.source) AND k.ticket_id = coalesce(c.ticket_id, f.ticket_id)
        WHERE c.ticket_id IS NULL OR f.ticket_id IS NULL OR c.n <> f._event_rows OR c.tk <> f._ticket_row
    """)


def _scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    return con.execute(query).fetchall()[0][0]


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        rollback(con)
        raise
    con.execute("COMMIT")
