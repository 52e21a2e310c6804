"""Topics: what customers contact you about, per topic in the view: volume and its weekly
trend, share of the view's tickets and its change against the period before (tested; a
significant rise flags the topic as **emerging**), CSAT, median first response, negative
sentiment and consistency, the topic's distinctive words and example texts, each linked to
the tickets behind it.

The topics are the discovered ones (`discovered_topic`: the active topic model of
`cxmetrics topics discover`, docs/text.md) when a model exists, else the help desk's own
`topic`, with a note saying how to discover them. Every number comes from the library
(`ws.metrics`, `ws.compare`, `ws.topics`, the drill-down): whether a topic is emerging is
`ws.topics`' verdict, and the change shown beside it is that same test (the difference of
the topic's shares of all the view's tickets, Newcombe's score interval, as `compare` tests a
share) with its interval and p-value.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from cxmetrics._workspace import Workspace, translate_errors
from cxmetrics.api._drill import drill_query
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._stats import proportion_change
from cxmetrics.text._store import CUSTOMER_MESSAGE, active_model_id
from cxmetrics.web import _exports
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import sparkline
from cxmetrics.web._data import drill_href, spark_window, tone, week_spine
from cxmetrics.web._filters import Filters

#: The quality columns per topic: (metric, heading, the table whose rows it needs).
QUALITY: tuple[tuple[str, str, str], ...] = (
    ("csat", "CSAT", "surveys"),
    ("frt", "First response", "events"),
    ("sentiment_negative", "Negative sentiment", "message_sentiment"),
    ("consistency", "Consistency", "resolution_answers"),
)
#: Recent tickets shown per topic beside the model's representative example.
EXAMPLES = 3
#: Characters of a ticket's text shown (the whole text is in the tooltip).
EXAMPLE_CHARS = 280
DISCOVER_COMMAND = "cxmetrics topics discover --auto"
TEXT_COMMAND = "cxmetrics text refresh"


def topic_model(ws: Workspace) -> dict[str, Any] | None:
    """The active topic model and its topics, keyed by the `discovered_topic` value its
    tickets carry (the topic's unique name); None when no model with topics exists."""
    model_id = active_model_id(ws.con, "topics")
    if model_id is None:
        return None
    rows = ws.sql(
        """SELECT t.topic_id, t.name, t.words, t.size, t.example, t.example_ticket, t.example_source,
                  coalesce(x.label, t.name) AS label
           FROM text_topics t
           LEFT JOIN (SELECT topic_id, any_value(discovered_topic) AS label FROM ticket_text
                      WHERE topic_model = ? AND discovered_topic IS NOT NULL GROUP BY topic_id) x
             ON x.topic_id = t.topic_id
           WHERE t.model_id = ? ORDER BY t.topic_id""",
        [model_id, model_id],
    ).to_pylist()
    if not rows:
        return None
    created = ws.sql("SELECT strftime(created_at, '%d %b %Y') AS d FROM text_models WHERE model_id = ?",
                     [model_id]).to_pylist()[0]["d"]
    return {"model_id": model_id, "created": created, "k": len(rows),
            "topics": {r["label"]: r for r in rows}}


def _has_rows(ws: Workspace, table: str) -> bool:
    return bool(ws.sql(f"SELECT EXISTS (SELECT 1 FROM {table}) AS x").to_pylist()[0]["x"])


def topics(ws: Workspace, f: Filters) -> dict[str, Any]:
    """The Topics page for a view (see the module docstring)."""
    model = topic_model(ws)
    dim = "discovered_topic" if model else "topic"
    p0, p1 = f.previous()
    counts = ws.compare(["tickets"], (p0, p1), (f.start, f.end), by=[dim], where=f.where).to_pylist()
    before = {r[dim]: int(r["a_value"] or 0) for r in counts}
    now = {r[dim]: int(r["b_value"] or 0) for r in counts}
    total_now, total_before = sum(now.values()), sum(before.values())
    # which topics are emerging: the library's verdict (metrics/_topics.py), one rule everywhere
    emerging = {r["topic"]: bool(r["emerging"]) for r in ws.topics(
        start=f.start, end=f.end, where=f.where, limit=len(now) + 1, discovered=model is not None).to_pylist()}
    shown = [q for q in QUALITY if _has_rows(ws, q[2])]
    quality = ws.metrics([m for m, _, _ in shown], by=[dim], where=f.where, start=f.start,
                         end=f.end).to_pylist() if shown else []
    by_metric = {(r["metric"], r[dim]): r for r in quality}
    s0, s1 = spark_window(f)
    spine = week_spine(s0, s1)
    weekly: dict[Any, dict[str, int]] = {}
    for r in ws.metrics(["tickets"], by=[dim], grain="week", where=f.where, start=s0, end=s1).to_pylist():
        weekly.setdefault(r[dim], {})[str(r["period"])[:10]] = int(r["value"] or 0)
    examples = _examples(ws, f, dim)
    units = {m: registry().resolve(m).spec.unit.value for m, _, _ in shown}
    known = model["topics"] if model else {}
    groups = sorted((g for g in set(now) | set(before) if now.get(g) or before.get(g)),
                    key=lambda g: (g is None, -now.get(g, 0), -before.get(g, 0), str(g)))
    rows = []
    for i, g in enumerate(groups):
        k_now, k_before = now.get(g, 0), before.get(g, 0)
        topic = known.get(g) if g is not None else None
        weeks = [weekly.get(g, {}).get(w, 0) for w in spine]
        cells = []
        for m, heading, _ in shown:
            r = by_metric.get((m, g))
            value = r["value"] if r else None
            cells.append({
                "metric": m, "heading": heading, "value": value, "text": fmt.value(value, units[m]),
                "n": r["n"] if r else 0, "ci": fmt.interval(r["ci_low"], r["ci_high"], units[m]) if r else "",
                "small": bool(r and "small_sample" in r["flags"] and value is not None),
                "href": drill_href(f, m, **{dim: str(g)}) if r and g is not None else None,
            })
        rows.append({
            "anchor": f"topic-{i + 1}", "name": "No topic" if g is None else str(g), "none": g is None,
            "tickets": k_now, "tickets_text": fmt.count(k_now), "before": k_before,
            "tickets_href": drill_href(f, "tickets", **{dim: str(g)}) if g is not None and k_now else None,
            "share": 100 * k_now / total_now if total_now else None,
            "share_text": fmt.value(100 * k_now / total_now if total_now else None, "percent"),
            "before_share_text": fmt.value(100 * k_before / total_before if total_before else None, "percent"),
            "change": _share_change(k_before, total_before, k_now, total_now, g is not None and emerging.get(g, False)),
            "spark": sparkline([float(w) for w in weeks]),
            "spark_title": "\n".join(f"week of {w}: {n:,} tickets" for w, n in zip(spine, weeks, strict=True)),
            "words": ", ".join((topic or {}).get("words") or []),
            "example": (topic or {}).get("example"), "example_ticket": (topic or {}).get("example_ticket"),
            "example_source": (topic or {}).get("example_source"),
            "examples": [e for e in examples.get(g, []) if e["ticket_id"] != (topic or {}).get("example_ticket")]
            [:EXAMPLES],
            "cells": cells,
        })
    emerging = [r for r in rows if r["change"] and r["change"]["emerging"]]
    missing = [heading for m, heading, _ in QUALITY if m in ("sentiment_negative", "consistency")
               and all(m != s for s, _, _ in shown)]
    return {
        "discovered": model is not None, "dimension": dim, "model": None if model is None else
        {"id": model["model_id"], "created": model["created"], "k": model["k"]},
        "rows": rows, "emerging": emerging, "columns": [{"metric": m, "label": h} for m, h, _ in shown],
        "total_text": fmt.count(total_now), "empty": total_now == 0, "topics_in_view": sum(1 for g in groups if g),
        "previous_label": Filters(start=p0, end=p1, period="custom").label,
        "spark_label": f"weekly tickets, {s0:%d %b} – {date.fromordinal(s1.toordinal() - 1):%d %b %Y}",
        "discover_command": DISCOVER_COMMAND, "text_command": TEXT_COMMAND, "missing": missing,
        # the table's numbers as a file (web/_exports.py)
        "export": _exports.query(f, ["tickets", *(m for m, _, _ in shown)], by=[dim]),
        "trends_href": "/trends?" + urlencode(f.params(metric="tickets", by=dim)),
    }


def _share_change(k_before: int, n_before: int, k_now: int, n_now: int, emerging: bool) -> dict[str, Any] | None:
    """The topic's share of the view's tickets now against the period before, tested as
    `compare` tests a share (difference of proportions, Newcombe's score interval; a
    significant rise is what `ws.topics` calls emerging). None when either period has no
    tickets at all (nothing to compare with)."""
    if not n_before or not n_now:
        return None
    c = proportion_change(k_before, n_before, k_now, n_now)
    delta = 100 * c.estimate
    return {
        "delta": delta, "text": fmt.change(delta, "percent"), "significant": c.significant,
        "verdict": "real change" if c.significant else "noise", "p_text": fmt.p_value(c.p_value),
        "ci": f"{fmt.change(100 * c.low, 'percent')} to {fmt.change(100 * c.high, 'percent')}",
        "arrow": "▲" if delta > 0 else "▼" if delta < 0 else "■", "test": c.test,
        # a topic's share has no better or worse direction: a real change is shown, not judged
        "tone": tone(delta, "none", c.significant),
        "emerging": emerging, "new": k_before == 0,
    }


def _examples(ws: Workspace, f: Filters, dim: str) -> dict[Any, list[dict[str, Any]]]:
    """The latest tickets of each topic in the view (those its click-through lists), with
    their text: the subject and the first customer message."""
    q = drill_query(ws, "tickets", f.where, f.start, f.end)
    sql = f"""WITH {q.sql},
        latest AS (
            SELECT source, ticket_id, created_at, "{dim}" AS grp FROM behind WHERE "{dim}" IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY "{dim}" ORDER BY created_at DESC, ticket_id) <= {EXAMPLES + 1}
        ),
        first_message AS (
            SELECT e.source, e.ticket_id, arg_min(e.body, (e.ts, e.event_id)) AS body
            FROM events e SEMI JOIN latest l ON l.source = e.source AND l.ticket_id = e.ticket_id
            WHERE {CUSTOMER_MESSAGE}
            GROUP BY ALL
        )
        SELECT l.grp, l.source, l.ticket_id, l.created_at, nullif(trim(t.subject), '') AS subject, trim(m.body) AS body
        FROM latest l
        LEFT JOIN tickets t ON t.source = l.source AND t.ticket_id = l.ticket_id
        LEFT JOIN first_message m ON m.source = l.source AND m.ticket_id = l.ticket_id
        ORDER BY l.grp, l.created_at DESC, l.ticket_id"""
    with translate_errors():
        found = ws.con.execute(sql, list(q.params)).fetchall()
    tz = ZoneInfo(ws.settings.timezone)
    out: dict[Any, list[dict[str, Any]]] = {}
    for grp, source, ticket_id, created, subject, body in found:
        text = " — ".join(p for p in (subject, body) if p)
        if not text:
            continue
        out.setdefault(grp, []).append({
            "source": source, "ticket_id": ticket_id,
            "text": text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS - 1] + "…",
            "full": text, "when": created.astimezone(tz).strftime("%d %b %Y") if isinstance(created, datetime) else "",
        })
    return out


__all__ = ["QUALITY", "topic_model", "topics"]
