"""The topics step of the text refresh (docs/text.md, "Discovered topics in the workspace"):
the new and changed tickets in scope get the active topic model's topic, the nearest topic
centre to their text, without re-clustering (`cxmetrics topics discover --refit` does that).

`write_topics` is shared with `discover_tickets`, which assigns every ticket the same way, so a
ticket's topic depends only on its text and the model kept: assigned at discovery or later by
a refresh, the same text gets the same topic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from cxmetrics.errors import UserError
from cxmetrics.text._store import SCOPE, active_model, ticket_texts_sql
from cxmetrics.text.topics import Topics

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

KIND = "topics"  # text_models.kind of a topic model

# the last model loaded, by id, creation time and size: every import runs this step, and reading
# a model (tens of thousands of terms, megabytes) each time would cost more than assigning. A
# model's bytes are never rewritten (a new model is a new row), so the three name them; the
# payload is read only when they change (reading and hashing 4 MB at every live import cost 15 ms)
_loaded: dict[tuple[str, str, int], Topics] = {}


def load(con: duckdb.DuckDBPyConnection) -> tuple[str, Topics] | None:
    """(id, model) of the topic model kept in the workspace, ready to `assign` (needs
    scikit-learn); None without one."""
    rows = con.execute(f"SELECT model_id, created_at::VARCHAR, octet_length(payload) FROM text_models "
                       f"WHERE kind = '{KIND}' AND active ORDER BY created_at DESC LIMIT 1").fetchall()
    if not rows or rows[0][2] is None:
        return None
    key = (str(rows[0][0]), str(rows[0][1]), int(rows[0][2]))
    if key not in _loaded:
        stored = active_model(con, KIND)
        model = Topics.from_bytes((stored.payload if stored is not None else None) or b"")
        _loaded.clear()
        _loaded[key] = model
    return key[0], _loaded[key]


def scope_texts(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """(source, ticket_id, created_at, text) of the tickets in scope with text, in key order
    (so the same tickets always reach the clustering in the same order)."""
    return con.sql(f"SELECT * FROM ({ticket_texts_sql()}) ORDER BY source, ticket_id").to_arrow_table()


def write_topics(con: duckdb.DuckDBPyConnection, model_id: str, assigned: pa.Table) -> int:
    """Set ticket_text's topic columns of the tickets in scope from `assigned` (source,
    ticket_id, topic_id: the tickets with text; the others in scope lose any topic) and
    carry discovered_topic, the topic's name in text_topics, over to ticket_facts. Runs in
    the caller's transaction; returns the tickets given a topic."""
    con.register("_tx_topic_assigned", assigned)
    try:
        con.execute(f"""
            UPDATE ticket_text x SET topic_model = NULL, topic_id = NULL, discovered_topic = NULL, updated_at = now()
            FROM {SCOPE} k WHERE k.source = x.source AND k.ticket_id = x.ticket_id""")
        con.execute("""
            UPDATE ticket_text x SET topic_model = ?, topic_id = a.topic_id, discovered_topic = t.name
            FROM _tx_topic_assigned a JOIN text_topics t ON t.model_id = ? AND t.topic_id = a.topic_id
            WHERE a.source = x.source AND a.ticket_id = x.ticket_id""", [model_id, model_id])
        written = con.execute("SELECT count(*) FROM _tx_topic_assigned").fetchall()[0][0]
    finally:
        con.unregister("_tx_topic_assigned")
    # the dimension lives on ticket_facts (a facts refresh carries it over from ticket_text,
    # but the facts of these tickets were refreshed before this step ran)
    # (the scope's topics copied first, so the update probes the facts with the few keys in
    # scope rather than hashing every ticket's text row: 40 -> 5 ms for a live batch at 300k)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tx_scope_topic AS
        SELECT x.source, x.ticket_id, x.discovered_topic FROM ticket_text x
        SEMI JOIN {SCOPE} k ON k.source = x.source AND k.ticket_id = x.ticket_id""")
    con.execute("""
        UPDATE ticket_facts f SET discovered_topic = x.discovered_topic
        FROM _tx_scope_topic x
        WHERE x.source = f.source AND x.ticket_id = f.ticket_id
          AND f.discovered_topic IS DISTINCT FROM x.discovered_topic""")
    con.execute("DROP TABLE _tx_scope_topic")
    return int(written)


def assignments(model: Topics, texts: pa.Table) -> pa.Table:
    """(source, ticket_id, topic_id) of each text's nearest topic."""
    labels = model.assign(texts.column("text").to_pylist())
    return pa.table({"source": texts.column("source"), "ticket_id": texts.column("ticket_id"),
                     "topic_id": pa.array(labels, pa.int32())})


def refresh(con: duckdb.DuckDBPyConnection, ws: Workspace, *, full: bool) -> int:
    """The step: the tickets in scope into the active model's topics (none kept: nothing to do;
    scikit-learn missing, or a model this version cannot read: skipped, nothing written, so
    that queries still run and `topics discover --refit` can replace the model)."""
    try:
        loaded = load(con)
    except UserError:  # MissingDependencyError included
        return 0
    if loaded is None:
        return 0
    model_id, model = loaded
    return write_topics(con, model_id, assignments(model, scope_texts(con)))
