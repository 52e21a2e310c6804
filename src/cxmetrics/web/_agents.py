"""Agents and bots: the scorecard (`ws.scorecard`) measuring humans and bots on the same
KPIs, ranked by the lower bound of the ranking KPI's 95% interval (so a few perfect answers
do not top the table) among those with at least `min_n` observations of it (by default
chosen from the period's volume), and humans against bots overall (by who resolved the
ticket)."""

from __future__ import annotations

from typing import Any

from cxmetrics._workspace import Workspace
from cxmetrics.errors import UserError
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._scorecard import KPIS, MIN_N_CAP, MIN_N_FLOOR
from cxmetrics.web import _exports
from cxmetrics.web import _format as fmt
from cxmetrics.web._agent import agent_href, team_href
from cxmetrics.web._data import drill_href
from cxmetrics.web._filters import Filters

COLUMNS: dict[str, str] = {
    "solved_tickets": "Solved", "frt_first_touch": "First touch", "frt": "First response", "aht": "Handle time",
    "fcr": "FCR", "reopen_rate": "Reopened", "csat": "CSAT",
}
RANK_BY = ("csat", "fcr", "solved_tickets")
#: The text layer's columns (docs/text.md), shown when their facts exist: (metric, heading, table).
#: Sentiment is of the customers of the agent's tickets; the reply signals and consistency are
#: of the replies the agent wrote.
TEXT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("sentiment_mean", "Sentiment", "message_sentiment"),
    ("reply_personalised", "Personalised", "reply_signals"),
    ("reply_empathetic", "Empathetic", "reply_signals"),
    ("reply_thorough", "Thorough", "reply_signals"),
    ("consistency", "Consistency", "resolution_answers"),
)
TEXT_COMMAND = "cxmetrics text refresh"
MAX_MIN_N = 100_000


def check(min_n: str | int | None, rank_by: str | None) -> tuple[int | None, str]:
    """The scorecard controls, checked: min_n a whole number >= 1 (None or empty: chosen
    from the period's volume), rank_by one of RANK_BY."""
    try:
        n = None if min_n in (None, "") else int(str(min_n))
    except ValueError:
        raise UserError(f"min_n '{min_n}' is not a whole number; use e.g. min_n=30, or leave it empty.") from None
    if n is not None and not 1 <= n <= MAX_MIN_N:
        raise UserError(f"min_n must be between 1 and {MAX_MIN_N:,}, got {n}.")
    rank = rank_by or "csat"
    if rank not in RANK_BY:
        raise UserError(f"rank_by '{rank}' is not one of {', '.join(RANK_BY)}.")
    return n, rank


def agents(ws: Workspace, f: Filters, *, min_n: int | None = None, rank_by: str = "csat") -> dict[str, Any]:
    reg = registry()
    units = {k: reg.resolve(k).spec.unit.value for k in KPIS}
    min_ns = {k: reg.resolve(k).spec.min_n for k in KPIS}
    table = ws.scorecard(start=f.start, end=f.end, where=f.where, min_n=min_n, rank_by=rank_by,
                         hours="business" if f.business else "calendar")
    meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    used = int(meta["min_n"])
    rows = table.to_pylist()
    out = []
    for r in rows:
        cells = []
        for k in KPIS:
            n = r.get(f"{k}_n") or 0
            small = units[k] != "count" and n < min_ns[k]
            ci = (fmt.interval(r["ci_low"], r["ci_high"], units[k])
                  if k == rank_by and r.get("ci_low") is not None else "")
            cells.append({
                "metric": k, "value": r.get(k), "text": fmt.value(r.get(k), units[k]), "n": n,
                "small": small and r.get(k) is not None, "ci": ci,
                "href": drill_href(f, k, assignee=r["agent_id"]) if r.get(k) is not None else None,
            })
        out.append({"rank": r["rank"], "agent_id": r["agent_id"], "name": r["name"] or r["agent_id"],
                    "type": r["type"], "team": r["team"] or "", "cells": cells, "ranked": r["rank"] is not None,
                    # each agent's and team's own page (web/_agent.py), in this view
                    "href": agent_href(r["agent_id"], f), "team_href": team_href(r["team"], f) if r["team"] else None,
                    "score": r.get("rank_score"), "score_text": fmt.value(r.get("rank_score"), units[rank_by])
                    if r.get("rank_score") is not None else "—",
                    # beside the rank: the value it rests on and its interval (the KPI's column may
                    # be scrolled out of view)
                    "score_sub": "" if r.get(rank_by) is None else
                    fmt.value(r.get(rank_by), units[rank_by]) + f" of {fmt.count(r.get(f'{rank_by}_n') or 0)}"
                    + (f" · {ci}" if (ci := next(
                        c["ci"] for c in cells if c["metric"] == rank_by)) else "")})
    asked = {f.metric(k): k for k in KPIS}  # (in business hours, the response times' twins)
    summary = ws.metrics(list(asked), by=["agent_type"], where=f.where, start=f.start, end=f.end).to_pylist()
    by_type: dict[str, dict[str, Any]] = {}
    for r in summary:
        t = r["agent_type"] or "unresolved"
        by_type.setdefault(t, {})[asked[r["metric"]]] = r
    types = []
    for t in ("human", "bot"):
        if t not in by_type:
            continue
        cells = []
        for k in KPIS:
            r = by_type[t].get(k)
            cells.append({"metric": k, "text": fmt.value(r["value"] if r else None, units[k]),
                          "value": r["value"] if r else None,  # the table sorts by it (data-sort)
                          "n": r["n"] if r else 0, "ci": fmt.interval(r["ci_low"], r["ci_high"], units[k]) if r else "",
                          "small": bool(r and "small_sample" in r["flags"]),
                          "href": drill_href(f, k, agent_type=t)})
        types.append({"type": t, "cells": cells})
    text_columns, text_missing = _text_cells(ws, f, out)
    # the library ranks those with enough data; the rest follow, busiest first
    out.sort(key=lambda r: (not r["ranked"], r["rank"] or 0, -(r["cells"][0]["value"] or 0), r["agent_id"]))
    ranked = sum(1 for r in out if r["ranked"])
    rule = ("set by you" if min_n is not None else
            f"chosen from this period's volume: half the median per agent, between {MIN_N_FLOOR} and {MIN_N_CAP}")
    return {"rows": out, "columns": [{"metric": k, "label": COLUMNS[k]} for k in KPIS], "types": types,
            "min_n": used, "min_n_asked": min_n, "min_rule": rule, "rank_statistic": meta["rank_statistic"],
            "score_label": COLUMNS[rank_by] + (" ranked on" if units[rank_by] == "count" else " lower bound"),
            "rank_by": rank_by, "ranked": ranked, "unranked": len(out) - ranked,
            "bots": sum(1 for r in out if r["type"] == "bot"), "humans": sum(1 for r in out if r["type"] != "bot"),
            "text_columns": text_columns, "text_missing": text_missing, "text_command": TEXT_COMMAND,
            # the tables' queries, as files (web/_exports.py)
            "exports": {"scorecard": _exports.scorecard_query(f, min_n=min_n, rank_by=rank_by),
                        "types": _exports.query(f, list(KPIS), by=["agent_type"])}}


def _text_cells(ws: Workspace, f: Filters, rows: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[str]]:
    """Add each agent's text-layer cells (`text_cells`) to the scorecard rows, for the
    columns whose facts exist in the workspace; returns (those columns, the headings of the
    others: the page says how to get them)."""
    shown = [c for c in TEXT_COLUMNS
             if ws.sql(f"SELECT EXISTS (SELECT 1 FROM {c[2]}) AS x").to_pylist()[0]["x"]]
    missing = [h for m, h, _ in TEXT_COLUMNS if all(m != s for s, _, _ in shown)]
    found = ws.metrics([m for m, _, _ in shown], by=["assignee"], where=f.where, start=f.start,
                       end=f.end).to_pylist() if shown else []
    by = {(r["metric"], r["assignee"]): r for r in found}
    reg = registry()
    for row in rows:
        cells = []
        for m, _, _ in shown:
            spec = reg.resolve(m).spec
            r = by.get((m, row["agent_id"]))
            value, n = (r["value"], r["n"]) if r else (None, 0)
            cells.append({"metric": m, "value": value, "text": fmt.value(value, spec.unit.value), "n": n, "ci": "",
                          "small": value is not None and n < spec.min_n,
                          "href": drill_href(f, m, assignee=row["agent_id"]) if value is not None else None})
        row["text_cells"] = cells
    return [{"metric": m, "label": h, "description": reg.resolve(m).spec.description} for m, h, _ in shown], missing


__all__ = ["RANK_BY", "agents", "check"]
