"""Tickets: the rows behind a number (the API's drill-down, `tickets_behind`), a page at a
time, with the total (the number's n for ticket metrics) and the CSV export link."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from cxmetrics._workspace import Workspace
from cxmetrics.api._drill import VALUE_FILTERS, count_behind, tickets_behind
from cxmetrics.errors import UserError
from cxmetrics.metrics._registry import registry
from cxmetrics.metrics._sources import DIMENSIONS as LIBRARY_DIMENSIONS
from cxmetrics.web import _format as fmt
from cxmetrics.web._filters import DIMENSIONS, Filters

PAGE_SIZE = 50
#: Filters a drill-down link may add beyond the global ones (a scorecard row, a heatmap cell).
EXTRA = tuple(d for d in LIBRARY_DIMENSIONS if d not in DIMENSIONS and d != "segment") + ("hour_of_day", "weekday") \
    + VALUE_FILTERS  # a bucket or score of the distributions page
EXTRA += ("age",)  # days open, of backlog's tickets (the Queue page's ageing buckets)
#: Columns shown per kind of row: (column, heading).
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "tickets": (("ticket_id", "Ticket"), ("created_at", "Created"), ("channel", "Channel"), ("priority", "Priority"),
                ("team", "Team"), ("assignee_id", "Assignee"), ("status", "Status"), ("subject", "Subject")),
    "surveys": (("ticket_id", "Ticket"), ("answered_at", "Answered"), ("kind", "Kind"), ("score", "Score"),
                ("channel", "Channel"), ("assignee_id", "Agent"), ("comment", "Comment")),
    "survey_sends": (("ticket_id", "Ticket"), ("sent_at", "Sent"), ("kind", "Kind"), ("channel", "Channel"),
                     ("answered", "Answered")),
    "reply_intervals": (("ticket_id", "Ticket"), ("seq", "Reply #"), ("started_at", "Waiting since"),
                        ("replied_at", "Replied"), ("channel", "Channel")),
    # one row per SLA target (a ticket has one per SLA metric and cycle)
    "sla_targets": (("ticket_id", "Ticket"), ("created_at", "Created"), ("sla_metric", "SLA metric"),
                    ("policy", "Policy"), ("due_at", "Due"), ("completed_at", "Completed"), ("state", "State"),
                    ("priority", "Priority"), ("team", "Team"), ("assignee_id", "Assignee")),
    # the text layer's rows (docs/text.md): a scored customer message, a ticket's sentiment,
    # an agent reply with its signals, a solved ticket's resolving reply
    "customer_messages": (("ticket_id", "Ticket"), ("ts", "Written"), ("channel", "Channel"),
                          ("assignee_id", "Assignee"), ("label", "Sentiment"), ("score", "Score"),
                          ("subject", "Subject")),
    "ticket_sentiment": (("ticket_id", "Ticket"), ("created_at", "Created"), ("channel", "Channel"),
                         ("assignee_id", "Assignee"), ("label_first", "First message"), ("label_last", "Last message"),
                         ("sentiment_shift", "Shift"), ("subject", "Subject")),
    "agent_replies": (("ticket_id", "Ticket"), ("ts", "Replied"), ("assignee_id", "Agent"), ("channel", "Channel"),
                      ("personalised", "Personalised"), ("empathetic", "Empathetic"), ("questions", "Questions"),
                      ("questions_answered", "Answered"), ("subject", "Subject")),
    "resolutions": (("ticket_id", "Ticket"), ("ts", "Replied"), ("assignee_id", "Agent"),
                    ("discovered_topic", "Topic"), ("similarity", "Similarity"), ("apart", "Apart"),
                    ("subject", "Subject")),
}
#: SLA metric ids as the SLA page names them.
SLA_METRIC_LABELS = {"first_reply": "First reply", "next_reply": "Next reply", "periodic_update": "Periodic update",
                     "pausable_update": "Pausable update", "requester_wait": "Requester wait",
                     "agent_work_time": "Agent work time", "total_resolution": "Total resolution"}
DAYS = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def extra_where(params: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The drill-only filters in a query string (assignee, topic, hour_of_day...)."""
    return {k: [v for v in params[k] if v.strip()] for k in EXTRA if k in params and any(v.strip() for v in params[k])}


def _cell(value: Any, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%d %b %Y %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _metric_value(value: Any, unit: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "seconds":
        return fmt.duration(float(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def tickets(ws: Workspace, f: Filters, metric: str = "tickets", extra: Mapping[str, list[str]] | None = None,
            page: int = 1, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of the rows behind `metric` in the view (plus `extra` filters)."""
    if page < 1:
        raise UserError(f"page must be 1 or more, got {page}.")
    ref = registry().resolve(metric)
    where: dict[str, Any] = {k: list(v) for k, v in f.dims.items()}
    where.update({k: list(v) for k, v in (extra or {}).items()})
    # custom metrics with tickets behind them (backlog, average response time) list tickets
    source = "tickets" if ref.spec.kind.value == "custom" else ref.spec.source
    total = count_behind(ws, metric, where, f.start, f.end)
    pages = max(1, -(-total // page_size))
    page = min(page, pages)
    rows = tickets_behind(ws, metric, where, f.start, f.end, limit=page_size, offset=(page - 1) * page_size).to_pylist()
    tz = ZoneInfo(ws.settings.timezone)
    cols = COLUMNS.get(source, COLUMNS["tickets"])
    unit = ref.spec.unit.value
    # an SLA target's state says whether it was achieved: no yes/no column beside it
    value_heading = "" if source == "sla_targets" else _value_heading(ref.spec.kind.value, unit, ref.spec.label)
    out_rows = []
    for r in rows:
        cells = [SLA_METRIC_LABELS.get(r.get(c), r.get(c)) if c == "sla_metric" else _cell(r.get(c), tz)
                 for c, _ in cols]
        out_rows.append({"cells": cells, "value": _metric_value(r.get("metric_value"), unit),
                         "ticket_id": r.get("ticket_id"), "source": r.get("source")})
    api = [("metric", metric), ("from", f.start.isoformat()), ("to", f.end.isoformat())]
    api += [("where", f"{k}:{v}") for k, vs in where.items() for v in vs]
    filters_text = [f"{_VALUE_LABELS.get(k) or DIMENSIONS.get(k, k.replace('_', ' '))}: "
                    f"{', '.join(_extra_label(k, v, unit) for v in vs)}" for k, vs in where.items()]
    row_word = {"surveys": "answers", "survey_sends": "surveys sent", "reply_intervals": "replies",
                "sla_targets": "SLA targets", "customer_messages": "customer messages", "agent_replies": "replies",
                "resolutions": "resolving replies"}.get(source, "tickets")
    headline = (f"{fmt.count(total)} tickets created" if metric == "tickets" else
                f"{fmt.count(total)} {row_word} behind {ref.spec.label}")
    return {
        "metric": metric, "label": ref.spec.label, "headline": headline, "description": ref.spec.description, "source": source,
        "headings": [h for _, h in cols], "value_heading": value_heading, "rows": out_rows, "total": total,
        "total_text": fmt.count(total), "page": page, "pages": pages, "page_size": page_size,
        "first": (page - 1) * page_size + 1 if total else 0, "last": min(page * page_size, total),
        "csv_href": "/api/v1/tickets.csv?" + urlencode(api), "filters_text": filters_text,
        "row_word": row_word,
    }


def drillable_choices(metric: str | None = None) -> list[dict[str, str]]:
    """The metrics with rows behind them (tickets, answers, sends, replies), for the page's
    metric picker. The list of SLA targets behind an SLA metric offers the SLA metrics
    only (its rows are targets, not tickets), and a ticket list the others."""
    from cxmetrics.web._trends import metric_choices

    reg = registry()
    sla = metric is not None and reg.resolve(metric).spec.source == "sla_targets"
    out = []
    for c in metric_choices():
        spec = reg.resolve(c["id"]).spec
        if spec.kind.value == "custom" and spec.sql not in ("backlog", "per_ticket_mean"):
            continue
        if spec.source in COLUMNS and (spec.source == "sla_targets") == sla:
            out.append(c)
    return out


_VALUE_LABELS = {"value_gt": "Value over", "value_le": "Value at most", "score": "Score", "scale": "Scale"}


def _extra_label(dim: str, value: str, unit: str = "") -> str:
    if dim in ("value_gt", "value_le") and unit == "seconds":
        try:
            return fmt.duration(float(value))
        except ValueError:
            return value
    if dim == "age":
        lo, _, hi = value.partition("-")
        return f"open {lo}–{hi} days" if hi else f"open {lo} days or more"
    if dim == "weekday" and value.isdigit() and 1 <= int(value) <= 7:
        return DAYS[int(value)]
    if dim == "hour_of_day" and value.isdigit():
        return f"{int(value):02d}:00–{int(value) + 1:02d}:00"
    return value


def _value_heading(kind: str, unit: str, label: str) -> str:
    if kind == "count":
        return ""
    if kind == "proportion":
        return f"{label}?"
    return label


__all__ = ["EXTRA", "extra_where", "tickets"]
