"""What an alert says: one JSON payload, and the text, Slack blocks and e-mail built from it.

Everything is computed from the alert's ledger row, so a delivery retried after a
restart says exactly what the first attempt said. Time left and lateness are as of
the moment the watcher saw the change (`detected_at`), not of the delivery.

>>> from datetime import datetime, timezone
>>> a = {"alert_id": "sla-1", "kind": "at_risk", "source": "default", "ticket_id": "T-1",
...      "metric": "first_reply", "cycle": 1, "policy": "Urgent", "priority": "urgent",
...      "channel": "email", "team": "Tier 1", "assignee_id": "A-7", "subject": "Refund",
...      "business_hours": False, "due_at": datetime(2025, 3, 3, 12, 0, tzinfo=timezone.utc),
...      "breached_at": None, "seconds_left": 1500.0, "timezone": "Europe/Berlin",
...      "detected_at": datetime(2025, 3, 3, 11, 35, tzinfo=timezone.utc)}
>>> for sentence in text(a).split(". "):
...     print(sentence)
SLA at risk: ticket T-1, first reply due Mon 3 Mar 2025 13:00 CET (25 min left)
Policy Urgent, priority urgent, team Tier 1, assignee A-7.
>>> human_duration(3 * 86400 + 7200 + 59)
'3 d 2 h'
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

_TITLES = {"at_risk": "SLA at risk", "breached": "SLA breached"}


def human_duration(seconds: float) -> str:
    """A duration for people: `45 s`, `25 min`, `1 h 05 min`, `3 d 2 h`."""
    s = round(abs(seconds))
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h} h {m:02d} min"
    d, h = divmod(h, 24)
    return f"{d} d {h} h"


def metric_label(metric: str) -> str:
    return metric.replace("__", " ").replace("_", " ")


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _local(ts: datetime, tz: str) -> datetime:
    return ts.astimezone(ZoneInfo(tz))


def _when(ts: datetime, tz: str) -> str:
    t = _local(ts, tz)
    return f"{t:%a} {t.day} {t:%b %Y %H:%M} {t.tzname()}"


def _timing(a: dict[str, Any]) -> tuple[float | None, float | None]:
    """(seconds left, seconds late) at detection; late is calendar time past due."""
    if a["kind"] == "breached":
        late = None
        if a["due_at"] is not None:
            late = max(0.0, (a["detected_at"] - a["due_at"]).total_seconds())
        return None, late
    return a["seconds_left"], None


def text(a: dict[str, Any]) -> str:
    """One paragraph: which ticket, which target, when due, how much time is left or how late."""
    left, late = _timing(a)
    what = f"{_TITLES[a['kind']]}: ticket {a['ticket_id']}"
    if a["source"] not in (None, "default"):
        what += f" ({a['source']})"
    target = metric_label(a["metric"]) + (f" (cycle {a['cycle']})" if a["cycle"] and a["cycle"] > 1 else "")
    if a["due_at"] is None:
        timing = ""
    elif a["kind"] == "breached":
        timing = f" was due {_when(a['due_at'], a['timezone'])}"
        timing += f", {human_duration(late)} late" if late else ""
    else:
        timing = f" due {_when(a['due_at'], a['timezone'])}"
        if left is not None:
            timing += f" ({human_duration(left)} left)" if left > 0 else " (due now)"
    facts = [f"{k} {a[f]}" for k, f in (("Policy", "policy"), ("priority", "priority"), ("team", "team"),
                                         ("assignee", "assignee_id")) if a.get(f)]
    if not a.get("assignee_id"):
        facts.append("unassigned")
    return f"{what}, {target}{timing}. " + ", ".join(facts) + "."


def payload(a: dict[str, Any]) -> dict[str, Any]:
    """The JSON document a webhook receives (documented in docs/alerts.md)."""
    left, late = _timing(a)
    return {
        "type": f"sla.{a['kind']}",
        "alert_id": a["alert_id"],
        "kind": a["kind"],
        "detected_at": _iso(a["detected_at"]),
        "ticket": {k: a[k] for k in ("source", "ticket_id", "priority", "channel", "team", "assignee_id", "subject")},
        "sla": {
            "policy": a["policy"],
            "metric": a["metric"],
            "cycle": a["cycle"],
            "business_hours": a["business_hours"],
            "due_at": _iso(a["due_at"]),
            "due_at_local": None if a["due_at"] is None else _local(a["due_at"], a["timezone"]).isoformat(),
            "timezone": a["timezone"],
            "breached_at": _iso(a["breached_at"]),
            "seconds_left": None if left is None else round(left, 3),
            "seconds_late": None if late is None else round(late, 3),
        },
        "text": text(a),
    }


def slack(a: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` (notifications, fallbacks) plus blocks."""
    icon = ":rotating_light:" if a["kind"] == "breached" else ":warning:"
    fields = [("Ticket", a["ticket_id"]), ("SLA", metric_label(a["metric"])), ("Policy", a["policy"]),
              ("Priority", a["priority"]), ("Team", a["team"]), ("Assignee", a["assignee_id"] or "unassigned")]
    if a["due_at"] is not None:
        fields.append(("Due", _when(a["due_at"], a["timezone"])))
    body = text(a)
    context = f"alert {a['alert_id']}, detected {_when(a['detected_at'], a['timezone'])}"
    return {
        "text": f"{icon} {body}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": f"{icon} *{_TITLES[a['kind']]}*{body[len(_TITLES[a['kind']]):]}"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields if v]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


def email(a: dict[str, Any], sender: str, to: tuple[str, ...]) -> EmailMessage:
    """A plain-text e-mail; the subject carries the kind, the ticket and the target."""
    left, late = _timing(a)
    msg = EmailMessage()
    tail = ""
    if late:
        tail = f", {human_duration(late)} late"
    elif left is not None and left > 0:
        tail = f", {human_duration(left)} left"
    msg["Subject"] = f"[{_TITLES[a['kind']]}] Ticket {a['ticket_id']}: {metric_label(a['metric'])}{tail}"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(idstring=a["alert_id"], domain=domain)
    msg["X-Cxmetrics-Alert-Id"] = a["alert_id"]
    lines = [text(a), "", *[f"{k}: {v}" for k, v in _details(a)], "", f"Alert id: {a['alert_id']}"]
    msg.set_content("\n".join(lines) + "\n")
    return msg


def _details(a: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in (
        ("Ticket", a["ticket_id"]), ("Subject", a["subject"]), ("Source", a["source"]),
        ("SLA metric", metric_label(a["metric"])), ("Policy", a["policy"]), ("Priority", a["priority"]),
        ("Channel", a["channel"]), ("Team", a["team"]), ("Assignee", a["assignee_id"] or "unassigned"),
        ("Due", None if a["due_at"] is None else _when(a["due_at"], a["timezone"])),
        ("Detected", _when(a["detected_at"], a["timezone"])),
    ) if v is not None]
