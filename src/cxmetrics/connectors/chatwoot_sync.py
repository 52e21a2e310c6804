"""Chatwoot live sync: its application API read page by page into `chatwoot.convert`.

Every path is under `/api/v1/accounts/{account_id}` ([connectors.chatwoot] account_id),
signed with the `api_access_token` header (the Client's). Streams, lookups first:

- agents, agent_bots, teams (bare JSON arrays) and inboxes (`{"payload": [...]}`): whole
  lists, one request each, kept (Batch.keep) so later landings read conversations against them.
- conversations: `POST /conversations/filter` with `last_activity_at is_greater_than DAY`,
  25 a page, newest activity first. Chatwoot's date filters compare whole days
  (`(last_activity_at)::date > 'DAY'::date`), so a pass re-reads the day of the last
  sync's newest activity and skips the conversations whose activity is not newer than it
  (less an overlap). Every message, activity messages included, moves `last_activity_at`,
  so a new message, a status, assignment, team, priority or label change all surface here.
  Each conversation's messages come with its page (`GET /conversations/{id}/messages`, the
  latest 20, then 20 `before` the oldest id seen): all of them, because the converter reads
  who opened the conversation from its first message.
- csat_survey_responses: `since`/`until` (Unix seconds, a window fixed for the pass,
  so page numbers hold still), 25 a page, oldest first; the next pass starts a day before
  the last one ended, so a rating changed since is read again.

Cursors are JSON: while a pass runs, its page and window; between syncs, the newest
activity seen (conversations) or the end of the window read (CSAT). Chatwoot's
rate limit (rack-attack, per IP) answers 429; the Client waits (Retry-After when sent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cxmetrics.connectors import _state
from cxmetrics.connectors._http import Client
from cxmetrics.connectors._sync import Fetched, Source
from cxmetrics.errors import ConnectorError
from cxmetrics.settings import Settings

VENDOR = "chatwoot"
CONVERSATIONS_PER_PAGE = 25  # the filter endpoint's page (Kaminari's default; no per-page parameter)
MESSAGES_PER_PAGE = 20  # MessageFinder: the latest 20, or the 20 before a message id
CSAT_PER_PAGE = 25  # CsatSurveyResponsesController::RESULTS_PER_PAGE
# conversations whose activity is this much older than the last sync's newest are skipped
# as already read; the margin covers activity landing in the same second as that newest
ACTIVITY_OVERLAP_S = 300
CSAT_OVERLAP = timedelta(days=1)
LOOKUPS = ("agents", "agent_bots", "teams", "inboxes")


def account_path(settings: Settings) -> str:
    """`/api/v1/accounts/{account_id}`, from [connectors.chatwoot] account_id."""
    raw = settings.connectors.get(VENDOR, {}).get("account_id", "").strip()
    if not raw:
        raise ConnectorError("[connectors.chatwoot] needs account_id: the number after /app/accounts/ in the address "
                             "of your Chatwoot dashboard (https://app.chatwoot.com/app/accounts/1/dashboard: 1).")
    if not raw.isdigit():
        raise ConnectorError(f"[connectors.chatwoot] account_id '{raw}' is not an account number; give the number "
                             "after /app/accounts/ in the address of your Chatwoot dashboard, such as 1.")
    return f"/api/v1/accounts/{int(raw)}"


def source(settings: Settings | None = None) -> Source:
    """Chatwoot's streams for the account [connectors.chatwoot] names."""
    if settings is None:
        raise ConnectorError("A Chatwoot sync needs the workspace settings: [connectors.chatwoot] account_id.")
    account = account_path(settings)
    return Source(VENDOR, (
        _Lookup("agents", account), _Lookup("agent_bots", account), _Lookup("teams", account),
        _Lookup("inboxes", account), _Conversations(account), _Csat(account),
    ), context=_kept_lookups)


def _kept_lookups(con: Any) -> list[Any]:
    """The kept agents, bots, teams and inboxes, as `{"payload": [...]}` pages the converter reads."""
    return [{"payload": objs} for kind in LOOKUPS if (objs := _state.objects(con, VENDOR, kind))]


def _list(body: Any, path: str) -> list[Any]:
    """The objects of a list answer: a bare array, `{"payload": [...]}` or `{"data": {"payload": [...]}}`."""
    inner = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), dict) else body
    items = inner.get("payload") if isinstance(inner, dict) else inner
    if not isinstance(items, list):
        raise ConnectorError(f"chatwoot answered {path} with {type(items).__name__}, not a list; check base_url in "
                             "[connectors.chatwoot] points at the Chatwoot installation itself.")
    return items


@dataclass(frozen=True)
class _Lookup:
    """A whole list read in one request (Chatwoot does not page these)."""

    name: str
    account: str

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        path = f"{self.account}/{self.name}"
        items = _list(client.get(path), path)
        # a bare array is not a page the converter can name positions in: wrap it as the
        # inboxes list comes, `{"payload": [...]}`
        return Fetched([{"payload": items}] if items else [], len(items), None, True)


def _activity(conversation: dict[str, Any]) -> float:
    """Unix seconds of a conversation's last activity (`timestamp` on older servers)."""
    for key in ("last_activity_at", "timestamp", "created_at"):
        value = conversation.get(key)
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    return 0.0


@dataclass(frozen=True)
class _Conversations:
    """Conversations with new activity, each with all its messages (see the module's docstring)."""

    account: str
    name: str = "conversations"

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        if "page" not in state:  # a new pass, from the newest activity the last one saw
            newest = state.get("newest")
            floor = newest - ACTIVITY_OVERLAP_S if newest is not None else since.timestamp()
            state = {"page": 1, "floor": int(floor), "newest": newest}
        # `> DAY` compares whole days: the day before the floor's keeps the floor's own day in
        day = (datetime.fromtimestamp(state["floor"], timezone.utc).date() - timedelta(days=1)).isoformat()
        path = f"{self.account}/conversations/filter"
        body = client.post(f"{path}?page={state['page']}", {"payload": [
            {"attribute_key": "last_activity_at", "filter_operator": "is_greater_than", "values": [day],
             "query_operator": None}]})
        conversations = _list(body, path)
        newest = max([state["newest"] or 0, *(int(_activity(c)) for c in conversations if isinstance(c, dict))])
        pages: list[Any] = []
        fresh = []
        for c in conversations:
            if isinstance(c, dict) and _activity(c) < state["floor"]:
                continue  # read by an earlier sync and quiet since
            messages = self._messages(client, c.get("id")) if isinstance(c, dict) else []
            if messages is None:
                continue  # deleted since the list named it
            fresh.append(c)
            pages += messages
        if fresh:
            data = body["data"] if isinstance(body, dict) and isinstance(body.get("data"), dict) else {}
            pages.insert(0, {"data": {**data, "payload": fresh}})
        done = len(conversations) < CONVERSATIONS_PER_PAGE
        after = {"newest": newest or None} if done else {**state, "page": state["page"] + 1, "newest": newest or None}
        return Fetched(pages, len(fresh), json.dumps(after), done)

    def _messages(self, client: Client, conversation_id: Any) -> list[Any] | None:
        """Every messages page of a conversation, latest first; None when it is gone."""
        path = f"{self.account}/conversations/{conversation_id}/messages"
        pages: list[Any] = []
        params: dict[str, Any] | None = None
        while True:
            body = client.get(path, params=params, missing_ok=True)
            if body is None:
                return None
            items = [m for m in _list(body, path) if isinstance(m, dict)]
            if items:
                pages.append(body)
            ids = [int(m["id"]) for m in items if str(m.get("id", "")).isdigit()]
            if len(items) < MESSAGES_PER_PAGE or not ids:
                return pages
            oldest = min(ids)
            if params is not None and oldest >= params["before"]:
                return pages  # a server that ignored `before` would loop for ever
            params = {"before": oldest}


@dataclass(frozen=True)
class _Csat:
    """CSAT survey responses created in a window, oldest first (see the module's docstring)."""

    account: str
    name: str = "csat_survey_responses"

    def fetch(self, client: Client, cursor: str | None, since: datetime) -> Fetched:
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        if "page" not in state:
            start = state["until"] - CSAT_OVERLAP.total_seconds() if "until" in state else since.timestamp()
            state = {"page": 1, "since": int(start), "until": int(datetime.now(timezone.utc).timestamp()) + 1}
        path = f"{self.account}/csat_survey_responses"
        items = _list(client.get(path, params={"since": state["since"], "until": state["until"],
                                               "page": state["page"], "sort": "created_at"}), path)
        done = len(items) < CSAT_PER_PAGE
        after = {"until": state["until"]} if done else {**state, "page": state["page"] + 1}
        return Fetched([{"payload": items}] if items else [], len(items), json.dumps(after), done)
