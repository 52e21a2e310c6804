"""What an imported row implies for other tables.

- A flat ticket implies events (created, first reply, solved) and survey answers for its
  score columns, so flat exports and event streams meet in one model. They are not written:
  the ticket keeps the values they are made of (`Table.implied`: first_reply_at, solved_at,
  the scores, `_flat`) and the `events` and `surveys` views derive them (`origin =
  'tickets'`; `store._implied`), so they change with their ticket and cost an import nothing.
- A `created` event implies its ticket, with the dimensions the event carries (below).

It reads temp table `_final` (the merged rows, see `_merge.merge`).
"""

from __future__ import annotations

import duckdb

from cxmetrics.ingest._merge import upsert_rows
from cxmetrics.model import TABLES
from cxmetrics.store._implied import ensure_views

_CHANGED = "_final WHERE _action <> 'none'"


def flat_tickets(con: duckdb.DuckDBPyConnection, import_id: str, currency: str) -> None:
    # the first flat ticket makes the events and surveys views derive what it implies
    ensure_views(con)


def tickets_from_created_events(con: duckdb.DuckDBPyConnection, import_id: str, currency: str) -> None:
    # dimensions the event leaves out keep what the ticket already had
    keep = lambda c: f"coalesce(n.{c}, t.{c}) AS {c}"  # noqa: E731
    tickets = f"""
        SELECT n.source, n.ticket_id, n.created_at, {keep('channel')}, {keep('priority')},
               t.status, {keep('requester_id')}, {keep('assignee_id')}, t.agent_type, {keep('team')},
               {keep('topic')}, {keep('tags')}, {keep('product')}, {keep('customer_tier')},
               {keep('region')}, {keep('created_by')}, {keep('subject')},
               t.reopens_reported, t.replies_reported, t.handle_s_reported,
               {", ".join(f"t.{c.name}" for c in TABLES["tickets"].implied)}
        FROM (
            SELECT source, ticket_id, ts AS created_at, channel, priority,
                   coalesce(requester_id, CASE WHEN actor_type = 'customer' THEN actor_id END) AS requester_id,
                   assignee_id, team, topic, tags, product, customer_tier, region,
                   coalesce(created_by, CASE actor_type WHEN 'agent' THEN 'agent' WHEN 'system' THEN 'system'
                                                          ELSE 'customer' END) AS created_by,
                   subject
            FROM {_CHANGED} AND kind = 'created'
            QUALIFY row_number() OVER (PARTITION BY source, ticket_id ORDER BY ts DESC) = 1
        ) n LEFT JOIN tickets t ON t.source = n.source AND t.ticket_id = n.ticket_id
    """
    upsert_rows(con, TABLES["tickets"], tickets, import_id)
