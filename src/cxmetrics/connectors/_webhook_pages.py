"""What a verified webhook becomes: the vendor's own API pages, which its `convert` reads
as it reads a saved export or a sync's pages, so a change comes in with the vendor's ids
and a webhook and a later sync (or file import) of it store it once.

- Intercom and Chatwoot send the changed object itself (an Intercom conversation with its
  new parts; a Chatwoot message or conversation), shaped as their API gives it: it is the page.
- Zendesk and Freshdesk webhooks are bodies an admin writes from placeholders, and no
  placeholder gives the id the API gives a status change, a comment or a reply. Their
  webhook says only which ticket changed; the ticket is then read through the vendor's API
  (ticket, audits or conversations, rating): the very pages a sync reads, so the ids are
  identical on both paths by construction, whatever changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cxmetrics.connectors import _http
from cxmetrics.connectors._plumbing import Page
from cxmetrics.errors import ConnectorError
from cxmetrics.settings import Settings

API_TIMEOUT_S = 10.0
MAX_API_PAGES = 20  # of a ticket's audits or conversations: 2,000 of them, far more than a ticket has
FRESHDESK_PER_PAGE = 100
FRESHDESK_STATUSES = frozenset({2, 3, 4, 5, 6, 7})  # fixed and default custom: no ticket_fields needed


class PayloadError(ValueError):
    """A webhook body that is JSON but not the vendor's payload; the message says why."""


class UpstreamError(ConnectorError):
    """The vendor's API, asked for the changed ticket, failed or refused; `status` is what
    the webhook answers (502, or 503 with `retry_after` when the API rate-limits)."""

    def __init__(self, message: str, status: int = 502, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


@dataclass(frozen=True)
class Pages:
    """The API pages a webhook stands for; `ignored` says why there are none (a ping, a
    topic that carries no ticket)."""

    pages: list[Page]
    ignored: str | None = None


def _page(name: str, body: Any) -> Page:
    # quarantine entries name the page: `webhook intercom conversation, conversations[0]`
    return Page(Path(name), 1, None, body)


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise PayloadError(f"the body is a JSON {type(body).__name__}, not the JSON object {what} sends.")
    return body


def intercom_pages(body: Any) -> Pages:
    """An Intercom notification (`notification_event`): its `data.item`, a conversation
    with its new parts (and its rating), is a page as `GET /conversations/{id}` gives it."""
    note = _object(body, "Intercom")
    topic = note.get("topic")
    if not isinstance(topic, str) or not topic:
        raise PayloadError("the body has no topic: it is not an Intercom notification (type notification_event).")
    if topic == "ping":
        return Pages([], "a ping: Intercom checks the endpoint answers")
    data = note.get("data")
    item = data.get("item") if isinstance(data, dict) else None
    if not isinstance(item, dict):
        raise PayloadError(f"notification {topic!r} has no data.item object: Intercom puts the changed object there.")
    if not topic.startswith("conversation.") or item.get("type") not in ("conversation", None):
        return Pages([], f"topic {topic!r} carries no conversation (subscribe to conversation topics only)")
    if item.get("id") in (None, ""):
        raise PayloadError(f"notification {topic!r}: data.item has no id, so it cannot be stored as a conversation.")
    return Pages([_page("webhook intercom conversation", {"type": "conversation.list", "conversations": [item]})])


CHATWOOT_MESSAGE_EVENTS = frozenset({"message_created", "message_updated"})
CHATWOOT_CONVERSATION_EVENTS = frozenset({"conversation_created", "conversation_updated",
                                          "conversation_status_changed", "conversation_opened",
                                          "conversation_resolved"})


def _csat_answer(message: dict[str, Any], conv: dict[str, Any], at: datetime) -> dict[str, Any] | None:
    """The CSAT response an answered survey message (content_type input_csat, updated with
    `submitted_values.csat_survey_response`) stands for, shaped as `/csat_survey_responses`
    gives it; its id is the message's, as the converter keys responses. The answer's time
    is the delivery's (a sync later brings Chatwoot's own, on the same row)."""
    attrs = message.get("content_attributes") if isinstance(message.get("content_attributes"), dict) else {}
    submitted = attrs.get("submitted_values") if isinstance(attrs.get("submitted_values"), dict) else {}
    response = submitted.get("csat_survey_response")
    if message.get("content_type") != "input_csat" or not isinstance(response, dict) or "rating" not in response:
        return None
    meta = conv.get("meta") if isinstance(conv.get("meta"), dict) else {}
    sender = meta.get("sender") if isinstance(meta.get("sender"), dict) else {}
    assignee = meta.get("assignee") if isinstance(meta.get("assignee"), dict) else {}
    return {"message_id": message["id"], "rating": response.get("rating"),
            "feedback_message": response.get("feedback_message"), "conversation_id": message["conversation_id"],
            "contact": {"id": sender.get("id")}, "assigned_agent": {"id": assignee.get("id")},
            "created_at": at.isoformat()}


def chatwoot_pages(body: Any, at: datetime) -> Pages:
    """A Chatwoot webhook: `message_*` sends the message (its conversation embedded),
    `conversation_*` the conversation (with its latest messages), as the API shapes them;
    the message's `conversation_id` is the embedded conversation's id, as the API gives it."""
    payload = _object(body, "Chatwoot")
    event = payload.get("event")
    if not isinstance(event, str) or not event:
        raise PayloadError("the body has no event: it is not a Chatwoot webhook (message_created, "
                           "conversation_created, conversation_updated, conversation_status_changed).")
    if event in CHATWOOT_MESSAGE_EVENTS:
        conv = payload.get("conversation") if isinstance(payload.get("conversation"), dict) else {}
        message = {k: v for k, v in payload.items() if k not in ("event", "account", "inbox", "conversation")}
        message["conversation_id"] = payload.get("conversation_id", conv.get("id"))
        if message.get("id") in (None, "") or message["conversation_id"] in (None, ""):
            raise PayloadError(f"{event}: the message has no id or no conversation (conversation.id): Chatwoot "
                               "sends both; check the webhook points at this endpoint unchanged.")
        pages = [_page("webhook chatwoot message", {"payload": [message]})]
        if "inbox_id" in conv and "status" in conv:  # the conversation as it is now: its status, assignee
            pages.insert(0, _page("webhook chatwoot conversation", {"payload": [conv]}))
        answer = _csat_answer(message, conv, at)
        if answer is not None:
            pages.append(_page("webhook chatwoot csat", answer))
        return Pages(pages)
    if event in CHATWOOT_CONVERSATION_EVENTS:
        conv = {k: v for k, v in payload.items() if k not in ("event", "changed_attributes")}
        if conv.get("id") in (None, "") or "status" not in conv:
            raise PayloadError(f"{event}: the conversation has no id or no status.")
        conv.setdefault("inbox_id", (payload.get("inbox") or {}).get("id") if isinstance(payload.get("inbox"),
                                                                                          dict) else None)
        return Pages([_page("webhook chatwoot conversation", {"payload": [conv]})])
    return Pages([], f"event {event!r} carries no conversation or message")


def ticket_id(body: Any, vendor: str) -> str:
    """The ticket a Zendesk or Freshdesk webhook names: `ticket_id` of the documented body
    (Zendesk's event-subscription webhooks: `detail.id`)."""
    payload = _object(body, vendor.capitalize())
    value = payload.get("ticket_id")
    if value is None and isinstance(payload.get("detail"), dict) and str(payload.get("type", "")).startswith(
            "zen:event-type:ticket."):
        value = payload["detail"].get("id")
    text = str(value).strip() if value is not None and not isinstance(value, (bool, dict, list)) else ""
    if not text.isdigit():
        raise PayloadError(f"ticket_id {value!r} is not a ticket number: send the body docs/connectors.md gives "
                           f"(\"Webhooks\", {vendor.capitalize()}), with ticket_id from {{{{ticket.id}}}}.")
    return text


def _client(settings: Settings, vendor: str) -> _http.Client:
    """The vendor's API client, as a sync builds it (address and sign-in from
    [connectors.VENDOR]; ConnectorError says what to set), but trying once: a webhook answers
    within the vendor's timeout, and the vendor sends it again if it fails."""
    return _http.Client(vendor, _http.base_url(settings, vendor), headers=_http.auth_headers(settings, vendor),
                        retry=_http.Retry(attempts=1), timeout_s=API_TIMEOUT_S)


@contextmanager
def _reading(client: _http.Client, vendor: str) -> Iterator[None]:
    """The API's failures while the changed ticket is read, as UpstreamError."""
    try:
        yield
    except _http.TransientError:
        retry = client.last_headers.get("Retry-After")
        if retry is not None:  # rate-limited (or down for maintenance): when to send it again
            raise UpstreamError(f"the {vendor} API is rate-limiting or busy; try again in {retry} s.", 503,
                                retry) from None
        raise UpstreamError(f"the {vendor} API did not answer usefully when the changed ticket was read (an error "
                            "or no answer); the help desk sends the webhook again.") from None
    except ConnectorError as exc:  # refused credentials, a wrong address: the message says which setting
        raise UpstreamError(f"reading the changed ticket: {exc}") from None
    finally:
        client.close()


def zendesk_pages(settings: Settings, body: Any) -> Pages:
    """The changed ticket as a sync reads it: `GET /api/v2/tickets/{id}`, its audits (every
    page) and its satisfaction rating when it has one."""
    tid = ticket_id(body, "zendesk")
    api = _client(settings, "zendesk")
    with _reading(api, "zendesk"):
        ticket = api.get(f"/api/v2/tickets/{tid}.json", missing_ok=True)
        if ticket is None:
            return Pages([], f"ticket {tid} is not in Zendesk any more (deleted for good)")
        pages = [_page(f"zendesk tickets/{tid}.json", ticket)]
        url: str | None = f"/api/v2/tickets/{tid}/audits.json"
        for n in range(1, MAX_API_PAGES + 1):
            if not url:
                break
            audits = api.get(url)
            pages.append(_page(f"zendesk tickets/{tid}/audits.json page {n}", audits))
            url = audits.get("next_page") if isinstance(audits, dict) else None
        rating = (ticket.get("ticket") or {}).get("satisfaction_rating") if isinstance(ticket, dict) else None
        if isinstance(rating, dict) and rating.get("id") and rating.get("score") in ("good", "bad"):
            found = api.get(f"/api/v2/satisfaction_ratings/{rating['id']}.json", missing_ok=True)
            if found is not None:
                pages.append(_page(f"zendesk satisfaction_ratings/{rating['id']}.json", found))
    return Pages(pages)


def freshdesk_pages(settings: Settings, body: Any) -> Pages:
    """The changed ticket as a sync reads it: `GET /api/v2/tickets/{id}?include=stats`, its
    conversations (every page), its satisfaction ratings, and the ticket fields when its
    status is a custom one they name."""
    tid = ticket_id(body, "freshdesk")
    api = _client(settings, "freshdesk")
    with _reading(api, "freshdesk"):
        ticket = api.get(f"/api/v2/tickets/{tid}", {"include": "stats"}, missing_ok=True)
        if ticket is None:
            return Pages([], f"ticket {tid} is not in Freshdesk any more")
        pages = [_page(f"freshdesk tickets/{tid}.json", ticket)]
        if isinstance(ticket, dict) and ticket.get("status") not in FRESHDESK_STATUSES:
            pages.insert(0, _page("freshdesk ticket_fields.json", api.get("/api/v2/ticket_fields")))
        for n in range(1, MAX_API_PAGES + 1):
            convs = api.get(f"/api/v2/tickets/{tid}/conversations", {"per_page": FRESHDESK_PER_PAGE, "page": n})
            pages.append(_page(f"freshdesk tickets/{tid}/conversations page {n}", convs))
            if not isinstance(convs, list) or len(convs) < FRESHDESK_PER_PAGE:
                break
        ratings = api.get(f"/api/v2/tickets/{tid}/satisfaction_ratings", missing_ok=True)
        if isinstance(ratings, list) and ratings:
            pages.append(_page(f"freshdesk tickets/{tid}/satisfaction_ratings.json", ratings))
    return Pages(pages)
