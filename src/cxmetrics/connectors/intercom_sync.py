"""Intercom live sync: teams, admins, then the conversations changed since the last sync.

Read through Intercom's REST API (https://api.intercom.io, or the EU/AU address as
[connectors.intercom] base_url), signed in with a Bearer token and `Intercom-Version`:

- `GET /teams` and `GET /admins`: whole lists (neither is paginated), read every sync;
  teams are kept (`intercom.convert` keeps them) so every later landing names teams.
- `POST /conversations/search` with `updated_at > SINCE`, sorted by `updated_at`
  ascending, 50 a page (see PER_PAGE), continued with `pages.next.starting_after`.
  A search's cursor only continues the same query, so the stream's cursor holds the
  query's SINCE with it. When a search is exhausted the next sync starts a new search
  from the newest `updated_at` the search listed, less OVERLAP_S: Intercom's `>` also
  matches the second itself, and a conversation updated while a search pages on may be
  listed late; landing is idempotent, so what is read twice counts as unchanged.
- `GET /conversations/{id}` for each conversation of a search page (the page's
  sub-requests): search results carry no `conversation_parts`, a retrieved
  conversation does, with its `statistics` and `conversation_rating`. Intercom returns
  at most 500 parts of a conversation (`total_count` says how many it has); the parts
  it returns are landed, and no API call gives the rest. A conversation deleted between
  the search and its retrieval (404) is left out.
- `POST /contacts/search` with `id IN [...]` for the contacts the page's conversations
  name (a conversation gives only their ids): their customers rows (email, name, locale).

Every page is stored as `conversation.list` with the retrieved conversations, and its
contacts as a contacts `list`: the shapes `intercom.convert` reads from files too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from cxmetrics.connectors._http import Client
from cxmetrics.connectors._sync import Fetched, Source, kept_pages
from cxmetrics.errors import ConnectorError
from cxmetrics.settings import Settings

VENDOR = "intercom"
# conversations a search page lists (Intercom allows up to 150): each is then retrieved whole,
# and the engine lands every 50 pages, so 50 keeps a landing at 2,500 whole conversations
PER_PAGE = 50
OVERLAP_S = 300  # a new search starts this far before the newest updated_at already read
CONTACTS_PER_SEARCH = 150  # ids in one contacts search: its largest page, so one page answers it


@dataclass  # not frozen: the engine's Stream protocol declares `name` a plain attribute
class Lookup:
    """A list Intercom returns whole in one response (`GET /teams`, `GET /admins`)."""

    name: str
    path: str

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        """The whole list, every sync (a renamed team or admin must reach the store)."""
        body = client.get(self.path)
        items = body.get(self.name) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ConnectorError(f"intercom answered GET {self.path} without a {self.name} list; check base_url "
                                 "in [connectors.intercom] (https://api.intercom.io, or the EU or AU address).")
        return Fetched([body], len(items), None, True)


@dataclass(frozen=True)
class SearchCursor:
    """Where the conversations stream stands: the search's lower bound (`since`, Unix
    seconds), its `starting_after` (None: start the search), and the newest
    `updated_at` it has listed."""

    since: int
    after: str | None
    newest: int

    def dump(self) -> str:
        return json.dumps({"since": self.since, "after": self.after, "newest": self.newest})

    @classmethod
    def load(cls, text: str | None, since: datetime) -> SearchCursor:
        """The stored cursor; before the first sync, a new search from `since`."""
        start = int(since.timestamp())
        if text is None:
            return cls(start, None, start)
        try:
            raw = json.loads(text)
            return cls(int(raw["since"]), raw.get("after") or None, int(raw["newest"]))
        except (ValueError, TypeError, KeyError):
            return cls(start, None, start)  # not one this version wrote: read again from the start (idempotent)


@dataclass
class Conversations:
    """Conversations changed since the cursor, one search page (and the retrieval of
    each of its conversations) per fetch."""

    name: str = "conversations"
    per_page: int = PER_PAGE

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        at = SearchCursor.load(cursor, since)
        try:
            page = self._search(client, at)
        except ConnectorError:
            if at.after is None:
                raise
            # a cursor Intercom no longer takes (a sync resumed long after it stopped): the same
            # search from its start; the pages read already land again as unchanged
            at = SearchCursor(at.since, None, at.newest)
            page = self._search(client, at)
        listed = page.get("conversations") if isinstance(page, dict) else None
        if not isinstance(listed, list):
            raise ConnectorError("intercom answered POST /conversations/search without a conversations list; check "
                                 "base_url in [connectors.intercom].")
        whole: list[Any] = []
        newest = at.newest
        for c in listed:
            if not isinstance(c, dict) or c.get("id") in (None, ""):
                whole.append(c)  # the converter quarantines it with its reason
                continue
            updated = c.get("updated_at")
            if isinstance(updated, int) and not isinstance(updated, bool):
                newest = max(newest, updated)  # as the search listed it: what its order follows
            full = client.get(f"/conversations/{quote(str(c['id']), safe='')}", missing_ok=True)
            if full is not None:
                whole.append(full)
        pages_of = page.get("pages")
        nxt = pages_of.get("next") if isinstance(pages_of, dict) else None
        after = nxt.get("starting_after") if isinstance(nxt, dict) else None
        pages = [{**page, "conversations": whole}] if whole else []
        contacts = _contacts(client, whole)
        if contacts:  # stored with the page: the customers rows land with their conversations
            pages.append({"type": "list", "data": contacts})
        if after and listed:
            return Fetched(pages, len(whole), SearchCursor(at.since, str(after), newest).dump(), False)
        # the search is exhausted: the next sync searches anew from the newest seen, with an overlap
        return Fetched(pages, len(whole), SearchCursor(max(at.since, newest - OVERLAP_S), None, newest).dump(), True)

    def _search(self, client: Client, at: SearchCursor) -> Any:
        pagination: dict[str, Any] = {"per_page": self.per_page}
        if at.after is not None:
            pagination["starting_after"] = at.after
        return client.post("/conversations/search", {
            "query": {"field": "updated_at", "operator": ">", "value": at.since},
            "sort": {"field": "updated_at", "order": "ascending"},
            "pagination": pagination,
        })


def _contacts(client: Client, conversations: list[Any]) -> list[Any]:
    """The contacts the conversations name (`contacts.contacts`, ids only), read whole by
    `POST /contacts/search` with `id IN [...]`: their email, name, locale and created_at
    become customers rows. One search per page of conversations (CONTACTS_PER_SEARCH ids
    at most, each answered on one page); a contact created a few minutes ago may not be
    searchable yet (Intercom says so), and is read when its conversation changes again."""
    named = [x for c in conversations if isinstance(c, dict) and isinstance(c.get("contacts"), dict)
             for x in c["contacts"].get("contacts") or [] if isinstance(x, dict)]
    ids = sorted({str(x["id"]) for x in named if x.get("id") not in (None, "")})
    found: list[Any] = []
    for at in range(0, len(ids), CONTACTS_PER_SEARCH):
        chunk = ids[at:at + CONTACTS_PER_SEARCH]
        body = client.post("/contacts/search", {"query": {"field": "id", "operator": "IN", "value": chunk},
                                                "pagination": {"per_page": CONTACTS_PER_SEARCH}})
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ConnectorError("intercom answered POST /contacts/search without a data list; check base_url in "
                                 "[connectors.intercom].")
        found += data
    return found


def source(settings: Settings | None = None) -> Source:
    """Intercom's streams: teams and admins (the lookups) before the conversations."""
    return Source(VENDOR, (Lookup("teams", "/teams"), Lookup("admins", "/admins"), Conversations()),
                  context=lambda con: kept_pages(con, VENDOR, "teams"))
