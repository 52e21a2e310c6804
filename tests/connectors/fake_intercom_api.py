"""A fake Intercom REST API for the sync tests, served with `_fake_api.serve`.

It answers what `intercom_sync` reads, as Intercom's reference (API 2.11) describes it:

- `POST /conversations/search`: a `query` of single filters (`field`, `operator`,
  `value`) or AND/OR groups of them, on `id`, `created_at`, `updated_at` and `state`;
  Intercom documents `>` and `<` on dates as "greater (or equal)" and "lower (or
  equal)", and so does this. `sort` {field, order ascending|descending} (default
  descending; another order is a 400 `invalid_sort_order`). `pagination` {per_page
  (default 20, at most 150), starting_after}; the answer's `pages.next.starting_after`
  continues the SAME query only (another query with it is a 400), and is stateless:
  it names the last conversation's place in the order, so one updated meanwhile moves.
  Listed conversations carry no `conversation_parts`.
- `GET /conversations/{id}`: the conversation with its parts, at most 500 of them
  (`total_count` says how many there are); 404 `not_found` for an unknown id.
- `GET /admins`, `GET /teams`: whole lists.
- `POST /contacts/search`: a `query` `{"field": "id", "operator": "IN", "value": [ids]}`
  (the one the sync sends), answered as a contacts `list` (`data`, `pages`); per_page at
  most 150. `contact_searches` holds each body.

Every request needs `Authorization: Bearer TOKEN` (401 `unauthorized` otherwise).
With `rate_limit=(n, window_s)` at most n requests are answered per window; the next
get 429 with `X-RateLimit-Reset` (the window's end, Unix seconds) and no Retry-After,
as Intercom does; authenticated answers carry X-RateLimit-Limit/Remaining/Reset.
`page_size` caps every search page, so a test's few dozen conversations span many pages.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import threading
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

FIXTURE = Path(__file__).parent / "fixtures" / "intercom"
PARTS_CAP = 500  # "There is a limit of 500 parts" (Intercom's conversation_parts model)
Conversation = dict[str, Any]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"type": "error.list", "request_id": "fake", "errors": [{"code": code, "message": message}]},
                        status_code=status, headers=headers)


class FakeIntercom:
    """The fake API over an in-memory dataset; `searches` holds each search's body and
    `versions` each request's Intercom-Version, for the tests to look at."""

    def __init__(self, conversations: list[Conversation], admins: list[dict[str, Any]], teams: list[dict[str, Any]],
                 *, token: str, page_size: int = 150, rate_limit: tuple[int, float] | None = None,
                 missing: set[str] | None = None, contacts: list[dict[str, Any]] | None = None) -> None:
        self.conversations = {str(c["id"]): copy.deepcopy(c) for c in conversations}
        self.admins, self.teams, self.token = copy.deepcopy(admins), copy.deepcopy(teams), token
        self.page_size, self.rate_limit = page_size, rate_limit
        self.missing = set(missing or ())  # listed by the search, gone when retrieved (deleted meanwhile)
        self.searches: list[dict[str, Any]] = []
        self.contacts = {str(c["id"]): copy.deepcopy(c) for c in contacts or []}
        self.contact_searches: list[dict[str, Any]] = []
        self.versions: list[str | None] = []
        self.limited = 0  # requests answered 429
        self._window: tuple[int, int] = (0, 0)  # (window number, requests in it)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route("/conversations/search", self.search, methods=["POST"]),
            Route("/contacts/search", self.search_contacts, methods=["POST"]),
            Route("/conversations/{cid}", self.retrieve, methods=["GET"]),
            Route("/admins", self.list_admins, methods=["GET"]),
            Route("/teams", self.list_teams, methods=["GET"]),
        ])

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    # -- changes a test makes between syncs -------------------------------------------

    def add_part(self, cid: str, part: dict[str, Any], *, state: str | None = None) -> None:
        """Append a part (its created_at becomes the conversation's updated_at)."""
        with self._lock:
            c = self.conversations[cid]
            c["conversation_parts"]["conversation_parts"].append(part)
            c["conversation_parts"]["total_count"] = len(c["conversation_parts"]["conversation_parts"])
            c["updated_at"] = part["created_at"]
            if state is not None:
                c["state"], c["open"] = state, state != "closed"

    # -- plumbing ----------------------------------------------------------------------

    def _gate(self, request: Request) -> tuple[JSONResponse | None, dict[str, str]]:
        """(a 401 or 429 answer, or None; the rate-limit headers of an answer)."""
        self.versions.append(request.headers.get("intercom-version"))
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "unauthorized", "Access Token Invalid"), {}
        if self.rate_limit is None:
            return None, {}
        limit, window_s = self.rate_limit
        with self._lock:
            window = int(time.time() // window_s)
            n = self._window[1] + 1 if self._window[0] == window else 1
            self._window = (window, n)
            reset = str(math.ceil((window + 1) * window_s))
            headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(max(limit - n, 0)),
                       "X-RateLimit-Reset": reset}
            if n > limit:
                self.limited += 1
                return _error(429, "rate_limit_exceeded", f"Exceeded rate limit of {limit} in {window_s}_seconds",
                              headers), headers
        return None, headers

    async def list_admins(self, request: Request) -> JSONResponse:
        refused, headers = self._gate(request)
        return refused or JSONResponse({"type": "admin.list", "admins": self.admins}, headers=headers)

    async def list_teams(self, request: Request) -> JSONResponse:
        refused, headers = self._gate(request)
        return refused or JSONResponse({"type": "team.list", "teams": self.teams}, headers=headers)

    async def retrieve(self, request: Request) -> JSONResponse:
        refused, headers = self._gate(request)
        if refused:
            return refused
        cid = request.path_params["cid"]
        with self._lock:
            c = copy.deepcopy(self.conversations.get(cid))
        if c is None or cid in self.missing:
            return _error(404, "not_found", "Resource Not Found", headers)
        parts = c.get("conversation_parts") or {"type": "conversation_part.list", "conversation_parts": []}
        every = parts.get("conversation_parts") or []
        c["conversation_parts"] = {**parts, "conversation_parts": every[:PARTS_CAP], "total_count": len(every)}
        return JSONResponse(c, headers=headers)

    async def search_contacts(self, request: Request) -> JSONResponse:
        refused, headers = self._gate(request)
        if refused:
            return refused
        body = await request.json()
        self.contact_searches.append(body)
        query = body.get("query") if isinstance(body, dict) else None
        per_page = int((body.get("pagination") or {}).get("per_page", 50))
        if not isinstance(query, dict) or query.get("field") != "id" or query.get("operator") != "IN" \
                or not isinstance(query.get("value"), list) or not 1 <= per_page <= 150:
            return _error(400, "query_invalid", "this fake answers id IN [...] with per_page 1-150", headers)
        with self._lock:
            found = [copy.deepcopy(self.contacts[str(i)]) for i in query["value"] if str(i) in self.contacts]
        return JSONResponse({"type": "list", "data": found[:per_page], "total_count": len(found),
                             "pages": {"type": "pages", "page": 1, "per_page": per_page,
                                       "total_pages": max(math.ceil(len(found) / per_page), 1)}}, headers=headers)

    async def search(self, request: Request) -> JSONResponse:
        refused, headers = self._gate(request)
        if refused:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "parameter_invalid", "Body is not JSON", headers)
        self.searches.append(body)
        query, sort = body.get("query"), body.get("sort") or {}
        if not isinstance(query, dict):
            return _error(400, "parameter_not_found", "query parameter is required", headers)
        field, order = sort.get("field", "updated_at"), sort.get("order", "descending")
        if order not in ("ascending", "descending"):
            return _error(400, "invalid_sort_order", f"Invalid sort order '{order}'. Must be one of: ascending, "
                          "descending", headers)
        paging = body.get("pagination") or {}
        per_page = int(paging.get("per_page", 20))
        if not 1 <= per_page <= 150:
            return _error(400, "parameter_invalid", "per_page must be between 1 and 150", headers)
        per_page = min(per_page, self.page_size)
        context = hashlib.sha256(json.dumps([query, field, order], sort_keys=True).encode()).hexdigest()[:16]
        with self._lock:
            try:
                found = [c for c in self.conversations.values() if _matches(c, query)]
            except (KeyError, TypeError, ValueError) as exc:
                return _error(400, "query_invalid", f"query is malformed: {exc}", headers)
            found.sort(key=lambda c: (c.get(field), int(c["id"])), reverse=order == "descending")
            listed = [{k: v for k, v in copy.deepcopy(c).items() if k != "conversation_parts"} for c in found]
        page, start = 1, 0
        if paging.get("starting_after"):
            try:
                mark = json.loads(base64.b64decode(paging["starting_after"]))
            except ValueError:
                return _error(400, "parameter_invalid", "starting_after is not a cursor", headers)
            if mark["q"] != context:
                return _error(400, "parameter_invalid", "starting_after belongs to another query", headers)
            key = tuple(mark["key"])
            page = mark["page"] + 1
            later = [i for i, c in enumerate(listed) if ((c.get(field), int(c["id"])) > key if order == "ascending"
                                                          else (c.get(field), int(c["id"])) < key)]
            start = later[0] if later else len(listed)
        chunk = listed[start:start + per_page]
        pages: dict[str, Any] = {"type": "pages", "page": page, "per_page": per_page,
                                 "total_pages": max(math.ceil(len(listed) / per_page), 1)}
        if start + per_page < len(listed):
            last = chunk[-1]
            mark = {"q": context, "key": [last.get(field), int(last["id"])], "page": page}
            pages["next"] = {"page": page + 1, "starting_after": base64.b64encode(json.dumps(mark).encode()).decode()}
        return JSONResponse({"type": "conversation.list", "pages": pages, "total_count": len(listed),
                             "conversations": chunk}, headers=headers)


def _matches(c: Conversation, q: dict[str, Any]) -> bool:
    """Whether a conversation matches a search query (the operators the fields here take)."""
    if q.get("operator") in ("AND", "OR"):
        results = [_matches(c, sub) for sub in q["value"]]
        return all(results) if q["operator"] == "AND" else any(results)
    field, op, value = q["field"], q["operator"], q["value"]
    have = c.get(field)
    if field in ("created_at", "updated_at"):
        have, value = int(have), int(value)
    if op == "=":
        return bool(have == value)
    if op == "!=":
        return bool(have != value)
    if op == ">":
        return bool(have >= value)  # "Greater (or equal) than", as the reference says
    if op == "<":
        return bool(have <= value)
    raise ValueError(f"operator {op!r} is not supported on {field}")


# -- the dataset ---------------------------------------------------------------------------


def fixture_conversations() -> list[Conversation]:
    """The five conversations of fixtures/intercom/conversations.jsonl, as retrieved."""
    lines = (FIXTURE / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def lookups() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(admins, teams) of the fixture."""
    admins = json.loads((FIXTURE / "admins.json").read_text(encoding="utf-8"))["admins"]
    teams = json.loads((FIXTURE / "teams.json").read_text(encoding="utf-8"))["teams"]
    return admins, teams


def part(pid: str, kind: str, at: int, author: dict[str, Any], body: str | None = None,
         assigned_to: dict[str, Any] | None = None) -> dict[str, Any]:
    """A conversation part in Intercom's shape."""
    return {"type": "conversation_part", "id": pid, "part_type": kind, "body": body, "created_at": at,
            "updated_at": at, "notified_at": at, "assigned_to": assigned_to, "author": author, "attachments": [],
            "external_id": None, "redacted": False}


ANA = {"type": "admin", "id": "7001", "name": "Ana Costa", "email": "ana@example.com"}
BEN = {"type": "admin", "id": "7002", "name": "Ben Okafor", "email": "ben@example.com"}


def generated(n: int, *, start: int = 1742036400) -> list[Conversation]:
    """n more conversations (ids 201...), made by a rule so each is easy to check by hand:
    conversation k (0-based) is created at start + k * 7 h by contact c-(k % 3 + 1); its
    admin (Ana for even k, Ben for odd) replies 10 * (k % 5 + 1) minutes later; k % 3 == 0
    is then closed by the admin, k % 3 == 1 snoozed, k % 3 == 2 left open; k % 4 == 0 is
    rated k % 5 + 1. Pairs (k, k + 1) for even k share updated_at (the later time of the
    two), so search pages break inside runs of equal times."""
    out: list[Conversation] = []
    for k in range(n):
        cid, created = str(201 + k), start + k * 7 * 3600
        admin, team = (ANA, "9001") if k % 2 == 0 else (BEN, "9002")
        contact = f"c-{k % 3 + 1}"
        reply_at = created + 600 * (k % 5 + 1)
        parts = [part(f"{cid}01", "comment", reply_at, admin, f"<p>Answer {k}</p>")]
        state = "open"
        if k % 3 == 0:
            parts.append(part(f"{cid}02", "close", reply_at + 60, admin))
            state = "closed"
        elif k % 3 == 1:
            parts.append(part(f"{cid}02", "snoozed", reply_at + 60, admin))
            state = "snoozed"
        rating = None
        if k % 4 == 0:
            rating = {"rating": k % 5 + 1, "remark": f"remark {k}", "created_at": reply_at + 120,
                      "contact": {"type": "contact", "id": contact}, "teammate": {"type": "admin", "id": admin["id"]}}
        out.append({
            "type": "conversation", "id": cid, "title": None, "created_at": created, "updated_at": 0,
            "waiting_since": None, "snoozed_until": None, "open": state != "closed", "state": state, "read": True,
            "priority": "priority" if k % 7 == 0 else "not_priority", "admin_assignee_id": int(admin["id"]),
            "team_assignee_id": team, "tags": {"type": "tag.list", "tags": []}, "conversation_rating": rating,
            "source": {"type": "email" if k % 2 else "conversation", "id": f"5{cid}",
                       "delivered_as": "customer_initiated", "subject": "", "body": f"<p>Question {k}</p>",
                       "author": {"type": "user", "id": contact, "name": None, "email": None}, "attachments": [],
                       "url": None, "redacted": False},
            "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": contact}]},
            "teammates": {"type": "admin.list", "teammates": [{"type": "admin", "id": admin["id"]}]},
            "ai_agent_participated": False,
            "conversation_parts": {"type": "conversation_part.list", "total_count": len(parts),
                                   "conversation_parts": parts},
        })
    for k in range(0, n, 2):
        pair = out[k:k + 2]
        shared = max(p["conversation_parts"]["conversation_parts"][-1]["created_at"] for p in pair)
        for c in pair:
            c["updated_at"] = shared
    return out


def dataset(n: int = 30) -> list[Conversation]:
    """The fixture's five conversations and n generated ones."""
    return fixture_conversations() + generated(n)
