"""Freshdesk: its REST API v2's own JSON (saved responses or JSON Lines) into canonical rows.

Read: tickets (`/api/v2/tickets?include=stats`, search results, a ticket with its
embedded `conversations`), conversations (`/api/v2/tickets/{id}/conversations`),
ticket fields (the status field's choices name custom statuses), agents, contacts,
groups and satisfaction ratings (`/api/v2/surveys/satisfaction_ratings`). Freshdesk's
list endpoints answer a bare JSON array, so objects are recognised by their shape. See
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

VENDOR = "freshdesk"
DOC = "Freshdesk API v2 JSON: saved responses (.json), JSON Lines of responses or objects, or a folder of them"
# what `cxmetrics formats` lists: each API object and the canonical rows it becomes
READS = (
    "tickets (list with include=stats, view, search results) -> tickets: status (2-5 and custom",
    "    statuses named by ticket_fields), channel (source), priority (1-4), team (group), tags;",
    "    deleted or spam -> status deleted; outbound email (source 10) -> created_by agent;",
    "    its description -> the opening message; stats resolved_at / closed_at / reopened_at and",
    "    the current open / pending / on-hold status since status_updated_at -> status events;",
    "    stats are also kept as sent for `cxmetrics reconcile freshdesk`",
    "conversations -> events: message (incoming -> customer; private -> a private note)",
    "ticket_fields -> the names of custom statuses (Waiting on Customer -> pending, ... on Third Party -> on-hold)",
    "agents -> agents (occasional agents too; team from the groups listing them)",
    "contacts -> customers: email, name, language (locale), created_at; a listed ticket's `requester`",
    "    (include=requester) -> the same customer's email and name",
    "groups -> team names",
    "satisfaction_ratings -> surveys: csat from ratings.default_question (103 ... -103 on 1-7) with feedback",
)

# Freshdesk's fixed statuses; 6 and up are an account's custom ones (see ticket_fields)
STATUSES = {2: "open", 3: "pending", 4: "solved", 5: "closed"}
# the two custom statuses Freshdesk ships with, used when no ticket_fields page is given
DEFAULT_CUSTOM = {6: "Waiting on Customer", 7: "Waiting on Third Party"}
SOURCES = {1: "email", 2: "web", 3: "phone", 5: "social", 6: "social", 7: "chat", 9: "web", 10: "email"}
OUTBOUND_EMAIL = 10  # a ticket an agent opened by writing to the customer
PRIORITIES = {1: "low", 2: "medium", 3: "high", 4: "urgent"}
# ratings.default_question: Freshdesk's values for its 2- to 7-point scales, on our 1-7
# (top box 6-7 = "very"/"extremely happy", as the 3-point survey's happy 103 is)
RATINGS = {103: 7, 102: 6, 101: 5, 100: 4, -101: 3, -102: 2, -103: 1}
ARRAYS = ("tickets", "results", "conversations", "agents", "contacts", "groups", "satisfaction_ratings",
          "ticket_fields")
KINDS = ("ticket_fields", "groups", "agents", "contacts", "tickets", "conversations", "satisfaction_ratings")


def import_freshdesk(ws: Workspace, path: str | os.PathLike[str], *, source: str = VENDOR) -> ConnectorSummary:
    """Import saved Freshdesk API responses (a .json response, a JSON Lines file of
    responses or objects, or a folder of them) into `ws`. Idempotent: ids are Freshdesk's.

    >>> import tempfile, json, pathlib, cxmetrics
    >>> from cxmetrics.connectors import import_freshdesk
    >>> page = pathlib.Path(tempfile.mkdtemp()) / "tickets.json"
    >>> _ = page.write_text(json.dumps([{"id": 1, "created_at": "2025-03-03T08:00:00Z",
    ...     "status": 2, "priority": 1, "source": 1, "requester_id": 9}]))
    >>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
    ...     import_freshdesk(ws, page).tables["tickets"].inserted
    1
    """
    p = Path(path)
    return land(ws, VENDOR, p, convert(list(read_pages(p))), source=source)


def _kind(obj: Any) -> str | None:
    """Which Freshdesk object a bare one is, by the keys the API reference gives it."""
    if not isinstance(obj, dict):
        return None
    if "ratings" in obj:
        return "satisfaction_ratings"
    if "incoming" in obj and "private" in obj:
        return "conversations"
    if isinstance(obj.get("contact"), dict):
        return "agents"
    if "label" in obj and "type" in obj and "name" in obj:
        return "ticket_fields"
    if any(k in obj for k in ("agent_ids", "unassigned_for", "escalate_to")):
        return "groups"
    if "status" in obj and "created_at" in obj:
        return "tickets"
    if "email" in obj and "name" in obj:
        return "contacts"
    return None


Found = tuple[Page, str | None, int, Any]  # the page, the name of its place, the index, the object


def _objects(page: Page) -> list[Found]:
    """(page, array name, index, object) of every object a saved response holds: a bare
    array (the list endpoints), an envelope (`results` of a search), one object; a
    ticket's embedded conversations too."""
    body = page.body
    envelope = isinstance(body, dict) and _kind(body) is None and any(isinstance(body.get(a), list) for a in ARRAYS)
    if page.page is not None and not isinstance(body, list) and not envelope:
        # an item of a file's top-level array: name it `tickets.json, tickets[2]`
        kind = _kind(body)
        found: list[Found] = [(Page(page.file, page.line, None, body), kind, page.page - 1, body)]
    elif isinstance(body, list):
        found = [(page, _kind(o), i, o) for i, o in enumerate(body)]
    elif envelope:
        found = [(page, _kind(o), i, o) for a in ARRAYS if isinstance(body.get(a), list) for i, o in enumerate(body[a])]
    else:
        found = [(page, _kind(body), 0, body)]
    out = list(found)
    for pg, kind, _, obj in found:
        if kind == "tickets" and isinstance(obj.get("conversations"), list):  # GET /tickets/{id}?include=conversations
            out += [(pg, "conversations", i, c) for i, c in enumerate(obj["conversations"])]
        if kind == "tickets" and isinstance(obj.get("requester"), dict):  # a list with include=requester
            out.append((pg, "contacts", 0, obj["requester"]))
    return out


def convert(pages: list[Page]) -> Batch:
    """Canonical rows (and rejects) for every object of the pages."""
    batch = Batch()
    objects: dict[str, list[Found]] = {k: [] for k in KINDS}
    for page in pages:
        why = unreadable(page.body)
        if why is not None:
            batch.reject("tickets", page, None, 0, unreadable_text(page.body), why)
            continue
        for pg, kind, index, obj in _objects(page):
            if kind is None:
                batch.reject("tickets", pg, "objects", index, obj, "not a Freshdesk object (a ticket, conversation, "
                             "agent, contact, group, ticket field or satisfaction rating)")
                continue
            objects[kind].append((pg, kind, index, obj))
    ctx = _Context(objects)
    steps = (("tickets", "tickets", ctx.ticket), ("conversations", "events", ctx.conversation),
             ("satisfaction_ratings", "surveys", ctx.rating), ("agents", "agents", ctx.agent))
    for kind, table, fn in steps:
        batch.feed(table, objects[kind], fn)
    customers = Customers()
    for page, name, index, obj in objects["contacts"]:  # contacts pages, and tickets' embedded requesters
        try:
            customers.add(_required_id(obj, "id"), _customer(obj), page.line)
        except Malformed as exc:
            batch.reject("customers", page, name, index, obj, str(exc))
    customers.land_into(batch)
    _keep_stats(batch, objects["tickets"])
    _keep_lookups(batch, objects)
    return batch


def _customer(c: dict[str, Any]) -> dict[str, Any]:
    """A contact's customers columns, those its object carries: a contact (`GET /contacts`)
    has `email`, `name`, `language` (the locale) and `created_at`; a ticket's `requester`
    (include=requester) only `email` and `name`, so the others stay as stored."""
    out = {k: c.get(k) for k in ("email", "name") if k in c}
    if "language" in c:
        out["locale"] = c.get("language")
    if "created_at" in c:
        out["created_at"] = _time(c, "created_at", required=False)
    return out


LOOKUPS = ("ticket_fields", "groups", "agents")  # what a sync's later pages are read against


def _keep_lookups(batch: Batch, objects: dict[str, list[Found]]) -> None:
    """Keep statuses, groups and agents as sent: a live sync reads each ticket page
    against them (freshdesk_sync.py's context), long after the page that brought them."""
    for kind in LOOKUPS:
        for _, _, _, o in objects[kind]:
            if isinstance(o, dict) and _id(o.get("id")) is not None:
                batch.keep(kind, o["id"], o)


STATS_KIND = "stats"  # Freshdesk's own per-ticket times, kept for `cxmetrics reconcile` (connectors/reconcile.py)


def _keep_stats(batch: Batch, found: list[Found]) -> None:
    """Keep each ticket's `stats` (include=stats) as sent, with the ticket's id and
    created_at they are read against; the newest `updated_at` wins when a ticket comes twice."""
    kept = [o for _, _, _, o in found if isinstance(o, dict) and isinstance(o.get("stats"), dict)
            and _id(o.get("id")) is not None]
    for t in sorted(kept, key=lambda o: str(o.get("updated_at") or "")):
        batch.keep(STATS_KIND, _id(t["id"]), {k: t.get(k) for k in ("id", "created_at", "updated_at", "stats")})


def _time(obj: dict[str, Any], key: str, *, required: bool = True) -> datetime | None:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise Malformed(f"{key} is missing")
        return None
    try:
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(f"{key} {value!r} is not an ISO 8601 time such as 2025-03-14T09:30:00Z") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)  # the API gives UTC


def _code(obj: dict[str, Any], key: str) -> int | None:
    """A numeric code (status, source, priority): the API sends numbers."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).lstrip("-").isdigit():
        raise Malformed(f"{key} {value!r} is not one of Freshdesk's numeric codes")
    return int(value)


def _custom_status(label: str) -> str:
    """What a custom status is, read off its agent label: Freshdesk's own "Waiting on
    Customer" waits on the requester (pending), "Waiting on Third Party" on someone
    else (on-hold); any other custom status is work in progress (open)."""
    name = label.lower()
    if "third party" in name or "hold" in name:
        return "on-hold"
    if "customer" in name or "pending" in name or "awaiting" in name:
        return "pending"
    return "open"


class _Context:
    """The lookups (agents, contacts, groups, statuses) objects are read against."""

    def __init__(self, objects: dict[str, list[Found]]) -> None:
        def by_id(kind: str) -> dict[Any, dict[str, Any]]:
            return {o.get("id"): o for _, _, _, o in objects[kind] if isinstance(o, dict)}

        self.agents, self.contacts = by_id("agents"), by_id("contacts")
        self.groups = by_id("groups")
        self.statuses: dict[int, str] = {}
        labels = dict(DEFAULT_CUSTOM)
        for f in by_id("ticket_fields").values():
            if f.get("name") == "status" and isinstance(f.get("choices"), dict):
                for code, names in f["choices"].items():
                    label = names[0] if isinstance(names, list) and names else names
                    if str(code).isdigit() and isinstance(label, str):
                        labels[int(code)] = label
        for code, label in labels.items():
            if code not in STATUSES:
                self.statuses[code] = _custom_status(label)
        self.statuses.update(STATUSES)
        # an agent's team: the first group (in the groups page's order) that lists it
        self.agent_team: dict[Any, str] = {}
        for g in self.groups.values():
            for a in g.get("agent_ids") or []:
                self.agent_team.setdefault(a, str(g.get("name") or g.get("id")))

    def team(self, group_id: Any) -> str | None:
        if group_id is None:
            return None
        return str((self.groups.get(group_id) or {}).get("name") or group_id)

    def ticket(self, t: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        tid = _required_id(t, "id")
        created = _time(t, "created_at")
        code = _code(t, "status")
        if code is None:
            raise Malformed("status is missing")
        if code not in self.statuses:
            raise Malformed(f"status {code} is not a Freshdesk status (2 open, 3 pending, 4 resolved, 5 closed) nor "
                            "a custom one named in ticket_fields; add the ticket_fields response to the import")
        source, priority = _code(t, "source"), _code(t, "priority")
        current = self.statuses[code]
        outbound = source == OUTBOUND_EMAIL
        row = {
            "ticket_id": tid, "created_at": created,
            "channel": None if source is None else SOURCES.get(source, f"source {source}"),
            "priority": None if priority is None else PRIORITIES.get(priority, str(priority)),
            "status": "deleted" if t.get("deleted") or t.get("spam") else current,
            "requester_id": _id(t.get("requester_id")), "assignee_id": _id(t.get("responder_id")),
            "team": self.team(t.get("group_id")), "topic": _id(t.get("type")),
            "tags": [str(x) for x in t.get("tags") or []], "subject": t.get("subject"),
            "created_by": "agent" if outbound else "customer",
        }
        opener = ("agent", _id(t.get("responder_id"))) if outbound else ("customer", _id(t.get("requester_id")))
        base = {"ticket_id": tid, "origin": "events"}
        out: list[tuple[str, dict[str, Any]]] = [("tickets", row), ("events", {
            **base, "event_id": f"{tid}:created", "ts": created, "kind": "created", "actor_type": opener[0],
            "actor_id": opener[1], "status_to": "open", "channel": row["channel"],
            "assignee_id": row["assignee_id"], "team": row["team"], "priority": row["priority"],
        })]
        # the description is the ticket's first message (conversations hold only what follows)
        if t.get("description_text") or t.get("description"):
            out.append(("events", {**base, "event_id": f"{tid}:description", "ts": created, "kind": "message",
                                   "actor_type": opener[0], "actor_id": opener[1], "public": True,
                                   "body": t.get("description_text") or t.get("description")}))
        out += [("events", {**base, **e}) for e in self._status_events(tid, t, current)]
        return out

    def _status_events(self, tid: str, t: dict[str, Any], current: str) -> list[dict[str, Any]]:
        """Status changes from the ticket's `stats`: the API keeps only the latest time of
        each, so an id carries its time and a later export adds to the history (an earlier
        solve seen in an earlier export stays stored)."""
        stats = t.get("stats") if isinstance(t.get("stats"), dict) else {}
        created = _time(t, "created_at")
        changes: set[tuple[datetime, str]] = set()
        for key, status in (("resolved_at", "solved"), ("closed_at", "closed"), ("reopened_at", "open")):
            at = _time(stats, key, required=False)
            if at is not None:
                changes.add((at, status))
        if current in ("open", "pending", "on-hold"):
            # in its status since status_updated_at (pending_since for pending): so a ticket seen
            # pending by an earlier export and open by a later one is open again from then on
            at = _time(stats, "status_updated_at", required=False) or _time(stats, "pending_since", required=False)
            if at is not None and created is not None and at > created:
                changes.add((at, current))
        # status_from only where this response shows the change before; otherwise the stored
        # sequence says it (an earlier export may hold changes this one no longer shows)
        events: list[dict[str, Any]] = []
        before: str | None = None
        for at, status in sorted(changes, key=lambda c: (c[0], c[1])):
            events.append({"event_id": f"{tid}:{status}:{at.strftime('%Y%m%dT%H%M%SZ')}", "ts": at, "kind": "status",
                           "actor_type": "system", "status_from": before, "status_to": status})
            before = status
        return events

    def conversation(self, c: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        cid, tid = _required_id(c, "id"), _required_id(c, "ticket_id")
        at = _time(c, "created_at")
        user = c.get("user_id")
        if c.get("incoming") is True:  # from outside: the customer (a reply or a requester's note)
            actor = "customer"
        elif user in self.contacts and user not in self.agents:
            actor = "customer"
        else:
            actor = "agent"
        private = c.get("private")
        if not isinstance(private, bool):
            raise Malformed(f"private {private!r} is not true or false")
        return [("events", {"event_id": cid, "ticket_id": tid, "ts": at, "kind": "message", "actor_type": actor,
                            "actor_id": _id(user), "public": not private,
                            "body": c.get("body_text") or c.get("body"), "origin": "events"})]

    def rating(self, r: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        rid = _required_id(r, "id")
        ratings = r.get("ratings")
        if not isinstance(ratings, dict) or "default_question" not in ratings:
            raise Malformed("ratings.default_question is missing")
        value = ratings["default_question"]
        if isinstance(value, bool) or value not in RATINGS:
            raise Malformed(f"ratings.default_question {value!r} is not one of Freshdesk's ratings "
                            "(103, 102, 101, 100, -101, -102, -103)")
        return [("surveys", {
            "response_id": rid, "ticket_id": _id(r.get("ticket_id")), "customer_id": _id(r.get("user_id")),
            "agent_id": _id(r.get("agent_id")), "kind": "csat", "scale": "1-7", "scale_min": 1.0, "scale_max": 7.0,
            "score": float(RATINGS[value]), "comment": r.get("feedback") or None,
            "responded_at": _time(r, "created_at"), "origin": "surveys",
        })]

    def agent(self, a: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        aid = _required_id(a, "id")
        contact = a.get("contact") or {}
        return [("agents", {"agent_id": aid, "name": contact.get("name"), "type": "human",
                            "team": self.agent_team.get(a.get("id"))})]
