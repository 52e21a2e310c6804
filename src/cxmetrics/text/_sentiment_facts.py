"""Step 1 of the text refresh (text/_store.py): how customers feel, as facts.

Every customer message with text of the tickets in scope is scored, all in one call, by the
workspace's active sentiment model (`cxmetrics text train-sentiment`, kept in text_models)
or else the shipped one, into `message_sentiment`; then each ticket's row of `ticket_text`
gets its first and last message's score and label, their mean, the change and the shift.

The shift compares the last customer message with the first: `better` when its class is
higher (negative < neutral < positive), or the class is the same and the score rose by at
least SHIFT_MARGIN; `worse` alike downwards; `same` otherwise; NULL with fewer than two
messages (nothing to compare).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from cxmetrics.errors import UserError
from cxmetrics.text._sentiment_lexicon import NEUTRAL_BAND
from cxmetrics.text._sentiment_train import SentimentModel
from cxmetrics.text._store import SCOPE, active_model, customer_messages_sql, in_chunks

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

DEFAULT = "default"  # message_sentiment.model / ticket_text.sentiment_model of the shipped model
# Within one class, a rise counts as "better" when it is as large as one clear sentiment word:
# the shipped model's neutral band (a smaller move is the noise of rephrasing the same mood).
SHIFT_MARGIN = NEUTRAL_BAND
_RANK = "CASE {} WHEN 'negative' THEN 0 WHEN 'neutral' THEN 1 WHEN 'positive' THEN 2 END"
_MESSAGES = "_tx_sentiment"
_TICKETS = "_tx_ticket_sentiment"  # temp table: the per-ticket figures before they are applied


def scoring_model(con: duckdb.DuckDBPyConnection) -> tuple[str, SentimentModel | None]:
    """(model id, model) of the active sentiment model; ('default', None) for the shipped one."""
    stored = active_model(con, "sentiment")
    if stored is None:
        return DEFAULT, None
    where = f"the workspace's sentiment model {stored.model_id}"
    fix = ("Train it again (`cxmetrics text train-sentiment`), or go back to the shipped model: "
           "`cxmetrics text train-sentiment --default`.")
    if stored.payload is None:
        raise UserError(f"{where} has no content. {fix}")
    return stored.model_id, SentimentModel.from_json(stored.payload, where, fix)


def refresh(con: duckdb.DuckDBPyConnection, ws: Workspace, *, full: bool) -> int:
    """Rewrite message_sentiment and ticket_text's sentiment columns for the tickets in scope;
    returns the number of messages scored. Runs inside the text refresh's transaction."""
    from cxmetrics.text.sentiment import sentiment

    model_id, model = scoring_model(con)
    # a message re-exported under another ticket (a merge) leaves the ticket it was scored
    # under: that ticket is rescored too, or its figures would still count the message. The
    # scope's events are copied first: joined in one statement, the engine hashed every scored
    # message to probe the few events in scope (110 ms at 300k tickets for a live batch, 5 ms so)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _tx_scope_ev AS
        SELECT e.source, e.event_id, e.ticket_id FROM events e
        SEMI JOIN {SCOPE} k ON k.source = e.source AND k.ticket_id = e.ticket_id""")
    con.execute(f"""
        INSERT INTO {SCOPE}
        SELECT DISTINCT m.source, m.ticket_id FROM _tx_scope_ev e
        JOIN message_sentiment m ON e.source = m.source AND e.event_id = m.event_id
        WHERE e.ticket_id IS DISTINCT FROM m.ticket_id
          AND (m.source, m.ticket_id) NOT IN (SELECT (source, ticket_id) FROM {SCOPE})""")
    con.execute("DROP TABLE _tx_scope_ev")
    con.execute(f"DELETE FROM message_sentiment m USING {SCOPE} k "
                "WHERE k.source = m.source AND k.ticket_id = m.ticket_id")
    written = 0
    # a chunk of messages at a time (each message's score is its own); the model is vectorised over a chunk
    texts = f"SELECT source, event_id, ticket_id, ts, seq, body FROM ({customer_messages_sql()}) m"
    for messages in in_chunks(con, texts, "source, ticket_id, seq"):
        scored = sentiment(messages.column("body").to_pylist(), model=model)
        rows = messages.drop_columns(["body"]).append_column(
            "score", pa.array([s.score for s in scored], pa.float64())
        ).append_column(
            "label", pa.array([s.label for s in scored], pa.string())
        ).append_column("model", pa.array([model_id] * len(scored), pa.string()))
        con.register(_MESSAGES, rows)
        try:
            con.execute(f"""INSERT INTO message_sentiment (source, event_id, ticket_id, ts, seq, score, label, model)
                            SELECT source, event_id, ticket_id, ts, seq, score, label, model FROM {_MESSAGES}""")
        finally:
            con.unregister(_MESSAGES)
        written += rows.num_rows
    _ticket_sentiment(con)
    return written


def _ticket_sentiment(con: duckdb.DuckDBPyConnection) -> None:
    # every ticket in scope: one with no customer text gets 0 messages and NULLs (its old
    # figures, if a message was since removed, must not linger)
    first, last = _RANK.format("a.label_first"), _RANK.format("a.label_last")
    # the per-ticket figures are computed first, then applied: with the aggregate inline,
    # the engine took 20-60 s for the update of 300k tickets that takes 3 s this way
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {_TICKETS} AS
        SELECT k.source, k.ticket_id, CAST(count(m.event_id) AS INTEGER) AS n,
               arg_min(m.score, m.seq) AS first_score, arg_max(m.score, m.seq) AS last_score,
               avg(m.score) AS mean_score,
               arg_min(m.label, m.seq) AS label_first, arg_max(m.label, m.seq) AS label_last,
               any_value(m.model) AS model
        FROM {SCOPE} k LEFT JOIN message_sentiment m ON m.source = k.source AND m.ticket_id = k.ticket_id
        GROUP BY k.source, k.ticket_id""")
    con.execute(f"""
        UPDATE ticket_text x SET
            sentiment_model = a.model,
            customer_messages = a.n,
            sentiment_first = a.first_score,
            sentiment_last = a.last_score,
            sentiment_mean = a.mean_score,
            label_first = a.label_first,
            label_last = a.label_last,
            sentiment_change = CASE WHEN a.n >= 2 THEN a.last_score - a.first_score END,
            sentiment_shift = CASE
                WHEN a.n < 2 THEN NULL
                WHEN {last} > {first} OR ({last} = {first} AND a.last_score >= a.first_score + {SHIFT_MARGIN})
                    THEN 'better'
                WHEN {last} < {first} OR ({last} = {first} AND a.last_score <= a.first_score - {SHIFT_MARGIN})
                    THEN 'worse'
                ELSE 'same' END,
            updated_at = now()
        FROM {_TICKETS} a
        WHERE x.source = a.source AND x.ticket_id = a.ticket_id""")
    con.execute(f"DROP TABLE {_TICKETS}")
