"""The Surveys page's Collection section: how the surveys cxmetrics sends are doing.

Response rate by kind, channel, delay band and fatigue band (how many surveys the customer had
received), each a bar with its 95% Wilson interval; time to answer; answers per day; sends and
reminders: every number is a registry metric (`survey_response_rate`, `survey_time_to_answer`,
`survey_answers`, `survey_sends`, `survey_reminded_share`), in the page's view. The latest sends
with their state (pending, delivered, failed, cancelled, answered) come from the sender's own
tables, newest first, whatever the view (it is a feed of what just happened). The page updates
live: an answer or a send publishes its table on the hub, and the page re-renders.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from cxmetrics._workspace import Workspace
from cxmetrics.metrics._sources import SOURCES, SURVEY_DELAY_BANDS, SURVEYS_RECEIVED_BANDS
from cxmetrics.web import _format as fmt
from cxmetrics.web._charts import ACCENT, layout
from cxmetrics.web._data import drill_href
from cxmetrics.web._filters import Filters

#: the cuts of the response rate: (dimension, title, the order of its values, None: most sends first)
CUTS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("survey_kind", "by survey kind", None),
    ("channel", "by channel", None),
    ("survey_delay", "by delay (solve to send)", SURVEY_DELAY_BANDS),
    ("surveys_received", "by surveys the customer had received (fatigue)", SURVEYS_RECEIVED_BANDS),
)
LATEST = 20
MAX_DAYS = 800  # answers per day: at most this many days drawn (a longer view: its first)
STATE_TONE = {"answered": "good", "delivered": "grey", "pending": "warn", "failed": "bad", "cancelled": "grey"}


def _rate_figure(rows: list[dict[str, Any]], dim: str, order: tuple[str, ...] | None, f: Filters) -> dict[str, Any]:
    rows = [r for r in rows if r["n"]]
    if order is not None:
        rank = {v: i for i, v in enumerate(order)}
        rows.sort(key=lambda r: rank.get(str(r[dim]), len(rank)))
    else:
        rows.sort(key=lambda r: (-r["n"], str(r[dim])))
    labels = ["(none)" if r[dim] is None else str(r[dim]) for r in rows]
    return {"data": [{
        "type": "bar", "orientation": "h", "y": labels, "x": [r["value"] for r in rows],
        "marker": {"color": ACCENT},
        "error_x": {"type": "data", "symmetric": False, "color": "#374151", "thickness": 1.2, "width": 3,
                    "array": [None if r["ci_high"] is None else r["ci_high"] - r["value"] for r in rows],
                    "arrayminus": [None if r["ci_low"] is None else r["value"] - r["ci_low"] for r in rows]},
        "text": [f"{fmt.value(r['value'], 'percent')} of {fmt.count(r['n'])}" for r in rows],
        "textposition": "none",
        "customdata": [drill_href(f, "survey_response_rate", **({dim: r[dim]} if r[dim] is not None else {}))
                       for r in rows],
        "hovertemplate": "%{y}: %{text} sent<extra>95% CI shown</extra>",
    }], "layout": layout(hovermode="closest", showlegend=False, margin={"l": 96, "t": 8, "b": 36},
                         xaxis={"title": {"text": "answered, % of sent"}, "range": [0, 100]},
                         yaxis={"autorange": "reversed", "rangemode": "normal", "type": "category"})}


def _per_day_figure(rows: list[dict[str, Any]]) -> dict[str, Any]:
    # every day from the first answer to the last, days without answers as 0, on a category
    # axis (a date axis draws one day's bar as a sliver among hour ticks)
    got = {date.fromisoformat(str(r["period"])[:10]): r["value"] or 0 for r in rows}
    first, last = min(got), max(got)
    days = [first + timedelta(days=i) for i in range(min((last - first).days + 1, MAX_DAYS))]
    top = max(got.values())
    label = "%d %b" if first.year == last.year else "%d %b %Y"  # the year only when the view spans two
    return {"data": [{"type": "bar", "x": [d.strftime(label) for d in days], "y": [got.get(d, 0) for d in days],
                      "marker": {"color": ACCENT}, "hovertemplate": "%{x}: %{y:,} answers<extra></extra>"}],
            "layout": layout(hovermode="closest", showlegend=False, margin={"t": 8, "l": 40},
                             xaxis={"type": "category", "nticks": 10},
                             yaxis={"title": {"text": "answers"}, "rangemode": "tozero",
                                    "dtick": max(1, math.ceil(top / 5))})}


def latest_sends(ws: Workspace, limit: int = LATEST) -> list[dict[str, Any]]:
    """The newest sends with their state, score and comment (escaped where shown: customer text)."""
    from cxmetrics.surveys._sends import recent_sends

    rows = recent_sends(ws, limit=limit)
    ids = [r["send_id"] for r in rows if r["status"] == "answered"]
    comments: dict[str, Any] = {}
    boxes: dict[str, str] = {}
    if ids:
        marks = ", ".join("?" for _ in ids)
        # the registry's boxes colour the score: good (top box; CES: easy), bad (bottom box), else neutral
        answers = {r["send_id"]: r for r in ws.sql(
            f"SELECT send_id, comment, kind, top_box, bottom_box, easy FROM ({SOURCES['surveys'].sql}) a "
            f"WHERE send_id IN ({marks})", ids).to_pylist()}
        comments = {k: a["comment"] for k, a in answers.items()}
        boxes = {k: "bad" if a["bottom_box"] else "good" if (a["easy"] if a["kind"] == "ces" else a["top_box"])
                 else "neutral" for k, a in answers.items()}
    out = []
    for r in rows:
        when = r["answered_at"] or r["sent_at"] or r["created_at"]
        out.append({**r, "tone": STATE_TONE.get(r["status"], "grey"), "comment": comments.get(r["send_id"]),
                    "when": when.strftime("%d %b %H:%M") if when is not None else "",
                    "score_text": "" if r["score"] is None else f"{r['score']:g}",
                    "score_tone": boxes.get(r["send_id"], "neutral")})
    return out


def collection(ws: Workspace, f: Filters, counts: dict[str, int]) -> dict[str, Any] | None:
    """The section's data, or None when the workspace has no sends at all (nothing to measure)."""
    requests = ws.sql("SELECT count(*) AS n FROM survey_requests").to_pylist()[0]["n"]
    if not counts.get("survey_sends", 0) and not requests:
        return None
    view = {"where": f.where, "start": f.start, "end": f.end}
    cuts = []
    for dim, title, order in CUTS:
        rows = ws.metrics(["survey_response_rate"], by=[dim], **view).to_pylist()
        cuts.append({"dim": dim, "title": title, "figure": _rate_figure(rows, dim, order, f) if any(
            r["n"] for r in rows) else None})
    head = {r["metric"]: r for r in ws.metrics(["survey_time_to_answer", "survey_time_to_answer_p90", "survey_sends",
                                                "survey_answers", "survey_reminded_share"], **view).to_pylist()}

    def shown(metric: str, unit: str) -> dict[str, Any]:
        r = head.get(metric)
        return {"text": fmt.value(r["value"] if r else None, unit), "n": fmt.count(r["n"] if r else 0),
                "ci": fmt.interval(r["ci_low"], r["ci_high"], unit) if r else "", "href": drill_href(f, metric)}

    per_day = ws.metrics(["survey_answers"], grain="day", **view).to_pylist()
    return {
        "time_to_answer": shown("survey_time_to_answer", "seconds"),
        "time_to_answer_p90": shown("survey_time_to_answer_p90", "seconds"),
        "sends": shown("survey_sends", "count"), "answers": shown("survey_answers", "count"),
        "reminded": shown("survey_reminded_share", "percent"),
        "cuts": cuts, "per_day": _per_day_figure(per_day) if per_day else None,
        "latest": latest_sends(ws),
    }


__all__ = ["collection", "latest_sends"]
