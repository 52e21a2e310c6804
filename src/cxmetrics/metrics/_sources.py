"""Semantic sources: the row sets metrics are computed over, their dimensions (the
allow-list for group-by and filters) and their timestamps.

Every ticket-level source carries the ticket's dimensions, so every KPI can be cut the
same ways. Names here are the public vocabulary; the SQL behind them never comes from a
request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot import exp

from cxmetrics.facts._columns import BUSINESS_TWINS, REPLY_BUSINESS_TWINS
from cxmetrics.metrics._staffed import STAFFED_INTERVALS
from cxmetrics.model import TABLES

# dimension name -> column of every source's rows (each source yields these columns)
DIMENSIONS: dict[str, str] = {
    "channel": "channel",
    "priority": "priority",
    "team": "team",
    "assignee": "assignee_id",
    "agent_type": "resolved_by_type",
    "topic": "topic",
    # a ticket's tags (a list): filter only, `tag=vip` keeps the tickets that have the tag
    # (any of several values given); a ticket with many tags has no single group to count in
    "tag": "tags",
    "discovered_topic": "discovered_topic",  # cxmetrics.text: `cxmetrics topics discover`
    "product": "product",
    "tier": "customer_tier",
    "region": "region",
    "source": "source",
    "created_by": "created_by",
    "status": "status",
    "segment": "segment",  # customers, activity and funnel only
    "policy": "policy",  # SLA targets only
    "sla_metric": "sla_metric",  # SLA targets only (first_reply, next_reply, ...)
    "survey_kind": "kind",  # survey answers and sends only (csat, ces, nps, esat)
    # survey sends, and the answers that name their send (docs/surveys.md, "Measuring the surveys themselves")
    "survey": "survey",  # the definition's name in surveys.toml
    "survey_delay": "survey_delay",  # solve -> send delay, banded (SURVEY_DELAY_BANDS)
    "surveys_received": "surveys_received",  # fatigue: the send's ordinal among its customer's, banded
    "survey_trigger": "survey_trigger",  # solved, relationship, on_demand, embed
    "survey_delivery": "survey_delivery",  # email, link, embed
    "survey_language": "survey_language",  # the language the survey was sent in
    "rating_band": "rating_band",  # reviews only: negative (1-2 stars), neutral (3), positive (4-5)
    "platform": "platform",  # reviews only: google_play, app_store, trustpilot...
    "app": "company",  # reviews only: the company or app reviewed
}


def split_filter(item: str) -> tuple[str, str] | None:
    """One filter, `DIM=VALUE` (the documented form) or `DIM:VALUE` (also accepted, in the
    CLI and the API alike): split at the first `=` or `:`, since dimension names hold
    neither and values may. None when it is neither form.

    >>> split_filter("team=Billing"), split_filter("team:Billing"), split_filter("team=EU: West")
    (('team', 'Billing'), ('team', 'Billing'), ('team', 'EU: West'))
    """
    cut = min((i for i in (item.find("="), item.find(":")) if i >= 0), default=-1)
    if cut <= 0 or not item[:cut].strip():
        return None
    return item[:cut].strip(), item[cut + 1:].strip()


#: Dimensions whose column holds a list (a ticket's tags): filtered on, never grouped by.
LIST_DIMENSIONS = frozenset({"tag"})
_LIST_COLUMNS = frozenset(DIMENSIONS[d] for d in LIST_DIMENSIONS)


#: the value that asks for rows without one: `assignee=(none)` keeps the unassigned tickets
NONE = "(none)"


def dimension_in(column: str, values: Iterable[object]) -> str:
    """SQL: `column` holds one of `values`, compared case-blind (`team=billing` finds the
    team stored as 'Billing'), the one rule every filter of every metric, drill and page uses.
    A list column (tags) matches when any of its items is one of them. The value `(none)`
    (NONE) matches a row without a value (NULL; for a list, no item), so the group a
    breakdown shows as "no team" can be asked for too.

    >>> dimension_in("f.team", ["Billing", "Tier 1"])
    "lower(CAST(f.team AS TEXT)) IN ('billing', 'tier 1')"
    >>> dimension_in("tags", ["VIP"])
    "list_has_any(list_transform(tags, lambda x: lower(x)), ['vip'])"
    >>> dimension_in("f.assignee_id", ["(none)", "A1"])
    "(f.assignee_id IS NULL OR lower(CAST(f.assignee_id AS TEXT)) IN ('a1'))"
    """
    given = [str(v) for v in values]
    none = NONE in given
    listed = ", ".join(exp.Literal.string(v.lower()).sql(dialect="duckdb") for v in given if v != NONE)
    if column.rpartition(".")[2] in _LIST_COLUMNS:
        found = f"list_has_any(list_transform({column}, lambda x: lower(x)), [{listed}])"
        empty = f"coalesce(array_length({column}), 0) = 0"  # (array_length: a list's, on every engine)
    else:
        found = f"lower(CAST({column} AS TEXT)) IN ({listed or 'NULL'})"
        empty = f"{column} IS NULL"
    if not none:
        return found
    return f"({empty} OR {found})" if listed else f"({empty})"


# the ticket's dimensions as a source joined to ticket_facts f selects them
_TICKET_DIMS = (
    "f.priority, f.team, f.resolved_by_type, f.topic, f.tags, f.discovered_topic, f.product, f.customer_tier, "
    "f.region, f.created_by, f.status"
)

# Survey scales: which scores are the top box (satisfied), the bottom box, and "easy".
_TOP_BOX = """CASE s.scale
    WHEN '1-5' THEN s.score >= 4 WHEN '1-10' THEN s.score >= 8 WHEN '0-10' THEN s.score >= 9
    WHEN 'good/bad' THEN s.score = 1 WHEN '1-3' THEN s.score = 3 WHEN '1-7' THEN s.score >= 6
    ELSE s.score >= s.scale_min + 0.75 * (s.scale_max - s.scale_min) END"""
_BOTTOM_BOX = """CASE s.scale
    WHEN '1-5' THEN s.score <= 2 WHEN '1-10' THEN s.score <= 5 WHEN '0-10' THEN s.score <= 6
    WHEN 'good/bad' THEN s.score = 0 WHEN '1-3' THEN s.score = 1 WHEN '1-7' THEN s.score <= 2
    ELSE s.score <= s.scale_min + 0.25 * (s.scale_max - s.scale_min) END"""
_EASY = """CASE s.scale WHEN '1-7' THEN s.score >= 5 WHEN '1-5' THEN s.score >= 4
    ELSE s.score >= s.scale_min + 0.6 * (s.scale_max - s.scale_min) END"""


#: The bands of a send's delay (solve -> send), in order: [0, 1h), [1h, 4h), [4h, 24h),
#: [1d, 3d], more than 3 days; a send without a delay (imported, on demand) is 'none'.
SURVEY_DELAY_BANDS = ("< 1h", "1-4h", "4-24h", "1-3d", "> 3d", "none")
#: The bands of surveys_received (the send's ordinal among its customer's sends, in order);
#: 'unknown' when the send names no customer and its ticket no requester.
SURVEYS_RECEIVED_BANDS = ("1", "2", "3", "4-5", "6+", "unknown")

# Every survey send with its bands: the fatigue ordinal counts the customer's sends in its
# source up to this one (by send time, then id), over all time and every definition, so a
# filter or period never renumbers them. The customer is the send's, else its ticket's requester.
# The facts refresh keeps the ordinals (survey_fatigue, cxmetrics.facts._fatigue): a lookup here.
_SEND_BANDS = """CASE WHEN s.delay_s IS NULL THEN 'none' WHEN s.delay_s < 3600 THEN '< 1h'
            WHEN s.delay_s < 14400 THEN '1-4h' WHEN s.delay_s < 86400 THEN '4-24h'
            WHEN s.delay_s <= 259200 THEN '1-3d' ELSE '> 3d' END AS survey_delay,
       s."trigger" AS survey_trigger, s.delivery AS survey_delivery, s."language" AS survey_language"""
_SENDS_BANDED = f"""SELECT s.*, {_SEND_BANDS},
       CASE WHEN z.nth IS NULL THEN 'unknown' WHEN z.nth <= 3 THEN CAST(z.nth AS VARCHAR)
            WHEN z.nth <= 5 THEN '4-5' ELSE '6+' END AS surveys_received
FROM survey_sends s LEFT JOIN survey_fatigue z ON z.source = s.source AND z.send_id = s.send_id"""
# The same without the fatigue band: a request not cut by surveys_received does not join the
# ordinals of every send; a period filter on sent_at reaches the sends' scan.
_SENDS_BANDED_LEAN = f"SELECT s.*, {_SEND_BANDS} FROM survey_sends s"
_SEND_BAND_COLUMNS = ("survey_delay", "survey_trigger", "survey_delivery", "survey_language")
_SEND_DIMS = ("survey", "survey_delay", "surveys_received", "survey_trigger", "survey_delivery", "survey_language")


def _sends_sql(banded: str, *, tickets: bool = True) -> str:
    """The survey sends' rows over `banded` (the sends with their bands); without `tickets`,
    without their tickets' dimensions (and the send's own channel only), for the requests
    that need none: the join with every ticket's facts was a third of such a query."""
    ticket_cols = f"""coalesce(s.channel, f.channel) AS channel, f.assignee_id,
                      {_TICKET_DIMS},""" if tickets else ""
    ticket_join = "LEFT JOIN ticket_facts f ON f.source = s.source AND f.ticket_id = s.ticket_id" if tickets else ""
    return f"""SELECT s.* EXCLUDE (channel, _batch_rank), {ticket_cols}
                      CASE WHEN a.send_id IS NOT NULL THEN true
                           WHEN s.ticket_id IS NOT NULL THEN t.ticket_id IS NOT NULL
                           WHEN s.customer_id IS NOT NULL THEN c.customer_id IS NOT NULL
                           ELSE s._batch_rank <= coalesce(b.answers, 0) END AS answered,
                      s.reminded_at IS NOT NULL AS reminded
               FROM (SELECT *, row_number() OVER (PARTITION BY source, kind, sent_at, ticket_id IS NULL,
                                                               customer_id IS NULL ORDER BY send_id) AS _batch_rank
                     FROM ({banded})) s
               {ticket_join}
               LEFT JOIN (SELECT DISTINCT source, send_id FROM surveys WHERE send_id IS NOT NULL) a
                      ON a.source = s.source AND a.send_id = s.send_id
               LEFT JOIN (SELECT DISTINCT source, ticket_id, kind FROM surveys
                          WHERE ticket_id IS NOT NULL AND send_id IS NULL) t
                      ON t.source = s.source AND t.ticket_id = s.ticket_id AND t.kind = s.kind
               LEFT JOIN (SELECT DISTINCT source, customer_id, kind, sent_at FROM surveys
                          WHERE ticket_id IS NULL AND customer_id IS NOT NULL AND send_id IS NULL) c
                      ON s.ticket_id IS NULL AND c.source = s.source AND c.customer_id = s.customer_id
                     AND c.kind = s.kind AND c.sent_at = s.sent_at
               LEFT JOIN (SELECT source, kind, sent_at, count(*) AS answers FROM surveys
                          WHERE ticket_id IS NULL AND customer_id IS NULL AND send_id IS NULL GROUP BY ALL) b
                      ON s.ticket_id IS NULL AND s.customer_id IS NULL AND b.source = s.source AND b.kind = s.kind
                     AND b.sent_at = s.sent_at"""


def _surveys_sql(*, with_sends: bool) -> str:
    """The survey answers' rows; `with_sends`: with the columns of the send each names."""
    sends = f"{', '.join(f'ss.{d}' for d in _SEND_DIMS)}," if with_sends else ""
    join = f"LEFT JOIN ({_SENDS_BANDED}) ss ON ss.source = s.source AND ss.send_id = s.send_id" if with_sends else ""
    return f"""SELECT s.*, coalesce(s.responded_at, s.sent_at, f.last_solved_at, f.last_event_at, f.created_at)
                   AS answered_at,
               {_TOP_BOX} AS top_box, {_BOTTOM_BOX} AS bottom_box, {_EASY} AS easy,
               1 + 4 * (s.score - s.scale_min) / nullif(s.scale_max - s.scale_min, 0) AS score_5,
               CASE WHEN coalesce(e.first_answered_at, s.responded_at) >= s.sent_at
                    THEN epoch(coalesce(e.first_answered_at, s.responded_at)) - epoch(s.sent_at) END AS answer_s,
               {sends}
               f.channel, coalesce(s.agent_id, f.assignee_id) AS assignee_id, {_TICKET_DIMS}
        FROM surveys s LEFT JOIN ticket_facts f ON f.source = s.source AND f.ticket_id = s.ticket_id
        {join}
        LEFT JOIN survey_answers e ON e.source = s.source AND e.send_id = s.send_id
        WHERE f.excluded IS NOT TRUE"""


def _surveys_bare_sql() -> str:
    """The survey answers' rows without their ticket's dimensions, for the requests that need
    none: the same rows and values as `_surveys_sql` for every column it has. A dated answer
    (responded_at or sent_at) needs of its ticket only whether it is excluded, which an anti
    join with the few excluded tickets tells; the join with every ticket's facts (a scan of
    them all, most of an unfiltered CSAT query's cost) is left to the undated answers."""
    computed = f"""{_TOP_BOX} AS top_box, {_BOTTOM_BOX} AS bottom_box, {_EASY} AS easy,
               1 + 4 * (s.score - s.scale_min) / nullif(s.scale_max - s.scale_min, 0) AS score_5,
               CASE WHEN coalesce(e.first_answered_at, s.responded_at) >= s.sent_at
                    THEN epoch(coalesce(e.first_answered_at, s.responded_at)) - epoch(s.sent_at) END AS answer_s"""
    answers = "LEFT JOIN survey_answers e ON e.source = s.source AND e.send_id = s.send_id"
    return f"""SELECT s.*, coalesce(s.responded_at, s.sent_at) AS answered_at, {computed}
        FROM surveys s
        ANTI JOIN (SELECT source, ticket_id FROM ticket_facts WHERE excluded) x
            ON x.source = s.source AND x.ticket_id = s.ticket_id
        {answers}
        WHERE s.responded_at IS NOT NULL OR s.sent_at IS NOT NULL
        UNION ALL BY NAME
        SELECT s.*, coalesce(f.last_solved_at, f.last_event_at, f.created_at) AS answered_at, {computed}
        FROM surveys s LEFT JOIN ticket_facts f ON f.source = s.source AND f.ticket_id = s.ticket_id
        {answers}
        WHERE s.responded_at IS NULL AND s.sent_at IS NULL AND f.excluded IS NOT TRUE"""


@dataclass(frozen=True)
class Source:
    name: str
    sql: str  # a query whose rows are the source's rows, ticket dimensions as f.*
    times: tuple[str, ...]  # timestamp columns a metric may anchor on
    columns: tuple[str, ...]  # columns metric expressions may use
    doc: str = ""
    # the same rows without the columns of `lean_lacks` (dimensions): cheaper SQL for the
    # requests that neither group nor filter by those
    lean_sql: str = ""
    lean_lacks: tuple[str, ...] = ()
    # time column -> an expression over the source's own table that equals it wherever that
    # expression is not null: a period filter on it reaches the table's scan, before joins
    # that would otherwise read every row (the time itself is computed after them)
    time_hints: tuple[tuple[str, str], ...] = ()
    # the same rows with only the columns `bare_columns`: for the requests whose dimensions,
    # metric expressions and filters use no other column (the cheapest SQL)
    bare_sql: str = ""
    bare_columns: frozenset[str] = frozenset()

    def sql_for(self, dims: list[str] | tuple[str, ...], columns: Iterable[str] | None = None) -> str:
        """The source's SQL for a request cut or filtered by `dims` whose query reads
        `columns` of it (None: any column)."""
        if self.bare_sql and columns is not None and set(columns) <= self.bare_columns \
                and all(DIMENSIONS.get(d, d) in self.bare_columns for d in dims):
            return self.bare_sql
        lacks = set(self.lean_lacks)
        if self.lean_sql and not set(dims) & lacks \
                and (columns is None or not set(columns) & {DIMENSIONS[d] for d in lacks}):
            return self.lean_sql
        return self.sql


_FACT_COLUMNS = (
    "created_at", "first_reply_at", "first_touch_at", "first_solved_at", "last_solved_at", "call_queued_at",
    "frt_s", "frt_first_touch_s", "first_resolution_s", "full_resolution_s", "requester_wait_s", "agent_wait_s",
    "on_hold_s", "agent_work_s", "asa_s", "abandon_wait_s", "talk_s", "hold_s", "wrap_s", "handle_s",
    "frt_after_handoff_s", "unanswered", "solved", "reopens", "public_agent_replies", "one_touch", "two_touch",
    "multi_touch", "escalated", "team_changes", "assignee_changes", "bot_involved", "handed_off", "bot_contained",
    "call_abandoned", "short_abandon", "call_answered_at", "fcr", "created_by", "channel", "status",
    "requester_id", "resolved_by_type", "resolver_id", "n_events", "last_event_at",
)

_BH_COLUMNS = ", ".join(f"b.{c}" for c in BUSINESS_TWINS.values())

# A source with a business-time twin: the twin source (the same rows, plus the business
# columns) and the calendar column -> business column map of the metrics over it.
BUSINESS_SOURCES: dict[str, tuple[str, dict[str, str]]] = {
    "tickets": ("tickets_bh", BUSINESS_TWINS),
    "reply_intervals": ("reply_intervals_bh", REPLY_BUSINESS_TWINS),
}

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "tickets",
            "SELECT * FROM ticket_facts WHERE NOT excluded",
            ("created_at", "first_reply_at", "first_solved_at", "last_solved_at", "call_queued_at"),
            _FACT_COLUMNS,
            doc="one row per ticket (deleted, spam and merged tickets left out)",
        ),
        Source(
            "tickets_bh",
            f"""SELECT f.*, b.schedule, {_BH_COLUMNS}
               FROM ticket_facts f LEFT JOIN ticket_facts_bh b ON b.source = f.source AND b.ticket_id = f.ticket_id
               WHERE NOT f.excluded""",
            ("created_at", "first_reply_at", "first_solved_at", "last_solved_at", "call_queued_at"),
            (*_FACT_COLUMNS, "schedule", *BUSINESS_TWINS.values()),
            doc="the rows of tickets, with each duration's business-time twin (_bh_s): business seconds under "
                "the ticket's schedule",
        ),
        Source(
            "surveys",
            # an answer without responded_at or sent_at is placed at its ticket's latest
            # solve, else its last event, else its creation: derived here, not stored, so a
            # later solve moves it (imports quarantine untimed answers with no stored ticket)
            # (an answer that names its send carries the send's definition, delay, trigger...;
            # answer_s is sent -> first answered (an edit later moves responded_at, not the
            # time it took to answer), only when the answer is not dated before its send; elapsed
            # seconds, epoch(a) - epoch(b): epoch(a - b) counts calendar days of the session's
            # zone, an hour off across a clock change)
            _surveys_sql(with_sends=True),
            ("answered_at", "sent_at", "responded_at"),
            ("kind", "scale", "scale_min", "scale_max", "score", "score_5", "top_box", "bottom_box", "easy", "comment",
             "answered_at", "answer_s", "send_id"),
            doc="one row per survey answer, with its ticket's dimensions and, when it names its send, the send's "
                "(survey, delay, trigger...); answered_at is responded_at, else sent_at, else (untimed) its ticket's "
                "latest solve, last event or creation; answer_s is sent_at -> its first answer (responded_at "
                "for imported answers) in seconds",
            # (without a send dimension, the sends' bands, a window over every send, are not needed)
            lean_sql=_surveys_sql(with_sends=False),
            lean_lacks=_SEND_DIMS,
            time_hints=(("answered_at", "coalesce(responded_at, sent_at)"),),
            bare_sql=_surveys_bare_sql(),
            bare_columns=frozenset((*TABLES["surveys"].names, "answered_at", "top_box", "bottom_box", "easy",
                                    "score_5", "answer_s")),
        ),
        Source(
            "survey_sends",
            # An answer that names its send (send_id: every answer cxmetrics collects) answers
            # that send and no other; the rules after it match the answers that name none
            # (imported from another tool) by ticket, else customer and send time, else count.
            _sends_sql(_SENDS_BANDED),
            ("sent_at",),
            ("kind", "answered", "reminded", "sent_at", "reminded_at", "delay_s"),
            doc="one row per survey sent, with its definition (survey), delay band, fatigue band (surveys_received), "
                "trigger, delivery and language; answered when an answer names it (send_id), else (answers naming "
                "no send) when an answer of its kind names its ticket, else its customer and send time; sends "
                "naming neither (employee surveys) are matched by count within their batch (kind and send time)",
            lean_sql=_sends_sql(_SENDS_BANDED_LEAN),
            lean_lacks=("surveys_received",),
            bare_sql=_sends_sql(_SENDS_BANDED_LEAN, tickets=False),
            bare_columns=frozenset((*(c for c in TABLES["survey_sends"].names if c != "channel"), *_SEND_BAND_COLUMNS,
                                    "answered", "reminded")),
        ),
        Source(
            "reply_intervals",
            f"""SELECT r.*, f.channel, f.assignee_id, {_TICKET_DIMS}
               FROM reply_intervals r JOIN ticket_facts f ON f.source = r.source AND f.ticket_id = r.ticket_id
               WHERE NOT f.excluded""",
            ("replied_at", "started_at"),
            ("seq", "seconds", "started_at", "replied_at"),
            doc="one row per customer message answered by an agent",
        ),
        Source(
            "reply_intervals_bh",
            # `seconds` is business seconds here too: custom builders over reply intervals
            # (avg_response_time's per-ticket mean) read `seconds`
            f"""SELECT r.* REPLACE (b.seconds_bh AS seconds), b.seconds_bh, f.channel, f.assignee_id, {_TICKET_DIMS}
               FROM reply_intervals r JOIN ticket_facts f ON f.source = r.source AND f.ticket_id = r.ticket_id
               LEFT JOIN reply_intervals_bh b ON b.source = r.source AND b.ticket_id = r.ticket_id AND b.seq = r.seq
               WHERE NOT f.excluded""",
            ("replied_at", "started_at"),
            ("seq", "seconds", "seconds_bh", "started_at", "replied_at"),
            doc="the rows of reply_intervals in business time: seconds_bh (and seconds) are business seconds "
                "under the ticket's schedule",
        ),
        Source(
            "contacts",
            f"""SELECT c.*, f.channel, coalesce(c.agent_id, f.assignee_id) AS assignee_id, {_TICKET_DIMS}
               FROM contacts c JOIN ticket_facts f ON f.source = c.source AND f.ticket_id = c.ticket_id
               WHERE NOT f.excluded""",
            ("contact_at", "offered_at", "answered_at"),
            ("contact_no", "kind", "contact_at", "offered_at", "answered_at", "abandoned", "abandoned_at", "wait_s",
             "short_abandon", "talk_s", "hold_s", "wrap_s", "handle_s"),
            doc="one row per call, per chat offered to agents and per other ticket with handle time; "
                "the agent is who answered",
        ),
        Source(
            "sla_targets",
            """SELECT s.source, s.ticket_id, s.policy, s.metric AS sla_metric, s.cycle, s.priority, s.channel,
                      s.team, s.assignee_id, s.customer_tier, s.business, s.schedule, s.target_s, s.started_at,
                      s.due_at, s.completed_at, s.elapsed_s, s.seconds_left, s.state, s.breached_at, s.settled_at,
                      f.resolved_by_type, f.topic, f.tags, f.discovered_topic, f.product, f.region, f.created_by,
                      f.status, f.created_at
               FROM sla_targets s LEFT JOIN ticket_facts f ON f.source = s.source AND f.ticket_id = s.ticket_id""",
            ("settled_at", "breached_at", "completed_at", "started_at", "due_at"),
            ("state", "policy", "sla_metric", "cycle", "business", "schedule", "target_s", "elapsed_s",
             "seconds_left", "started_at", "due_at", "completed_at", "breached_at", "settled_at"),
            doc="one row per SLA target and cycle (cxmetrics.sla), evaluated at the last SLA refresh",
        ),
        # The text layer's facts (cxmetrics.text, docs/text.md), with their ticket's dimensions.
        Source(
            "customer_messages",
            f"""SELECT m.source, m.ticket_id, m.event_id, m.ts, m.seq, m.score, m.label, m.model,
                       f.channel, f.assignee_id, {_TICKET_DIMS}
               FROM message_sentiment m JOIN ticket_facts f ON f.source = m.source AND f.ticket_id = m.ticket_id
               WHERE NOT f.excluded""",
            ("ts",),
            ("score", "label", "seq", "ts"),
            doc="one row per customer message with text, scored by the active sentiment model: score in "
                "[-1, 1], label negative|neutral|positive",
        ),
        Source(
            "ticket_sentiment",
            f"""SELECT x.source, x.ticket_id, x.customer_messages, x.sentiment_first, x.sentiment_last,
                       x.sentiment_mean, x.label_first, x.label_last, x.sentiment_change, x.sentiment_shift,
                       f.created_at, f.last_solved_at, f.solved, f.channel, f.assignee_id, {_TICKET_DIMS}
               FROM ticket_text x JOIN ticket_facts f ON f.source = x.source AND f.ticket_id = x.ticket_id
               WHERE NOT f.excluded AND x.customer_messages > 0""",
            ("created_at", "last_solved_at"),
            ("customer_messages", "sentiment_first", "sentiment_last", "sentiment_mean", "label_first",
             "label_last", "sentiment_change", "sentiment_shift", "created_at", "last_solved_at", "solved"),
            doc="one row per ticket with customer text: the sentiment of its first and last customer message, "
                "their mean and change, and whether it ended better, worse or the same (2+ messages)",
        ),
        Source(
            "agent_replies",
            f"""SELECT r.source, r.ticket_id, r.event_id, r.ts, r.greets_by_name, r.refers_specifics,
                       r.personalised, r.empathetic, r.questions, r.questions_answered, r.thorough, r.relevance,
                       r.relevant, f.channel, coalesce(r.agent_id, f.assignee_id) AS assignee_id, {_TICKET_DIMS}
               FROM reply_signals r JOIN ticket_facts f ON f.source = r.source AND f.ticket_id = r.ticket_id
               WHERE NOT f.excluded""",
            ("ts",),
            ("greets_by_name", "refers_specifics", "personalised", "empathetic", "questions", "questions_answered",
             "thorough", "relevance", "relevant", "ts"),
            doc="one row per public agent reply with text, with the signals of a good answer; the agent is "
                "who wrote it",
        ),
        Source(
            "resolutions",
            f"""SELECT a.source, a.ticket_id, a.event_id, a.ts, a.similarity, a.apart, a.topic_id,
                       f.channel, coalesce(a.agent_id, f.assignee_id) AS assignee_id, {_TICKET_DIMS}
               FROM resolution_answers a JOIN ticket_facts f ON f.source = a.source AND f.ticket_id = a.ticket_id
               WHERE NOT f.excluded""",
            ("ts",),
            ("similarity", "apart", "topic_id", "ts"),
            doc="one row per solved ticket's resolving reply in a discovered topic: its similarity (0-1) to "
                "the topic's usual answer and whether it stands apart; the agent is who wrote it",
        ),
        # Workforce (docs/workforce.md, "Shifts and occupancy"): the shifts against the work done.
        Source(
            "staffed_intervals",
            STAFFED_INTERVALS,
            ("slot_start",),
            ("available_s", "handle_s", "slot_start"),
            doc="one row per agent and 30-minute slot (on the workspace's clock) from the first shift to the last: "
                "available_s, the agent's staffed seconds (available spans less breaks), and handle_s, the handle "
                "seconds of the contacts the agent worked (each busy from its answer for its handle time); the "
                "agent is assignee, team and channel are the shift's (work by agents no shift covers has no channel)",
        ),
        # Public reviews (cxmetrics.studies, docs/studies.md "Reviews"). A reply dated before its
        # review (the review was edited after it) is answered but has no response time.
        Source(
            "reviews",
            """SELECT r.source, r.review_id, r.platform, r.company, r.rating, r.author, r.created_at,
                      r.replied_at, r.edited_at, r.app_version, r.helpful,
                      CASE WHEN r.rating <= 2 THEN 'negative' WHEN r.rating = 3 THEN 'neutral'
                           ELSE 'positive' END AS rating_band,
                      (nullif(trim(r.reply_text), '') IS NOT NULL OR r.replied_at IS NOT NULL) AS replied,
                      nullif(trim(r.reply_text), '') IS NOT NULL AS reply_has_text,
                      coalesce(r.replied_at < r.created_at, false) AS reply_before_review,
                      CASE WHEN r.replied_at >= r.created_at THEN epoch(r.replied_at) - epoch(r.created_at) END
                          AS response_s,
                      nullif(trim(r.text), '') IS NOT NULL AS has_text,
                      t.sentiment_score, t.sentiment_label, t.greets_by_name, t.refers_specifics, t.personalised
               FROM reviews r LEFT JOIN review_text t ON t.source = r.source AND t.review_id = r.review_id""",
            ("created_at", "replied_at"),
            ("rating", "rating_band", "replied", "reply_has_text", "reply_before_review", "response_s", "has_text",
             "sentiment_score", "sentiment_label", "greets_by_name", "refers_specifics", "personalised",
             "helpful", "created_at", "replied_at", "edited_at"),
            doc="one row per public review, with its rating band, whether the company replied, the time to "
                "reply (only for replies dated after the review), the review's sentiment and the reply's "
                "personalisation",
        ),
        # Business tables. Their dimensions use the ticket sources' column names
        # (a customer's `tier` is `customer_tier`), so DIMENSIONS maps them alike.
        Source(
            "customers",
            # a help desk's requesters (origin helpdesk) are contact details, not the customer
            # base: nothing says when they churn, so counting them would make churn look like 0
            "SELECT c.* EXCLUDE (_hash, _import_id), c.tier AS customer_tier FROM customers c "
            "WHERE c.origin IS DISTINCT FROM 'helpdesk'",
            ("created_at", "churned_at"),
            ("customer_id", "created_at", "churned_at", "tier", "segment"),
            doc="one row per customer of a customers file (a help-desk connector's requesters, origin helpdesk, "
                "are left out)",
        ),
        Source(
            "activity",
            """SELECT a.source, a.customer_id, a.ts, a.action, c.tier AS customer_tier, c.region, c.segment
               FROM activity a LEFT JOIN customers c ON c.source = a.source AND c.customer_id = a.customer_id""",
            ("ts",),
            ("customer_id", "ts", "action", "segment"),
            doc="one row per product-usage event, with its customer's tier, region and segment",
        ),
        Source(
            "agents",
            "SELECT a.* EXCLUDE (_hash, _import_id) FROM agents a",
            ("hired_at", "left_at"),
            ("agent_id", "name", "type", "hired_at", "left_at"),
            doc="one row per agent, human or bot",
        ),
        Source(
            "costs",
            """SELECT source, period, CAST(period_start AS TIMESTAMPTZ) AS period_start,
                      CAST(period_end AS TIMESTAMPTZ) AS period_end, category, amount, currency
               FROM costs""",
            ("period_start",),
            ("period", "period_start", "period_end", "category", "amount", "currency"),
            doc="one row per period and cost line; a period starts at local midnight of its first day",
        ),
        Source(
            "funnel",
            """SELECT source, period, CAST(period_start AS TIMESTAMPTZ) AS period_start,
                      CAST(period_end AS TIMESTAMPTZ) AS period_end, segment, visits, conversions, revenue
               FROM funnel""",
            ("period_start",),
            ("period", "period_start", "period_end", "segment", "visits", "conversions", "revenue"),
            doc="one row per period and funnel segment",
        ),
    )
}
