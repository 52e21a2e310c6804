"""Zendesk live sync: the streams `cxmetrics sync zendesk` reads, in order (docs/connectors.md,
"Live sync", "Zendesk").

1. groups: `GET /api/v2/groups`, every page, every sync (agents are read against them);
2. agents: `GET /api/v2/users?role[]=agent&role[]=admin`, every page, every sync (a few
   hundred at most; Zendesk's incremental user export would also list every end user);
3. tickets: the cursor-based incremental ticket export
   `GET /api/v2/incremental/tickets/cursor.json?start_time=EPOCH`, then `?cursor=AFTER_CURSOR`,
   with `include=users,groups,metric_sets` (the requesters, and Zendesk's own per-ticket numbers
   for `cxmetrics reconcile`); the `after_cursor` of the last page is where the next sync starts;
4. ticket_events: the time-based incremental ticket event export
   `GET /api/v2/incremental/ticket_events.json?start_time=EPOCH&include=comment_events` (status,
   assignee, group and priority changes and the comments); `end_time` is the next `start_time`;
5. satisfaction_ratings: `GET /api/v2/satisfaction_ratings?start_time=EPOCH` with cursor
   pagination; the next sync starts RATING_OVERLAP before the newest rating's `created_at`,
   so an offered rating answered later is read again with its answer.

Each page is stored as Zendesk sent it; `zendesk.convert` (the file import's converter) reads
it. The agents and groups are kept (`Batch.keep`) and given back with every landing
(`context`), marked as every agent once a full agents list has been read: the comments of
anyone else are an end user's. Zendesk allows 10 requests a minute to the incremental
exports and answers 429 with Retry-After beyond that; the Client waits it out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cxmetrics.connectors import _state
from cxmetrics.connectors._http import Client
from cxmetrics.connectors._sync import Fetched, Source, kept_pages
from cxmetrics.connectors.zendesk import ALL_AGENTS, VENDOR
from cxmetrics.errors import ConnectorError
from cxmetrics.settings import Settings

EXPORT_PAGE = 1000  # per_page of the incremental exports: Zendesk's maximum
LIST_PAGE = 100  # page[size] of cursor-paginated lists: Zendesk's maximum
RATING_OVERLAP = timedelta(days=14)  # ratings are re-read this far back: answers come after the offer
SIDELOADS = "users,groups,metric_sets"


def _epoch(ts: datetime) -> int:
    return int(ts.timestamp())


def _items(body: Any, key: str) -> list[Any]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ConnectorError(f"Zendesk's answer has no {key} list; is [connectors.zendesk] base_url the "
                             "account's address (https://SUBDOMAIN.zendesk.com)?")
    return items


@dataclass(frozen=True)
class ListStream:
    """A cursor-paginated list read whole at every sync (`links.next` / `meta.has_more`,
    `page[after]`); the cursor is `meta.after_cursor` while a pass is under way."""

    name: str
    path: str
    key: str
    params: tuple[tuple[str, str], ...] = ()

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        params: dict[str, Any] = {}
        for k, v in self.params:
            params.setdefault(k, []).append(v)
        params["page[size]"] = LIST_PAGE
        if cursor:
            params["page[after]"] = cursor
        body = client.get(self.path, params=params)
        items = _items(body, self.key)
        meta = body.get("meta") or {}
        more = bool(meta.get("has_more")) and bool(meta.get("after_cursor"))
        # a finished pass leaves no cursor: the next sync reads the list again from its start
        return Fetched([body] if items else [], len(items), meta.get("after_cursor") if more else None, not more)


class TicketStream:
    """The cursor-based incremental ticket export, with its side-loads."""

    name = "tickets"
    path = "/api/v2/incremental/tickets/cursor.json"

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        params: dict[str, Any] = {"include": SIDELOADS, "per_page": EXPORT_PAGE}
        if cursor:
            params["cursor"] = cursor
        else:
            params["start_time"] = _epoch(since)
        body = client.get(self.path, params=params)
        tickets = _items(body, "tickets")
        # the last page's after_cursor is where the next sync continues (Zendesk keeps it valid)
        after = body.get("after_cursor") or cursor
        done = bool(body.get("end_of_stream")) or not tickets
        if not done and not after:
            raise ConnectorError("Zendesk's incremental ticket export sent no after_cursor before the end of "
                                 "its stream; run the sync again.")
        return Fetched([body] if tickets else [], len(tickets), after, done)


class TicketEventStream:
    """The time-based incremental ticket event export, with the comments (`comment_events`).
    Time-based pages may repeat the events of their boundary second: landing is idempotent."""

    name = "ticket_events"
    path = "/api/v2/incremental/ticket_events.json"

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        start = int(cursor) if cursor else _epoch(since)
        body = client.get(self.path, params={"start_time": start, "include": "comment_events"})
        events = _items(body, "ticket_events")
        end = body.get("end_time")
        done = bool(body.get("end_of_stream")) or not events
        nxt = int(end) if isinstance(end, (int, float)) and not isinstance(end, bool) else start
        if not done and nxt <= start:
            # a full page within one second: asking again from the same second would loop
            raise ConnectorError(f"Zendesk's ticket event export did not move past {start} (a full page of "
                                 "events within one second); run the sync again, and if it recurs tell us.")
        return Fetched([body] if events else [], len(events), str(max(nxt, start)), done)


class RatingStream:
    """Satisfaction ratings created since a time, with cursor pagination. The cursor is
    JSON: the pass's `start_time`, its `page[after]` and the newest `created_at` seen."""

    name = "satisfaction_ratings"
    path = "/api/v2/satisfaction_ratings"

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        state = json.loads(cursor) if cursor else {"start": _epoch(since)}
        params: dict[str, Any] = {"start_time": state["start"], "page[size]": LIST_PAGE}
        if state.get("after"):
            params["page[after]"] = state["after"]
        body = client.get(self.path, params=params)
        ratings = _items(body, "satisfaction_ratings")
        newest = max([state.get("newest") or 0, *(_created(r) for r in ratings)])
        meta = body.get("meta") or {}
        if meta.get("has_more") and meta.get("after_cursor"):
            nxt = {"start": state["start"], "after": meta["after_cursor"], "newest": newest}
            return Fetched([body] if ratings else [], len(ratings), json.dumps(nxt), False)
        start = max(state["start"], newest - int(RATING_OVERLAP.total_seconds())) if newest else state["start"]
        return Fetched([body] if ratings else [], len(ratings), json.dumps({"start": start}), True)


def _created(rating: Any) -> int:
    """A rating's created_at in epoch seconds (0 when missing or unreadable)."""
    value = rating.get("created_at") if isinstance(rating, dict) else None
    try:
        return _epoch(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return 0


AGENTS = ListStream("agents", "/api/v2/users", "users", (("role[]", "agent"), ("role[]", "admin")))
GROUPS = ListStream("groups", "/api/v2/groups", "groups")


def context(con: Any) -> list[Any]:
    """The kept agents and groups, for every landing; the agents page is marked as every
    agent once an agents pass has finished (its cursor row exists and is empty)."""
    pages = kept_pages(con, VENDOR, "users", "groups")
    cursors = _state.cursors(con, VENDOR)
    complete = AGENTS.name in cursors and cursors[AGENTS.name] is None
    return [{**p, ALL_AGENTS: True} if complete and "users" in p else p for p in pages]


def source(settings: Settings | None = None) -> Source:
    """Zendesk's live sync (see the module's docstring)."""
    return Source(VENDOR, (GROUPS, AGENTS, TicketStream(), TicketEventStream(), RatingStream()), context)
