"""Survey fatigue: each survey send's ordinal among its customer's sends (`survey_fatigue`),
kept by the facts refresh so that the `surveys_received` band (1, 2, 3, 4-5, 6+) is a lookup
instead of a window over every send on every request (a third of a second at a million sends).

The ordinal counts the customer's sends in its source up to this one, by send time (a send
without one last), then send id, over all time and every survey definition, so a filter or a
period never renumbers them. The customer is the send's `customer_id`, else its ticket's
requester (`ticket_facts.requester_id`). A send with neither has no row (its band is
'unknown').

What can change a send's ordinal: a send imported or changed (its customer's order, and its
former customer's), and, for a send naming no customer, its ticket's requester changing. A
refresh recomputes the ordinals of every customer such a change touches, all of that
customer's sends at once; a full facts refresh recomputes them all.
"""

from __future__ import annotations

import duckdb

from cxmetrics.facts._write import write_changed

TABLE = "survey_fatigue"
_CUSTOMERS = "_fx_fatigue_customers"
_TOUCHED = "_fx_fatigue_sends"

# every send with the customer it counts for (NULL when it names none and its ticket has no requester)
_RESOLVED = """
    SELECT s.source, s.send_id, s.sent_at, coalesce(s.customer_id, r.requester_id) AS customer
    FROM survey_sends s
    LEFT JOIN ticket_facts r ON s.customer_id IS NULL AND r.source = s.source AND r.ticket_id = s.ticket_id"""


def _ordinals(customers: str | None = None) -> str:
    """The ordinals of every send (of the customers listed in table `customers` only: a
    customer's ordinals depend on their own sends alone, so the window reads no others)."""
    only = f"SEMI JOIN {customers} c ON c.source = x.source AND c.customer = x.customer" if customers else ""
    return f"""
    SELECT source, send_id, customer,
           row_number() OVER (PARTITION BY source, customer ORDER BY sent_at NULLS LAST, send_id) AS nth
    FROM (SELECT x.* FROM ({_RESOLVED}) x {only}) x
    WHERE customer IS NOT NULL"""


def refresh(con: duckdb.DuckDBPyConnection, *, new: str | None) -> int | None:
    """Bring `survey_fatigue` up to date: all of it without `new`; else for the customers that
    sends from the imports `new` selects (SQL over survey_sends rows, `new_rows`), and the
    customer-less sends of the tickets in `_fx_targets`, touch. Without `new`, returns how many
    sends' ordinals changed (None otherwise)."""
    if new is None:  # every ordinal again; only those that changed are written
        return write_changed(con, TABLE, _ordinals(), key=("source", "send_id"))
    # (a live trickle of events imports no sends: their table is not scanned for new ones then)
    sends = con.execute("SELECT EXISTS (SELECT 1 FROM imports WHERE kind = 'survey_sends' AND import_id NOT IN "
                        "(SELECT import_id FROM facts_state))").fetchall()[0][0]
    targets = bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_fx_targets' "
                               "AND temporary").fetchall()[0][0])
    parts = [f"SELECT source, send_id FROM survey_sends WHERE {new}"] if sends else []
    if targets:  # a customer-less send of a refreshed ticket: its requester may have changed
        parts.append("""SELECT s.source, s.send_id FROM survey_sends s
        SEMI JOIN _fx_targets k ON k.source = s.source AND k.ticket_id = s.ticket_id
        WHERE s.customer_id IS NULL""")
    if not parts:
        return None
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_TOUCHED} AS {' UNION ALL '.join(parts)}")
    if not con.execute(f"SELECT count(*) FROM {_TOUCHED}").fetchall()[0][0]:
        con.execute(f"DROP TABLE {_TOUCHED}")
        return None
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {_CUSTOMERS} AS
        SELECT DISTINCT source, customer FROM (
            SELECT x.source, x.customer FROM ({_RESOLVED}) x
            SEMI JOIN {_TOUCHED} t ON t.source = x.source AND t.send_id = x.send_id     -- whose it is now
            UNION ALL
            SELECT z.source, z.customer FROM {TABLE} z
            SEMI JOIN {_TOUCHED} t ON t.source = z.source AND t.send_id = z.send_id     -- whose it was
        ) WHERE customer IS NOT NULL""")
    con.execute(f"DROP TABLE {_TOUCHED}")
    try:
        if not con.execute(f"SELECT count(*) FROM {_CUSTOMERS}").fetchall()[0][0]:
            return None
        con.execute(f"DELETE FROM {TABLE} z USING {_CUSTOMERS} c WHERE z.source = c.source AND z.customer = c.customer")
        con.execute(f"INSERT INTO {TABLE} BY NAME {_ordinals(_CUSTOMERS)}")
        return None
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_CUSTOMERS}")
