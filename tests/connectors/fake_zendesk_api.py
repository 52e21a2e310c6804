"""A local fake of the Zendesk Support API endpoints live sync reads, served from an
in-memory dataset the test builds, with Zendesk's pagination, filtering, auth and rate
limiting as its API reference documents them:

- `GET /api/v2/users` and `/api/v2/groups`: cursor pagination (`page[size]`, `page[after]`;
  `meta.has_more`, `meta.after_cursor`, `links.next`); users filtered by `role[]`;
- `GET /api/v2/incremental/tickets/cursor.json`: `start_time` (tickets changed at or after it,
  at least a minute in the past) or `cursor`; `after_cursor`, `after_url`, `end_of_stream`;
  `include=users,groups,metric_sets` side-loads what the page's tickets reference;
- `GET /api/v2/incremental/ticket_events.json`: time-based (`start_time`; `end_time`,
  `next_page`, `end_of_stream`); comment child events only with `include=comment_events`;
- `GET /api/v2/satisfaction_ratings`: `start_time` (created at or after) and cursor pagination;
- every request needs `Authorization: Basic base64(EMAIL/token:TOKEN)` (401 otherwise);
- the incremental exports answer 429 with `Retry-After` beyond `limit` requests a window.

Page sizes are capped small (`page_cap`) so a sync of a few dozen tickets spans many pages.
https://developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/
https://developer.zendesk.com/api-reference/introduction/pagination/
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode

Scope = dict[str, Any]


def epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


@dataclass
class ZendeskData:
    """The account's objects, as Zendesk's JSON has them (tests change them between syncs)."""

    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    ticket_events: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    metric_sets: list[dict[str, Any]] = field(default_factory=list)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text.encode()).decode()


class ZendeskFake:
    """The ASGI app. `requests` counts what it answered, per path."""

    def __init__(self, data: ZendeskData, *, email: str, token: str, page_cap: int = 3,
                 limit: tuple[int, float] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.data, self.page_cap, self.limit, self.clock = data, page_cap, limit, clock
        self._auth = "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self._window: tuple[float, int] | None = None  # (started, requests) of the incremental rate window
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.rate_limited = 0
        self.retry_afters: list[int] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
        host = headers.get("host", "localhost")
        base = f"http://{host}"
        path = scope["path"]
        status, body, extra = self._answer(path, query, headers, base)
        raw = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(raw)).encode()), *extra]})
        await send({"type": "http.response.body", "body": raw})

    def _answer(self, path: str, q: dict[str, list[str]], headers: dict[str, str],
                base: str) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        if headers.get("authorization") != self._auth:
            return 401, {"error": "Couldn't authenticate you"}, []
        if path.startswith("/api/v2/incremental/") and self.limit is not None:
            wait = self._rate_limited()
            if wait is not None:
                return 429, {"error": "APIRateLimitExceeded", "description": "Rate limit for incremental exports "
                             "exceeded (10 requests per minute)."}, [(b"retry-after", str(wait).encode())]
        with self._lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            try:
                if path == "/api/v2/users":
                    roles = set(q.get("role[]", [])) or {"end-user", "agent", "admin"}
                    return 200, self._list("users", [u for u in self.data.users if u["role"] in roles], q, base,
                                           path), []
                if path == "/api/v2/groups":
                    return 200, self._list("groups", self.data.groups, q, base, path), []
                if path == "/api/v2/incremental/tickets/cursor.json":
                    return 200, self._tickets(q, base, path), []
                if path == "/api/v2/incremental/ticket_events.json":
                    return 200, self._events(q, base, path), []
                if path == "/api/v2/satisfaction_ratings":
                    start = int(q.get("start_time", ["0"])[0])
                    found = [r for r in self.data.ratings if epoch(r["created_at"]) >= start]
                    found.sort(key=lambda r: (epoch(r["created_at"]), r["id"]))
                    return 200, self._list("satisfaction_ratings", found, q, base, path), []
            except _BadRequest as exc:
                return 400, {"error": "InvalidValue", "description": str(exc)}, []
        return 404, {"error": "InvalidEndpoint", "description": "Not found"}, []

    def _rate_limited(self) -> int | None:
        """Seconds to wait when the window's requests are used up, else None (and counted)."""
        assert self.limit is not None
        allowed, window_s = self.limit
        with self._lock:
            now = self.clock()
            if self._window is None or now - self._window[0] >= window_s:
                self._window = (now, 0)
            started, used = self._window
            if used >= allowed:
                self.rate_limited += 1
                wait = max(1, math.ceil(started + window_s - now))
                self.retry_afters.append(wait)
                return wait
            self._window = (started, used + 1)
            return None

    def _size(self, q: dict[str, list[str]], key: str, default: int) -> int:
        try:
            asked = int(q.get(key, [str(default)])[0])
        except ValueError:
            raise _BadRequest(f"{key} must be a number") from None
        return max(1, min(asked, self.page_cap))

    def _list(self, key: str, items: list[dict[str, Any]], q: dict[str, list[str]], base: str,
              path: str) -> dict[str, Any]:
        """Cursor pagination over `items` in their order; the cursor names the last id given."""
        size = self._size(q, "page[size]", 100)
        after = q.get("page[after]", [""])[0]
        start = 0
        if after:
            last = int(_unb64(after))
            start = next((i + 1 for i, o in enumerate(items) if o["id"] == last), len(items))
        page = items[start:start + size]
        more = start + size < len(items)
        cursor = _b64(str(page[-1]["id"])) if page else None
        keep = {k: v for k, v in q.items() if k != "page[after]"}
        nxt = f"{base}{path}?{urlencode({**keep, 'page[after]': [cursor]}, doseq=True)}" if more else None
        return {key: page, "meta": {"has_more": more, "after_cursor": cursor if more else None,
                                    "before_cursor": _b64(str(page[0]["id"])) if page else None},
                "links": {"next": nxt, "prev": None}}

    def _tickets(self, q: dict[str, list[str]], base: str, path: str) -> dict[str, Any]:
        def key(t: dict[str, Any]) -> tuple[int, int]:
            return epoch(t["updated_at"]), t["id"]

        ordered = sorted(self.data.tickets, key=key)
        if "cursor" in q:
            ts, last = (int(x) for x in _unb64(q["cursor"][0]).split("|"))
            found = [t for t in ordered if key(t) > (ts, last)]
            position = (ts, last)
        elif "start_time" in q:
            start = int(q["start_time"][0])
            if start > time.time() - 60:
                raise _BadRequest("start_time must be at least one minute in the past")
            found = [t for t in ordered if key(t)[0] >= start]
            position = (start, 0)
        else:
            raise _BadRequest("start_time or cursor is required")
        page = found[:self._size(q, "per_page", 1000)]
        if page:
            position = key(page[-1])
        after = _b64(f"{position[0]}|{position[1]}")
        body: dict[str, Any] = {"tickets": page, "after_cursor": after,
                                "after_url": f"{base}{path}?cursor={after}", "before_cursor": None,
                                "before_url": None, "end_of_stream": len(page) == len(found)}
        include = set(",".join(q.get("include", [])).split(","))
        if "users" in include:
            ids = {t.get(k) for t in page for k in ("requester_id", "submitter_id", "assignee_id")}
            body["users"] = [u for u in self.data.users if u["id"] in ids]
        if "groups" in include:
            ids = {t.get("group_id") for t in page}
            body["groups"] = [g for g in self.data.groups if g["id"] in ids]
        if "metric_sets" in include:
            ids = {t["id"] for t in page}
            body["metric_sets"] = [m for m in self.data.metric_sets if m["ticket_id"] in ids]
        return body

    def _events(self, q: dict[str, list[str]], base: str, path: str) -> dict[str, Any]:
        if "start_time" not in q:
            raise _BadRequest("start_time is required")
        start = int(q["start_time"][0])
        if start > time.time() - 60:
            raise _BadRequest("start_time must be at least one minute in the past")
        comments = "comment_events" in ",".join(q.get("include", [])).split(",")
        found = sorted((e for e in self.data.ticket_events if e["timestamp"] >= start),
                       key=lambda e: (e["timestamp"], e["id"]))
        page = found[:self._size(q, "per_page", 1000)]
        if not comments:  # comment child events come only with the comment_events side-load
            page = [{**e, "child_events": [c for c in e["child_events"] if c["event_type"] != "Comment"]}
                    for e in page]
        end = page[-1]["timestamp"] if page else start
        return {"ticket_events": page, "count": len(page), "end_time": end, "end_of_stream": len(page) == len(found),
                "next_page": f"{base}{path}?{urlencode({**q, 'start_time': [str(end)]}, doseq=True)}"}


class _BadRequest(ValueError):
    pass
