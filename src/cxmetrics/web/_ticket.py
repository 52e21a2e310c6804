"""One ticket: its header, the timeline of everything that happened to it, and its facts in
calendar and business time (the dashboard's `/tickets/{source}/{ticket_id}`).

The ticket's rows are the API's (`api/_ticket_read.read_ticket`: the row, facts, events and
answers); the page adds, by the same key, the business-time facts, the SLA targets, the
surveys sent, the calls and chats (contacts), and the names of the agents involved.
Bodies and comments are customer text: the template escapes them (never `|safe`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from cxmetrics._workspace import Workspace
from cxmetrics.api._ticket_read import read_ticket
from cxmetrics.facts._columns import BUSINESS_TWINS, FACT_COLUMNS
from cxmetrics.metrics._registry import registry
from cxmetrics.sla import format_duration
from cxmetrics.web import _format as fmt
from cxmetrics.web._tickets import SLA_METRIC_LABELS

#: A message body longer than this (or than SHORT_LINES lines) shows its start, and the rest on demand.
SHORT_CHARS = 280
SHORT_LINES = 4
TIME_FORMAT = "%d %b %Y %H:%M"  # as the other pages' tables (web/_tickets.py), in the workspace's time zone
STEP_FORMAT = TIME_FORMAT + ":%S"  # the timeline's steps can be seconds apart (a call answered in 3 s)
DEFAULT_BACK = "/tickets"

# The facts shown, in order: (ticket_facts column, metric of the registry whose name and
# meaning it takes, a per-ticket name when the metric's reads as an average or a rate).
# A duration with a business-time twin (facts/_columns.BUSINESS_TWINS) shows both.
DURATION_FACTS: tuple[tuple[str, str, str | None], ...] = (
    ("frt_s", "frt", None),
    ("frt_first_touch_s", "frt_first_touch", None),
    ("frt_after_handoff_s", "frt_after_handoff", None),
    ("first_resolution_s", "first_resolution_time", None),
    ("full_resolution_s", "full_resolution_time", None),
    ("requester_wait_s", "requester_wait", None),
    ("agent_wait_s", "agent_wait", None),
    ("agent_work_s", "agent_work_time", None),
    ("on_hold_s", "on_hold_time", None),
    ("handle_s", "aht", "Handle time"),
    ("asa_s", "asa", "Speed of answer"),
)
COUNT_FACTS: tuple[tuple[str, str | None, str | None], ...] = (
    ("public_agent_replies", "agent_touches", "Public agent replies"),
    ("reopens", "reopen_rate", "Reopens"),
    ("fcr", "fcr", None),
    ("one_touch", "one_touch", None),
    ("two_touch", "two_touch", None),
    ("multi_touch", "multi_touch", None),
    ("escalated", "escalation_rate", "Escalated to another team"),
    ("assignee_changes", None, "Assignee changes"),
    ("team_changes", None, "Team changes"),
    ("unanswered", "unanswered", "Unanswered"),
    ("bot_involved", "bot_involvement_rate", "Bot involved"),
    ("handed_off", "bot_handoff_rate", "Handed off by a bot"),
    ("bot_contained", "bot_resolution_rate", "Solved by the bot alone"),
    ("resolved_by_type", None, "Resolved by"),
    ("resolver_id", None, "Resolver"),
    ("call_abandoned", "abandonment_rate", "Call abandoned"),
)
_FACT_DOCS = {c.name: c.doc for c in FACT_COLUMNS}

_EVENT_TITLES = {
    "created": "Ticket created", "priority": "Priority changed", "merged": "Merged into another ticket",
    "call_queued": "Call queued", "call_answered": "Call answered", "call_abandoned": "Call abandoned",
    "call_ended": "Call ended", "hold_start": "Caller put on hold", "hold_end": "Hold ended",
    "wrap_up_end": "Wrap-up ended",
}
_SURVEY_NAMES = {"csat": "CSAT", "ces": "CES", "nps": "NPS", "esat": "ESAT"}


def href(source: str, ticket_id: str, back: str | None = None) -> str:
    """The ticket page's address: source and id quoted whole (an id may hold `/`, `?`, `#`,
    spaces or any letter), with the list to go back to.

    >>> href("demo", "T/1 <b>"), href("zd", "42", back="/tickets?metric=frt")
    ('/tickets/demo/T%2F1%20%3Cb%3E', '/tickets/zd/42?back=%2Ftickets%3Fmetric%3Dfrt')
    """
    out = f"/tickets/{quote(str(source), safe='')}/{quote(str(ticket_id), safe='')}"
    return out + ("?" + urlencode({"back": back}) if back else "")


def safe_back(target: str | None) -> str:
    """Only a page of this server may be the way back (no scheme, no other host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return DEFAULT_BACK
    return target


def _when(ts: datetime | None, tz: ZoneInfo, form: str = TIME_FORMAT) -> str:
    return ts.astimezone(tz).strftime(form) if ts is not None else "no time"


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _body(text: str | None) -> dict[str, Any] | None:
    """A message body: whole when short, else its start and the whole behind 'show all'."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    lines = text.splitlines()
    if len(text) <= SHORT_CHARS and len(lines) <= SHORT_LINES:
        return {"short": text, "full": None}
    short = "\n".join(lines[:SHORT_LINES])
    short = short[:SHORT_CHARS].rstrip(" \n.,;:") + "…"
    return {"short": short, "full": text}


def _actor(kind: str | None, actor_id: str | None, names: dict[str, str]) -> str:
    if not kind and not actor_id:
        return ""
    name = names.get(actor_id or "")
    who = f"{actor_id} ({name})" if name and name != actor_id else (actor_id or "")
    return f"{kind or ''} {who}".strip()


def _event_item(e: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    kind, actor_type = e["kind"], e["actor_type"]
    title, detail, badges = _EVENT_TITLES.get(kind, kind or "event"), "", []
    if kind == "message":
        who = {"customer": "Customer", "agent": "Agent", "bot": "Bot", "system": "System"}.get(actor_type or "", "")
        public = e["public"] is not False  # an event that does not say is public, as the facts read it
        title = f"{who} message".strip().capitalize() if public else f"{who} private note".strip().capitalize()
        badges.append(("public", "good") if public else ("private", "warn"))
    elif kind == "status":
        title = "Status"
        detail = f"{e['status_from']} → {e['status_to']}" if e["status_from"] else f"→ {e['status_to']}"
    elif kind == "assign":
        title = "Assigned"
        to = _actor("", e["assignee_id"], names) if e["assignee_id"] else "nobody"
        detail = f"to {to}" + (f" · team {e['team']}" if e["team"] else "")
    elif kind == "handoff":
        title = f"Hand-off: {actor_type or 'bot'} → human"
        to = [f"to {_actor('', e['assignee_id'], names)}" if e["assignee_id"] else "",
              f"team {e['team']}" if e["team"] else ""]
        detail = " · ".join(t for t in to if t)
        badges.append(("hand-off", "bot"))
    elif kind == "priority":
        detail = f"→ {e['priority']}" if e["priority"] else ""
    elif kind == "created":
        detail = " · ".join(t for t in (e["channel"], e["priority"] and f"priority {e['priority']}",
                                         e["team"] and f"team {e['team']}") if t)
    if e["duration_s"] is not None and kind != "message":
        detail = " · ".join(t for t in (detail, f"lasted {fmt.duration(float(e['duration_s']))}") if t)
    return {"ts": e["ts"], "group": "event", "kind": kind or "event", "title": title, "detail": detail,
            "actor": _actor(actor_type, e["actor_id"], names), "badges": badges,
            "body": _body(e["body"]) if kind == "message" else None, "id": e["event_id"]}


def _send_item(s: dict[str, Any]) -> dict[str, Any]:
    name = _SURVEY_NAMES.get(s["kind"] or "", (s["kind"] or "survey").upper())
    detail = " · ".join(t for t in (s["channel"] and f"by {s['channel']}", s.get("survey")) if t)
    return {"ts": s["sent_at"], "group": "survey", "kind": "survey_sent", "title": f"{name} survey sent",
            "detail": detail, "actor": "", "badges": [], "body": None, "id": s["send_id"]}


def _answer_item(a: dict[str, Any]) -> dict[str, Any]:
    name = _SURVEY_NAMES.get(a["kind"] or "", (a["kind"] or "survey").upper())
    score = "no score" if a["score"] is None else f"{a['score']:g}"
    scale = a["scale"] or (f"{a['scale_min']:g}-{a['scale_max']:g}" if a["scale_min"] is not None
                           and a["scale_max"] is not None else "")
    detail = f"score {score}" + (f" on {scale.replace('-', '–')}" if scale else "")
    return {"ts": a["responded_at"] or a["sent_at"], "group": "survey", "kind": "survey_answer",
            "title": f"{name} answer", "detail": detail,
            "actor": f"customer {a['customer_id']}" if a["customer_id"] else "",
            "badges": [], "body": _body(a["comment"]), "id": a["response_id"], "score": a["score"]}


def _sla_target_text(t: dict[str, Any]) -> str:
    hours = "business hours" + (f" ({t['schedule']})" if t["schedule"] else "") if t["business"] else "calendar"
    return f"{format_duration(float(t['target_s']), days=not t['business'])} {hours}"


def _sla_items(t: dict[str, Any]) -> list[dict[str, Any]]:
    """A target on the timeline: when it is due, and when it was met or breached."""
    name = SLA_METRIC_LABELS.get(t["metric"], t["metric"])
    cycle = f" #{t['cycle']}" if t["cycle"] and t["cycle"] > 1 else ""
    base = {"group": "sla", "actor": "", "body": None, "id": f"{t['metric']}-{t['cycle']}"}
    policy = f"policy {t['policy']} · target {_sla_target_text(t)}"
    out = []
    if t["due_at"] is not None:
        out.append({**base, "ts": t["due_at"], "kind": "sla_due", "title": f"SLA due: {name}{cycle}",
                    "detail": f"{policy} · {t['state']}", "badges": []})
    if t["breached_at"] is not None:
        out.append({**base, "ts": t["breached_at"], "kind": "sla_breached", "title": f"SLA breached: {name}{cycle}",
                    "detail": policy, "badges": [("breached", "bad")]})
    if t["completed_at"] is not None:
        late = t["state"] == "breached"
        elapsed = f" · took {fmt.duration(float(t['elapsed_s']))}" if t["elapsed_s"] is not None else ""
        out.append({**base, "ts": t["completed_at"], "kind": "sla_met",
                    "title": f"SLA {'completed late' if late else 'met'}: {name}{cycle}",
                    "detail": policy + elapsed, "badges": [("late", "bad") if late else ("met", "good")]})
    return out


def timeline(events: Iterable[dict[str, Any]], sends: Iterable[dict[str, Any]], answers: Iterable[dict[str, Any]],
             targets: Iterable[dict[str, Any]], tz: ZoneInfo, names: dict[str, str]) -> list[dict[str, Any]]:
    """Every item in time order (events keep their stored order at equal times, then surveys,
    then SLA times), each with its local time and the gap since the item before."""
    items = [_event_item(e, names) for e in events] + [_send_item(s) for s in sends]
    items += [_answer_item(a) for a in answers]
    for t in targets:
        items += _sla_items(t)
    rank = {"event": 0, "survey": 1, "sla": 2}
    # a stable sort: at equal times, the events keep the order read_ticket gave them
    items.sort(key=lambda i: (i["ts"] is None, i["ts"] or datetime.min, rank[i["group"]]))
    prev: datetime | None = None
    for i in items:
        ts = i["ts"]
        i["when"] = _when(ts, tz, STEP_FORMAT)
        i["iso"] = ts.isoformat() if ts is not None else ""
        i["gap_s"] = (ts - prev).total_seconds() if ts is not None and prev is not None else None
        i["gap"] = "+" + fmt.duration(i["gap_s"]) if i["gap_s"] is not None else ""
        prev = ts if ts is not None else prev
    return items


def _describe(metric: str | None, column: str) -> tuple[str, str]:
    """A fact's plain name and meaning: its metric's in the registry, else its column's doc."""
    if metric is None:
        return column.replace("_", " ").capitalize(), _FACT_DOCS.get(column, "")
    spec = registry().resolve(metric).spec
    return spec.label, spec.description.split(". ")[0].rstrip(".") + "."


def _yes_no(value: Any, column: str, facts: dict[str, Any]) -> str:
    if value is None:
        if column in ("fcr", "one_touch", "two_touch", "multi_touch") and not facts.get("solved"):
            return "— (not solved)"
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g}" if isinstance(value, float) else str(value)


def facts_table(facts: dict[str, Any], bh: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The ticket's facts as rows: name, meaning, calendar value and business-hours value
    (a duration with a business-time twin), or one value (counts and yes/no)."""
    rows = []
    for column, metric, own in DURATION_FACTS:
        label, meaning = _describe(metric, column)
        twin = BUSINESS_TWINS.get(column)
        cal = facts.get(column)
        bus = (bh or {}).get(twin) if twin else None
        rows.append({"column": column, "label": own or label, "meaning": meaning, "metric": metric,
                     "calendar": fmt.duration(cal), "calendar_s": cal, "twin": twin,
                     "business": fmt.duration(bus) if twin else "", "business_s": bus, "kind": "duration"})
    for column, metric, own in COUNT_FACTS:
        label, meaning = _describe(metric, column)
        if metric is not None and own is not None:
            meaning = _FACT_DOCS.get(column) or meaning
        value = facts.get(column)
        rows.append({"column": column, "label": own or label, "meaning": meaning, "metric": metric,
                     "calendar": _yes_no(value, column, facts), "calendar_s": value, "twin": None,
                     "business": "", "business_s": None, "kind": "value"})
    return rows


def _one(table: Any) -> dict[str, Any] | None:
    rows = table.to_pylist()
    return rows[0] if rows else None


def ticket(ws: Workspace, source: str, ticket_id: str, back: str | None = None) -> dict[str, Any]:
    """Everything the ticket page shows; `found` False (and http_status 404) for no such ticket."""
    back = safe_back(back)
    rows = read_ticket(ws, source, ticket_id)
    if not rows.found:
        return {"found": False, "source": source, "ticket_id": ticket_id, "back": back, "http_status": 404}
    key = [source, ticket_id]
    tz = ZoneInfo(ws.settings.timezone)
    row, facts = _one(rows.ticket) or {}, _one(rows.facts) or {}
    bh = _one(ws.sql("SELECT * FROM ticket_facts_bh WHERE source = ? AND ticket_id = ?", key))
    targets = ws.sql("SELECT * EXCLUDE (_banked_s, _running_since) FROM sla_targets WHERE source = ? "
                     "AND ticket_id = ? ORDER BY started_at, metric, cycle", key).to_pylist()
    sends = ws.sql("SELECT * EXCLUDE (_hash, _import_id) FROM survey_sends WHERE source = ? AND ticket_id = ? "
                   "ORDER BY sent_at, send_id", key).to_pylist()
    contacts = ws.sql("SELECT * FROM contacts WHERE source = ? AND ticket_id = ? ORDER BY contact_no", key).to_pylist()
    events = rows.events.to_pylist()
    answers = rows.surveys.to_pylist()
    ids = sorted({i for e in events for i in (e["actor_id"], e["assignee_id"]) if i}
                 | {i for i in (facts.get("assignee_id"), row.get("assignee_id"), facts.get("resolver_id")) if i})
    names: dict[str, str] = {}
    if ids:
        found = ws.sql("SELECT agent_id, name FROM agents WHERE source = ? AND list_contains(?, agent_id)",
                       [source, ids]).to_pylist()
        names = {r["agent_id"]: r["name"] for r in found if r["name"]}

    def pick(name: str) -> Any:  # the facts' current value (after the events), else the ticket row's
        value = facts.get(name)
        return value if value is not None else row.get(name)

    created = pick("created_at")
    header = [
        ("Channel", _text(pick("channel"))), ("Priority", _text(pick("priority"))), ("Team", _text(pick("team"))),
        ("Assignee", _actor("", pick("assignee_id"), names) or "—"), ("Requester", _text(pick("requester_id"))),
        ("Status", _text(pick("status"))), ("Created", _when(created, tz) if created else "—"),
        ("Topic", _text(pick("topic"))), ("Tags", _text(pick("tags"))),
    ]
    items = timeline(events, sends, answers, targets, tz, names)
    sla_rows = [{"metric": SLA_METRIC_LABELS.get(t["metric"], t["metric"]), "cycle": t["cycle"], "policy": t["policy"],
                 "target": _sla_target_text(t), "started": _when(t["started_at"], tz),
                 "due": _when(t["due_at"], tz) if t["due_at"] else "—",
                 "completed": _when(t["completed_at"], tz) if t["completed_at"] else "—", "state": t["state"]}
                for t in targets]
    contact_rows = [{"no": c["contact_no"], "kind": c["kind"],
                     "offered": _when(c["offered_at"], tz) if c["offered_at"] else "—",
                     "answered": _when(c["answered_at"], tz) if c["answered_at"] else "—",
                     "abandoned": "yes" if c["abandoned"] else "no", "wait": fmt.duration(c["wait_s"]),
                     "talk": fmt.duration(c["talk_s"]), "hold": fmt.duration(c["hold_s"]),
                     "wrap": fmt.duration(c["wrap_s"]), "handle": fmt.duration(c["handle_s"]),
                     "agent": _actor("", c["agent_id"], names) or "—"} for c in contacts]
    return {
        "found": True, "source": source, "ticket_id": ticket_id, "back": back, "http_status": 200,
        "subject": row.get("subject") or "", "header": header, "timeline": items, "n_events": len(events),
        "facts": facts_table(facts, bh) if facts else [], "schedule": (bh or {}).get("schedule"),
        "excluded": bool(facts.get("excluded")), "sla": sla_rows, "contacts": contact_rows,
        "timezone": ws.settings.timezone, "api_href": "/api/v1" + href(source, ticket_id),
    }


__all__ = ["DEFAULT_BACK", "href", "safe_back", "ticket", "timeline"]
