"""What an imported row implies for other tables.

- A flat ticket implies events (created, first reply, solved) and survey
  answers for its score columns, so flat exports and event streams meet in one model.
  Implied rows carry `origin = 'tickets'` and are replaced when their ticket changes.
- A `created` event implies its ticket, with the dimensions the event carries.

Both read temp table `_final` (the merged rows, see `_merge.merge`).
"""

from __future__ import annotations

import duckdb

from cxmetrics.ingest._merge import insert_rows, upsert_rows
from cxmetrics.model import TABLES

_CHANGED = "_final WHERE _action <> 'none'"


def flat_ticket_events(con: duckdb.DuckDBPyConnection, import_id: str, currency: str) -> None:
    changed = f"SELECT source, ticket_id FROM {_CHANGED} AND _action = 'update'"
    # a changed ticket's implied rows are rebuilt from scratch: a timestamp that was
    # removed from the file must remove its event too (a new ticket has none yet)
    updated = con.execute("SELECT count(*) FROM _final WHERE _action = 'update'").fetchall()[0][0]
    for table in ("events", "surveys") if updated else ():  # a first or unchanged import deletes nothing
        con.execute(f"""
            DELETE FROM {table} t USING ({changed}) c
            WHERE t.origin = 'tickets' AND t.source = c.source AND t.ticket_id = c.ticket_id
        """)
    actor = "CASE WHEN agent_type = 'bot' THEN 'bot' ELSE 'agent' END"
    events = f"""
        SELECT source, ticket_id || ':created' AS event_id, ticket_id, created_at AS ts, 'created' AS kind,
               CASE created_by WHEN 'agent' THEN 'agent' WHEN 'system' THEN 'system' ELSE 'customer' END AS actor_type,
               CASE WHEN created_by = 'agent' THEN assignee_id ELSE requester_id END AS actor_id,
               NULL::BOOLEAN AS public, NULL AS status_from, 'new' AS status_to, NULL AS body, channel,
               NULL::DOUBLE AS duration_s, NULL AS assignee_id, team, priority, 'tickets' AS origin
        FROM {_CHANGED}
        UNION ALL
        SELECT source, ticket_id || ':first_reply', ticket_id, first_reply_at, 'message', {actor}, assignee_id,
               true, NULL, NULL, NULL, channel, NULL, NULL, NULL, NULL, 'tickets'
        FROM {_CHANGED} AND first_reply_at IS NOT NULL
        UNION ALL
        SELECT source, ticket_id || ':solved', ticket_id, solved_at, 'status', {actor}, assignee_id,
               NULL, NULL, 'solved', NULL, channel, NULL, NULL, NULL, NULL, 'tickets'
        FROM {_CHANGED} AND solved_at IS NOT NULL
    """
    insert_rows(con, TABLES["events"], events, import_id)
    answered = "coalesce(solved_at, first_reply_at, created_at)"
    surveys = f"""
        SELECT source, ticket_id || ':csat' AS response_id, ticket_id, requester_id AS customer_id,
               assignee_id AS agent_id, 'csat' AS kind, csat_scale_n AS scale, csat_min AS scale_min,
               csat_max AS scale_max, csat_score AS score, NULL AS comment, NULL::TIMESTAMPTZ AS sent_at,
               {answered} AS responded_at, 'tickets' AS origin, NULL AS send_id
        FROM {_CHANGED} AND csat_score IS NOT NULL
        UNION ALL
        SELECT source, ticket_id || ':ces', ticket_id, requester_id, assignee_id, 'ces', ces_scale_n,
               ces_min, ces_max, ces_score, NULL, NULL, {answered}, 'tickets', NULL
        FROM {_CHANGED} AND ces_score IS NOT NULL
        UNION ALL
        SELECT source, ticket_id || ':nps', ticket_id, requester_id, assignee_id, 'nps', '0-10',
               0, 10, nps, NULL, NULL, {answered}, 'tickets', NULL
        FROM {_CHANGED} AND nps IS NOT NULL
    """
    insert_rows(con, TABLES["surveys"], surveys, import_id)


def tickets_from_created_events(con: duckdb.DuckDBPyConnection, import_id: str, currency: str) -> None:
    # dimensions the event leaves out keep what the ticket already had
    keep = lambda c: f"coalesce(n.{c}, t.{c}) AS {c}"  # noqa: E731
    tickets = f"""
        SELECT n.source, n.ticket_id, n.created_at, {keep('channel')}, {keep('priority')},
               t.status, {keep('requester_id')}, {keep('assignee_id')}, t.agent_type, {keep('team')},
               {keep('topic')}, {keep('tags')}, {keep('product')}, {keep('customer_tier')},
               {keep('region')}, {keep('created_by')}, {keep('subject')},
               t.reopens_reported, t.replies_reported, t.handle_s_reported
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
