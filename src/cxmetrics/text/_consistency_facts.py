"""The consistency step of the text refresh (cxmetrics.text._store.STEPS) and the reports read
from its facts: `resolution_answers`, one row per solved ticket's resolving reply, compared with
its topic's usual answer by cxmetrics.text.consistency (docs/text.md "Consistency of resolutions").

A ticket's topic is its discovered topic (ticket_text.topic_id of the active topic model); with no
topic model, the help desk's own `topic`. Only answers in a topic with at least MIN_ANSWERS of them
get a row: a smaller topic has no usual answer to compare with, and a row without a similarity would
count in the metrics' n. A topic's usual answer depends on all its answers, so the step recomputes
every topic the scope touches: the topics its tickets are in now and were in at the last refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from cxmetrics.text._store import SCOPE, active_model_id, resolving_replies_sql, solved_sql
from cxmetrics.text.consistency import MIN_ANSWERS, compare_answers

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

_TOPICS = "_cx_topic"  # (source, ticket_id, topic_key, topic_id): each ticket's topic now (in scope, or all)
_SOLVED = "_cx_solved"  # solved_sql's rows of the tickets whose resolving replies are read next
_TICKETS = "_cx_tickets"  # the tickets of the topics to recompute
_OUT = "_cx_answers"
_REST = "_cx_rest"  # the tickets in scope whose topic is recomputed whole (not compared with its kept usual answer)
# an incremental refresh compares a topic's new answers with its kept usual answer while they are
# at most this share of the answers it keeps (and recomputes the topic whole past it, when the
# usual answer may have moved): a live trickle then costs milliseconds, not a topic's recompute
_NEW_SHARE = 0.1


def _topics_sql(model_id: str | None) -> tuple[str, list[Any]]:
    if model_id is not None:
        return ("""SELECT source, ticket_id, CAST(topic_id AS VARCHAR) AS topic_key, topic_id FROM ticket_text
                   WHERE topic_model = ? AND topic_id IS NOT NULL""", [model_id])
    return ("""SELECT source, ticket_id, topic AS topic_key, CAST(NULL AS INTEGER) AS topic_id FROM ticket_facts
               WHERE nullif(trim(topic), '') IS NOT NULL""", [])


def refresh(con: duckdb.DuckDBPyConnection, ws: Workspace, *, full: bool) -> int:
    """Rewrite resolution_answers for the topics the tickets in _tx_scope touch (all with
    `full`); returns the rows written. Without scikit-learn it writes nothing."""
    try:
        import sklearn  # noqa: F401  (comparing needs it; the base install leaves it out: skip, write nothing)
    except ImportError:
        return 0
    model_id = active_model_id(con, "topics")
    sql, params = _topics_sql(model_id)
    # rows of another topic source (a topic model made or replaced since): every topic changed
    if con.execute("SELECT EXISTS (SELECT 1 FROM resolution_answers WHERE topic_model IS DISTINCT FROM ?)",
                   [model_id]).fetchall()[0][0]:
        full = True
    if full:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_TOPICS} AS {sql}", params)
        con.execute("DELETE FROM resolution_answers")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_TICKETS} AS SELECT source, ticket_id FROM {_TOPICS}")
    else:
        # the topics of the tickets in scope only: the kept answers' topics are read from their rows
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_TOPICS} AS SELECT t.* FROM ({sql}) t "
                    f"SEMI JOIN {SCOPE} k ON k.source = t.source AND k.ticket_id = t.ticket_id", params)
        written_new = _compare_new(con, model_id)
        if con.execute(f"SELECT count(*) FROM {_REST}").fetchall()[0][0]:
            # topics recomputed whole: every ticket's topic is needed to list theirs
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_TOPICS} AS {sql}", params)
        _touched(con, _REST)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_SOLVED} AS {solved_sql(_TICKETS)}")
    rows = con.sql(f"""
        SELECT t.topic_key, t.topic_id, r.source, r.ticket_id, r.event_id, r.agent_id, r.ts, r.body
        FROM ({resolving_replies_sql(_SOLVED)}) r
        JOIN {_TOPICS} t ON t.source = r.source AND t.ticket_id = r.ticket_id
        ORDER BY t.topic_key, r.ts, r.source, r.event_id""").to_arrow_table()
    out = _compare(rows, model_id)
    written = 0
    if out.num_rows:
        con.register(_OUT, out)
        try:
            con.execute(f"INSERT INTO resolution_answers BY NAME SELECT * FROM {_OUT}")
        finally:
            con.unregister(_OUT)
        written = out.num_rows
    if not full:
        written += written_new
    for table in (_TOPICS, _TICKETS, _REST, _SOLVED):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return written


def _compare_new(con: duckdb.DuckDBPyConnection, model_id: str | None) -> int:
    """The answers in scope whose topic keeps a usual answer and at least MIN_ANSWERS answers, and
    gets few new ones (at most _NEW_SHARE of them): compared with that usual answer and the
    spread of the kept similarities, their old rows replaced. The other tickets in scope are
    left in _REST for a whole recompute of their topics. Returns the rows written."""
    from cxmetrics.text.consistency import compare_with_usual

    con.execute(f"CREATE OR REPLACE TEMP TABLE {_SOLVED} AS {solved_sql()}")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cx_new AS
        SELECT t.topic_key, t.topic_id, r.source, r.ticket_id, r.event_id, r.agent_id, r.ts, r.body
        FROM ({resolving_replies_sql(_SOLVED)}) r JOIN {_TOPICS} t ON t.source = r.source AND t.ticket_id = r.ticket_id""")
    # a ticket in scope that held its topic's usual answer: that topic must be recomputed whole
    # (its usual answer may have gone), so the ticket is left to the whole recompute
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cx_was_usual AS
        SELECT a.source, a.ticket_id FROM resolution_answers a
        SEMI JOIN {SCOPE} k ON k.source = a.source AND k.ticket_id = a.ticket_id
        WHERE a.source = a.usual_source AND a.event_id = a.usual_event_id""")
    con.execute("DELETE FROM _cx_new x WHERE EXISTS (SELECT 1 FROM _cx_was_usual w "
                "WHERE w.source = x.source AND w.ticket_id = x.ticket_id)")
    # per topic with new answers: the rows it keeps (tickets out of scope) and its usual answer
    # (a kept row's ticket is out of scope, so its topic is the one it was compared under: a
    # ticket changes topic only in scope, or under a new topic model, which recomputes all. With a
    # topic model the row says which; without one, the ticket's own topic is read for the topics
    # concerned)
    if model_id is not None:
        # (tested on the stored integer, not on its text: a third less for a topic of 200,000 answers)
        kept, params = ("SELECT a.*, CAST(a.topic_id AS VARCHAR) AS topic_key FROM resolution_answers a "
                        "WHERE a.topic_model = ? AND a.topic_id IN (SELECT topic_id FROM _cx_new)",
                        [model_id])
    else:
        kept, params = ("""SELECT a.*, t.topic AS topic_key FROM resolution_answers a
                           JOIN ticket_facts t ON t.source = a.source AND t.ticket_id = a.ticket_id
                           WHERE a.topic_model IS NULL AND t.topic IN (SELECT topic_key FROM _cx_new)""", [])
    # one row per topic with new answers, from its kept rows: how many, its usual answer (the
    # same on every row, else the topic is recomputed whole) and the similarities of the others,
    # whose median and spread say what stands apart. (Grouped by the engine: at a million tickets
    # a live batch's topic keeps ~160,000 answers, and collecting their similarities per topic in
    # Python cost 0.17 s of a 0.45 s text pass.)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cx_kept AS
        SELECT topic_key, count(*) AS n, count(DISTINCT (usual_source, usual_event_id)) AS usuals,
               any_value(usual_source) AS usual_source, any_value(usual_event_id) AS usual_event_id,
               list(similarity) FILTER (NOT (source = usual_source AND event_id = usual_event_id)
                                        AND similarity IS NOT NULL) AS others
        FROM ({kept}) a
        ANTI JOIN {SCOPE} k ON k.source = a.source AND k.ticket_id = a.ticket_id
        GROUP BY topic_key""", params)
    eligible = con.sql(f"""
        WITH new AS (SELECT topic_key, count(*) AS n FROM _cx_new GROUP BY topic_key)
        SELECT k.topic_key, u.body, k.usual_source, k.usual_event_id, k.others
        FROM _cx_kept k JOIN new n ON n.topic_key = k.topic_key
        JOIN events u ON u.source = k.usual_source AND u.event_id = k.usual_event_id
        WHERE k.usuals = 1 AND k.n >= {MIN_ANSWERS} AND n.n <= greatest(1, {_NEW_SHARE} * k.n)
          AND nullif(trim(u.body), '') IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM _cx_new x WHERE x.source = k.usual_source AND x.event_id = k.usual_event_id)
    """).to_arrow_table()
    con.execute("CREATE OR REPLACE TEMP TABLE _cx_done (source VARCHAR, ticket_id VARCHAR)")
    written = 0
    if eligible.num_rows:  # one row per topic
        new = con.sql("SELECT * FROM _cx_new ORDER BY topic_key, ts, source, event_id").to_arrow_table()
        keys = new.column("topic_key").to_pylist()
        bodies = new.column("body").to_pylist()
        rows: list[int] = []
        similarity: list[float] = []
        apart: list[bool] = []
        usual_source: list[str] = []
        usual_event: list[str] = []
        for t, key in enumerate(eligible.column("topic_key").to_pylist()):
            kept_sims = eligible.column("others")[t]
            # (no NULL in the list, so a view of its values: the first copy through
            # to_numpy(zero_copy_only=False) in a process cost 0.3 s, pyarrow loading its converters)
            others = kept_sims.values.to_numpy() if kept_sims.is_valid else np.empty(0)
            idx = [i for i, k in enumerate(keys) if k == key]
            sims, flags = compare_with_usual(eligible.column("body")[t].as_py(), [bodies[i] for i in idx], others)
            rows += idx
            similarity += sims.tolist()
            apart += flags.tolist()
            usual_source += [eligible.column("usual_source")[t].as_py()] * len(idx)
            usual_event += [eligible.column("usual_event_id")[t].as_py()] * len(idx)
        picked = new.take(pa.array(rows, type=pa.int64()))
        out = pa.table({
            "source": picked.column("source"), "ticket_id": picked.column("ticket_id"),
            "event_id": picked.column("event_id"), "agent_id": picked.column("agent_id"), "ts": picked.column("ts"),
            "topic_model": pa.array([model_id] * len(rows), type=pa.string()),
            "topic_id": picked.column("topic_id").cast(pa.int32()),
            "similarity": pa.array(similarity, type=pa.float64()),
            "usual_source": pa.array(usual_source, type=pa.string()),
            "usual_event_id": pa.array(usual_event, type=pa.string()),
            "apart": pa.array(apart, type=pa.bool_()),
        })
        con.register(_OUT, out)
        try:
            con.execute(f"INSERT INTO _cx_done SELECT source, ticket_id FROM {_OUT}")
            con.execute("DELETE FROM resolution_answers a USING _cx_done d "
                        "WHERE d.source = a.source AND d.ticket_id = a.ticket_id")
            con.execute(f"INSERT INTO resolution_answers BY NAME SELECT * FROM {_OUT}")
        finally:
            con.unregister(_OUT)
        written = out.num_rows
    # a ticket in scope with no resolving reply now (unsolved, or its reply went) loses its row
    # without a recompute: one answer less moves a kept usual answer little, and a live trickle
    # of new, unsolved tickets must not recompute their topics
    con.execute("""DELETE FROM resolution_answers a WHERE EXISTS (
                       SELECT 1 FROM {scope} k WHERE k.source = a.source AND k.ticket_id = a.ticket_id)
                   AND NOT EXISTS (SELECT 1 FROM _cx_new x WHERE x.source = a.source AND x.ticket_id = a.ticket_id)
                   AND NOT EXISTS (SELECT 1 FROM _cx_was_usual w WHERE w.source = a.source AND w.ticket_id = a.ticket_id)
                """.format(scope=SCOPE))
    # the rest (new answers of topics without a kept usual answer, or with many new ones):
    # their topics are recomputed whole
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {_REST} AS
                    SELECT source, ticket_id FROM _cx_new ANTI JOIN _cx_done d USING (source, ticket_id)
                    UNION SELECT source, ticket_id FROM _cx_was_usual""")
    for table in ("_cx_new", "_cx_kept", "_cx_done", "_cx_was_usual"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return written


def _touched(con: duckdb.DuckDBPyConnection, scope: str = SCOPE) -> None:
    """Delete the rows of every topic the tickets of `scope` touch and list its tickets in _TICKETS."""
    # a topic's rows share its usual answer: the groups the scope's tickets were in at the last
    # refresh are those of their rows' usual answers (their topic may have changed since)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cx_old AS
        SELECT a.source, a.ticket_id FROM resolution_answers a
        SEMI JOIN (SELECT usual_source, usual_event_id FROM resolution_answers x
                   SEMI JOIN {scope} k ON k.source = x.source AND k.ticket_id = x.ticket_id) g
            ON g.usual_source = a.usual_source AND g.usual_event_id = a.usual_event_id""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {_TICKETS} AS
        SELECT source, ticket_id FROM {_TOPICS} WHERE topic_key IN (
            SELECT t.topic_key FROM {_TOPICS} t WHERE EXISTS (
                SELECT 1 FROM {scope} k WHERE k.source = t.source AND k.ticket_id = t.ticket_id)
            OR EXISTS (SELECT 1 FROM _cx_old o WHERE o.source = t.source AND o.ticket_id = t.ticket_id))""")
    con.execute(f"""
        DELETE FROM resolution_answers a WHERE EXISTS (
            SELECT 1 FROM (SELECT source, ticket_id FROM {scope} UNION ALL SELECT source, ticket_id FROM _cx_old
                           UNION ALL SELECT source, ticket_id FROM {_TICKETS}) d
            WHERE d.source = a.source AND d.ticket_id = a.ticket_id)""")
    con.execute("DROP TABLE IF EXISTS _cx_old")


def _compare(rows: pa.Table, model_id: str | None) -> pa.Table:
    """One output row per answer in a topic with at least MIN_ANSWERS answers (rows come sorted
    by topic): its similarity to the topic's usual answer, the usual answer, apart or not."""
    keys = np.asarray(rows.column("topic_key").to_pylist(), dtype=object)
    bodies = rows.column("body").to_pylist()
    sources = rows.column("source").to_pylist()
    events = rows.column("event_id").to_pylist()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.array([], dtype=int)
    ends = np.r_[starts[1:], len(keys)] if len(keys) else np.array([], dtype=int)
    keep: list[np.ndarray] = []
    similarity: list[np.ndarray] = []
    apart: list[np.ndarray] = []
    usual_source: list[str] = []
    usual_event: list[str] = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if b - a < MIN_ANSWERS:
            continue
        found = compare_answers(bodies[a:b])
        keep.append(np.arange(a, b))
        similarity.append(found.similarity)
        apart.append(found.apart)
        usual = a + int(found.usual or 0)  # always found: the topic has MIN_ANSWERS answers
        usual_source += [sources[usual]] * (b - a)
        usual_event += [events[usual]] * (b - a)
    index = np.concatenate(keep) if keep else np.array([], dtype=np.int64)
    picked = rows.take(pa.array(index, type=pa.int64()))
    return pa.table({
        "source": picked.column("source"), "ticket_id": picked.column("ticket_id"),
        "event_id": picked.column("event_id"), "agent_id": picked.column("agent_id"), "ts": picked.column("ts"),
        "topic_model": pa.array([model_id] * len(index), type=pa.string()),
        "topic_id": picked.column("topic_id").cast(pa.int32()),
        "similarity": pa.array(np.concatenate(similarity) if similarity else [], type=pa.float64()),
        "usual_source": pa.array(usual_source, type=pa.string()),
        "usual_event_id": pa.array(usual_event, type=pa.string()),
        "apart": pa.array(np.concatenate(apart) if apart else [], type=pa.bool_()),
    })


# -- the reports: per topic, per agent, and the answers apart -----------------------------------


@dataclass(frozen=True)
class TopicSource:
    """Where the topics come from: the active topic model ('discovered', dimension
    discovered_topic) or the help desk's own topic ('help desk', dimension topic)."""

    kind: str
    dimension: str
    model_id: str | None


def topic_source(con: duckdb.DuckDBPyConnection) -> TopicSource:
    model_id = active_model_id(con, "topics")
    if model_id is None:
        return TopicSource("help desk", "topic", None)
    return TopicSource("discovered", "discovered_topic", model_id)


Instant = date | datetime | str | None


def scores(ws: Workspace, by: str, *, start: Instant = None, end: Instant = None) -> pa.Table:
    """Per topic (`by="topic"`) or per agent (`by="agent"`): answers compared, consistency (the
    `consistency` metric, 0-100, with its 95% interval), answers apart (count and share: the
    `answers_apart` metric), least consistent first. Per topic, also the topic's usual answer."""
    source = topic_source(ws.con)
    dim = source.dimension if by == "topic" else "assignee"
    found = ws.metrics(["consistency", "answers_apart"], by=[dim], start=start, end=end).table.to_pylist()
    values: dict[Any, dict[str, Any]] = {}
    for r in found:
        group = values.setdefault(r[dim], {})
        group[r["metric"]] = r
    rows = []
    for group, m in values.items():
        c, p = m.get("consistency", {}), m.get("answers_apart", {})
        n = int(c.get("n") or 0)
        if n == 0:
            continue
        share = p.get("value")
        # the metric's interval is a t-interval around the mean; a score cannot leave 0-100
        low, high = c.get("ci_low"), c.get("ci_high")
        rows.append({"topic" if by == "topic" else "agent": group, "answers": n, "consistency": c.get("value"),
                     "ci_low": None if low is None else max(0.0, low),
                     "ci_high": None if high is None else min(100.0, high),
                     "apart": round((share or 0.0) * n / 100), "apart_share": share})
    rows.sort(key=lambda r: (r["consistency"] if r["consistency"] is not None else 101.0, -r["answers"],
                             str(r.get("topic", r.get("agent")))))
    label = "topic" if by == "topic" else "agent"
    schema = [(label, pa.string()), ("answers", pa.int64()), ("consistency", pa.float64()), ("ci_low", pa.float64()),
              ("ci_high", pa.float64()), ("apart", pa.int64()), ("apart_share", pa.float64())]
    table = pa.Table.from_pylist(rows, schema=pa.schema(schema))
    if by == "topic":
        usual = _usual_answers(ws.con, source)
        table = table.append_column("usual_answer", pa.array([usual.get(t) for t in table.column("topic").to_pylist()],
                                                             type=pa.string()))
    return table


def _topic_label(source: TopicSource) -> str:
    return "f.discovered_topic" if source.kind == "discovered" else "f.topic"


def _usual_answers(con: duckdb.DuckDBPyConnection, source: TopicSource) -> dict[str, str]:
    found = con.execute(f"""
        SELECT {_topic_label(source)} AS topic, any_value(u.body) AS body
        FROM resolution_answers a JOIN ticket_facts f ON f.source = a.source AND f.ticket_id = a.ticket_id
        JOIN events u ON u.source = a.usual_source AND u.event_id = a.usual_event_id
        WHERE NOT f.excluded GROUP BY 1""").fetchall()
    return {topic: body for topic, body in found if topic is not None}


def answers_apart(ws: Workspace, *, start: Instant = None, end: Instant = None, limit: int | None = None) -> pa.Table:
    """The answers that stand apart from their topic's usual answer, most apart first: the
    ticket, the agent, the topic, the similarity (0-100), the answer and the usual answer (and
    the ticket it was given on)."""
    from cxmetrics.metrics._compile import check_instant, check_range

    check_instant(start, "start (--from)")
    check_instant(end, "end (--to)")
    check_range(start, end)
    ws._auto_refresh()
    source = topic_source(ws.con)
    conds, params = ["NOT f.excluded", "a.apart"], []
    if start is not None:
        conds.append("a.ts >= CAST(? AS TIMESTAMPTZ)")
        params.append(str(start))
    if end is not None:
        conds.append("a.ts < CAST(? AS TIMESTAMPTZ)")
        params.append(str(end))
    cap = f"LIMIT {int(limit)}" if limit is not None else ""
    return ws.con.sql(f"""
        SELECT a.source, a.ticket_id, coalesce(a.agent_id, f.assignee_id) AS agent, {_topic_label(source)} AS topic,
               round(100 * a.similarity, 1) AS similarity, a.ts AS answered_at, e.body AS answer,
               u.ticket_id AS usual_ticket_id, u.body AS usual_answer
        FROM resolution_answers a JOIN ticket_facts f ON f.source = a.source AND f.ticket_id = a.ticket_id
        LEFT JOIN events e ON e.source = a.source AND e.event_id = a.event_id
        LEFT JOIN events u ON u.source = a.usual_source AND u.event_id = a.usual_event_id
        WHERE {' AND '.join(conds)}
        ORDER BY a.similarity, a.ts, a.source, a.ticket_id {cap}""", params=params).to_arrow_table()
