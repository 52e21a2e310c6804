"""The `events` and `surveys` views: the rows given, and those flat tickets imply.

A flat ticket (`import tickets`) implies its created, first-reply and solved events and its
survey answers. They are not written (migration 0021): the ticket keeps the values they are
made of (`first_reply_at`, `solved_at`, the scores and scales, `_flat`), and the views derive
them as the import once wrote them (ids `<ticket>:created`..., `origin = 'tickets'`; the
`_hash` their insert computed).

A workspace with no flat ticket gets the views without the derivation: every metric query
reads them, and the derivation's three branches cost each query about 2 ms of planning (20
uncached overviews at once: p95 1.6 -> 2.2 s at a million tickets, though nothing was
derived). So the views are made to fit (`ensure_views`): at open, and by the imports that
store the first flat ticket (`import tickets`, `import tables`), in their transaction.
"""

from __future__ import annotations

import duckdb

# a word only the deriving views hold: `ensure_views` tells them apart by it (a new
# derivation gets a new word, and every workspace its views at the next open)
_MARK = "implied_v1"

_EVENTS = ("source, event_id, ticket_id, ts, kind, actor_type, actor_id, public, status_from, status_to, body, "
           "channel, duration_s, assignee_id, team, priority, origin")
_SURVEYS = ("source, response_id, ticket_id, customer_id, agent_id, kind, scale, scale_min, scale_max, score, "
            "comment, sent_at, responded_at, origin, send_id")

_AGENT = "CASE WHEN agent_type = 'bot' THEN 'bot' ELSE 'agent' END"
_ANSWERED = "coalesce(solved_at, first_reply_at, created_at)"


def _scale_end(scale: str, end: int) -> str:
    # the import checked the scale of every score it kept: 'a-b' or 'good/bad'
    return f"CASE {scale} WHEN 'good/bad' THEN {end - 1} ELSE TRY_CAST(split_part({scale}, '-', {end}) AS DOUBLE) END"


_EVENTS_IMPLIED = f"""
    SELECT source, ticket_id || ':created' AS event_id, ticket_id, created_at AS ts, 'created' AS kind,
           CASE created_by WHEN 'agent' THEN 'agent' WHEN 'system' THEN 'system' ELSE 'customer' END AS actor_type,
           CASE WHEN created_by = 'agent' THEN assignee_id ELSE requester_id END AS actor_id,
           NULL::BOOLEAN AS public, NULL::VARCHAR AS status_from, 'new' AS status_to, NULL::VARCHAR AS body,
           channel, NULL::DOUBLE AS duration_s, NULL::VARCHAR AS assignee_id, team, priority,
           'tickets' AS origin, _import_id
    FROM tickets WHERE _flat
    UNION ALL
    SELECT source, ticket_id || ':first_reply', ticket_id, first_reply_at, 'message', {_AGENT}, assignee_id,
           true, NULL, NULL, NULL, channel, NULL, NULL, NULL, NULL, 'tickets', _import_id
    FROM tickets WHERE _flat AND first_reply_at IS NOT NULL
    UNION ALL
    SELECT source, ticket_id || ':solved', ticket_id, solved_at, 'status', {_AGENT}, assignee_id,
           NULL, NULL, 'solved', NULL, channel, NULL, NULL, NULL, NULL, 'tickets', _import_id
    FROM tickets WHERE _flat AND solved_at IS NOT NULL
"""

_SURVEYS_IMPLIED = f"""
    SELECT source, ticket_id || ':csat' AS response_id, ticket_id, requester_id AS customer_id,
           assignee_id AS agent_id, 'csat' AS kind, csat_scale AS scale, {_scale_end('csat_scale', 1)} AS scale_min,
           {_scale_end('csat_scale', 2)} AS scale_max, csat_score AS score, NULL::VARCHAR AS comment,
           NULL::TIMESTAMPTZ AS sent_at, {_ANSWERED} AS responded_at, 'tickets' AS origin,
           NULL::VARCHAR AS send_id, _import_id
    FROM tickets WHERE _flat AND csat_score IS NOT NULL
    UNION ALL
    SELECT source, ticket_id || ':ces', ticket_id, requester_id, assignee_id, 'ces', ces_scale,
           {_scale_end('ces_scale', 1)}, {_scale_end('ces_scale', 2)}, ces_score, NULL, NULL, {_ANSWERED},
           'tickets', NULL, _import_id
    FROM tickets WHERE _flat AND ces_score IS NOT NULL
    UNION ALL
    SELECT source, ticket_id || ':nps', ticket_id, requester_id, assignee_id, 'nps', '0-10', 0, 10, nps,
           NULL, NULL, {_ANSWERED}, 'tickets', NULL, _import_id
    FROM tickets WHERE _flat AND nps IS NOT NULL
"""

_VIEWS = {"events": ("events_stored", _EVENTS, _EVENTS_IMPLIED),
          "surveys": ("surveys_stored", _SURVEYS, _SURVEYS_IMPLIED)}


def view_sql(name: str, derive: bool) -> str:
    """CREATE OR REPLACE VIEW `name` ('events' or 'surveys'), with the implied rows or without."""
    stored, columns, implied = _VIEWS[name]
    given = f"SELECT {columns}, _hash, _import_id FROM {stored}"
    if not derive:
        return f"CREATE OR REPLACE VIEW {name} AS {given}"
    # the implied rows' _hash is the one their insert computed: every column but the key
    content = ", ".join(c for c in columns.split(", ")[2:])
    return (f"CREATE OR REPLACE VIEW {name} AS {given} UNION ALL "
            f"SELECT {columns}, hash({content}), _import_id FROM ({implied}) {_MARK}")


def derives(con: duckdb.DuckDBPyConnection) -> bool | None:
    """Whether the views derive implied rows now (None: no views, a schema before 0021)."""
    rows = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'events' AND schema_name = 'main' "
                       "AND NOT temporary AND database_name = current_database()").fetchall()
    return None if not rows else _MARK in rows[0][0]


def ensure_views(con: duckdb.DuckDBPyConnection) -> None:
    """Make the views derive implied rows if a flat ticket is stored, and not otherwise;
    nothing when they already fit."""
    now = derives(con)
    if now is None:
        return
    derive = bool(con.execute("SELECT EXISTS (SELECT 1 FROM tickets WHERE _flat)").fetchall()[0][0])
    if now != derive:
        for name in _VIEWS:
            con.execute(view_sql(name, derive))
