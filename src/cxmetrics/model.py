"""The canonical tables: their columns, types, keys and allowed values.

One declaration drives the store's migrations, the import validation and the
README's format reference, so a column is described in exactly one place.

>>> TABLES["tickets"].key
('source', 'ticket_id')
>>> TABLES["events"].column("kind").values[:3]
('created', 'message', 'status')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColType(StrEnum):
    """The value types a canonical column can hold."""

    TEXT = "text"
    TIMESTAMP = "timestamp"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TAGS = "tags"
    PERIOD = "period"  # 2025-03, 2025-Q1, 2025, 2025-03-14: stored as start/end dates


SQL_TYPES: dict[ColType, str] = {
    ColType.TEXT: "VARCHAR",
    ColType.TIMESTAMP: "TIMESTAMPTZ",
    ColType.INTEGER: "BIGINT",
    ColType.NUMBER: "DOUBLE",
    ColType.BOOLEAN: "BOOLEAN",
    ColType.TAGS: "VARCHAR[]",
    ColType.PERIOD: "VARCHAR",
}

CHANNELS = ("email", "chat", "phone", "social", "messaging", "web", "api", "other")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "open", "pending", "on-hold", "solved", "closed")
TICKET_STATUSES = (*STATUSES, "deleted", "spam")
ACTOR_TYPES = ("customer", "agent", "bot", "system")
CREATED_BY = ("customer", "agent", "system")
AGENT_TYPES = ("human", "bot")
SURVEY_KINDS = ("csat", "ces", "nps", "esat")
EVENT_KINDS = (
    "created", "message", "status", "assign", "handoff", "priority",
    "call_queued", "call_answered", "call_abandoned", "call_ended",
    "hold_start", "hold_end", "wrap_up_end", "merged",
)
ANNOTATION_KINDS = ("hire", "policy", "launch", "outage", "ai", "other")

# The default scale of each survey kind when a row does not name one.
DEFAULT_SCALES = {"csat": "1-5", "ces": "1-7", "nps": "0-10", "esat": "1-5"}


@dataclass(frozen=True)
class Column:
    """One column of a canonical table (or of an import format)."""

    name: str
    type: ColType = ColType.TEXT
    required: bool = False
    values: tuple[str, ...] | None = None  # a closed set, compared lower-cased
    min: float | None = None
    max: float | None = None
    doc: str = ""

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    """A canonical table: its key identifies a row within a source."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    doc: str
    extra_sql: tuple[str, ...] = field(default=())  # columns kept by the store only
    # columns the store keeps for what the rows imply (a flat ticket's events and answers):
    # written by the import, not content of their own (the inputs they come from are hashed)
    implied: tuple[Column, ...] = field(default=())
    # the table the rows given are written to, when `name` is a view that adds implied rows
    stored: str | None = None

    @property
    def write_name(self) -> str:
        """Where imports write: the table itself, or the stored rows behind its view."""
        return self.stored or self.name

    def column(self, name: str) -> Column:
        for col in (*self.columns, *self.implied):
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


C = Column
T = ColType

_SOURCE = C("source", doc="where the row came from; several help desks can share a workspace (default `default`)")

TABLES: dict[str, Table] = {}


def _table(*args: object, **kwargs: object) -> Table:
    table = Table(*args, **kwargs)  # type: ignore[arg-type]
    TABLES[table.name] = table
    return table


_table(
    "tickets", ("source", "ticket_id"),
    (
        _SOURCE,
        C("ticket_id", required=True),
        C("created_at", T.TIMESTAMP, required=True),
        C("channel", doc="email, chat, phone, social, messaging, web, api, other (others are kept as given)"),
        C("priority", doc="low, normal, high, urgent (others are kept as given)"),
        C("status", values=TICKET_STATUSES),
        C("requester_id"),
        C("assignee_id"),
        C("agent_type", values=AGENT_TYPES),
        C("team"),
        C("topic"),
        C("tags", T.TAGS, doc="a JSON array, or words separated by commas, semicolons or spaces"),
        C("product"),
        C("customer_tier"),
        C("region"),
        C("created_by", values=CREATED_BY),
        C("subject"),
        C("reopens_reported", T.INTEGER, min=0, doc="reopens as the source counted them (flat imports)"),
        C("replies_reported", T.INTEGER, min=0, doc="public agent replies as the source counted them"),
        C("handle_s_reported", T.NUMBER, min=0, doc="handle seconds as the source counted them"),
    ),
    "one row per ticket or conversation",
    # a flat ticket's times and scores: the events and surveys views derive from them its
    # created, first-reply and solved events and its survey answers (origin 'tickets')
    implied=(
        C("first_reply_at", T.TIMESTAMP), C("solved_at", T.TIMESTAMP),
        C("csat_score", T.NUMBER), C("csat_scale"), C("ces_score", T.NUMBER), C("ces_scale"),
        C("nps", T.NUMBER), C("_flat", T.BOOLEAN, doc="imported as a flat ticket: its implied rows are derived"),
    ),
)

_table(
    "events", ("source", "event_id"),
    (
        _SOURCE,
        C("event_id", required=True),
        C("ticket_id", required=True),
        C("ts", T.TIMESTAMP, required=True),
        C("kind", required=True, values=EVENT_KINDS),
        C("actor_type", values=ACTOR_TYPES),
        C("actor_id"),
        C("public", T.BOOLEAN, doc="messages are public unless false"),
        C("status_from", values=STATUSES),
        C("status_to", values=STATUSES),
        C("body"),
        C("channel"),
        C("duration_s", T.NUMBER, min=0),
        C("assignee_id", doc="the new assignee, on assign events"),
        C("team", doc="the new team, on assign events"),
        C("priority", doc="the new priority, on priority events"),
        C("origin", doc="`events` when imported as events, `tickets` when implied by a flat ticket, `calls` by a call log row"),
    ),
    "one row per thing that happened to a ticket",
    stored="events_stored",
)

_table(
    "surveys", ("source", "response_id"),
    (
        _SOURCE,
        C("response_id", required=True),
        C("ticket_id"),
        C("customer_id"),
        C("agent_id"),
        C("kind", required=True, values=SURVEY_KINDS),
        C("scale", doc="1-5, 1-7, 0-10, 1-10, 1-3 or good/bad; default by kind: csat 1-5, ces 1-7, nps 0-10, esat 1-5"),
        C("scale_min", T.NUMBER),
        C("scale_max", T.NUMBER),
        C("score", T.NUMBER, required=True, doc="a number on the scale, or good/bad"),
        C("comment"),
        C("sent_at", T.TIMESTAMP),
        C("responded_at", T.TIMESTAMP),
        C("origin"),
        C("send_id", doc="the survey send it answers (survey_sends' send_id): exact response rates; answers "
                         "collected by cxmetrics (docs/surveys.md) always carry it"),
    ),
    "one row per survey answer",
    stored="surveys_stored",
)

_table(
    "survey_sends", ("source", "send_id"),
    (
        _SOURCE,
        C("send_id", required=True),
        C("ticket_id"),
        C("customer_id"),
        C("kind", required=True, values=SURVEY_KINDS),
        C("sent_at", T.TIMESTAMP, required=True),
        C("channel"),
        C("survey", doc="the survey definition that sent it (surveys.toml's name), e.g. csat_after_solve"),
        C("agent_id", doc="the agent the survey is about (the ticket's assignee when it was sent)"),
        C("trigger", doc="why it was sent: solved (after a solve, with a delay), relationship (every N days), "
                         "on_demand (a list or a link), embed (a help desk's own solve e-mail)"),
        C("delivery", doc="how it reached the customer: email, link (pasted into a chat or SMS), embed"),
        C("language", doc="the language it was sent in (en, de, fr, es...)"),
        C("delay_s", T.NUMBER, min=0, doc="seconds from the ticket's solve to the send (solved trigger)"),
        C("reminded_at", T.TIMESTAMP, doc="when its one reminder went out"),
    ),
    "one row per survey sent (the denominator of response rates)",
)

_table(
    "agents", ("source", "agent_id"),
    (
        _SOURCE,
        C("agent_id", required=True),
        C("name"),
        C("type", values=AGENT_TYPES, doc="human (default) or bot"),
        C("team"),
        C("hired_at", T.TIMESTAMP),
        C("left_at", T.TIMESTAMP),
    ),
    "one row per agent, human or bot",
)

_table(
    "customers", ("source", "customer_id"),
    (
        _SOURCE,
        C("customer_id", required=True),
        C("created_at", T.TIMESTAMP),
        C("tier"),
        C("region"),
        C("segment"),
        C("churned_at", T.TIMESTAMP),
        C("email", doc="where surveys are e-mailed (docs/surveys.md); else a requester_id that is an address"),
        C("locale", doc="the customer's language or locale (de, de-AT, fr_CA...): the survey's language"),
        C("name", doc="the customer's name (greets them in a survey e-mail)"),
        C("origin", doc="`helpdesk` when a help-desk connector made the row from a ticket's requester (contact "
                        "details only: left out of the customer metrics, as the help desk knows no churn); empty "
                        "for a customers file"),
    ),
    "one row per customer",
)

_table(
    "activity", ("source", "customer_id", "ts", "action"),
    (
        _SOURCE,
        C("customer_id", required=True),
        C("ts", T.TIMESTAMP, required=True),
        C("action", required=True),
    ),
    "one row per product-usage event (identical rows are one event)",
)

_table(
    "funnel", ("source", "period", "segment"),
    (
        _SOURCE,
        C("period", T.PERIOD, required=True, doc="2025-03 (month), 2025-Q1, 2025, 2025-W10 (ISO week) or 2025-03-14 (day)"),
        C("segment", doc="default `all`"),
        C("visits", T.INTEGER, required=True, min=0),
        C("conversions", T.INTEGER, required=True, min=0),
        C("revenue", T.NUMBER),
    ),
    "one row per period and segment",
)

_table(
    "costs", ("source", "period", "category"),
    (
        _SOURCE,
        C("period", T.PERIOD, required=True, doc="as in funnel"),
        C("category", required=True, doc="salaries, tools, overhead, outsourcing…"),
        C("amount", T.NUMBER, required=True, min=0),
        C("currency", doc="ISO 4217 code; default the workspace currency"),
    ),
    "one row per period and cost line",
)

_table(
    "annotations", ("source", "annotation_id"),
    (
        _SOURCE,
        C("annotation_id", required=True),
        C("ts", T.TIMESTAMP, required=True),
        C("label", required=True),
        C("kind", values=ANNOTATION_KINDS),
        C("description"),
    ),
    "one row per change worth marking on a chart",
)


_table(
    "shifts", ("source", "agent_id", "start_at", "activity"),
    (
        _SOURCE,
        C("agent_id", required=True, doc="the agent (as in tickets' assignee_id and calls' agent)"),
        C("start_at", T.TIMESTAMP, required=True, doc="when the span starts (a file's `start` column is read as it)"),
        C("end_at", T.TIMESTAMP, required=True, doc="when it ends (a file's `end` column is read as it)"),
        C("activity", doc="available (default): on the queues, counted as staffed; anything else (break, lunch, "
                          "training, meeting, offline...) is paid time off the queues (shrinkage)"),
        C("team"),
        C("channel", doc="the channel the agent serves in the span; empty: every channel"),
    ),
    "one row per span of an agent's working time and what they did in it (workforce: staffed time, occupancy)",
)


_table(
    "companies", ("source", "company"),
    (
        _SOURCE,
        C("company", required=True, doc="the company as the study names it (its probes' `company`)"),
        C("industry"),
        C("region", doc="e.g. North America, EMEA, APAC, LATAM"),
        C("size", doc="company size band as the study records it, e.g. 1-50, 51-200, 201-1000, 1000+"),
        C("channels", T.TAGS, doc="the support channels it offers (email, chat, phone, social...): a probe on "
                                   "another channel finds it not available"),
    ),
    "one row per company of a benchmark study (cxmetrics.studies)",
)

_table(
    "probes", ("source", "probe_id"),
    (
        _SOURCE,
        C("probe_id", required=True),
        C("study", required=True, doc="the study the probe belongs to"),
        C("company", required=True),
        C("channel", required=True, doc="email, chat, phone, social... (as in tickets)"),
        C("sent_at", T.TIMESTAMP, required=True, doc="when the question was sent (or the call placed)"),
        C("question"),
        C("first_response_at", T.TIMESTAMP, doc="the first answer (empty: ignored)"),
        C("response_text"),
        C("auto_reply", T.BOOLEAN, doc="the only answer was an automatic one"),
        C("resolved", T.BOOLEAN, doc="the answer solved the question"),
        C("follow_up_at", T.TIMESTAMP, doc="a later message from the company, unprompted"),
        C("industry", doc="default: the company's"),
        C("region", doc="default: the company's"),
        C("company_size", doc="default: the company's size"),
        C("rubric_personalised", T.NUMBER, min=0, max=1, doc="a person's score, 0-1 (empty: from the text)"),
        C("rubric_relevant", T.NUMBER, min=0, max=1),
        C("rubric_thorough", T.NUMBER, min=0, max=1),
        C("rubric_empathetic", T.NUMBER, min=0, max=1),
    ),
    "one row per question a benchmark study sent a company on one channel (cxmetrics.studies)",
)

_table(
    "reviews", ("source", "review_id"),
    (
        _SOURCE,
        C("review_id", required=True),
        C("platform", doc="where it was posted: google_play, app_store, trustpilot, g2..."),
        C("company", doc="the company or app reviewed"),
        C("rating", T.INTEGER, required=True, min=1, max=5, doc="stars, 1-5"),
        C("text"),
        C("author"),
        C("created_at", T.TIMESTAMP, required=True, doc="when the review was posted (or last edited, as the "
                                                          "platform reports it)"),
        C("reply_text", doc="the company's reply"),
        C("replied_at", T.TIMESTAMP),
        C("edited_at", T.TIMESTAMP, doc="when the review was edited, if the platform says"),
        C("app_version"),
        C("helpful", T.INTEGER, min=0, doc="readers who found it helpful (thumbs up)"),
    ),
    "one row per public review of a company or app, with the company's reply (cxmetrics.studies)",
)


# The flat ticket format: one row per ticket; each row becomes a ticket, the events its
# timestamps imply, and survey answers for its score columns.
FLAT_TICKET_COLUMNS: tuple[Column, ...] = (
    _SOURCE,
    C("ticket_id", required=True),
    C("created_at", T.TIMESTAMP, required=True),
    C("channel"),
    C("priority"),
    C("status", values=TICKET_STATUSES),
    C("requester_id"),
    C("assignee_id"),
    C("agent_type", values=AGENT_TYPES, doc="who sent the first reply: human (default) or bot"),
    C("team"),
    C("topic"),
    C("created_by", values=CREATED_BY, doc="customer (default), agent or system"),
    C("first_reply_at", T.TIMESTAMP),
    C("solved_at", T.TIMESTAMP),
    C("reopens", T.INTEGER, min=0),
    C("replies", T.INTEGER, min=0),
    C("handle_seconds", T.NUMBER, min=0),
    C("csat", doc="a score on csat_scale, or good/bad"),
    C("csat_scale", doc="default 1-5"),
    C("ces", T.NUMBER),
    C("ces_scale", doc="default 1-7"),
    C("nps", T.NUMBER, min=0, max=10),
    C("subject"),
    C("tags", T.TAGS),
    C("product"),
    C("customer_tier"),
    C("region"),
)

# Columns a `created` event may carry to describe its ticket.
EVENT_TICKET_COLUMNS: tuple[Column, ...] = (
    C("priority"), C("requester_id"), C("team"), C("topic"), C("tags", T.TAGS), C("product"),
    C("customer_tier"), C("region"), C("created_by", values=CREATED_BY), C("subject"),
    C("assignee_id"),
)

STORE_COLUMNS = ("_hash", "_import_id")  # bookkeeping columns on every canonical table
