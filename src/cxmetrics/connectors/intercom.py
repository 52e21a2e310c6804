"""Intercom: its REST API's own JSON (saved pages or JSON Lines) into canonical rows.

Read: conversations (`GET /conversations`, `POST /conversations/search`, and
`GET /conversations/{id}`, which alone carries `conversation_parts`), admins, teams
and contacts. A conversation becomes a ticket; its `source` (the opening message) and
its parts become events; its `conversation_rating` a CSAT answer. See
docs/connectors.md for the mapping, which this module is the one place of.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cxmetrics._workspace import Workspace
from cxmetrics.connectors._plumbing import (Batch, ConnectorSummary, Customers, Malformed, Page, land, read_pages,
                                            unreadable, unreadable_text)
from cxmetrics.connectors._plumbing import required_id as _required_id, text_id as _id

VENDOR = "intercom"
DOC = "Intercom REST API JSON: saved pages (.json), JSON Lines of pages or objects, or a folder of them"
# what `cxmetrics formats` lists: each API object and the canonical rows it becomes
READS = (
    "conversations (list, search, retrieve) -> tickets: state open/closed/snoozed (snoozed is pending),",
    "    channel (source.type), priority, team (team_assignee_id), tags; delivered_as says who started it",
    "source -> created + its opening message; conversation_parts -> events: comment -> message,",
    "    note -> private message, assignment -> assign, open / close / snoozed / unsnoozed -> status",
    "authors: user / lead / contact -> customer, admin -> agent, bot or from_ai_agent (Fin) -> bot",
    "admins -> agents (bots seen as authors: type bot); teams -> team names",
    "contacts -> customers (the requesters: users and leads): email, name, created_at, locale",
    "    (language_override, else browser_language)",
    "conversation_rating -> surveys: csat 1-5 with its remark",
    "statistics -> kept as sent for `cxmetrics reconcile intercom`",
)

# Intercom's states; a snoozed conversation waits (on the customer or a date), as pending does
STATES = {"open": "open", "closed": "closed", "snoozed": "pending"}
CHANNELS = {
    "conversation": "chat", "email": "email", "facebook": "social", "instagram": "social", "twitter": "social",
    "whatsapp": "messaging", "sms": "messaging", "push": "messaging", "phone_call": "phone",
    "phone_switch": "phone",
}
PRIORITIES = {"priority": "high", "not_priority": "normal"}
CUSTOMERS = frozenset({"user", "lead", "contact"})
STAFF = frozenset({"admin", "team"})
# part types that change the state, and the state after them
STATE_PARTS = {"open": "open", "close": "closed", "snoozed": "pending", "unsnoozed": "open",
               "timer_unsnooze": "open", "assign_and_reopen": "open", "assign_and_unsnooze": "open"}
ASSIGN_PARTS = frozenset({"assignment", "default_assignment", "away_mode_assignment", "assign_and_reopen",
                          "assign_and_unsnooze"})
ARRAYS = ("conversations", "admins", "teams")
STATISTICS_KIND = "statistics"  # a conversation's `statistics`, kept as sent (connectors/reconcile.py)
SINGLE_TYPES = {"conversation": "conversations", "admin": "admins", "team": "teams", "contact": "contacts"}


def import_intercom(ws: Workspace, path: str | os.PathLike[str], *, source: str = VENDOR) -> ConnectorSummary:
    """Import saved Intercom API pages (a .json page, a JSON Lines file of pages or
    objects, or a folder of them) into `ws`. Idempotent: ids are Intercom's own.

    >>> import tempfile, json, pathlib, cxmetrics
    >>> from cxmetrics.connectors import import_intercom
    >>> page = pathlib.Path(tempfile.mkdtemp()) / "conversations.json"
    >>> _ = page.write_text(json.dumps({"type": "conversation.list", "conversations": [{"type": "conversation",
    ...     "id": "1", "created_at": 1741000000, "state": "open", "source": {"type": "email"}}]}))
    >>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
    ...     import_intercom(ws, page).tables["tickets"].inserted
    1
    """
    p = Path(path)
    return land(ws, VENDOR, p, convert(list(read_pages(p))), source=source)


def convert(pages: list[Page]) -> Batch:
    """Canonical rows (and rejects) for every object of the pages."""
    batch = Batch()
    objects: dict[str, list[tuple[Page, str, int, Any]]] = {a: [] for a in (*ARRAYS, "contacts")}
    for page in pages:
        why = unreadable(page.body)
        if why is not None:
            batch.reject("tickets", page, None, 0, unreadable_text(page.body), why)
            continue
        for array, index, obj in _objects(page.body):
            if array is None:
                batch.reject("tickets", page, None, index, obj, "not an Intercom page or object (no "
                             "conversations, admins, teams or contacts)")
                continue
            objects[array].append((page, array, index, obj))
    # older API versions list teams among the admins (`"type": "team"`): they are teams
    listed_teams = [o for _, _, _, o in objects["admins"] if isinstance(o, dict) and o.get("type") == "team"]
    objects["admins"] = [x for x in objects["admins"] if not (isinstance(x[3], dict) and x[3].get("type") == "team")]
    teams = {str(o.get("id")): o.get("name") for o in [*listed_teams, *(o for _, _, _, o in objects["teams"])]
             if isinstance(o, dict)}
    for tid, name in teams.items():  # kept: a live sync lands later conversation pages with them
        batch.keep("teams", tid, {"type": "team", "id": tid, "name": name})
    ctx = _Context(teams)
    # a conversation saved twice (a list page, then retrieved; or pages saved on different days)
    # lands newest last, so its latest state wins whatever the files are called
    objects["conversations"].sort(key=lambda item: _updated(item[3]))
    for page, name, index, obj in objects["conversations"]:
        ctx.conversation(batch, page, name, index, obj)
    customers = Customers()
    for page, name, index, obj in objects["contacts"]:
        try:
            if not isinstance(obj, dict):
                raise Malformed(f"not a JSON object but {type(obj).__name__}")
            customers.add(_required_id(obj, "id"), _customer(obj), page.line)
        except Malformed as exc:
            batch.reject("customers", page, name, index, obj, str(exc))
    customers.land_into(batch)
    for page, name, index, obj in objects["admins"]:
        try:
            row = ctx.agent(obj)
        except Malformed as exc:
            batch.reject("agents", page, name, index, obj, str(exc))
            continue
        batch.add("agents", row, page.line)
    # bots (Fin, custom bots) the admins page did not list still get a row, so the scorecard names them
    listed = {str(o.get("id")) for _, _, _, o in objects["admins"] if isinstance(o, dict)}
    for bot in sorted(ctx.bots - listed):
        batch.add("agents", {"agent_id": bot, "type": "bot"}, pages[0].line if pages else 1)
    return batch


def _objects(body: Any) -> list[tuple[str | None, int, Any]]:
    """(array, index, object) of a page: a list response (`conversation.list`,
    `admin.list`, `team.list`, a contacts `list` with `data`) or one object (by its `type`)."""
    if not isinstance(body, dict):
        return [(None, 0, body)]
    found = [(a, i, o) for a in ARRAYS if isinstance(body.get(a), list) for i, o in enumerate(body[a])]
    if body.get("type") == "list" and isinstance(body.get("data"), list):  # contacts pages
        found += [("contacts", i, o) for i, o in enumerate(body["data"])]
    if found or any(a in body for a in ARRAYS) or "pages" in body:
        return found
    kind = SINGLE_TYPES.get(str(body.get("type")))
    return [(kind, 0, body)]


def _customer(c: dict[str, Any]) -> dict[str, Any]:
    """A contact's customers columns, those its object carries (Contacts API: `email`,
    `name`, `created_at`; the locale is `language_override`, set for the contact, else the
    `browser_language` the Messenger saw). Its id is the one conversations name it by."""
    out = {k: c.get(k) for k in ("email", "name") if k in c}
    if c.get("language_override"):
        out["locale"] = c["language_override"]
    elif "browser_language" in c or "language_override" in c:
        out["locale"] = c.get("browser_language")
    if "created_at" in c:
        out["created_at"] = _time(c, "created_at", required=False)
    return out


def _updated(obj: Any) -> float:
    """A conversation's `updated_at` for ordering (unknown: oldest)."""
    value = obj.get("updated_at") if isinstance(obj, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("-inf")


def _time(obj: dict[str, Any], key: str, *, required: bool = True) -> datetime | None:
    """Intercom times are Unix seconds."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise Malformed(f"{key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Malformed(f"{key} {value!r} is not a Unix time in seconds such as 1741600000")
    return datetime.fromtimestamp(value, timezone.utc)


def _dict(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


class _Context:
    """The lookups (teams) objects are read against, and the bots seen as authors."""

    def __init__(self, teams: dict[str, Any]) -> None:
        self.teams = teams
        self.bots: set[str] = set()

    def team(self, team_id: Any) -> str | None:
        tid = _id(team_id)
        return None if tid is None or tid == "0" else str(self.teams.get(tid) or tid)

    def actor(self, author: Any) -> tuple[str, str | None]:
        """(actor_type, actor_id) of a part's or source's author."""
        if not isinstance(author, dict) or not author.get("type"):
            raise Malformed("author is missing (its type must be user, lead, admin, bot or team)")
        kind, aid = str(author["type"]).lower(), _id(author.get("id"))
        # Fin's parts say so (from_ai_agent / is_ai_answer); other bots write as type bot
        if kind == "bot" or author.get("from_ai_agent") or author.get("is_ai_answer"):
            if aid is not None:
                self.bots.add(aid)
            return "bot", aid
        if kind in CUSTOMERS:
            return "customer", aid
        if kind in STAFF:
            return "agent", aid
        raise Malformed(f"author type {kind!r} is not user, lead, contact, admin, bot or team")

    def conversation(self, batch: Batch, page: Page, name: str, index: int, c: Any) -> None:
        """A conversation's ticket, events and rating: a bad ticket rejects the whole
        conversation; a bad part or rating is rejected alone, the rest lands."""
        try:
            if not isinstance(c, dict):
                raise Malformed(f"not a JSON object but {type(c).__name__}")
            ticket, opening = self.ticket(c)
        except Malformed as exc:
            batch.reject("tickets", page, name, index, c, str(exc))
            return
        batch.add("tickets", ticket, page.line)
        if isinstance(c.get("statistics"), dict):  # Intercom's own times, for `cxmetrics reconcile`
            batch.keep(STATISTICS_KIND, ticket["ticket_id"],
                       {k: c.get(k) for k in ("id", "created_at", "updated_at", "statistics")})
        for row in opening:
            batch.add("events", row, page.line)
        cid, state = ticket["ticket_id"], "open"
        parts = _dict(c, "conversation_parts").get("conversation_parts") or []
        for j, part in enumerate(parts):
            try:
                if not isinstance(part, dict):
                    raise Malformed(f"not a JSON object but {type(part).__name__}")
                rows, state = self.part(cid, part, state)
            except Malformed as exc:
                batch.reject("events", page, f"{name}[{index}].conversation_parts", j, part, str(exc))
                continue
            for row in rows:
                batch.add("events", row, page.line)
        rating = c.get("conversation_rating")
        if isinstance(rating, dict) and rating.get("rating") is not None:
            try:
                batch.add("surveys", self.rating(cid, rating), page.line)
            except Malformed as exc:
                batch.reject("surveys", page, f"{name}[{index}].conversation_rating", 0, rating, str(exc))

    def ticket(self, c: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        cid = _required_id(c, "id")
        created = _time(c, "created_at")
        state = str(c.get("state") or ("open" if c.get("open", True) else "closed")).lower()
        if state not in STATES:
            raise Malformed(f"state {state!r} is not an Intercom state (open, closed, snoozed)")
        src = _dict(c, "source")
        kind = str(src.get("type") or "").lower()
        contacts = _dict(c, "contacts").get("contacts") or []
        author = _dict(src, "author")
        requester = _id(contacts[0].get("id")) if contacts and isinstance(contacts[0], dict) else None
        if requester is None and str(author.get("type", "")).lower() in CUSTOMERS:
            requester = _id(author.get("id"))
        delivered = str(src.get("delivered_as") or "customer_initiated").lower()
        actor, actor_id = self.actor(author) if author else ("customer", requester)
        # anything not started by the customer is outbound: by an admin, or by a bot / automation
        created_by = "customer" if delivered == "customer_initiated" else ("agent" if actor == "agent" else "system")
        tags = [str(t.get("name")) for t in _dict(c, "tags").get("tags") or [] if isinstance(t, dict)]
        assignee = _id(c.get("admin_assignee_id"))
        row = {
            "ticket_id": cid, "created_at": created, "channel": CHANNELS.get(kind, kind or None),
            "priority": PRIORITIES.get(str(c.get("priority")), None), "status": STATES[state],
            "requester_id": requester, "assignee_id": None if assignee == "0" else assignee,
            "team": self.team(c.get("team_assignee_id")), "tags": tags,
            "subject": c.get("title") or src.get("subject") or None, "created_by": created_by,
        }
        base = {"ticket_id": cid, "ts": created, "origin": "events", "actor_type": actor, "actor_id": actor_id}
        events = [{**base, "event_id": f"{cid}:created", "kind": "created", "status_to": "open",
                   "channel": row["channel"]}]
        if src.get("body") or src.get("id"):  # the opening message, at the same instant
            events.append({**base, "event_id": f"{cid}:source", "kind": "message", "public": True,
                           "body": src.get("body")})
        return row, events

    def part(self, cid: str, p: dict[str, Any], state: str) -> tuple[list[dict[str, Any]], str]:
        """A part's events and the conversation's state after it."""
        pid, ts = _required_id(p, "id"), _time(p, "created_at")
        kind = str(p.get("part_type") or "").lower()
        if not kind:
            raise Malformed("part_type is missing")
        actor, actor_id = self.actor(p.get("author"))
        base = {"ticket_id": cid, "ts": ts, "origin": "events", "actor_type": actor, "actor_id": actor_id}
        out: list[dict[str, Any]] = []
        if kind in ("comment", "note"):
            out.append({**base, "event_id": pid, "kind": "message", "public": kind == "comment",
                        "body": p.get("body")})
        if kind in ASSIGN_PARTS:
            to = p.get("assigned_to")
            if isinstance(to, dict) and _id(to.get("id")) not in (None, "0"):
                who = "team" if str(to.get("type")).lower() == "team" else "assignee_id"
                value = self.team(to.get("id")) if who == "team" else _id(to.get("id"))
                out.append({**base, "event_id": f"{pid}:assign", "kind": "assign", who: value})
        after = STATE_PARTS.get(kind)
        if after is None and kind == "comment" and actor == "customer" and state != "open":
            after = "open"  # a customer's reply reopens a closed or snoozed conversation
        after = STATES.get(str(p.get("state") or "").lower(), after) if after is None else after
        if after is not None and after != state:
            out.append({**base, "event_id": f"{pid}:status", "kind": "status", "status_from": state,
                        "status_to": after})
            state = after
        return out, state

    def rating(self, cid: str, r: dict[str, Any]) -> dict[str, Any]:
        score = r.get("rating")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise Malformed(f"rating {score!r} is not a whole number from 1 to 5")
        return {
            "response_id": f"{cid}:rating", "ticket_id": cid, "customer_id": _id(_dict(r, "contact").get("id")),
            "agent_id": _id(_dict(r, "teammate").get("id")), "kind": "csat", "scale": "1-5", "scale_min": 1.0,
            "scale_max": 5.0, "score": float(score), "comment": r.get("remark") or None,
            # Intercom's created_at is when the rating was asked for; the answer has no time of
            # its own, so it is placed at the ask (as every untimed answer is placed at sent_at)
            "sent_at": _time(r, "created_at"), "origin": "surveys",
        }

    def agent(self, a: Any) -> dict[str, Any]:
        if not isinstance(a, dict):
            raise Malformed(f"not a JSON object but {type(a).__name__}")
        aid = _required_id(a, "id")
        team_ids = a.get("team_ids") or []
        return {"agent_id": aid, "name": a.get("name"), "type": "bot" if aid in self.bots else "human",
                "team": self.team(team_ids[0]) if team_ids else None}
