"""A fake Chatwoot application API for the sync tests: the endpoints `chatwoot_sync`
reads, answered from an in-memory dataset the way Chatwoot answers them.

What it copies from Chatwoot (app/finders/message_finder.rb,
app/services/conversations/filter_service.rb, lib/filters/filter_keys.yml,
csat_survey_responses_controller.rb, date_range_helper.rb, config/initializers/rack_attack.rb):

- `api_access_token` header checked: 401 `{"error": "Invalid Access Token"}` otherwise;
  another account's path: 401 as well.
- agents, agent_bots, teams: bare arrays; inboxes: `{"payload": [...]}`.
- `POST /conversations/filter?page=N`: `{"payload": [{"attribute_key", "filter_operator",
  "values", "query_operator"}]}`; `last_activity_at`/`created_at` `is_greater_than` /
  `is_less_than` compare whole UTC days (`(col)::date > 'DAY'::date`), `status`
  `equal_to`; newest activity first, 25 a page, `{"data": {"meta": counts, "payload"}}`.
- messages: the latest 20 (oldest first), `before=ID` the 20 before it, `after=ID` up to
  100 after it; `{"meta": {...}, "payload": [...]}`.
- csat_survey_responses: `since`/`until` Unix seconds (a half-open range, both or none),
  `sort=created_at`, 25 a page, a bare array.
- rack-attack's throttle (`req/ip`: RACK_ATTACK_LIMIT requests a minute): more than `limit`
  requests in a `period_s` window answer 429 "Retry later"; with no Retry-After, as
  Chatwoot's configuration leaves rack-attack, unless `retry_after` (a proxy that adds it).
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

CONVERSATIONS_PER_PAGE = 25
MESSAGES_PER_PAGE = 20
CSAT_PER_PAGE = 25


class FakeChatwoot:
    """The dataset (mutable between syncs) and the ASGI app serving it (`.app`)."""

    def __init__(self, *, token: str, account_id: int, agents: list[dict[str, Any]], agent_bots: list[dict[str, Any]],
                 teams: list[dict[str, Any]], inboxes: list[dict[str, Any]], conversations: list[dict[str, Any]],
                 messages: dict[int, list[dict[str, Any]]], csat: list[dict[str, Any]],
                 limit: int | None = None, period_s: float = 1.0, retry_after: bool = False) -> None:
        self.token, self.account_id = token, account_id
        self.agents, self.agent_bots, self.teams, self.inboxes = agents, agent_bots, teams, inboxes
        self.conversations = {c["id"]: c for c in conversations}
        self.messages = {cid: sorted(ms, key=lambda m: m["id"]) for cid, ms in messages.items()}
        self.csat = csat
        self.limit, self.period_s, self.retry_after = limit, period_s, retry_after
        self.throttled = 0
        self._window: tuple[int, int] = (0, 0)  # (window number, requests in it)
        self._lock = threading.Lock()
        base = "/api/v1/accounts/{account_id:int}"
        self.app = Starlette(routes=[
            Route(base + "/agents", self._agents),
            Route(base + "/agent_bots", self._agent_bots),
            Route(base + "/teams", self._teams),
            Route(base + "/inboxes", self._inboxes),
            Route(base + "/conversations/filter", self._filter, methods=["POST"]),
            Route(base + "/conversations/{conversation_id:int}/messages", self._messages),
            Route(base + "/csat_survey_responses", self._csat),
        ])

    # -- changes a test makes between syncs, as Chatwoot records them ------------------

    def add_message(self, conversation_id: int, message: dict[str, Any]) -> None:
        """A new message; like Message#set_conversation_activity, it moves the conversation's activity."""
        self.messages.setdefault(conversation_id, []).append(message)
        c = self.conversations[conversation_id]
        c["last_activity_at"] = c["timestamp"] = message["created_at"]
        c["updated_at"] = float(message["created_at"])
        c["messages"] = [message]

    def set_status(self, conversation_id: int, status: str, text: str, at: int, message_id: int) -> None:
        """A status change: the new status and the activity message Chatwoot writes for it."""
        self.conversations[conversation_id]["status"] = status
        self.add_message(conversation_id, {
            "id": message_id, "content": text, "inbox_id": self.conversations[conversation_id]["inbox_id"],
            "conversation_id": conversation_id, "message_type": 2, "content_type": "text", "content_attributes": {},
            "created_at": at, "private": False, "source_id": None})

    # -- the API ----------------------------------------------------------------------

    def _refused(self, request: Request) -> Response | None:
        if request.headers.get("api_access_token") != self.token:
            return JSONResponse({"error": "Invalid Access Token"}, status_code=401)
        if request.path_params["account_id"] != self.account_id:
            return JSONResponse({"error": "You are not authorized to access this account"}, status_code=401)
        if self.limit is not None:
            with self._lock:
                now = time.monotonic()
                window = int(now // self.period_s)
                n = self._window[1] + 1 if self._window[0] == window else 1
                self._window = (window, n)
                if n > self.limit:
                    self.throttled += 1
                    wait = max(1, round((window + 1) * self.period_s - now))
                    headers = {"Retry-After": str(wait)} if self.retry_after else {}
                    return PlainTextResponse("Retry later\n", status_code=429, headers=headers)
        return None

    async def _agents(self, request: Request) -> Response:
        return self._refused(request) or JSONResponse(self.agents)

    async def _agent_bots(self, request: Request) -> Response:
        return self._refused(request) or JSONResponse(self.agent_bots)

    async def _teams(self, request: Request) -> Response:
        return self._refused(request) or JSONResponse(self.teams)

    async def _inboxes(self, request: Request) -> Response:
        return self._refused(request) or JSONResponse({"payload": self.inboxes})

    async def _filter(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        body = json.loads(await request.body() or b"{}")
        rows = list(self.conversations.values())
        try:
            for cond in body.get("payload", []):
                rows = [c for c in rows if _matches(c, cond)]
        except ValueError as exc:  # Chatwoot: CustomFilter::InvalidAttribute / InvalidOperator
            return JSONResponse({"message": str(exc)}, status_code=422)
        rows.sort(key=lambda c: (-c["last_activity_at"], -c["id"]))
        page = int(request.query_params.get("page", "1"))
        chunk = rows[(page - 1) * CONVERSATIONS_PER_PAGE:page * CONVERSATIONS_PER_PAGE]
        unassigned = sum(1 for c in rows if not c.get("meta", {}).get("assignee"))
        meta = {"mine_count": 0, "assigned_count": len(rows) - unassigned, "unassigned_count": unassigned,
                "all_count": len(rows)}
        return JSONResponse({"data": {"meta": meta, "payload": chunk}})

    async def _messages(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        cid = request.path_params["conversation_id"]
        if cid not in self.conversations:
            return JSONResponse({"error": "Resource could not be found"}, status_code=404)
        ms = self.messages.get(cid, [])
        q = request.query_params
        if "after" in q:
            out = [m for m in ms if m["id"] > int(q["after"])][:100]
        elif "before" in q:
            out = [m for m in ms if m["id"] < int(q["before"])][-MESSAGES_PER_PAGE:]
        else:
            out = ms[-MESSAGES_PER_PAGE:]
        c = self.conversations[cid]
        meta = {"labels": c.get("labels", []), "additional_attributes": c.get("additional_attributes", {}),
                "contact": c.get("meta", {}).get("sender"), "assignee": c.get("meta", {}).get("assignee"),
                "agent_last_seen_at": c.get("agent_last_seen_at", 0)}
        return JSONResponse({"meta": meta, "payload": out})

    async def _csat(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        q = request.query_params
        rows = list(self.csat)
        if q.get("since") and q.get("until"):
            lo, hi = int(q["since"]), int(q["until"])
            rows = [r for r in rows if lo <= _iso_seconds(r["created_at"]) < hi]
        if q.get("sort") == "created_at":
            rows.sort(key=lambda r: (_iso_seconds(r["created_at"]), r["id"]))
        page = int(q.get("page", "1"))
        return JSONResponse(rows[(page - 1) * CSAT_PER_PAGE:page * CSAT_PER_PAGE])


def _iso_seconds(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).date().isoformat()


def _matches(c: dict[str, Any], cond: dict[str, Any]) -> bool:
    key, op, values = cond["attribute_key"], cond["filter_operator"], cond["values"]
    if key in ("last_activity_at", "created_at") and op in ("is_greater_than", "is_less_than"):
        day = _day(c[key])  # ISO days compare as text
        return day > values[0] if op == "is_greater_than" else day < values[0]
    if key == "status" and op == "equal_to":
        return "all" in values or c["status"] in values
    raise ValueError(f"the fake does not filter {key} {op}")
