"""A fake Freshdesk REST API v2 for the sync tests: an ASGI app over an in-memory
dataset the test builds, answering the endpoints `freshdesk_sync.py` reads the way the
API reference describes them:

- Basic auth with the API key as user and `X` as password, else 401;
- list endpoints answer a bare JSON array, `page` / `per_page` (at most 100, else 400),
  and a `Link: <...>; rel="next"` header on every page but the last; `page_size` makes
  the pages smaller than asked, so a small dataset spans many pages;
- GET /api/v2/tickets: `updated_since` (else only tickets created in the last 30 days),
  `order_by` created_at|updated_at (default created_at), `order_type` asc|desc (default
  desc), `filter` spam|deleted (spam and deleted tickets are left out otherwise),
  `include` stats|description|requester (without them the list has no stats, no
  description and no requester), pages past the 300th (`max_ticket_page`) refused with 400;
- GET /api/v2/tickets/{id}/conversations, /agents, /groups (paged), /ticket_fields (not);
- GET /api/v2/surveys/satisfaction_ratings: `created_since` (else the last 30 days);
- rate limit: `rate_limit` credits per `window_s` (each request 1, each include 1 more),
  counted in X-Ratelimit-Total / -Remaining / -Used-CurrentRequest; past it 429 with
  Retry-After (whole seconds to the window's end). `clock` is the time source, so a test
  can move time on where the client sleeps.
"""

from __future__ import annotations

import base64
import copy
import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MAX_PER_PAGE = 100
MAX_TICKET_PAGE = 300


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeFreshdesk:
    """The dataset (lists of objects as the API's view endpoints give them; tickets carry
    `stats`, `description`, `description_text` and `requester`, which the list shows only
    when included) and the app serving it."""

    def __init__(self, *, api_key: str, tickets: list[dict[str, Any]], conversations: list[dict[str, Any]],
                 agents: list[dict[str, Any]], groups: list[dict[str, Any]], ticket_fields: list[dict[str, Any]],
                 ratings: list[dict[str, Any]], page_size: int = MAX_PER_PAGE, rate_limit: int | None = None,
                 window_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 now: datetime | None = None, max_ticket_page: int = MAX_TICKET_PAGE) -> None:
        self.api_key, self.page_size, self.max_ticket_page = api_key, page_size, max_ticket_page
        self.tickets = {t["id"]: copy.deepcopy(t) for t in tickets}
        self.conversations = [copy.deepcopy(c) for c in conversations]
        self.agents, self.groups, self.ticket_fields = agents, groups, ticket_fields
        self.ratings = [copy.deepcopy(r) for r in ratings]
        self.rate_limit, self.window_s, self.clock = rate_limit, window_s, clock
        self.now = now or datetime.now(timezone.utc)
        self.throttled = 0  # 429s answered
        self._window: tuple[float, int] | None = None  # (start, credits used)
        self.app = Starlette(routes=[
            Route("/api/v2/tickets", self.list_tickets),
            Route("/api/v2/tickets/{ticket_id:int}/conversations", self.list_conversations),
            Route("/api/v2/agents", self.list_agents),
            Route("/api/v2/groups", self.list_groups),
            Route("/api/v2/ticket_fields", self.list_ticket_fields),
            Route("/api/v2/surveys/satisfaction_ratings", self.list_ratings),
        ])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    # -- changes a test makes between syncs -----------------------------------------------

    def add_conversation(self, conversation: dict[str, Any]) -> None:
        """A new reply or note; its ticket's updated_at moves to the conversation's time."""
        self.conversations.append(copy.deepcopy(conversation))
        self.tickets[conversation["ticket_id"]]["updated_at"] = conversation["updated_at"]

    def purge_ticket(self, ticket_id: int) -> None:
        """Delete a ticket for good (emptied from the trash): the API then answers 404 for it."""
        del self.tickets[ticket_id]
        self.conversations = [c for c in self.conversations if c["ticket_id"] != ticket_id]

    def update_ticket(self, ticket_id: int, updated_at: str, **fields: Any) -> None:
        t = self.tickets[ticket_id]
        for k, v in fields.items():
            if k == "stats":
                t["stats"] = {**t["stats"], **v}
            else:
                t[k] = v
        t["updated_at"] = updated_at

    # -- the API --------------------------------------------------------------------------

    def _refused(self, request: Request, credits: int) -> JSONResponse | None:
        """401 without the right key; 429 past the rate limit."""
        unknown = self._unauthorized(request)
        if unknown is not None:
            return unknown
        if self.rate_limit is None:
            return None
        now = self.clock()
        if self._window is None or now - self._window[0] >= self.window_s:
            self._window = (now, 0)
        start, used = self._window
        if used + credits > self.rate_limit:
            self.throttled += 1
            wait = max(1, math.ceil(start + self.window_s - now))
            return JSONResponse({"code": "rate_limit_exceeded", "message": "You have exceeded the limit of requests "
                                 "per minute"}, status_code=429, headers={"Retry-After": str(wait)})
        self._window = (start, used + credits)
        return None

    def _unauthorized(self, request: Request) -> JSONResponse | None:
        want = "Basic " + base64.b64encode(f"{self.api_key}:X".encode()).decode()
        if request.headers.get("authorization") == want:
            return None
        return JSONResponse({"code": "invalid_credentials", "message": "You have to be logged in to perform this "
                             "action."}, status_code=401)

    def _headers(self, credits: int) -> dict[str, str]:
        if self.rate_limit is None:
            return {}
        used = self._window[1] if self._window else 0
        return {"X-Ratelimit-Total": str(self.rate_limit), "X-Ratelimit-Remaining": str(self.rate_limit - used),
                "X-Ratelimit-Used-CurrentRequest": str(credits)}

    def _page(self, request: Request, items: list[Any], credits: int = 1, max_page: int | None = None) -> JSONResponse:
        refused = self._refused(request, credits)
        if refused is not None:
            return refused
        q = request.query_params
        try:
            per_page, page = int(q.get("per_page", "30")), int(q.get("page", "1"))
        except ValueError:
            return _invalid("page", "It should be a positive number")
        if not 1 <= per_page <= MAX_PER_PAGE:
            return _invalid("per_page", f"It should be a Positive Integer less than or equal to {MAX_PER_PAGE}")
        if page < 1:
            return _invalid("page", "It should be a Positive Integer")
        if max_page is not None and page > max_page:
            return _invalid("page", f"You cannot access tickets beyond the {max_page}th page. Please provide a "
                            "smaller page number.")
        size = min(per_page, self.page_size)
        chunk = items[(page - 1) * size: page * size]
        headers = self._headers(credits)
        if page * size < len(items):
            nxt = {**dict(q), "page": str(page + 1)}
            headers["Link"] = f'<{request.url.replace(query=urlencode(nxt))}>; rel="next"'
        return JSONResponse(chunk, headers=headers)

    async def list_agents(self, request: Request) -> JSONResponse:
        return self._page(request, self.agents)

    async def list_groups(self, request: Request) -> JSONResponse:
        return self._page(request, self.groups)

    async def list_ticket_fields(self, request: Request) -> JSONResponse:
        refused = self._refused(request, 1)
        return refused or JSONResponse(self.ticket_fields, headers=self._headers(1))

    async def list_tickets(self, request: Request) -> JSONResponse:
        unknown = self._unauthorized(request)
        if unknown is not None:
            return unknown
        q = request.query_params
        include = [i for i in q.get("include", "").split(",") if i]
        if any(i not in ("stats", "description", "requester") for i in include):
            return _invalid("include", "It should be one of these values: 'requester,stats,description'")
        what = q.get("filter")
        if what == "spam":
            chosen = [t for t in self.tickets.values() if t.get("spam") and not t.get("deleted")]
        elif what == "deleted":
            chosen = [t for t in self.tickets.values() if t.get("deleted")]
        elif what is None:
            chosen = [t for t in self.tickets.values() if not t.get("spam") and not t.get("deleted")]
        else:
            return _invalid("filter", "It should be one of these values: 'new_and_my_open,watching,spam,deleted'")
        if "updated_since" in q:
            since = _ts(q["updated_since"])
            chosen = [t for t in chosen if _ts(t["updated_at"]) >= since]
        else:
            chosen = [t for t in chosen if _ts(t["created_at"]) >= self.now - timedelta(days=30)]
        key = q.get("order_by", "created_at")
        if key not in ("created_at", "updated_at"):
            return _invalid("order_by", "It should be one of these values: 'created_at,updated_at'")
        chosen.sort(key=lambda t: (_ts(t[key]), t["id"]), reverse=q.get("order_type", "desc") == "desc")
        shown = [_shown(t, include) for t in chosen]
        return self._page(request, shown, credits=1 + len(include), max_page=self.max_ticket_page)

    async def list_conversations(self, request: Request) -> JSONResponse:
        tid = request.path_params["ticket_id"]
        if tid not in self.tickets:
            refused = self._refused(request, 1)
            return refused or JSONResponse({"code": "access_denied"}, status_code=404)
        convs = sorted((c for c in self.conversations if c["ticket_id"] == tid),
                       key=lambda c: (c["created_at"], c["id"]))
        return self._page(request, convs)

    async def list_ratings(self, request: Request) -> JSONResponse:
        q = request.query_params
        since = _ts(q["created_since"]) if "created_since" in q else self.now - timedelta(days=30)
        chosen = sorted((r for r in self.ratings if _ts(r["created_at"]) >= since),
                        key=lambda r: (r["created_at"], r["id"]))
        return self._page(request, chosen)


def _shown(ticket: dict[str, Any], include: list[str]) -> dict[str, Any]:
    """A ticket as the list shows it: stats, description and requester only when included."""
    t = copy.deepcopy(ticket)
    if "stats" not in include:
        t.pop("stats", None)
    if "description" not in include:
        t.pop("description", None)
        t.pop("description_text", None)
    if "requester" not in include:
        t.pop("requester", None)
    return t


def _invalid(field: str, message: str) -> JSONResponse:
    return JSONResponse({"description": "Validation failed",
                         "errors": [{"field": field, "message": message, "code": "invalid_value"}]}, status_code=400)
