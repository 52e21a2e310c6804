"""Chatwoot: its application API's own JSON (saved pages or JSON Lines) into canonical rows.

Read: conversations (`/conversations`, `/conversations/{id}`), their messages
(`/conversations/{id}/messages`), agents, agent bots, teams, inboxes and CSAT survey
responses (`/csat_survey_responses`). Chatwoot records status and assignment changes as
activity messages (message_type 2) whose only record is their English text; they are
read back into status and assign events. See docs/connectors.md for the mapping, which
this module is the one place of.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cxmetrics._workspace import Workspace
from cxmetrics.connectors._plumbing import (Batch, ConnectorSummary, Customers, Malformed, Page, land, read_pages,
                                            unreadable, unreadable_text)
from cxmetrics.connectors._plumbing import required_id as _required_id, text_id as _id

VENDOR = "chatwoot"
DOC = "Chatwoot application API JSON: saved pages (.json), JSON Lines of pages or objects, or a folder of them"
READS = (
    "conversations (list, show) -> tickets: status, channel (inbox channel_type), priority, assignee, team, labels",
    "messages -> events: incoming (customer), outgoing (agent, or bot when an agent bot sent it),",
    "    private -> private note, template (automated: system, or bot), activity -> status / assign",
    "agents -> agents (administrator and agent roles); agent_bots -> agents of type bot (id bot:<id>)",
    "teams -> team names; inboxes -> channels",
    "conversations' meta.sender (the contact) -> customers: email, name; the locale from the",
    "    conversation's additional_attributes.browser_language (web widget)",
    "csat_survey_responses -> surveys: csat 1-5 with feedback_message",
)

# Chatwoot's statuses as ours: pending is a conversation still with a bot (no human yet);
# snoozed is set aside until the customer writes again (or a time), so it waits on them
STATUSES = {"open": "open", "resolved": "solved", "pending": "new", "snoozed": "pending"}
CHANNELS = {
    "channel::webwidget": "chat", "channel::email": "email", "channel::api": "api",
    "channel::whatsapp": "messaging", "channel::sms": "messaging", "channel::twiliosms": "messaging",
    "channel::telegram": "messaging", "channel::line": "messaging", "channel::facebookpage": "social",
    "channel::instagram": "social", "channel::twitterprofile": "social", "channel::tiktok": "social",
    "channel::voice": "phone",
}
PRIORITIES = {"low": "low", "medium": "normal", "high": "high", "urgent": "urgent"}
ROLES = frozenset({"administrator", "agent"})
INCOMING, OUTGOING, ACTIVITY, TEMPLATE = 0, 1, 2, 3
_TYPE_NAMES = {"incoming": INCOMING, "outgoing": OUTGOING, "activity": ACTIVITY, "template": TEMPLATE,
               "0": INCOMING, "1": OUTGOING, "2": ACTIVITY, "3": TEMPLATE}
# the English activity texts of Chatwoot's locale (config/locales/en.yml, conversations.activity)
_STATUS_TEXT = (
    (re.compile(r"^Conversation was marked resolved by system\b"), "solved", "system"),
    (re.compile(r"^Conversation was marked resolved by (?P<by>.+?)(?: due to inactivity| \(.*\)|: .*)?\.?$"),
     "solved", None),
    (re.compile(r"^Conversation was resolved by (?P<by>.+?)\.?$"), "solved", "customer"),
    (re.compile(r"^Conversation was reopened by (?P<by>.+?)\.?$"), "open", None),
    (re.compile(r"^Conversation was marked open (?:by system\b|automatically\b)"), "open", "system"),
    (re.compile(r"^Conversation was marked open by (?P<by>.+?)(?: \(.*\))?\.?$"), "open", None),
    (re.compile(r"^System reopened the conversation\b"), "open", "system"),
    (re.compile(r"^Conversation was marked as pending by (?P<by>.+?)\.?$"), "new", None),
    (re.compile(r"^Conversation was snoozed by (?P<by>.+?)\.?$"), "pending", None),
)
_ASSIGN_VIA = re.compile(r"^Assigned to (?P<to>.+?) via (?P<team>.+?) by (?P<by>.+?)\.?$")
_ASSIGN = re.compile(r"^Assigned to (?P<to>.+?) by (?P<by>.+?)\.?$")
_SELF = re.compile(r"^(?P<by>.+?) self-assigned this conversation\.?$")
KINDS = ("conversations", "messages", "agents", "agent_bots", "teams", "inboxes", "csat_survey_responses")


def import_chatwoot(ws: Workspace, path: str | os.PathLike[str], *, source: str = VENDOR) -> ConnectorSummary:
    """Import saved Chatwoot API pages (a .json page, a JSON Lines file of pages or
    objects, or a folder of them) into `ws`. Idempotent: ids are Chatwoot's own.

    >>> import tempfile, json, pathlib, cxmetrics
    >>> from cxmetrics.connectors import import_chatwoot
    >>> page = pathlib.Path(tempfile.mkdtemp()) / "conversations.json"
    >>> _ = page.write_text(json.dumps({"data": {"meta": {}, "payload": [{"id": 1, "inbox_id": 1,
    ...     "status": "open", "created_at": 1741770000, "meta": {"channel": "Channel::Email"}}]}}))
    >>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
    ...     import_chatwoot(ws, page).tables["tickets"].inserted
    1
    """
    p = Path(path)
    return land(ws, VENDOR, p, convert(list(read_pages(p))), source=source)


def kind_of(obj: Any) -> str | None:
    """Which API object a bare object is, by the fields only it has."""
    if not isinstance(obj, dict):
        return None
    if "message_type" in obj:
        return "messages"
    if "rating" in obj and ("conversation_id" in obj or "conversation" in obj):
        return "csat_survey_responses"
    if "channel_type" in obj:
        return "inboxes"
    if "role" in obj:
        return "agents"
    if "outgoing_url" in obj or "bot_type" in obj:
        return "agent_bots"
    if "allow_auto_assign" in obj or "is_member" in obj:
        return "teams"
    if "inbox_id" in obj and "status" in obj:
        return "conversations"
    return None


def _objects(body: Any) -> list[tuple[str | None, int, Any]]:
    """(array, index, object) of a page: `{"data": {"payload": [...]}}` (conversations),
    `{"payload": [...]}` (messages, inboxes), or a bare object (a show response, a line of
    JSON Lines, or one item of a page that is a JSON array, as agents, bots and teams are)."""
    if isinstance(body, dict):
        inner = body.get("data") if isinstance(body.get("data"), dict) else body
        if isinstance(inner.get("payload"), list):
            return [("payload", i, o) for i, o in enumerate(inner["payload"])]
    return [(None, 0, body)]


def convert(pages: list[Page]) -> Batch:
    """Canonical rows (and rejects) for every object of the pages."""
    batch = Batch()
    found: dict[str, list[tuple[Page, str | None, int, Any]]] = {k: [] for k in KINDS}
    for page in pages:
        why = unreadable(page.body)
        if why is not None:
            batch.reject("tickets", page, None, 0, unreadable_text(page.body), why)
            continue
        for array, index, obj in _objects(page.body):
            kind = kind_of(obj)
            if kind is None:
                batch.reject("tickets", page, array, index, obj, "not a Chatwoot object (a conversation, message, "
                             "agent, agent bot, team, inbox or CSAT survey response)")
                continue
            found[kind].append((page, array, index, obj))
            if kind == "conversations" and isinstance(obj.get("messages"), list):
                # a conversation carries its latest message(s); the messages pages the rest
                for m in obj["messages"]:
                    if kind_of(m) == "messages":
                        found["messages"].append((page, array, index, m))
    # the lookups a sync's later pages are read against (Source.context gives them back)
    for kind in ("agents", "agent_bots", "teams", "inboxes"):
        for _, _, _, o in found[kind]:
            if o.get("id") is not None:
                batch.keep(kind, o["id"], o)
    ctx = _Context(
        agents={o.get("id"): o for _, _, _, o in found["agents"]},
        bots={o.get("id"): o for _, _, _, o in found["agent_bots"]},
        teams={o.get("id"): o.get("name") for _, _, _, o in found["teams"]},
        inboxes={o.get("id"): o for _, _, _, o in found["inboxes"]},
    )
    # one row per message id (a conversation page and a messages page may both hold it)
    messages: dict[Any, tuple[Page, str | None, int, Any]] = {}
    anonymous: list[tuple[Page, str | None, int, Any]] = []
    for item in found["messages"]:
        mid = item[3].get("id")
        if mid is None:
            anonymous.append(item)
        else:
            messages[mid] = item
    ordered = sorted(messages.values(), key=lambda it: (_sort_time(it[3]), str(it[3].get("id"))))
    for _, _, _, m in ordered:
        if m.get("message_type") != ACTIVITY:
            ctx.first_message.setdefault(_id(m.get("conversation_id")), m)
    steps = (("tickets", ctx.conversation, found["conversations"]), ("events", ctx.message, [*ordered, *anonymous]),
             ("surveys", ctx.csat, found["csat_survey_responses"]))
    for table, fn, items in steps:
        batch.feed(table, items, fn)
    _customers(batch, found["conversations"])
    for page, array, index, obj in found["agents"]:
        try:
            row = ctx.agent(obj)
        except Malformed as exc:
            batch.reject("agents", page, array, index, obj, str(exc))
            continue
        if row is not None:
            batch.add("agents", row, page.line)
    for page, array, index, obj in found["agent_bots"]:
        try:
            batch.add("agents", {"agent_id": _bot_id(_required_id(obj, "id")), "name": obj.get("name"),
                                 "type": "bot"}, page.line)
        except Malformed as exc:
            batch.reject("agents", page, array, index, obj, str(exc))
    # bots that answered but were not on an agent_bots page still get a row, so the scorecard names them
    listed = {_bot_id(str(b)) for b in ctx.bots}
    for bot in sorted(ctx.seen_bots - listed):
        batch.add("agents", {"agent_id": bot, "type": "bot"}, pages[0].line if pages else 1)
    return batch


def _customers(batch: Batch, conversations: list[tuple[Page, str | None, int, Any]]) -> None:
    """A customers row per conversation's contact (`meta.sender`, whose id is the ticket's
    requester_id): its `email`, `name` and `created_at` where the object carries them, and
    as the locale the `additional_attributes.browser_language` the web widget recorded on
    the conversation (the newest conversation's, where several have one)."""
    customers = Customers()
    for page, array, index, c in sorted(conversations, key=lambda it: _sort_time(it[3])):
        meta = c.get("meta") if isinstance(c.get("meta"), dict) else {}
        sender = meta.get("sender")
        if not isinstance(sender, dict) or _id(sender.get("id")) is None:
            continue
        if str(sender.get("type") or "contact").lower() != "contact":
            continue
        attrs = c.get("additional_attributes") if isinstance(c.get("additional_attributes"), dict) else {}
        try:
            values = {k: sender.get(k) for k in ("email", "name") if k in sender}
            if "created_at" in sender:
                values["created_at"] = _time(sender, "created_at", required=False)
            if attrs.get("browser_language"):
                values["locale"] = attrs["browser_language"]
            customers.add(str(_id(sender["id"])), values, page.line)
        except Malformed as exc:
            batch.reject("customers", page, array, index, sender, f"meta.sender: {exc}")
    customers.land_into(batch)


def _sort_time(m: dict[str, Any]) -> float:
    try:
        ts = _time(m, "created_at")
    except Malformed:
        return float("inf")
    return ts.timestamp() if ts else float("inf")


def _time(obj: dict[str, Any], key: str, *, required: bool = True) -> datetime | None:
    """Chatwoot gives Unix seconds on conversations and messages, ISO 8601 elsewhere."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise Malformed(f"{key} is missing")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    try:
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(f"{key} {value!r} is neither Unix seconds nor an ISO 8601 time such as "
                        "2025-03-14T09:30:00Z") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def _bot_id(raw: str) -> str:
    """Agent bots are numbered apart from users, so their ids get a prefix."""
    return f"bot:{raw}"


def _sender(m: dict[str, Any]) -> tuple[str, Any]:
    """(type, id) of a message's sender: `sender_type`/`sender_id` (Contact, User,
    AgentBot) or the embedded `sender` (type contact, user, agent_bot)."""
    sender = m.get("sender") if isinstance(m.get("sender"), dict) else {}
    kind = m.get("sender_type") or sender.get("type") or ""
    sid = m.get("sender_id", sender.get("id"))
    return str(kind).lower().replace("_", "").replace("captain::", ""), sid


class _Context:
    """The lookups (agents, bots, teams, inboxes, first messages) objects are read against."""

    def __init__(self, agents: dict[Any, Any], bots: dict[Any, Any], teams: dict[Any, Any],
                 inboxes: dict[Any, Any]) -> None:
        self.agents, self.bots, self.teams, self.inboxes = agents, bots, teams, inboxes
        self.first_message: dict[str | None, dict[str, Any]] = {}
        self.seen_bots: set[str] = set()
        self.by_name = {str(n).casefold(): str(a.get("id")) for a in agents.values() if isinstance(a, dict)
                        for n in (a.get("available_name"), a.get("name")) if n}
        self.bot_names = {str(b.get("name")).casefold(): _bot_id(str(b.get("id"))) for b in bots.values()
                          if isinstance(b, dict) and b.get("name")}
        self.team_names = {str(n).casefold(): str(n) for n in teams.values() if n}

    def conversation(self, c: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        cid = _required_id(c, "id")
        # not `timestamp`: the list gives the last activity there, whatever the swagger says
        created = _time(c, "created_at")
        raw = str(c.get("status") or "open").lower()
        if raw not in STATUSES:
            raise Malformed(f"status {raw!r} is not a Chatwoot status ({', '.join(STATUSES)})")
        meta = c.get("meta") if isinstance(c.get("meta"), dict) else {}
        inbox = self.inboxes.get(c.get("inbox_id"), {})
        channel = meta.get("channel") or inbox.get("channel_type")
        team = meta.get("team") if isinstance(meta.get("team"), dict) else {}
        assignee = meta.get("assignee") if isinstance(meta.get("assignee"), dict) else {}
        sender = meta.get("sender") if isinstance(meta.get("sender"), dict) else {}
        attrs = c.get("additional_attributes") if isinstance(c.get("additional_attributes"), dict) else {}
        first = self.first_message.get(cid)
        # an outbound conversation (an agent wrote first, e.g. a new email) is agent-created
        by_agent = first is not None and first.get("message_type") == OUTGOING and _sender(first)[0] == "user"
        priority = c.get("priority")
        return [("tickets", {
            "ticket_id": cid, "created_at": created,
            "channel": None if channel is None else CHANNELS.get(str(channel).lower(), str(channel)),
            "priority": PRIORITIES.get(str(priority).lower(), str(priority)) if priority else None,
            "status": STATUSES[raw], "requester_id": _id(sender.get("id") or c.get("contact_id")),
            "assignee_id": _id(assignee.get("id") or c.get("assignee_id")),
            "team": team.get("name") or self.team(c.get("team_id")),
            "tags": [str(x) for x in c.get("labels") or []], "subject": attrs.get("mail_subject"),
            "created_by": "agent" if by_agent else "customer",
        }), ("events", {
            "event_id": f"{cid}:created", "ticket_id": cid, "ts": created, "kind": "created",
            "actor_type": "agent" if by_agent else "customer",
            "actor_id": _id(_sender(first)[1]) if first is not None else _id(sender.get("id")),
            "status_to": "open", "channel": None if channel is None else CHANNELS.get(str(channel).lower()),
            "origin": "events",
        })]

    def team(self, team_id: Any) -> str | None:
        return None if team_id is None else str(self.teams.get(team_id) or team_id)

    def message(self, m: Any) -> list[tuple[str, dict[str, Any]]]:
        if not isinstance(m, dict):
            raise Malformed(f"not a JSON object but {type(m).__name__}")
        mid, cid = _required_id(m, "id"), _required_id(m, "conversation_id")
        ts = _time(m, "created_at")
        mtype = m.get("message_type")
        if isinstance(mtype, str):  # webhooks and some clients give the enum's name
            mtype = _TYPE_NAMES.get(mtype.lower(), mtype)
        if mtype not in (INCOMING, OUTGOING, ACTIVITY, TEMPLATE):
            raise Malformed(f"message_type {m.get('message_type')!r} is not 0 (incoming), 1 (outgoing), "
                            "2 (activity) or 3 (template)")
        base = {"event_id": mid, "ticket_id": cid, "ts": ts, "origin": "events"}
        if mtype == ACTIVITY:
            row = self._activity(str(m.get("content") or ""))
            return [] if row is None else [("events", {**base, **row})]
        kind, sid = _sender(m)
        if mtype == INCOMING:
            actor = "customer"
        elif kind == "agentbot" or kind == "assistant":
            actor = "bot"
            sid = _bot_id(str(sid)) if sid is not None else None
            if sid is not None:
                self.seen_bots.add(sid)
        elif kind == "user" and mtype == OUTGOING:
            actor = "agent"
        else:  # a template (greeting, CSAT prompt) or an automation's message: nobody's reply
            actor = "system"
        return [("events", {**base, "kind": "message", "actor_type": actor, "actor_id": _id(sid),
                            "public": not bool(m.get("private")), "body": m.get("content")})]

    def _who(self, name: str | None, fixed: str | None) -> dict[str, Any]:
        """The actor an activity text names ("... by Ana Lima"): an agent or a bot by its
        name, `system`, or an agent the export does not list."""
        if fixed is not None:
            return {"actor_type": fixed}
        if name is None or name.casefold() == "system":
            return {"actor_type": "system"}
        if name.casefold() in self.bot_names:
            return {"actor_type": "bot", "actor_id": self.bot_names[name.casefold()]}
        return {"actor_type": "agent", "actor_id": self.by_name.get(name.casefold())}

    def _activity(self, text: str) -> dict[str, Any] | None:
        """The status or assignment change an activity message's text records; None for the
        rest (labels, priority, SLA, unassignment...), which the event model has no place for."""
        text = text.strip()
        for pattern, status, fixed in _STATUS_TEXT:
            hit = pattern.match(text)
            if hit:
                return {"kind": "status", "status_to": status, **self._who(hit.groupdict().get("by"), fixed)}
        hit = _SELF.match(text)
        if hit:
            who = self._who(hit["by"], None)
            return {"kind": "assign", "assignee_id": who.get("actor_id"), **who} if who.get("actor_id") else None
        hit = _ASSIGN_VIA.match(text) or _ASSIGN.match(text)
        if hit is None:
            return None
        who = self._who(hit["by"], None)
        to = hit["to"].casefold()
        team = hit.groupdict().get("team")
        if team is not None or to in self.team_names:
            # "Assigned to Billing by Ana" names a team when a team has that name
            team_name = self.team_names.get((team or hit["to"]).casefold(), team or hit["to"])
            row = {"kind": "assign", "team": team_name, **who}
            if team is not None and to in self.by_name:
                row["assignee_id"] = self.by_name[to]
            return row
        if to in self.by_name:
            return {"kind": "assign", "assignee_id": self.by_name[to], **who}
        return None  # an assignee the export does not list: no id to store

    def csat(self, r: Any) -> list[tuple[str, dict[str, Any]]]:
        if not isinstance(r, dict):
            raise Malformed(f"not a JSON object but {type(r).__name__}")
        # known by its CSAT message: Chatwoot keeps one response per message, and the webhook of
        # an answer (message_updated) knows the message, not the response's own id
        rid = _id(r.get("message_id")) or _required_id(r, "id")
        rating = r.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise Malformed(f"rating {rating!r} is not a whole number from 1 to 5")
        conv = r.get("conversation") if isinstance(r.get("conversation"), dict) else {}
        contact = r.get("contact") if isinstance(r.get("contact"), dict) else {}
        agent = r.get("assigned_agent") if isinstance(r.get("assigned_agent"), dict) else {}
        return [("surveys", {
            "response_id": rid, "ticket_id": _id(r.get("conversation_id") or conv.get("id")),
            "customer_id": _id(contact.get("id") or r.get("contact_id")),
            "agent_id": _id(agent.get("id") or r.get("assigned_agent_id")), "kind": "csat", "scale": "1-5",
            "scale_min": 1.0, "scale_max": 5.0, "score": float(rating), "comment": r.get("feedback_message") or None,
            "responded_at": _time(r, "created_at"), "origin": "surveys",
        })]

    def agent(self, u: Any) -> dict[str, Any] | None:
        if not isinstance(u, dict):
            raise Malformed(f"not a JSON object but {type(u).__name__}")
        uid = _required_id(u, "id")
        role = str(u.get("role") or "").lower()
        if role not in ROLES:
            raise Malformed(f"role {u.get('role')!r} is not administrator or agent")
        return {"agent_id": uid, "name": u.get("available_name") or u.get("name"), "type": "human"}
