"""Freshdesk live sync: its REST API v2 read page by page into the file importer's converter.

Streams, lookups first (`cxmetrics sync freshdesk`, docs/connectors.md "Live sync"):

- ticket_fields, groups, agents: re-read whole each sync (the API has no "changed since"
  filter for them; they are small). Their cursor is the next page within this sync.
- tickets: `GET /api/v2/tickets?updated_since=&order_by=updated_at&order_type=asc
  &include=stats,description,requester`, and for each ticket of a page its
  `GET /api/v2/tickets/{id}/conversations` (all their pages; none on a 404, a ticket
  deleted for good since): one stored page holds the tickets and their conversations, so
  a ticket lands whole. The list answers at most 300
  pages, and a page number shifts when a ticket changes mid-sync (it moves to the end), so
  the cursor is not a page number: after each page it moves `updated_since` to the newest
  `updated_at` seen and starts again at page 1, skipping the tickets already read at that
  very second (kept in the cursor). Only when a whole page shares one second does it turn
  the page. A finished sync leaves `updated_since` OVERLAP before the newest change, so the
  next one reads the last minutes again (landing is idempotent: they count as unchanged).
- spam_tickets, deleted_tickets: the same list with `filter=spam` / `filter=deleted` (the
  plain list leaves them out), so a ticket deleted after it was synced becomes `deleted`.
- satisfaction_ratings: `GET /api/v2/surveys/satisfaction_ratings?created_since=`, paged;
  a finished sync moves `created_since` to OVERLAP before the newest rating.

Rate limits (429 with Retry-After) and retries are the Client's (`_http.py`); the end of a
list is Freshdesk's `Link: <...>; rel="next"` header, absent on the last page.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cxmetrics.connectors._http import Client
from cxmetrics.connectors._sync import Fetched, Source, kept_pages
from cxmetrics.connectors.freshdesk import LOOKUPS, VENDOR
from cxmetrics.errors import ConnectorError
from cxmetrics.settings import Settings

PER_PAGE = 100  # the API's largest page
OVERLAP = timedelta(minutes=5)  # read again at the next sync: changes the API lists a little late
TICKET_INCLUDE = "stats,description,requester"  # stats: status times; description: the opening message
_NEXT = re.compile(r'<[^>]*>\s*;\s*rel="?next"?', re.IGNORECASE)


def source(settings: Settings | None = None) -> Source:
    """Freshdesk's streams, lookups before the tickets read against them."""
    return Source(VENDOR, (
        Listing("ticket_fields", "/api/v2/ticket_fields", paged=False),
        Listing("groups", "/api/v2/groups"),
        Listing("agents", "/api/v2/agents"),
        Tickets("tickets"),
        Tickets("spam_tickets", filter="spam", conversations=False),
        Tickets("deleted_tickets", filter="deleted", conversations=False),
        Ratings(),
    ), context=lambda con: kept_pages(con, VENDOR, *LOOKUPS))


def _has_next(client: Client) -> bool:
    """Whether the last answer's Link header names a next page."""
    return bool(_NEXT.search(client.last_headers.get("link", "")))


def _iso(ts: datetime) -> str:
    """The API's form of a time: 2025-03-03T09:00:00Z."""
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(value: Any) -> datetime | None:
    """A time the API sent, or None when it is missing or not a time (the converter
    quarantines such an object; the cursor just does not move for it)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)


def _array(body: Any, path: str) -> list[Any]:
    if not isinstance(body, list):
        raise ConnectorError(f"freshdesk answered GET {path} with {type(body).__name__}, not a list; check base_url "
                             "in [connectors.freshdesk] points at the account (https://acme.freshdesk.com).")
    return body


@dataclass(frozen=True)
class Listing:
    """A small list read whole each sync (ticket fields, groups, agents)."""

    name: str
    path: str
    paged: bool = True

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        page = int(cursor or 1)
        params = {"per_page": PER_PAGE, "page": page} if self.paged else None
        objs = _array(client.get(self.path, params), self.path)
        more = self.paged and bool(objs) and _has_next(client)
        # finished: no cursor, so the next sync reads the whole list again
        return Fetched([objs] if objs else [], len(objs), str(page + 1) if more else None, not more)


@dataclass(frozen=True)
class _TicketCursor:
    """Where the ticket list continues: `since` (updated_since), the page at it, the ids
    read at exactly `since` (so a restart at page 1 skips them) and the newest change seen."""

    since: str
    page: int = 1
    seen: tuple[int, ...] = ()
    newest: str | None = None

    @classmethod
    def parse(cls, cursor: str | None, since: datetime) -> _TicketCursor:
        if not cursor:
            return cls(_iso(since))
        d = json.loads(cursor)
        return cls(d["since"], int(d.get("page", 1)), tuple(d.get("seen", ())), d.get("newest"))

    def dump(self) -> str:
        return json.dumps({"since": self.since, "page": self.page, "seen": list(self.seen), "newest": self.newest})


@dataclass(frozen=True)
class Tickets:
    """The ticket list (optionally a predefined `filter`) by updated_at, each page with its
    tickets' conversations (see the module's docstring for the cursor)."""

    name: str
    filter: str | None = None
    conversations: bool = True

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        at = _TicketCursor.parse(cursor, since)
        params: dict[str, Any] = {"updated_since": at.since, "order_by": "updated_at", "order_type": "asc",
                                  "per_page": PER_PAGE, "page": at.page, "include": TICKET_INCLUDE}
        if self.filter:
            params["filter"] = self.filter
        listed = _array(client.get("/api/v2/tickets", params), "/api/v2/tickets")
        more = bool(listed) and _has_next(client)
        since_ts = _when(at.since)
        fresh = [t for t in listed if not (isinstance(t, dict) and t.get("id") in at.seen
                                           and _when(t.get("updated_at")) == since_ts)]
        times = [ts for ts in (_when(t.get("updated_at")) for t in listed if isinstance(t, dict)) if ts is not None]
        page_newest = max(times, default=None)
        newest = max([ts for ts in (page_newest, _when(at.newest)) if ts is not None], default=None)
        if not more:
            # done for now: the next sync starts OVERLAP before the newest change seen
            nxt = _TicketCursor(_iso(newest - OVERLAP) if newest else at.since, newest=_iso(newest) if newest else None)
        elif page_newest is not None and since_ts is not None and page_newest > since_ts:
            # move updated_since up to this page's newest change; skip what was read at that second
            ids = tuple(t["id"] for t in listed if isinstance(t, dict) and _when(t.get("updated_at")) == page_newest)
            nxt = _TicketCursor(_iso(page_newest), 1, ids, _iso(newest) if newest else None)
        else:
            # the whole page changed at `since` (a bulk update): turn the page
            ids = tuple(t["id"] for t in listed if isinstance(t, dict))
            nxt = _TicketCursor(at.since, at.page + 1, tuple(dict.fromkeys(at.seen + ids)), at.newest)
        if not fresh:
            return Fetched([], 0, nxt.dump(), not more)
        body: dict[str, Any] = {"tickets": fresh}
        if self.conversations:
            body["conversations"] = [c for t in fresh if isinstance(t, dict) and t.get("id") is not None
                                     for c in _conversations(client, t["id"])]
        return Fetched([body], len(fresh), nxt.dump(), not more)


def _conversations(client: Client, ticket_id: Any) -> list[Any]:
    """Every conversation (replies and notes) of a ticket, all pages; none for a ticket
    deleted for good since the list named it (404)."""
    path = f"/api/v2/tickets/{ticket_id}/conversations"
    out: list[Any] = []
    page = 1
    while True:
        body = client.get(path, {"per_page": PER_PAGE, "page": page}, missing_ok=True)
        if body is None:
            return out
        got = _array(body, path)
        out += got
        if not got or not _has_next(client):
            return out
        page += 1


@dataclass(frozen=True)
class Ratings:
    """Satisfaction ratings created since the cursor, page by page."""

    name: str = "satisfaction_ratings"
    path: str = "/api/v2/surveys/satisfaction_ratings"

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        d = json.loads(cursor) if cursor else {"since": _iso(since), "page": 1, "newest": None}
        params = {"created_since": d["since"], "per_page": PER_PAGE, "page": d["page"]}
        got = _array(client.get(self.path, params), self.path)
        more = bool(got) and _has_next(client)
        times = [ts for ts in (_when(r.get("created_at")) for r in got if isinstance(r, dict)) if ts is not None]
        newest = max([ts for ts in (*times, _when(d["newest"])) if ts is not None], default=None)
        if more:
            nxt = {"since": d["since"], "page": d["page"] + 1, "newest": _iso(newest) if newest else None}
        else:
            nxt = {"since": _iso(newest - OVERLAP) if newest else d["since"], "page": 1,
                   "newest": _iso(newest) if newest else None}
        return Fetched([got] if got else [], len(got), json.dumps(nxt), not more)
