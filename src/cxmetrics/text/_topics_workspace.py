"""Discovered topics in the workspace (docs/text.md, "Discovered topics in the workspace";
issue 13 item 1): `discover_tickets(ws, k)` clusters what the workspace's tickets are about
(subject and first customer message), keeps the model and its topics, and gives every ticket
with text its topic, the `discovered_topic` dimension.

- The texts clustered are those of the tickets created in [start, end) when given; every
  ticket with text is then assigned to its nearest topic, those outside the period too.
- The model is kept in text_models (kind 'topics', the active one), its topics in text_topics;
  a topic's name is made unique within the model (it is the dimension's value).
- New tickets get their topic from the kept model at every refresh (`_topics_facts`), without
  re-clustering; a second discovery must say `refit=True`, which re-clusters and reports what
  became of the old topics (`_topics_refit`).
- Discovery turns the text layer on (docs/text.md): the other text facts are brought up to date
  for every ticket, and consistency, which reads the topics, recomputed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from cxmetrics.errors import UserError
from cxmetrics.text._store import SCOPE, STEPS, active_model, enabled, refresh_text, save_model, ticket_texts_sql
from cxmetrics.text._topics_facts import KIND, assignments, write_topics
from cxmetrics.text._topics_refit import TopicChange, changes
from cxmetrics.text.topics import Topic, Topics, discover

if TYPE_CHECKING:
    from cxmetrics._workspace import Workspace

__all__ = ["Discovery", "WorkspaceTopic", "discover_tickets", "unique_names"]


@dataclass(frozen=True)
class WorkspaceTopic:
    """A topic kept in the workspace: `name` is unique within its model and is the value of
    the `discovered_topic` dimension; `size` is the tickets it holds at discovery (every
    ticket with text, not only those clustered); `example` is the text nearest its centre,
    from the ticket `example_source`/`example_ticket`."""

    id: int
    name: str
    words: tuple[str, ...]
    size: int
    example: str
    example_source: str | None
    example_ticket: str | None


@dataclass(frozen=True)
class Discovery:
    """What `discover_tickets` did: the model kept (`model_id`, `k`, `seed`), how many
    tickets' texts were clustered and how many got a topic, the topics, and after a refit the
    model it `replaced` and the `changes` from the old topics to the new."""

    model_id: str
    k: int
    seed: int
    clustered: int
    assigned: int
    topics: tuple[WorkspaceTopic, ...]
    silhouettes: dict[int, float] = field(default_factory=dict)
    replaced: str | None = None
    changes: tuple[TopicChange, ...] = ()


def unique_names(topics: tuple[Topic, ...]) -> dict[int, str]:
    """Each topic's name, made unique: a name met again (or an empty one) gets ` #id`.

    >>> t = [Topic(0, "card / lost", (), 3, ""), Topic(1, "refund", (), 2, ""), Topic(2, "card / lost", (), 1, "")]
    >>> unique_names(tuple(t))
    {0: 'card / lost', 1: 'refund', 2: 'card / lost #2'}
    """
    names: dict[int, str] = {}
    taken: set[str] = set()
    for topic in sorted(topics, key=lambda t: t.id):
        name = " ".join(topic.name.split())[:80] or f"topic #{topic.id}"
        if name in taken:
            name = f"{name} #{topic.id}"
        taken.add(name)
        names[topic.id] = name
    return names


def _bound(value: date | datetime | str | None, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    try:
        datetime.fromisoformat(str(value))
        return str(value)  # as given: the engine reads it in the workspace's time zone, as --from elsewhere
    except ValueError:
        raise UserError(f"{name} '{value}' is not a date or time such as 2025-03-01 or 2025-03-01T09:00.") from None


def _check(k: int | None, start: str | None, end: str | None) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 2):
        raise UserError(f"k={k!r} is not a number of topics to discover: give a whole number of at least 2, "
                        "or k=None (--auto) to pick it.")
    if start is not None and end is not None:
        from cxmetrics.metrics._compile import check_range

        check_range(start, end)


def _texts(ws: Workspace, start: str | None, end: str | None) -> pa.Table:
    """Every ticket's text (source, ticket_id, text), with `clustered`: created in the period."""
    conds, params = [], []
    for bound, op in ((start, ">="), (end, "<")):
        if bound is not None:
            conds.append(f"created_at {op} CAST(? AS TIMESTAMPTZ)")
            params.append(bound)
    flag = " AND ".join(conds) or "true"
    ws.con.execute(f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS SELECT source, ticket_id FROM ticket_facts")
    return ws.con.sql(f"SELECT source, ticket_id, text, coalesce({flag}, false) AS clustered "
                      f"FROM ({ticket_texts_sql()}) ORDER BY source, ticket_id", params=params).to_arrow_table()


def discover_tickets(ws: Workspace, k: int | None = None, *, start: date | datetime | str | None = None,
                     end: date | datetime | str | None = None, seed: int = 0, refit: bool = False,
                     method: str = "tfidf") -> Discovery:
    """Discover the topics of the workspace's tickets: cluster the texts (subject and first
    customer message) of those created in [start, end) (all when not given) into `k` topics
    (None: pick k), keep the model, and give every ticket with text its topic (the
    `discovered_topic` dimension). Same tickets and `seed`, same topics and ids. When a model
    is kept already, `refit=True` replaces it and reports what became of its topics.
    `method="minilm"` clusters sentence embeddings (better, slower; `cxmetrics[embeddings]`).
    Needs `pip install 'cxmetrics[text]'`."""
    from cxmetrics._workspace import translate_errors

    a, b = _bound(start, "start (--from)"), _bound(end, "end (--to)")
    _check(k, a, b)
    with ws._write_lock, translate_errors():  # no import between reading the texts and keeping the topics
        ws.refresh()  # the facts, and the text facts of new tickets when the layer is on
        con = ws.con
        old = active_model(con, KIND)
        if old is not None and not refit:
            raise UserError(
                f"this workspace keeps discovered topics already ({old.model_id}, k={old.params.get('k')}); its "
                "tickets, new ones too, are assigned to them. To cluster again, replacing them and reporting "
                "which topics split, merged or appeared, add --refit (refit=True).")
        was_on = enabled(con)
        try:
            texts = _texts(ws, a, b)
        finally:
            con.execute(f"DROP TABLE IF EXISTS {SCOPE}")
        found = _cluster(texts, k, seed, a, b, method)
        payload = found.to_bytes()
        model = Topics.from_bytes(payload)  # every ticket is assigned as later refreshes will assign
        assigned = assignments(model, texts.select(["source", "ticket_id", "text"]))
        names = unique_names(found.topics)
        topics = _topics(found, names, texts, assigned)
        report = _report(con, old.model_id, assigned, names) if old is not None else []
        params: dict[str, Any] = {"k": found.k, "seed": seed, "auto": k is None, "from": a, "to": b,
                                  "clustered": int(sum(texts.column("clustered").to_pylist())), "method": method}
        kept: list[str] = []

        def keep(con: Any) -> None:  # in the refresh's transaction, its scope every ticket
            kept.append(_keep(con, params, payload, topics, assigned))

        # one transaction: the model, every ticket's topic, and the text facts that read them
        # (consistency compares answers within topics); the first discovery turns the layer on
        rest = ("consistency",) if was_on else tuple(name for name, _ in STEPS if name != "topics")
        refresh_text(ws, full=True, steps=rest, before=keep)
    return Discovery(kept[0], found.k, seed, params["clustered"], assigned.num_rows, tuple(topics),
                     dict(found.silhouettes), old.model_id if old is not None else None, tuple(report))


def _cluster(texts: pa.Table, k: int | None, seed: int, start: str | None, end: str | None,
             method: str = "tfidf") -> Topics:
    chosen = [t for t, inside in zip(texts.column("text").to_pylist(), texts.column("clustered").to_pylist(),
                                     strict=True) if inside]
    if texts.num_rows == 0:
        raise UserError("no ticket in this workspace has text to cluster (a subject or a public customer message "
                        "with a body): import tickets with subjects or message events with bodies first.")
    if len(chosen) < 2:
        period = f" created in [{start or '...'}, {end or '...'})" if start or end else ""
        raise UserError(f"{len(chosen)} ticket(s) with text{period}: discovery needs at least 2; widen --from/--to "
                        "or leave them out.")
    return discover(chosen, k=k, seed=seed, method=method)


def _topics(found: Topics, names: dict[int, str], texts: pa.Table, assigned: pa.Table) -> list[WorkspaceTopic]:
    sizes = Counter(assigned.column("topic_id").to_pylist())
    keys = list(zip(texts.column("source").to_pylist(), texts.column("ticket_id").to_pylist(), strict=True))
    clustered = texts.column("clustered").to_pylist()
    # the example is one of the texts clustered: the first ticket (in key order) that wrote it
    first: dict[str, int] = {}
    for i, text in enumerate(texts.column("text").to_pylist()):
        if clustered[i]:
            first.setdefault(text.strip(), i)
    out = []
    for t in found.topics:
        row = first.get(t.example)
        source, ticket = keys[row] if row is not None else (None, None)
        out.append(WorkspaceTopic(t.id, names[t.id], t.words, sizes.get(t.id, 0), t.example, source, ticket))
    return out


def _report(con: Any, old_id: str, assigned: pa.Table, names: dict[int, str]) -> list[TopicChange]:
    """Old topic -> new topics, from the tickets that had an old topic and got a new one."""
    con.register("_tx_topic_new", assigned)
    try:
        flows = con.execute("""
            SELECT x.topic_id, n.topic_id, count(*) FROM ticket_text x
            JOIN _tx_topic_new n ON n.source = x.source AND n.ticket_id = x.ticket_id
            WHERE x.topic_model = ? AND x.topic_id IS NOT NULL GROUP BY ALL""", [old_id]).fetchall()
    finally:
        con.unregister("_tx_topic_new")
    old_names = dict(con.execute("SELECT topic_id, name FROM text_topics WHERE model_id = ?", [old_id]).fetchall())
    return changes([(int(o), int(n), int(c)) for o, n, c in flows], old_names, names)


def _keep(con: Any, params: dict[str, Any], payload: bytes, topics: list[WorkspaceTopic], assigned: pa.Table) -> str:
    """The model (now the active one), its topics, and every ticket's topic; in the caller's
    transaction, whose scope (_tx_scope) is every ticket."""
    model_id = save_model(con, KIND, params, payload)
    con.executemany("INSERT INTO text_topics VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [[model_id, t.id, t.name, list(t.words), t.size, t.example, t.example_source,
                      t.example_ticket] for t in topics])
    write_topics(con, model_id, assigned)
    return model_id
