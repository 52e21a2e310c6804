"""The text refresh's answer-signals step: `reply_signals`, one row per public agent reply with
text of the tickets in scope (cxmetrics.text._store; docs/text.md, "Signals of a good answer").

What each reply answers comes from the engine (`agent_replies_sql`: the customer messages since
the agent's previous reply); the signals from cxmetrics.text.signals over all replies at once.
Which words are common, and so not a customer's specifics, is counted in SQL over every customer
message in the workspace, not only the tickets in scope: a reply's facts do not depend on which
other tickets were refreshed with it. The count is kept (text_models, kind 'signals') and redone at
a full refresh or once the messages grew by a quarter, so a live trickle does not rescan them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from cxmetrics.text._signals_bags import stems_sql
from cxmetrics.text._store import CUSTOMER_MESSAGE, SCOPE, agent_replies_sql, in_chunks
from cxmetrics.text.signals import COMMON_SHARE, MIN_CORPUS, score

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

_TEMP = "_tx_signals"


def refresh(con: duckdb.DuckDBPyConnection, ws: Workspace, *, full: bool) -> int:
    """Rewrite the reply_signals of the tickets in scope; returns the rows written. Runs inside
    the text refresh's transaction. Needs only numpy and pyarrow (no scikit-learn)."""
    con.execute(f"DELETE FROM reply_signals r USING {SCOPE} k WHERE r.source = k.source AND r.ticket_id = k.ticket_id")
    common: frozenset[str] | None = None
    written = 0
    # a chunk of replies at a time: each reply's signals depend on it, what it answers and the
    # workspace's common words alone, never on the other replies scored with it
    for replies in in_chunks(con, agent_replies_sql(), "source, ticket_id, ts, event_id"):
        if not written:  # (counted only when there is a reply to score)
            common = _kept_common_stems(con, full=full)
        cols = score(replies["body"].to_pylist(), replies["asked"].to_pylist(), common)
        rows = pa.table({
            "source": replies["source"], "event_id": replies["event_id"], "ticket_id": replies["ticket_id"],
            "agent_id": replies["agent_id"], "ts": replies["ts"],
            "greets_by_name": pa.array(cols["greets_by_name"], pa.bool_()),
            "refers_specifics": pa.array(cols["refers_specifics"], pa.bool_()),
            "personalised": pa.array(cols["personalised"], pa.bool_()),
            "empathetic": pa.array(cols["empathetic"], pa.bool_()),
            "questions": pa.array(cols["questions"], pa.int32()),
            "questions_answered": pa.array(cols["questions_answered"], pa.int32()),
            "thorough": pa.array(cols["thorough"], pa.bool_()),
            "relevance": pa.array(cols["relevance"], pa.float64()),
            "relevant": pa.array(cols["relevant"], pa.bool_()),
        })
        con.register(_TEMP, rows)
        try:
            con.execute(f"INSERT INTO reply_signals BY NAME SELECT * FROM {_TEMP}")
        finally:
            con.unregister(_TEMP)
        written += rows.num_rows
    return written


# the common stems are counted again when the customer messages grew by this share since they were
# last counted (and at every full refresh); in between they are kept in text_models (kind
# 'signals'): counting them scans every customer message, seconds on a large workspace, which a
# live trickle of a few events must not pay on every refresh
_RECOUNT_GROWTH = 0.25


def _kept_common_stems(con: duckdb.DuckDBPyConnection, *, full: bool) -> frozenset[str] | None:
    from cxmetrics.text._store import active_model, save_model

    messages = con.execute("SELECT count(*) FROM message_sentiment").fetchall()[0][0]
    kept = active_model(con, "signals")
    if not full and kept is not None:
        counted = int(kept.params.get("messages", 0))
        if counted and messages <= counted * (1 + _RECOUNT_GROWTH):
            stems = kept.params.get("common_stems")
            return None if stems is None else frozenset(stems)
    found = common_stems(con)
    save_model(con, "signals", {"messages": messages, "common_stems": None if found is None else sorted(found)}, None)
    return found


def common_stems(con: duckdb.DuckDBPyConnection) -> frozenset[str] | None:
    """The word stems in more than COMMON_SHARE of the workspace's customer messages (and in two
    at least), or None below MIN_CORPUS messages, where rarity says nothing."""
    n, common = con.execute(f"""
        WITH m AS (SELECT list_distinct({stems_sql('e.body')}) AS stems FROM events e
                   WHERE e.ticket_id IS NOT NULL AND {CUSTOMER_MESSAGE}),
        total AS (SELECT count(*) AS n FROM m),
        df AS (SELECT stem, count(*) AS df FROM (SELECT unnest(stems) AS stem FROM m) GROUP BY stem)
        SELECT (SELECT n FROM total), list(stem) FILTER (WHERE df > greatest(1, ? * (SELECT n FROM total)))
        FROM df""", [COMMON_SHARE]).fetchall()[0]
    if not n or n < MIN_CORPUS:
        return None
    return frozenset(common or [])
