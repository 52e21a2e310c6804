"""Surveys: CSAT, CES and NPS score distributions, response rates by survey kind, and the
comments behind low scores (CSAT in the bottom box, 1-2 on 1-5; NPS detractors, 0-6).

Headline values come from the registry (`ws.metrics`). Distributions, response rates by
kind and comments read the registry's own row sets (the `surveys` and `survey_sends`
sources, with their top-box, bottom-box and answered flags), filtered the way the metrics
filter them, so the bars add up to the metric's n.
"""

from __future__ import annotations

from typing import Any

from cxmetrics._workspace import Workspace
from cxmetrics.metrics._sources import DIMENSIONS as LIBRARY_DIMENSIONS
from cxmetrics.metrics._sources import LIST_DIMENSIONS, dimension_in
from cxmetrics.metrics._sources import SOURCES
from cxmetrics.metrics._stats import wilson
from cxmetrics.web import _exports
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import BAD, GOOD, layout
from cxmetrics.web._data import drill_href
from cxmetrics.web._filters import Filters
from cxmetrics.web._survey_collection import collection

HEADLINE = ("csat", "dsat", "csat_mean", "ces", "ces_easy", "nps", "nps_promoters", "nps_passives",
            "nps_detractors", "survey_response_rate")
KINDS = {"csat": "CSAT", "ces": "CES", "nps": "NPS", "esat": "Employee satisfaction"}
NEUTRAL_BAR = "#cbd5e1"
COMMENT_LIMIT = 50


def rows_in_view(source: str, time_col: str, f: Filters, extra: str = "true") -> tuple[str, list[Any]]:
    """The rows of a registry source in the view: its period on `time_col` and the global
    filters on the registry's dimension columns (names from the allow-list, values bound)."""
    conds = [f"{time_col} >= CAST(? AS TIMESTAMPTZ)", f"{time_col} < CAST(? AS TIMESTAMPTZ)", f"({extra})"]
    params: list[Any] = [f.start.isoformat(), f.end.isoformat()]
    hint = dict(SOURCES[source].time_hints).get(time_col)
    if hint is not None:  # implied by the period (see Source.time_hints): reaches the table's scan
        conds.append(f"(({hint}) IS NULL OR (({hint}) >= CAST(? AS TIMESTAMPTZ) "
                     f"AND ({hint}) < CAST(? AS TIMESTAMPTZ)))")
        params += [f.start.isoformat(), f.end.isoformat()]
    for name, values in f.dims.items():
        col = LIBRARY_DIMENSIONS[name]
        if name in LIST_DIMENSIONS:  # a ticket's tags: any of them (the library's rule)
            conds.append(dimension_in(col, values))
            continue
        conds.append(f"lower(CAST({col} AS TEXT)) IN ({', '.join('lower(?)' for _ in values)})")  # case-blind
        params += list(values)
    # (the source's leanest SQL that has the view's dimensions: without the sends' bands...)
    return f"SELECT * FROM ({SOURCES[source].sql_for(list(f.dims))}) src WHERE {' AND '.join(conds)}", params


def distributions(ws: Workspace, f: Filters) -> dict[str, list[dict[str, Any]]]:
    """Answers per score for each kind and scale: score, count, and its box (top, bottom or
    neutral; for NPS promoter, detractor or passive)."""
    sql, params = rows_in_view("surveys", "answered_at", f)
    rows = ws.sql(
        f"SELECT kind, scale, score, count(*) AS n, bool_or(top_box) AS top, bool_or(bottom_box) AS bottom, "
        f"bool_or(easy) AS easy "
        f"FROM ({sql}) GROUP BY ALL ORDER BY kind, scale, score", params
    ).to_pylist()
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["kind"] == "ces":  # effort: the good box is "easy" (5-7 on 1-7), not the top box
            r["top"] = r["easy"]
        out.setdefault(r["kind"], []).append(r)
    for kind, part in out.items():
        out[kind] = _full_scale(part)
    return out


#: Every score of a known scale, so a distribution shows the scores nobody gave.
SCALES = {"1-5": range(1, 6), "1-7": range(1, 8), "0-10": range(11), "1-10": range(1, 11), "1-3": range(1, 4)}


def _full_scale(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = list(rows)
    for scale in {r["scale"] for r in rows}:
        seen = {r["score"] for r in rows if r["scale"] == scale}
        for score in SCALES.get(scale, ()):
            if float(score) not in seen:
                out.append({"kind": rows[0]["kind"], "scale": scale, "score": float(score), "n": 0, "top": False,
                            "bottom": False, "easy": False})
    return sorted(out, key=lambda r: (r["scale"], r["score"]))


def _score_label(score: float, scale: str) -> str:
    if scale == "good/bad":
        return "good" if score >= 1 else "bad"
    return f"{score:g}"


def _distribution_figure(rows: list[dict[str, Any]]) -> dict[str, Any]:
    scales = sorted({r["scale"] for r in rows})
    traces = []
    for scale in scales:
        part = [r for r in rows if r["scale"] == scale]
        total = sum(r["n"] for r in part)
        traces.append({
            "type": "bar", "name": f"scale {scale}", "x": [_score_label(r["score"], scale) for r in part],
            "y": [r["n"] for r in part],
            "marker": {"color": [GOOD if r["top"] else BAD if r["bottom"] else NEUTRAL_BAR for r in part]},
            "text": [f"{100 * r['n'] / total:.0f}%" if r["n"] else "" for r in part], "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": "score %{x}: %{y:,} answers<extra>" + f"scale {scale}" + "</extra>",
        })
    return {"data": traces, "layout": layout(hovermode="closest", showlegend=len(scales) > 1, margin={"t": 24, "l": 48},
                                             xaxis={"type": "category", "title": {"text": "score"}},
                                             yaxis={"title": {"text": "answers"}})}


def response_rates(ws: Workspace, f: Filters) -> list[dict[str, Any]]:
    """Answered / sent per survey kind, with Wilson 95% intervals (as the registry's
    survey_response_rate, split by kind)."""
    sql, params = rows_in_view("survey_sends", "sent_at", f)
    rows = ws.sql(f"SELECT kind, count(*) AS sent, count(*) FILTER (WHERE answered) AS answered "
                  f"FROM ({sql}) GROUP BY ALL ORDER BY sent DESC", params).to_pylist()
    out = []
    for r in rows:
        lo, hi = wilson(r["answered"], r["sent"])
        rate = 100.0 * r["answered"] / r["sent"] if r["sent"] else None
        # (the registry's source matches an answer to its send by ticket, else by customer
        # and send time, else by count within the batch: see survey_response_rate)
        out.append({"kind": r["kind"], "label": KINDS.get(r["kind"], r["kind"]), "sent": r["sent"],
                    "answered": r["answered"], "rate": rate, "rate_text": fmt.value(rate, "percent"),
                    "ci": fmt.interval(100 * lo if lo is not None else None, 100 * hi if hi is not None else None,
                                       "percent")})
    return out


def low_score_comments(ws: Workspace, f: Filters, limit: int = COMMENT_LIMIT) -> list[dict[str, Any]]:
    """The newest comments left with a low score: CSAT in the bottom box, NPS detractors."""
    sql, params = rows_in_view(
        "surveys", "answered_at", f,
        "comment IS NOT NULL AND trim(comment) <> '' AND ((kind = 'csat' AND bottom_box) OR (kind = 'nps' AND score <= 6))")
    return ws.sql(
        f"SELECT kind, scale, score, comment, source, ticket_id, channel, assignee_id, "
        f"strftime(answered_at, '%d %b %Y %H:%M') AS answered FROM ({sql}) "
        f"ORDER BY answered_at DESC, response_id LIMIT {int(limit)}", params
    ).to_pylist()


def surveys(ws: Workspace, f: Filters) -> dict[str, Any]:
    counts = ws.counts()
    head = {r["metric"]: r for r in ws.metrics(list(HEADLINE), where=f.where, start=f.start, end=f.end).to_pylist()}
    dist = distributions(ws, f)
    cards = []
    for kind, metric, title in (("csat", "csat", "CSAT"), ("ces", "ces", "Customer effort (CES)"), ("nps", "nps", "NPS")):
        r = head.get(metric)
        rows = dist.get(kind, [])
        cards.append({
            "kind": kind, "title": title, "metric": metric,
            "value_text": fmt.value(r["value"] if r else None, r["unit"] if r else "percent"),
            "n": fmt.count(r["n"] if r else 0), "ci": fmt.interval(r["ci_low"], r["ci_high"], r["unit"]) if r else "",
            "small": bool(r and "small_sample" in r["flags"] and r["value"] is not None),
            "href": drill_href(f, metric), "figure": _distribution_figure(rows) if rows else None,
            "answers": sum(x["n"] for x in rows), "shares": _shares(kind, head),
        })
    rr = head.get("survey_response_rate")
    rates = response_rates(ws, f)
    return {
        "cards": cards, "rates": rates, "comments": low_score_comments(ws, f),
        "export": _exports.query(f, list(HEADLINE)),  # the cards' numbers as a file (web/_exports.py)
        "overall_rate": {"text": fmt.value(rr["value"] if rr else None, "percent"), "n": fmt.count(rr["n"] if rr else 0),
                         "ci": fmt.interval(rr["ci_low"], rr["ci_high"], "percent") if rr else "",
                         "href": drill_href(f, "survey_response_rate")},
        "no_surveys": counts.get("surveys", 0) == 0, "no_sends": counts.get("survey_sends", 0) == 0,
        "collection": collection(ws, f, counts),  # the surveys cxmetrics sends (web/_survey_collection.py)
    }


def _shares(kind: str, head: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    def share(metric: str, label: str) -> dict[str, str]:
        r = head.get(metric)
        return {"label": label, "text": fmt.value(r["value"] if r else None, "percent")}

    if kind == "csat":
        return [share("dsat", "dissatisfied (bottom box)"),
                {"label": "mean score (1–5)", "text": fmt.value(head["csat_mean"]["value"], "score")
                 if head.get("csat_mean") else "—"}]
    if kind == "ces":
        return [share("ces_easy", "found it easy")]
    if kind == "nps":
        return [share("nps_promoters", "promoters"), share("nps_passives", "passives"),
                share("nps_detractors", "detractors")]
    return []


__all__ = ["distributions", "low_score_comments", "response_rates", "rows_in_view", "surveys"]
