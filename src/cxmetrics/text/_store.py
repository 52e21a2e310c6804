"""The text layer in the workspace: which tickets' text changed, the texts each step reads,
the models kept, and `refresh_text`, which brings every text fact up to date in one
transaction (docs/text.md).

Which tickets changed: `text_state` lists the imports whose rows the text facts reflect, as
`facts_state` does for the facts, so a refresh reads only the tickets with a row from another
import (all tickets with `full=True`). Those tickets are the scope, the temp table
`_tx_scope(source, ticket_id)`; each step rewrites its facts of the tickets in scope:

1. sentiment (`message_sentiment`, and ticket_text's sentiment columns),
2. topics (ticket_text's topic columns and ticket_facts.discovered_topic, when a topic model
   is active: `cxmetrics topics discover` made one),
3. answer signals (`reply_signals`),
4. consistency (`resolution_answers`, which compares each resolving reply with its topic's
   usual answer, so it is recomputed for the topics the scope touches).

Once any text command has run in a workspace (text_state holds a row), every facts refresh
(imports, queries) brings the text facts of new tickets up to date too: `refresh_if_enabled`.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from cxmetrics.store import rollback
from cxmetrics.store._reflected import new_rows, note_imports

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

SCOPE = "_tx_scope"

# the steps in order: (name, "module:function"); each is f(con, ws, full=bool) -> rows written,
# reads the tickets in _tx_scope and rewrites its own facts of them (imported when it runs, so
# that scikit-learn is loaded only by a step that needs it)
STEPS: tuple[tuple[str, str], ...] = (
    ("sentiment", "cxmetrics.text._sentiment_facts:refresh"),
    ("topics", "cxmetrics.text._topics_facts:refresh"),
    ("signals", "cxmetrics.text._signals_facts:refresh"),
    ("consistency", "cxmetrics.text._consistency_facts:refresh"),
)

# -- the texts the steps read (all over the tickets in _tx_scope) -----------------------------

# a customer message with text: public (a private customer note is not what they told us)
CUSTOMER_MESSAGE = ("e.kind = 'message' AND e.actor_type = 'customer' AND coalesce(e.public, true) "
                    "AND nullif(trim(e.body), '') IS NOT NULL")
# a public agent reply with text (bots are not agents here: their replies are not scored)
AGENT_REPLY = ("e.kind = 'message' AND e.actor_type = 'agent' AND coalesce(e.public, true) "
               "AND nullif(trim(e.body), '') IS NOT NULL")


#: rows a step scores at once: a million-ticket workspace's replies and messages held at once
#: (their texts as Python strings, and every word of them) took 9 GB
CHUNK_ROWS = 200_000
_CHUNKED = "_tx_chunked"


def in_chunks(con: duckdb.DuckDBPyConnection, sql: str, order: str, rows: int | None = None) -> Iterator[pa.Table]:
    """The rows of `sql` in the order of `order`, as Arrow tables of at most `rows` rows. The
    query runs once into a temp table (the engine spills it to disk when it must), read one chunk
    at a time: a step holds one chunk's texts in memory, not all of them. Each chunk is fully
    read before it is yielded, so the caller may write between chunks. `rows`: CHUNK_ROWS."""
    rows = rows or CHUNK_ROWS
    # the rows of a live batch fit in one chunk: one query, not a numbered copy read back (three
    # statements per step, 15-25 ms of a live text pass at a million tickets). Past a chunk the
    # first look costs a top-n over the rows, small against the pass that follows.
    first = con.sql(f"SELECT * FROM ({sql}) q ORDER BY {order} LIMIT {rows + 1}").to_arrow_table()
    if first.num_rows <= rows:
        if first.num_rows:
            yield first
        return
    del first
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_CHUNKED} AS "
                f"SELECT *, row_number() OVER (ORDER BY {order}) - 1 AS _chunk_i FROM ({sql}) q")
    try:
        total = con.execute(f"SELECT count(*) FROM {_CHUNKED}").fetchall()[0][0]
        for lo in range(0, total, rows):
            yield con.sql(f"SELECT * EXCLUDE (_chunk_i) FROM {_CHUNKED} "
                          f"WHERE _chunk_i >= {lo} AND _chunk_i < {lo + rows} ORDER BY _chunk_i").to_arrow_table()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_CHUNKED}")


def _in_scope(alias: str, scope: str = SCOPE) -> str:
    return f"SEMI JOIN {scope} k ON k.source = {alias}.source AND k.ticket_id = {alias}.ticket_id"


def customer_messages_sql() -> str:
    """(source, event_id, ticket_id, ts, body, seq): the customer messages with text of the
    tickets in scope; seq is 1 for a ticket's first, in time order (ties by event_id)."""
    return f"""
    SELECT e.source, e.event_id, e.ticket_id, e.ts, e.body,
           CAST(row_number() OVER (PARTITION BY e.source, e.ticket_id ORDER BY e.ts, e.event_id) AS INTEGER) AS seq
    FROM events e {_in_scope('e')}
    WHERE e.ticket_id IS NOT NULL AND {CUSTOMER_MESSAGE}"""


def ticket_texts_sql() -> str:
    """(source, ticket_id, created_at, text): what each ticket in scope is about, its subject
    and its first customer message, one line each (either may be missing; a ticket with
    neither has no row). Tickets left out of the metrics (deleted, spam, merged) are left out."""
    return f"""
    WITH first_message AS (
        SELECT e.source, e.ticket_id, arg_min(e.body, (e.ts, e.event_id)) AS body
        FROM events e {_in_scope('e')}
        WHERE e.ticket_id IS NOT NULL AND {CUSTOMER_MESSAGE}
        GROUP BY ALL
    )
    SELECT f.source, f.ticket_id, f.created_at,
           concat_ws(chr(10), nullif(trim(t.subject), ''), trim(m.body)) AS text
    FROM ticket_facts f {_in_scope('f')}
    LEFT JOIN tickets t ON t.source = f.source AND t.ticket_id = f.ticket_id
    LEFT JOIN first_message m ON m.source = f.source AND m.ticket_id = f.ticket_id
    WHERE NOT f.excluded AND (nullif(trim(t.subject), '') IS NOT NULL OR m.body IS NOT NULL)"""


def agent_replies_sql() -> str:
    """(source, event_id, ticket_id, agent_id, ts, body, asked, asked_ids): the public agent
    replies with text of the tickets in scope, each with what it answers: the customer
    messages since the previous public agent reply (or the ticket's start), joined by a
    newline in time order (`asked`; NULL for a reply nobody asked for, such as a follow-up)."""
    return f"""
    WITH m AS (
        SELECT e.source, e.event_id, e.ticket_id, e.actor_id, e.ts, e.body, e.actor_type = 'agent' AS agent,
               sum(CAST(e.actor_type = 'agent' AS INTEGER)) OVER (
                   PARTITION BY e.source, e.ticket_id ORDER BY e.ts, e.event_id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS turn
        FROM events e {_in_scope('e')}
        WHERE e.ticket_id IS NOT NULL AND (({CUSTOMER_MESSAGE}) OR ({AGENT_REPLY}))
    ),
    asked AS (  -- customer messages after agent reply n are answered by reply n + 1
        SELECT source, ticket_id, turn + 1 AS turn, string_agg(body, chr(10) ORDER BY ts, event_id) AS asked,
               list(event_id ORDER BY ts, event_id) AS asked_ids
        FROM m WHERE NOT agent GROUP BY ALL
    )
    SELECT r.source, r.event_id, r.ticket_id, r.actor_id AS agent_id, r.ts, r.body, a.asked, a.asked_ids
    FROM m r LEFT JOIN asked a ON a.source = r.source AND a.ticket_id = r.ticket_id AND a.turn = r.turn
    WHERE r.agent"""


def solved_sql(scope: str = SCOPE) -> str:
    """(source, ticket_id, first_solved_at) of the solved tickets in `scope` (a (source,
    ticket_id) table) not left out of the metrics: what `resolving_replies_sql` reads."""
    return f"""
    SELECT f.source, f.ticket_id, f.first_solved_at FROM ticket_facts f {_in_scope('f', scope)}
    WHERE NOT f.excluded AND f.first_solved_at IS NOT NULL"""


def resolving_replies_sql(solved: str) -> str:
    """(source, ticket_id, event_id, agent_id, ts, body): for each ticket of `solved` (a table
    of `solved_sql`'s rows: consistency keeps them in a temp table first, so that the engine
    joins the events to those few rows rather than hashing every ticket's facts: 140 -> 5 ms
    for a live batch at 1M tickets), its resolving reply: the last public agent reply with
    text at or before its first solve."""
    return f"""
    SELECT e.source, e.ticket_id, arg_max(e.event_id, (e.ts, e.event_id)) AS event_id,
           arg_max(e.actor_id, (e.ts, e.event_id)) AS agent_id, max(e.ts) AS ts,
           arg_max(e.body, (e.ts, e.event_id)) AS body
    FROM events e JOIN {solved} f ON f.source = e.source AND f.ticket_id = e.ticket_id
    WHERE e.ts <= f.first_solved_at AND {AGENT_REPLY}
    GROUP BY e.source, e.ticket_id"""


# -- models kept in the workspace --------------------------------------------------------------


@dataclass(frozen=True)
class StoredModel:
    model_id: str
    kind: str
    params: dict[str, Any]
    payload: bytes | None


def active_model(con: duckdb.DuckDBPyConnection, kind: str) -> StoredModel | None:
    """The active model of a kind ('topics' or 'sentiment'), or None."""
    rows = con.execute(
        "SELECT model_id, params, payload FROM text_models WHERE kind = ? AND active ORDER BY created_at DESC LIMIT 1",
        [kind],
    ).fetchall()
    if not rows:
        return None
    model_id, params, payload = rows[0]
    return StoredModel(model_id, kind, json.loads(params or "{}"), bytes(payload) if payload is not None else None)


def active_model_id(con: duckdb.DuckDBPyConnection, kind: str) -> str | None:
    """The id of the active model of a kind, or None: `active_model` without reading the model
    (a topic model is megabytes, and a live text pass asks for its id several times)."""
    rows = con.execute("SELECT model_id FROM text_models WHERE kind = ? AND active ORDER BY created_at DESC LIMIT 1",
                       [kind]).fetchall()
    return rows[0][0] if rows else None


def save_model(con: duckdb.DuckDBPyConnection, kind: str, params: dict[str, Any], payload: bytes | None) -> str:
    """Keep a model and make it the active one of its kind; returns its id (kind-YYYYmmddHHMMSS-xxxx).
    Call inside the caller's transaction."""
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    model_id = f"{kind}-{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:4]}"
    con.execute("UPDATE text_models SET active = false WHERE kind = ? AND active", [kind])
    con.execute("INSERT INTO text_models VALUES (?, ?, true, ?, ?, ?)",
                [model_id, kind, now, json.dumps(params, sort_keys=True), payload])
    return model_id


# -- the refresh -------------------------------------------------------------------------------


@dataclass
class TextRefresh:
    """What a refresh did: tickets in scope and rows written by each step."""

    tickets: int = 0
    steps: dict[str, int] = field(default_factory=dict)


def enabled(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the text layer is on in this workspace (any text refresh ever ran)."""
    return bool(con.execute("SELECT EXISTS (SELECT 1 FROM text_state)").fetchall()[0][0])


def _step(target: str) -> Callable[..., int]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def refresh_text(ws: Workspace, *, full: bool = False, steps: tuple[str, ...] | None = None,
                 before: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> TextRefresh:
    """Bring the text facts up to date for the tickets whose rows changed since the last text
    refresh (all tickets with `full`), in one transaction: a failure leaves them as they were.
    The facts are refreshed first. `steps` limits which steps run (names in STEPS); `before`
    writes in the same transaction, once the scope is set, before the steps (topic discovery
    keeps its new model there, so the model and the facts that read it land together)."""
    from cxmetrics._workspace import translate_errors
    from cxmetrics.calendar import SCHEDULES_FILE, ScheduleSet
    from cxmetrics.facts import refresh_facts

    with ws._write_lock, translate_errors():
        # the facts only, not ws.refresh(): that would refresh the changed tickets' text facts
        # too (refresh_if_enabled), leaving this refresh nothing to do and nothing to report
        refresh_facts(ws.con, schedules=ScheduleSet.load(ws.path / SCHEDULES_FILE))
        return _refresh(ws, full=full, steps=steps, before=before)


def refresh_if_enabled(ws: Workspace) -> TextRefresh | None:
    """After a facts refresh: the text facts of new tickets, when the text layer is on."""
    if not enabled(ws.con):
        return None
    return _refresh(ws, full=False, steps=None)


#: the rows (as the import log counts them) one part of `refresh_part` takes in: at a million
#: tickets 0.3-0.6 s of text pass (docs/api.md, "Event ingest")
PART_ROWS = 8_000


def refresh_part(ws: Workspace, max_rows: int = PART_ROWS) -> bool:
    """The text facts of the oldest imports the facts reflect and the text facts do not, about
    `max_rows` rows of them (at least one import), in one transaction under the write lock;
    returns whether imports remain after them. The server's refresher takes the text facts in
    such parts, letting waiting writes in between, so that a text pass behind many writes never
    holds a write up for seconds. A ticket that a later import touches too is scored again
    then (with its events of both); the result is the same as one pass over every import."""
    from cxmetrics._workspace import translate_errors

    con = ws.con
    with ws._write_lock, translate_errors():
        if not enabled(con):
            return False
        pending = con.execute("""
            SELECT import_id, coalesce(inserted, 0) + coalesce(updated, 0) FROM imports
            WHERE import_id NOT IN (SELECT import_id FROM text_state)
              AND import_id IN (SELECT import_id FROM facts_state)
            ORDER BY import_id""").fetchall()
        part, rows = [], 0
        for import_id, n in pending:
            if part and rows + n > max_rows:
                break
            part.append(import_id)
            rows += n
        if part:
            _refresh(ws, full=False, steps=None, imports=part)
        return len(part) < len(pending)


def _refresh(ws: Workspace, *, full: bool, steps: tuple[str, ...] | None,
             before: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
             imports: list[str] | None = None) -> TextRefresh:
    """The pass; with `imports`, over the rows of those imports only, noting only them."""
    con = ws.con
    done = TextRefresh()
    con.execute("BEGIN TRANSACTION")
    try:
        if imports is not None:
            # the ids listed, as new_rows does: the engine then skips the row groups of other imports
            _scope_of_rows(con, "_import_id IN (" + ", ".join("'" + i.replace("'", "''") + "'" for i in imports) + ")")
        elif full:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS SELECT source, ticket_id FROM ticket_facts")
            # tickets gone from the facts leave no text facts behind
            for table in ("ticket_text", "message_sentiment", "reply_signals", "resolution_answers"):
                con.execute(f"DELETE FROM {table} x WHERE NOT EXISTS (SELECT 1 FROM ticket_facts f "
                            f"WHERE f.source = x.source AND f.ticket_id = x.ticket_id)")
        else:
            _scope_of_rows(con, new_rows(con, "text_state"))
        done.tickets = con.execute(f"SELECT count(*) FROM {SCOPE}").fetchall()[0][0]
        if done.tickets:
            # (the scope's rows found first: an anti join hashes its right side, every ticket's row)
            con.execute(f"""
                INSERT INTO ticket_text (source, ticket_id, updated_at)
                SELECT k.source, k.ticket_id, now() FROM {SCOPE} k
                ANTI JOIN (SELECT x.source, x.ticket_id FROM ticket_text x {_in_scope('x')}) x
                       ON x.source = k.source AND x.ticket_id = k.ticket_id""")
            if before is not None:
                before(con)
            for name, target in STEPS:
                if steps is None or name in steps:
                    done.steps[name] = int(_step(target)(con, ws, full=full) or 0)
        if imports is not None:
            con.execute("INSERT INTO text_state SELECT unnest($1), now()", [imports])
        else:
            _note_all(con, full)
        con.execute(f"DROP TABLE IF EXISTS {SCOPE}")
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return done


def _scope_of_rows(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """The scope: the tickets with an event or tickets row matching the filter `rows`."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SCOPE} AS
        SELECT DISTINCT source, ticket_id FROM (
            SELECT source, ticket_id FROM events WHERE ticket_id IS NOT NULL AND {rows}
            UNION ALL
            SELECT source, ticket_id FROM tickets WHERE {rows}
        )""")


def _note_all(con: duckdb.DuckDBPyConnection, full: bool) -> None:
    """Note every import as reflected by the text facts (after a pass over all that were not)."""
    new_all = new_rows(con, "text_state") if not full else "true"
    con.execute(f"""
        INSERT INTO text_state
        SELECT DISTINCT _import_id, now() FROM (
            SELECT _import_id FROM events WHERE {new_all} UNION ALL SELECT _import_id FROM tickets WHERE {new_all}
        ) WHERE _import_id IS NOT NULL AND _import_id NOT IN (SELECT import_id FROM text_state)""")
    note_imports(con, "text_state")
    if not con.execute("SELECT EXISTS (SELECT 1 FROM text_state)").fetchall()[0][0]:
        con.execute("INSERT INTO text_state VALUES ('(text layer on)', now())")  # on, even before any import
