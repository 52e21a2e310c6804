"""What is due: the sends the survey definitions ask for at a given time.

For every enabled definition, one SQL query over the whole workspace gives each ticket
(or, for a relationship survey, each customer) not yet asked by it a verdict: `due`, or
the reason it is not surveyed (the first that applies, in this order):

- `excluded`: spam, deleted or merged (ticket_facts.excluded);
- `not_solved`: not solved or closed now (open, or reopened since its solve);
- `bot_solved`: contained by a bot, unless the definition sets `include_bot_solved`;
- `where`: a dimension fails the definition's `where` (compared case-blind, as filters are);
- `before_start`: solved before the definition was first seen minus one delay: switching
  surveys on (or a definition back on) does not mail every customer of the past;
- `no_address`: no e-mail address (customers.email, else a requester id that is one);
- `churned`: (relationship) the customer has churned;
- `throttled`: the customer had a survey (any definition, any kind) within `throttle`
  before the ticket's due time (or since), or gets another one in this same run. Measured
  from the due time, so a throttled ticket is not surveyed late once the window passes.

A solved ticket is due `delay` after its latest solve (`last_solved_at`): the solve that
made it solved now. A ticket reopened and solved again before its survey went out is
surveyed `delay` after the new solve; one already surveyed is not surveyed again (its send
id is per ticket and definition). Tickets solved less than `delay` ago are `waiting`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from cxmetrics.metrics._sources import dimension_in
from cxmetrics.surveys._config import Survey, SurveysConfig, Trigger

#: a definition's `where` dimension -> its ticket_facts column
WHERE_COLUMNS = {"channel": "channel", "team": "team", "tier": "customer_tier", "priority": "priority",
                 "product": "product", "region": "region", "topic": "topic", "source": "source",
                 "assignee": "assignee_id", "agent_type": "resolved_by_type", "created_by": "created_by"}
#: the reasons a ticket or customer is not surveyed, in the order they are checked
SKIP_REASONS = ("excluded", "not_solved", "bot_solved", "where", "before_start", "no_address", "churned",
                "throttled", "already_sent", "unknown")
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

@dataclass(frozen=True)
class Plan:
    """The sends due (one dict per survey_requests row, send_id not yet made), the skips by
    reason, and how many tickets wait for their delay."""

    due: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    waiting: int = 0
    next_due: datetime | None = None  # when the first waiting ticket falls due


def _lit(value: Any) -> str:
    """A SQL literal (the values come from surveys.toml, checked, but quoted all the same)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{float(value)!r}::DOUBLE"
    return "'" + str(value).replace("'", "''") + "'"


def address_sql(f: str = "f", c: str = "c", ident: str = "requester_id") -> str:
    """SQL: the customer's e-mail address (customers.email, else the requester id when it is one)."""
    return (f"coalesce(nullif(trim({c}.email), ''), "
            f"CASE WHEN regexp_full_match({f}.{ident}, '{_EMAIL}') THEN {f}.{ident} END)")


def language_sql(config: SurveysConfig, c: str = "c") -> str:
    """SQL: config.language_for(customers.locale), for every row at once."""
    first = f"lower(regexp_split_to_array(trim({c}.locale), '[-_]')[1])"
    langs = ", ".join(_lit(x) for x in config.languages)
    return f"CASE WHEN {first} IN ({langs}) THEN {first} ELSE {_lit(config.default_language)} END"


def where_sql(survey: Survey, f: str = "f") -> str:
    """SQL: the ticket passes the definition's `where` (true when it has none)."""
    parts = [f"coalesce({dimension_in(f'{f}.{WHERE_COLUMNS[dim]}', vals)}, false)"
             for dim, vals in survey.where.items()]
    return " AND ".join(parts) or "true"


def ticket_sql(config: SurveysConfig) -> str:
    """SQL: every ticket with what a send needs (customer, agent, channel, address, language)."""
    return f"""
        SELECT f.source, f.ticket_id, f.requester_id AS customer_id,
               coalesce(f.assignee_id, f.resolver_id) AS agent_id, f.channel, f.last_solved_at,
               coalesce(f.excluded, false) AS excluded,
               lower(coalesce(f.status, '')) IN ('solved', 'closed') AS solved_now,
               coalesce(f.bot_contained, false) AS bot_contained,
               {address_sql()} AS address, {language_sql(config)} AS language,
               f.team, f.customer_tier, f.priority, f.product, f.region, f.topic, f.assignee_id,
               f.resolved_by_type, f.created_by
        FROM ticket_facts f
        LEFT JOIN customers c ON c.source = f.source AND c.customer_id = f.requester_id"""


def record_starts(con: duckdb.DuckDBPyConnection, surveys: list[Survey], now: datetime) -> dict[str, datetime]:
    """Note `now` as the first sight of each definition not seen before; returns each one's start.
    A definition no longer enabled loses its start: enabling it again is switching it on anew
    (the tickets solved meanwhile are not all surveyed at once)."""
    # written only when something changed: the server runs this every tick, and a write each
    # time would keep a write transaction going for nothing (a checkpoint waits for those)
    starts = {name: at for name, at in con.execute("SELECT survey, started_at FROM survey_rule_starts").fetchall()}
    names = {s.name for s in surveys}
    gone = sorted(set(starts) - names)
    if gone:
        con.execute("DELETE FROM survey_rule_starts WHERE list_contains(?, survey)", [gone])
    for s in surveys:  # a handful of definitions, not tickets
        if s.name not in starts or now < starts[s.name]:
            con.execute("INSERT INTO survey_rule_starts VALUES (?, ?) ON CONFLICT (survey) DO UPDATE "
                        "SET started_at = least(survey_rule_starts.started_at, excluded.started_at)", [s.name, now])
            starts[s.name] = min(now, starts.get(s.name, now))
    return {name: at for name, at in starts.items() if name in names}


def _ticket_rule(config: SurveysConfig, s: Survey, order: int, start: datetime, now: datetime,
                 skips: bool = True) -> str:
    embed = s.trigger is Trigger.EMBED
    delay = 0.0 if embed else s.delay_s
    since = start - timedelta(seconds=delay)
    delivery = "embed" if embed else "email"
    source = f"AND t.source = {_lit(s.source)}" if s.source else ""
    if not skips:  # only the tickets that can be due or waiting: solved since the start
        source += f" AND t.last_solved_at >= {_lit(since.isoformat())}::TIMESTAMPTZ"
    return f"""
        SELECT {_lit(s.name)} AS survey, {order} AS survey_order, t.source, t.ticket_id, t.customer_id, t.agent_id,
               t.channel, t.address, t.language, {_lit(s.trigger.value)} AS "trigger", {_lit(delivery)} AS delivery,
               {_lit(delay)} AS delay_s, t.last_solved_at + to_seconds({_lit(delay)}) AS due_at,
               {_lit(not embed)} AS throttled,
               CASE WHEN t.excluded THEN 'excluded'
                    WHEN NOT t.solved_now OR t.last_solved_at IS NULL THEN 'not_solved'
                    WHEN t.bot_contained AND NOT {_lit(s.include_bot_solved)} THEN 'bot_solved'
                    WHEN NOT ({where_sql(s, "t")}) THEN 'where'
                    WHEN t.last_solved_at < {_lit(since.isoformat())}::TIMESTAMPTZ THEN 'before_start'
                    WHEN t.last_solved_at + to_seconds({_lit(delay)}) > {_lit(now.isoformat())}::TIMESTAMPTZ
                         THEN 'waiting'
                    WHEN {_lit(not embed)} AND t.address IS NULL THEN 'no_address'
                    ELSE 'due' END AS verdict
        FROM ({ticket_sql(config)}) t
        WHERE NOT EXISTS (SELECT 1 FROM survey_requests r WHERE r.source = t.source AND r.survey = {_lit(s.name)}
                          AND r.ticket_id = t.ticket_id) {source}"""


def cycle_of(survey: Survey, now: datetime) -> int:
    """The relationship cycle `now` falls in: floor(seconds since the epoch / every)."""
    assert survey.every_s is not None
    return int(now.timestamp() // survey.every_s)


def _customer_rule(config: SurveysConfig, s: Survey, order: int, now: datetime) -> str:
    assert s.every_s is not None
    cycle_start = datetime.fromtimestamp(cycle_of(s, now) * s.every_s, now.tzinfo)
    segment = " AND ".join(f"coalesce({dimension_in(f'c.{col}', vals)}, false)" for col, vals in s.segment.items())
    source = f"AND c.source = {_lit(s.source)}" if s.source else ""
    return f"""
        SELECT {_lit(s.name)} AS survey, {order} AS survey_order, c.source, NULL::VARCHAR AS ticket_id,
               c.customer_id, NULL::VARCHAR AS agent_id, NULL::VARCHAR AS channel,
               {address_sql("c", "c", "customer_id")} AS address, {language_sql(config)} AS language,
               'relationship' AS "trigger", 'email' AS delivery, NULL::DOUBLE AS delay_s,
               {_lit(now.isoformat())}::TIMESTAMPTZ AS due_at, true AS throttled,
               CASE WHEN c.churned_at IS NOT NULL AND c.churned_at <= {_lit(now.isoformat())}::TIMESTAMPTZ
                         THEN 'churned'
                    WHEN {address_sql("c", "c", "customer_id")} IS NULL THEN 'no_address'
                    ELSE 'due' END AS verdict
        FROM customers c
        WHERE ({segment or "true"}) {source}
          AND NOT EXISTS (SELECT 1 FROM survey_requests r WHERE r.source = c.source AND r.survey = {_lit(s.name)}
                          AND r.customer_id = c.customer_id
                          AND r.created_at >= {_lit(cycle_start.isoformat())}::TIMESTAMPTZ)"""


def throttle_sql(candidates: str, config: SurveysConfig, now: datetime, *, force: bool = False) -> str:
    """SQL: `candidates` (due rows) with `verdict` turned to 'throttled' where the customer
    had a survey within the throttle, or is already asked earlier in the same batch."""
    if config.throttle_s <= 0 or force:
        return f"SELECT * FROM ({candidates})"
    # measured from the candidate's due time, not the clock: a ticket throttled once stays
    # unsurveyed, rather than being surveyed days late when the window has passed
    since = f"(d.due_at - to_seconds({_lit(config.throttle_s)}))"
    who = "coalesce(d.customer_id, d.address, d.ticket_id)"
    # only the rows due and subject to the throttle are looked up (a few, where the others
    # are every ticket and customer of the workspace: looking them all up took seconds)
    return f"""
        WITH c AS MATERIALIZED ({candidates})
        SELECT * FROM c WHERE NOT (c.verdict = 'due' AND c.throttled)
        UNION ALL BY NAME
        SELECT d.* EXCLUDE (_rank, _recent) REPLACE (CASE WHEN d._rank > 1 OR d._recent
                                                          THEN 'throttled' ELSE d.verdict END AS verdict)
        FROM (SELECT d.*,
                     row_number() OVER (PARTITION BY d.source, {who}
                                        ORDER BY d.due_at, d.survey_order, d.ticket_id) AS _rank,
                     EXISTS (SELECT 1 FROM survey_requests r
                             WHERE r.source = d.source AND r.customer_id = d.customer_id
                               AND r.created_at > {since}
                               AND NOT EXISTS (SELECT 1 FROM survey_deliveries v WHERE v.source = r.source
                                               AND v.send_id = r.send_id AND v.purpose = 'invite'
                                               AND v.status IN ('failed', 'cancelled')))
                     OR EXISTS (SELECT 1 FROM survey_sends s WHERE s.source = d.source
                                AND s.customer_id = d.customer_id AND s.sent_at > {since}) AS _recent
              FROM c d WHERE d.verdict = 'due' AND d.throttled) d"""


def plan(con: duckdb.DuckDBPyConnection, config: SurveysConfig, now: datetime, *, skips: bool = True) -> Plan:
    """What the enabled definitions of `config` ask for at `now` (read in SQL; nothing written
    but the definitions' first-seen times). With `skips` false, a ticket rule reads only the
    tickets solved since its start (the others can be neither due nor waiting), and the skips
    are counted among those alone: the server plans after every write, and reading every
    ticket each time took a third of a second at a million, holding the writes back."""
    if not config.surveys:
        return Plan()
    active = [s for s in config.surveys if s.enabled and s.trigger is not Trigger.ON_DEMAND]
    starts = record_starts(con, active, now)  # (also forgets the definitions switched off)
    if not active:
        return Plan()
    parts = []
    for order, s in enumerate(active):
        if s.trigger is Trigger.RELATIONSHIP:
            parts.append(_customer_rule(config, s, order, now))
        else:
            parts.append(_ticket_rule(config, s, order, starts[s.name], now, skips))
    return collect(con, throttle_sql(" UNION ALL ".join(parts), config, now))


def collect(con: duckdb.DuckDBPyConnection, sql: str) -> Plan:
    """Run a verdict query: the due rows, the skips counted by reason, the waiting count."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _sv_plan AS {sql}")
    try:
        counts = Counter({v: n for v, n in con.execute(
            "SELECT verdict, count(*) FROM _sv_plan GROUP BY verdict").fetchall()})
        cols = ("survey", "source", "ticket_id", "customer_id", "agent_id", "channel", "address", "language",
                "trigger", "delivery", "delay_s", "due_at")
        next_due = con.execute("SELECT min(due_at) FROM _sv_plan WHERE verdict = 'waiting'").fetchall()[0][0]
        rows = con.execute(f"SELECT {', '.join(repr(c).replace(chr(39), chr(34)) for c in cols)} FROM _sv_plan "
                           "WHERE verdict = 'due' ORDER BY due_at, survey_order, source, ticket_id, customer_id"
                           ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _sv_plan")
    due = [dict(zip(cols, r, strict=True)) for r in rows]
    waiting = counts.pop("waiting", 0)
    counts.pop("due", None)
    return Plan(due=due, skipped=counts, waiting=waiting, next_due=next_due)
