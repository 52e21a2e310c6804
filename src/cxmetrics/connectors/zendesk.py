"""Zendesk: its REST API's own JSON (saved pages or JSON Lines) into canonical rows.

Read: tickets (`/api/v2/tickets`, the incremental ticket export), users and groups,
ticket audits (`/api/v2/ticket_audits`, `/api/v2/tickets/{id}/audits`), incremental
ticket events (`ticket_events` with `child_events`) and satisfaction ratings. See
docs/connectors.md for the mapping, which this module is the one place of.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cxmetrics._workspace import Workspace
from cxmetrics.connectors._plumbing import (YIELDS, Batch, ConnectorSummary, Customers, Malformed, Page, SavedPages,
                                            gc_paused, land, unreadable, unreadable_text)
from cxmetrics.connectors._plumbing import required_id as _required_id, text_id as _id

VENDOR = "zendesk"
DOC = "Zendesk Support API JSON: saved pages (.json), JSON Lines of pages or objects, or a folder of them"
# what `cxmetrics formats` lists: each API object and the canonical rows it becomes
READS = (
    "tickets (list, show, incremental export) -> tickets: status, channel (via.channel), priority, team (group), tags",
    "ticket_audits / audits -> events: Create -> created, Comment -> message (public or private note;",
    "    an agent-created ticket's opening comment is no reply),",
    "    Change of status / assignee_id / group_id / priority -> status / assign / priority",
    "ticket_events (incremental, with child_events) -> events, as audits",
    "users -> agents (agent and admin roles; AI agent / Answer Bot authors as bots);",
    "    end users -> customers: email, locale, name, created_at (the users page, or the export's include=users)",
    "groups -> team names",
    "satisfaction_ratings -> surveys: csat on good/bad with the comment; offered, good and bad -> survey_sends",
    "    (the response rate's denominator; unoffered: neither)",
    "a ticket's embedded satisfaction_rating -> the same survey answer and send (by the rating's id: stored once)",
    "a ticket tagged closed_by_merge -> a merged event; a deleted (or spam) ticket -> status deleted",
    "ticket_metrics / ticket_metric / metric_sets (include=metric_sets) -> kept for `cxmetrics reconcile zendesk`",
)

STATUSES = {"new": "new", "open": "open", "pending": "pending", "hold": "on-hold", "solved": "solved",
            "closed": "closed"}
TICKET_STATUSES = {**STATUSES, "deleted": "deleted"}  # the API lists spam tickets as deleted
CHANNELS = {
    "email": "email", "web": "web", "web_form": "web", "web_widget": "web", "help_center": "web",
    "chat": "chat", "chat_transcript": "chat", "voice": "phone", "phone_call_inbound": "phone",
    "phone_call_outbound": "phone", "voicemail": "phone", "api": "api", "sms": "messaging",
    "native_messaging": "messaging", "mobile_sdk": "messaging", "whatsapp": "messaging",
    "messenger": "messaging", "line": "messaging", "wechat": "messaging", "telegram": "messaging",
    "twitter": "social", "twitter_dm": "social", "facebook": "social", "facebook_post": "social",
    "facebook_message": "social", "instagram_dm": "social",
}
# comments that came through these channels were written by Zendesk's bots / AI agents
BOT_CHANNELS = frozenset({
    "answer_bot", "answer_bot_api", "answer_bot_for_agents", "answer_bot_for_sdk", "answer_bot_for_slack",
    "answer_bot_for_web_widget", "ai_agent",
})
AGENT_ROLES = frozenset({"agent", "admin"})
END_USER = "end-user"  # a user of this role is a customer (customers row)
RATED = ("offered", "good", "bad")  # the rating scores that were sent (good and bad also answered)
MERGE_TAG = "closed_by_merge"  # Zendesk tags a ticket closed by a merge with it
SYSTEM_USER = -1  # the author of audits made by triggers and automations
ARRAYS = ("tickets", "users", "groups", "audits", "ticket_audits", "ticket_events", "satisfaction_ratings",
          "ticket_metrics", "metric_sets")
SINGLE = {"ticket": "tickets", "user": "users", "group": "groups", "audit": "audits",
          "satisfaction_rating": "satisfaction_ratings", "ticket_metric": "ticket_metrics"}
# Zendesk's own per-ticket numbers, kept as sent for `cxmetrics reconcile` (connectors/reconcile.py):
# GET /api/v2/ticket_metrics, /api/v2/tickets/{id}/metrics, and the incremental ticket export's
# include=metric_sets side-load (the same objects under another name)
METRICS_KIND = "ticket_metrics"
# live sync's lookups page (connectors/zendesk_sync.py) carries this key when its users are every
# agent of the account: a comment author who is none of them is then an end user (a CC, a follower)
ALL_AGENTS = "cxmetrics_all_agents"



def import_zendesk(ws: Workspace, path: str | os.PathLike[str], *, source: str = VENDOR) -> ConnectorSummary:
    """Import saved Zendesk API pages (a .json page, a JSON Lines file of pages or
    objects, or a folder of them) into `ws`. Idempotent: ids are Zendesk's own.

    >>> import tempfile, json, pathlib, cxmetrics
    >>> from cxmetrics.connectors import import_zendesk
    >>> page = pathlib.Path(tempfile.mkdtemp()) / "tickets.json"
    >>> _ = page.write_text(json.dumps({"tickets": [{"id": 1, "created_at": "2025-03-03T08:00:00Z",
    ...     "status": "open", "via": {"channel": "email"}}]}))
    >>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
    ...     import_zendesk(ws, page).tables["tickets"].inserted
    1
    """
    p = Path(path)
    with gc_paused():
        batch = convert(SavedPages(p))
    return land(ws, VENDOR, p, batch, source=source)


def convert(pages: Iterable[Page]) -> Batch:
    """Canonical rows (and rejects) for every object of the pages. `pages` is read twice
    (a list, or SavedPages, which reads the files again): first for the lookups (users,
    groups, each ticket's requester, the rated ids), then for the rows, page by page, so
    the bulk (tickets, audits, ticket events) is never held whole as Python objects."""
    batch = Batch()
    users: dict[Any, dict[str, Any]] = {}
    groups: dict[Any, Any] = {}
    requesters: dict[Any, Any] = {}
    rated: set[str | None] = set()
    all_agents = False
    for page in pages:
        all_agents = all_agents or (isinstance(page.body, dict) and page.body.get(ALL_AGENTS) is True)
        for array, _, obj in (() if unreadable(page.body) else _objects(page.body)):
            if not isinstance(obj, dict):
                continue
            if array == "users":
                users[obj.get("id")] = obj
            elif array == "groups":
                groups[obj.get("id")] = obj.get("name")
            elif array == "tickets":
                requesters[obj.get("id")] = obj.get("requester_id")
            elif array == "satisfaction_ratings":
                rated.add(_id(obj.get("id")))
    ctx = _Context(users, groups, requesters)
    # the endpoint's ratings win over the same ratings embedded in their tickets (they carry the times)
    ctx.rated = rated
    ctx.all_agents = all_agents
    # kept for live sync, which lands its pages in several batches: each gets these lookups back
    for uid, u in users.items():
        if u.get("role") in AGENT_ROLES:
            batch.keep("users", uid, u)
    for gid, name in groups.items():
        batch.keep("groups", gid, {"id": gid, "name": name})
    streamed = {"tickets": ("tickets", _objects_only(ctx.ticket)), "audits": ("events", _objects_only(ctx.audit)),
                "ticket_events": ("events", _objects_only(ctx.ticket_event))}
    objects: dict[str, list[tuple[Page, str, int, Any]]] = {a: [] for a in ARRAYS}
    first_line = None
    for page in pages:
        first_line = page.line if first_line is None else first_line
        why = unreadable(page.body)
        if why is not None:
            batch.reject("tickets", page, None, 0, unreadable_text(page.body), why)
            continue
        found: dict[str, list[tuple[Page, str, int, Any]]] = {}
        for array, index, obj in _objects(page.body):
            if array is None:
                batch.reject("tickets", page, None, index, obj, "not a Zendesk page or object (no tickets, "
                             "users, groups, audits, ticket_events, satisfaction_ratings or ticket_metrics)")
                continue
            same = {"ticket_audits": "audits", "metric_sets": METRICS_KIND}
            kind = same.get(array, array)
            (found if kind in streamed else objects).setdefault(kind, []).append((page, array, index, obj))
        for kind, objs in found.items():  # converted now; the page's objects go with it
            batch.feed(streamed[kind][0], objs, streamed[kind][1])
    batch.feed("surveys", objects["satisfaction_ratings"], _objects_only(ctx.rating))
    _keep_metrics(batch, objects[METRICS_KIND])
    customers = Customers()
    for page, name, index, obj in objects["users"]:
        try:
            row = ctx.agent(obj)
        except Malformed as exc:
            batch.reject("agents", page, name, index, obj, str(exc))
            continue
        if row is not None:
            batch.add("agents", row, page.line)
        elif obj.get("role") == END_USER:  # a requester (the users page, or the ticket export's side-load)
            try:
                customers.add(_required_id(obj, "id"), _customer(obj), page.line)
            except Malformed as exc:
                batch.reject("customers", page, name, index, obj, str(exc))
    customers.land_into(batch)
    # bots the users page did not list as agents still get a row, so the scorecard names them
    for bot in sorted(ctx.bots - {str(u) for u in users if users[u].get("role") in AGENT_ROLES}):
        batch.add("agents", {"agent_id": bot, "type": "bot"}, first_line or 1)
    return batch


def _customer(u: dict[str, Any]) -> dict[str, Any]:
    """An end user's customers columns: those of the user object it carries (Users API:
    `created_at`, `email`, `locale` such as "de" or "en-US", `name`)."""
    out = {k: u.get(k) for k in ("email", "locale", "name") if k in u}
    if "created_at" in u:
        out["created_at"] = _time(u, "created_at", required=False)
    return out


def _keep_metrics(batch: Batch, found: list[tuple[Page, str, int, Any]]) -> None:
    """Keep each ticket's metric set as sent, by ticket id; the newest (`updated_at`) wins
    when a ticket's set comes more than once (a list page and a side-load)."""
    sets: list[tuple[datetime, str, Any]] = []
    for page, array, index, obj in found:
        try:
            if not isinstance(obj, dict):
                raise Malformed(f"not a JSON object but {type(obj).__name__}")
            tid = _required_id(obj, "ticket_id")
            at = _time(obj, "updated_at", required=False) or datetime.min.replace(tzinfo=timezone.utc)
        except Malformed as exc:
            batch.reject("tickets", page, array, index, obj, str(exc))
            continue
        sets.append((at, tid, obj))
    for _, tid, obj in sorted(sets, key=lambda s: s[0]):
        batch.keep(METRICS_KIND, tid, obj)


def _objects_only(fn: Any) -> Any:
    """`fn` over JSON objects; anything else in an array is malformed."""

    def convert(obj: Any) -> Any:
        if not isinstance(obj, dict):
            raise Malformed(f"not a JSON object but {type(obj).__name__}")
        return fn(obj)

    return convert


def _objects(body: Any) -> list[tuple[str | None, int, Any]]:
    """(array, index, object) of a page: a list response, a single-object response or a
    bare object (one per JSON Lines line)."""
    if not isinstance(body, dict):
        return [(None, 0, body)]
    found = [(a, i, o) for a in ARRAYS if isinstance(body.get(a), list) for i, o in enumerate(body[a])]
    found += [(SINGLE[k], 0, body[k]) for k in SINGLE if isinstance(body.get(k), dict)]
    if found or any(a in body for a in (*ARRAYS, "next_page", "after_cursor", "end_of_stream")):
        return found
    if isinstance(body.get("events"), list):  # an audit (its ticket_id is checked when it is read)
        return [("audits", 0, body)]
    if "child_events" in body:
        return [("ticket_events", 0, body)]
    if "ticket_id" in body and "reply_time_in_minutes" in body:  # a ticket metric set
        return [(METRICS_KIND, 0, body)]
    if "score" in body and "ticket_id" in body:
        return [("satisfaction_ratings", 0, body)]
    if "role" in body:
        return [("users", 0, body)]
    if "status" in body and "created_at" in body:
        return [("tickets", 0, body)]
    return [(None, 0, body)]


def _time(obj: dict[str, Any], key: str, *, required: bool = True) -> datetime | None:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise Malformed(f"{key} is missing")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # incremental exports: epoch seconds
        return datetime.fromtimestamp(value, timezone.utc)
    try:
        ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(f"{key} {value!r} is not an ISO 8601 time such as 2025-03-14T09:30:00Z") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)  # the API gives UTC


def _channel(via: Any) -> str | None:
    raw = via.get("channel") if isinstance(via, dict) else None
    return None if raw is None else CHANNELS.get(str(raw).lower(), str(raw).lower())


def _via(obj: dict[str, Any]) -> str:
    via = obj.get("via")
    return str(via.get("channel", "")).lower() if isinstance(via, dict) else ""


class _Context:
    """The lookups (users, groups, tickets' requesters) objects are read against."""

    def __init__(self, users: dict[Any, dict[str, Any]], groups: dict[Any, Any], requesters: dict[Any, Any]):
        self.users, self.groups, self.requesters = users, groups, requesters  # requesters: ticket id -> requester id
        self.bots: set[str] = set()
        self.rated: set[str | None] = set()  # ids of the ratings the satisfaction_ratings endpoint gave
        self.all_agents = False  # the users are every agent (ALL_AGENTS)

    def team(self, group_id: Any) -> str | None:
        return None if group_id is None else str(self.groups.get(group_id) or group_id)

    def actor(self, author: Any, ticket_id: Any, via: str) -> str:
        if via in BOT_CHANNELS:
            if author is not None and author != SYSTEM_USER:
                self.bots.add(str(author))
            return "bot"
        if author == SYSTEM_USER or author is None:
            return "system"
        user = self.users.get(author)
        if user is not None:
            return "agent" if user.get("role") in AGENT_ROLES else "customer"
        # a user the export left out: the ticket's requester is the customer, anyone else staff
        requester = self.requesters.get(ticket_id)
        return "customer" if author == requester or self.all_agents else "agent"

    def ticket(self, t: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        tid = _required_id(t, "id")
        created = _time(t, "created_at")
        raw_status = str(t.get("status") or "new").lower()
        if raw_status not in TICKET_STATUSES:
            raise Malformed(f"status {raw_status!r} is not a Zendesk status ({', '.join(TICKET_STATUSES)})")
        tags = [str(x) for x in t.get("tags") or []]
        submitter, requester = t.get("submitter_id"), t.get("requester_id")
        staff = self.users.get(submitter, {}).get("role") in AGENT_ROLES
        row = {
            "ticket_id": tid, "created_at": created, "channel": _channel(t.get("via")),
            "priority": _id(t.get("priority")), "status": TICKET_STATUSES[raw_status],
            "requester_id": _id(requester), "assignee_id": _id(t.get("assignee_id")),
            "team": self.team(t.get("group_id")), "topic": _id(t.get("type")), "tags": tags,
            "subject": t.get("subject") or t.get("raw_subject"),
            "created_by": "agent" if staff and submitter != requester else "customer",
        }
        out = [("tickets", row), *self._embedded_rating(t, tid, created)]
        if MERGE_TAG in tags:  # merged away: left out of every metric, as Zendesk's own reports do
            at = _time(t, "updated_at", required=False) or created
            out.append(("events", {"event_id": f"{tid}:merged", "ticket_id": tid, "ts": at, "kind": "merged",
                                   "actor_type": "system", "origin": "events"}))
        return out

    def audit(self, a: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        aid, tid = _required_id(a, "id"), _required_id(a, "ticket_id")
        ts = _time(a, "created_at")
        events = a.get("events")
        if not isinstance(events, list):
            raise Malformed("events is missing or not a list")
        return self._events(aid, tid, ts, a.get("author_id"), _via(a), a.get("via"), events)

    def ticket_event(self, e: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """An incremental ticket event: an audit whose child events carry the changed
        field as a key (`{"status": "solved", "previous_value": "open"}`)."""
        aid, tid = _required_id(e, "id"), _required_id(e, "ticket_id")
        ts = _time(e, "created_at", required=False) or _time(e, "timestamp")
        children = []
        for c in e.get("child_events") or []:
            if not isinstance(c, dict):
                continue
            kind = c.get("event_type") or c.get("type")
            field = next((f for f in ("status", "assignee_id", "group_id", "priority") if f in c), None)
            child = {"id": c.get("id"), "type": kind, "field_name": field, "value": c.get(field) if field else None,
                     "previous_value": c.get("previous_value"), "via": c.get("via")}
            if kind in ("Comment", "VoiceComment"):
                child.update(public=c.get("comment_public", c.get("public")), body=c.get("body"),
                             author_id=c.get("author_id", e.get("updater_id")))
            children.append(child)
        return self._events(aid, tid, ts, e.get("updater_id"), _via(e), e.get("via"), children)

    def _events(self, aid: str, tid: str, ts: datetime | None, author: Any, via: str, via_obj: Any,
                events: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        actor = self.actor(author, _num(tid), via)
        out: list[tuple[str, dict[str, Any]]] = []
        base = {"ticket_id": tid, "ts": ts, "origin": "events"}
        creates = [e for e in events if isinstance(e, dict) and e.get("type") == "Create"]
        if creates:
            # one `created` event for the Create events of the first audit; its comment (the
            # ticket's description) follows as a message at the same instant: on a ticket an
            # agent created, the facts know that opening comment is not a reply
            fields = {e.get("field_name"): e.get("value") for e in creates}
            status = STATUSES.get(str(fields.get("status") or "new").lower(), "new")
            priority, group = fields.get("priority"), fields.get("group_id")
            out.append(("events", {
                **base, "event_id": _required_id(creates[0], "id"), "kind": "created", "actor_type": actor,
                "actor_id": _id(author), "status_to": status, "channel": _channel(via_obj),
                # the routing it was created with, so later changes read against it
                "assignee_id": _id(fields.get("assignee_id")), "team": self.team(_num(group)) if group else None,
                "priority": str(priority).lower() if priority else None,
            }))
        for e in events:
            if not isinstance(e, dict):
                continue
            kind = e.get("type")
            if kind in ("Comment", "VoiceComment"):
                who = e.get("author_id", author)
                out.append(("events", {
                    **base, "event_id": _required_id(e, "id"), "kind": "message",
                    "actor_type": self.actor(who, _num(tid), _via(e) or via), "actor_id": _id(who),
                    "public": bool(e.get("public", True)), "body": e.get("body") or e.get("plain_body"),
                }))
            elif kind == "Change":
                row = self._change(e)
                if row is not None:
                    out.append(("events", {**base, "event_id": _required_id(e, "id"), "actor_type": actor,
                                           "actor_id": _id(author), **row}))
        return out

    def _change(self, e: dict[str, Any]) -> dict[str, Any] | None:
        field, value, before = e.get("field_name"), e.get("value"), e.get("previous_value")
        if field == "status":
            to = STATUSES.get(str(value).lower())
            if to is None:  # e.g. deleted: the ticket's own status says so
                return None
            return {"kind": "status", "status_to": to, "status_from": STATUSES.get(str(before).lower())}
        if field == "assignee_id" and value not in (None, ""):
            return {"kind": "assign", "assignee_id": str(value)}
        if field == "group_id" and value not in (None, ""):
            return {"kind": "assign", "team": self.team(_num(value))}
        if field == "priority" and value not in (None, ""):
            return {"kind": "priority", "priority": str(value).lower()}
        return None  # tags, custom fields, subject...: not part of the event model

    def rating(self, r: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """A satisfaction_ratings object: a send (offered, good, bad: it was offered at
        created_at) and, when answered, an answer at updated_at."""
        rid = _required_id(r, "id")
        score = str(r.get("score") or "").lower()
        if score == "unoffered":
            return []  # never asked: neither a send nor an answer
        if score not in RATED:
            raise Malformed(f"score {r.get('score')!r} is not good, bad, offered or unoffered")
        offered = _time(r, "created_at", required=False)
        answered = _time(r, "updated_at", required=False) or offered
        if answered is None:
            raise Malformed("created_at is missing")
        return _rating_rows(rid, _id(r.get("ticket_id")), _id(r.get("requester_id")), _id(r.get("assignee_id")),
                            score, r.get("comment"), sent=offered or answered, answered=answered)

    def _embedded_rating(self, t: dict[str, Any], tid: str,
                         created: datetime | None) -> list[tuple[str, dict[str, Any]]]:
        """A ticket's `satisfaction_rating` (`{"id", "score", "comment"}` as the Tickets API
        embeds it): the same send and answer as the endpoint's rating of that id, so importing
        both stores it once; the endpoint's, when the pages hold it, wins (it has the times).
        Without times the send is placed at the ticket's updated_at and the answer at its
        solve; where the store holds the endpoint's rating, its times and agent stay."""
        r = t.get("satisfaction_rating")
        rid = _id(r.get("id")) if isinstance(r, dict) else None
        score = str(r.get("score") or "").lower() if isinstance(r, dict) else ""
        if rid is None or rid in self.rated or score not in RATED:
            return []  # null (no CSAT on the plan), unoffered, or left to the endpoint
        sent = _time(t, "updated_at", required=False) or created
        return _rating_rows(rid, tid, _id(t.get("requester_id")), _id(t.get("assignee_id")), score,
                            r.get("comment"), sent=sent, answered=None, weak=True)

    def agent(self, u: Any) -> dict[str, Any] | None:
        if not isinstance(u, dict):
            raise Malformed(f"not a JSON object but {type(u).__name__}")
        uid = _required_id(u, "id")
        if u.get("role") not in AGENT_ROLES:
            return None  # end users are requesters, not agents
        row = {"agent_id": uid, "name": u.get("name"), "type": "bot" if uid in self.bots else "human",
               "team": self.team(u.get("default_group_id"))}
        if uid not in self.bots:  # a bot is known by its answers, which another sync's pages may hold
            row[YIELDS] = ("type",)
        return row


def _rating_rows(rid: str, tid: str | None, customer: str | None, agent: str | None, score: str, comment: Any, *,
                 sent: datetime | None, answered: datetime | None,
                 weak: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """A rating's send (the response rate's denominator: an answered rating was offered
    first) and, for good or bad, its CSAT answer on the good/bad scale; both keyed by the
    rating's id. `weak`: the columns a ticket's embedded rating cannot know yield to the
    stored row's."""
    send: dict[str, Any] = {"send_id": rid, "ticket_id": tid, "customer_id": customer, "kind": "csat",
                            "sent_at": sent}
    if weak:
        send[YIELDS] = ("sent_at",)
    if score not in ("good", "bad"):
        return [("survey_sends", send)]
    answer: dict[str, Any] = {
        "response_id": rid, "ticket_id": tid, "customer_id": customer, "agent_id": agent, "kind": "csat",
        "scale": "good/bad", "scale_min": 0.0, "scale_max": 1.0, "score": 1.0 if score == "good" else 0.0,
        "comment": comment or None, "responded_at": answered, "origin": "surveys",
    }
    if weak:
        answer[YIELDS] = ("agent_id", "responded_at")  # the agent at rating time, the answer's time
    return [("survey_sends", send), ("surveys", answer)]


def _num(value: Any) -> Any:
    """Zendesk ids are numbers in its JSON; ours are text: look up by the number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return value
