"""The import kinds: for each, its input columns, the row checks beyond single
columns, how a row lands in its canonical table, and what else it implies.

Checks are SQL expressions over the typed columns that give a reason or NULL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from cxmetrics.errors import UnknownNameError
from cxmetrics.ingest import _calls, _derive, _reviews, _shifts, _studies
from cxmetrics.model import (
    DEFAULT_SCALES,
    EVENT_TICKET_COLUMNS,
    FLAT_TICKET_COLUMNS,
    TABLES,
    Column,
    ColType,
    Table,
)

Post = Callable[[duckdb.DuckDBPyConnection, str, str], None]  # (con, import_id, currency)


@dataclass(frozen=True)
class ImportKind:
    name: str
    table: Table
    inputs: tuple[Column, ...]
    derived: tuple[tuple[str, str], ...] = ()  # (name, SQL over typed inputs)
    checks: tuple[str, ...] = ()  # SQL over typed inputs and derived: a reason or NULL
    target: dict[str, str] = field(default_factory=dict)  # table column -> SQL over stage
    post: Post | None = None
    doc: str = ""
    aliases: dict[str, str] = field(default_factory=dict)  # normalised header -> input column it feeds
    windowed: bool = False  # derived columns use window functions (over the file's rows): see stage_sql

    @property
    def input_names(self) -> set[str]:
        return {c.name for c in self.inputs}

    def target_sql(self, column: str) -> str:
        return self.target.get(column, f'"{column}"')


def _before(later: str, earlier: str) -> str:
    return (
        f"CASE WHEN {later} < {earlier} THEN '{later} (' || strftime({later}, '%Y-%m-%d %H:%M:%S%z') || "
        f"') is before {earlier} (' || strftime({earlier}, '%Y-%m-%d %H:%M:%S%z') || ')' END"
    )


def _scale(prefix: str, score: str, scale: str, kind: str) -> tuple[tuple[str, str], ...]:
    """Derived columns that read a score on its scale (numbers, or good/bad)."""
    word = f"lower({score}) IN ('good', 'bad')"
    default = DEFAULT_SCALES.get(kind, "1-5") if not kind.startswith("(") else None
    default_sql = f"'{default}'" if default else "CASE " + " ".join(
        f"WHEN {kind} = '{k}' THEN '{v}'" for k, v in DEFAULT_SCALES.items()
    ) + " END"
    norm = f"replace(replace(lower({scale}), ' ', ''), 'good-bad', 'good/bad')"
    scale_expr = f"CASE WHEN {word} THEN 'good/bad' ELSE coalesce({norm}, {default_sql}) END"
    return (
        (f"{prefix}scale_n", scale_expr),
        (f"{prefix}min", f"CASE WHEN {scale_expr} = 'good/bad' THEN 0 ELSE try_cast(regexp_extract({scale_expr}, '^(\\d+)-(\\d+)$', 1) AS DOUBLE) END"),
        (f"{prefix}max", f"CASE WHEN {scale_expr} = 'good/bad' THEN 1 ELSE try_cast(regexp_extract({scale_expr}, '^(\\d+)-(\\d+)$', 2) AS DOUBLE) END"),
        (f"{prefix}score", f"CASE WHEN {word} THEN CAST(lower({score}) = 'good' AS DOUBLE) ELSE try_cast({score} AS DOUBLE) END"),
    )


def _score_checks(prefix: str, score: str, label: str) -> tuple[str, ...]:
    return (
        f"CASE WHEN {score} IS NOT NULL AND ({prefix}min IS NULL OR {prefix}max IS NULL OR {prefix}min >= {prefix}max) "
        f"THEN '{label} scale ''' || {prefix}scale_n || ''' is not a scale such as 1-5, 1-7, 0-10 or good/bad' END",
        f"CASE WHEN {score} IS NOT NULL AND {prefix}score IS NULL THEN '{label} ''' || {score} || ''' is not a number or good/bad' END",
        f"CASE WHEN {prefix}score < {prefix}min OR {prefix}score > {prefix}max "
        f"THEN '{label} ' || {score} || ' is outside its scale ' || {prefix}scale_n "
        # inside the scale but between its points: say so, not "outside"
        f"WHEN {prefix}score <> round({prefix}score) "
        f"THEN '{label} ' || {score} || ' is not a whole point of its scale ' || {prefix}scale_n END",
    )


# An answer without responded_at or sent_at is placed in time by its ticket (the surveys
# metric source: the ticket's latest solve, else last event, else creation). Without a
# stored ticket nothing can place it and no metric would ever see it: it is quarantined.
# The ticket may exist as a tickets row or only as events (facts build it from either).
_UNTIMED_ANSWER = """CASE WHEN responded_at IS NULL AND sent_at IS NULL THEN CASE
    WHEN ticket_id IS NULL THEN 'no responded_at, sent_at or ticket to place it in time'
    WHEN (source, ticket_id) NOT IN (SELECT source, ticket_id FROM tickets UNION SELECT source, ticket_id FROM events)
    THEN 'no responded_at or sent_at, and its ticket ' || ticket_id || ' is not stored to place it in time: '
         || 'import the ticket first, then this file again'
    END END"""

_FLAT_TICKET_TARGET = {
    "reopens_reported": "reopens",
    "replies_reported": "replies",
    "handle_s_reported": "handle_seconds",
    "created_by": "coalesce(created_by, 'customer')",
    # what the ticket implies (the events and surveys views derive its rows from these)
    "csat_score": "csat_score", "csat_scale": "csat_scale_n", "ces_score": "ces_score", "ces_scale": "ces_scale_n",
    "_flat": "true",
}

_EVENT_INPUTS = tuple(c for c in TABLES["events"].columns if c.name != "origin") + tuple(
    c for c in EVENT_TICKET_COLUMNS if c.name not in TABLES["events"].names
)

KINDS: dict[str, ImportKind] = {
    k.name: k
    for k in (
        ImportKind(
            "tickets", TABLES["tickets"], FLAT_TICKET_COLUMNS,
            derived=(
                *_scale("csat_", "csat", "csat_scale", "csat"),
                *_scale("ces_", "CAST(ces AS VARCHAR)", "ces_scale", "ces"),
            ),
            checks=(
                _before("first_reply_at", "created_at"),
                _before("solved_at", "created_at"),
                *_score_checks("csat_", "csat", "csat"),
                *_score_checks("ces_", "CAST(ces AS VARCHAR)", "ces"),
                "CASE WHEN nps <> round(nps) THEN 'nps ' || nps || ' is not a whole point of 0-10' END",
            ),
            target=_FLAT_TICKET_TARGET,
            post=_derive.flat_tickets,
            doc="flat tickets: one row per ticket; becomes a ticket, its implied events and survey answers",
        ),
        ImportKind(
            "events", TABLES["events"], _EVENT_INPUTS,
            checks=(
                "CASE WHEN kind = 'status' AND status_to IS NULL THEN 'a status event needs status_to' END",
                "CASE WHEN kind = 'assign' AND assignee_id IS NULL AND team IS NULL THEN 'an assign event needs assignee_id or team' END",
                "CASE WHEN kind = 'priority' AND priority IS NULL THEN 'a priority event needs priority' END",
            ),
            target={
                "origin": "'events'",
                "public": "CASE WHEN kind = 'message' THEN coalesce(public, true) ELSE public END",
            },
            post=_derive.tickets_from_created_events,
            doc="events: one row per thing that happened to a ticket",
        ),
        ImportKind(
            "surveys", TABLES["surveys"],
            tuple(
                Column(c.name, ColType.TEXT, required=c.required) if c.name == "score" else
                # who collected it: a file's answers are 'surveys' (the default), the answers the
                # survey page stores say 'collected' (cxmetrics.surveys); 'tickets' stays reserved
                # for the answers a flat ticket implies (replaced when the ticket changes)
                Column("origin", values=("surveys", "collected"),
                       doc="surveys (default) or collected (answered on cxmetrics' survey page)")
                if c.name == "origin" else c
                for c in TABLES["surveys"].columns
                if c.name not in ("scale_min", "scale_max")
            ),
            derived=_scale("s_", "score", "scale", "(kind)"),
            checks=(*_score_checks("s_", "score", "score"), _before("responded_at", "sent_at"), _UNTIMED_ANSWER),
            target={"scale": "s_scale_n", "scale_min": "s_min", "scale_max": "s_max", "score": "s_score",
                    "origin": "coalesce(lower(origin), 'surveys')"},
            doc="survey answers",
        ),
        ImportKind("survey_sends", TABLES["survey_sends"], TABLES["survey_sends"].columns, doc="surveys sent"),
        ImportKind(
            "agents", TABLES["agents"], TABLES["agents"].columns,
            checks=(_before("left_at", "hired_at"),),
            target={"type": "coalesce(type, 'human')"},
            doc="agents, human or bot",
        ),
        ImportKind(
            "customers", TABLES["customers"], TABLES["customers"].columns,
            checks=(_before("churned_at", "created_at"),), doc="customers",
        ),
        ImportKind("activity", TABLES["activity"], TABLES["activity"].columns, doc="product-usage events"),
        ImportKind(
            "funnel", TABLES["funnel"], TABLES["funnel"].columns,
            checks=("CASE WHEN conversions > visits THEN 'conversions ' || conversions || ' exceed visits ' || visits END",),
            target={"segment": "coalesce(segment, 'all')"},
            doc="visits and conversions per period and segment",
        ),
        ImportKind(
            "costs", TABLES["costs"], TABLES["costs"].columns,
            target={"currency": "coalesce(upper(currency), $currency)"},
            doc="costs per period and category",
        ),
        ImportKind("annotations", TABLES["annotations"], TABLES["annotations"].columns, doc="changes worth marking"),
        ImportKind(
            # a call is stored as its call_queued event (see _calls), the rest is implied
            "calls", TABLES["events"], _calls.INPUTS,
            derived=_calls.DERIVED, checks=_calls.CHECKS, target=_calls.TARGET, post=_calls.implied,
            aliases=_calls.ALIASES,
            doc="call logs: one row per call; becomes a ticket and the call events its times imply",
        ),
        ImportKind(
            "shifts", TABLES["shifts"], TABLES["shifts"].columns,
            derived=_shifts.DERIVED, checks=_shifts.CHECKS, target=_shifts.TARGET, aliases=_shifts.ALIASES,
            windowed=True,
            doc="agents' working spans: available (staffed) or another activity (paid time off the queues)",
        ),
        ImportKind(
            # public reviews with the company's reply (cxmetrics.studies; rules in _reviews)
            "reviews", TABLES["reviews"], _reviews.INPUTS,
            derived=_reviews.DERIVED, checks=_reviews.CHECKS, target=_reviews.TARGET, post=_reviews.text_facts,
            aliases=_reviews.ALIASES,
            doc="public reviews (app stores, review sites), one row per review, with the company's reply",
        ),
        ImportKind(
            # benchmark studies (cxmetrics.studies; rules in _studies): the companies and what they offer
            "companies", TABLES["companies"], TABLES["companies"].columns, target=_studies.COMPANIES_TARGET,
            doc="the companies of a benchmark study: industry, region, size and the channels they offer",
        ),
        ImportKind(
            "probes", TABLES["probes"], _studies.PROBES_INPUTS,
            derived=_studies.PROBES_DERIVED, checks=_studies.PROBES_CHECKS, target=_studies.PROBES_TARGET,
            doc="the questions a benchmark study sent companies, one row per probe, with the answer and rubric",
        ),
    )
}


def kind(name: str) -> ImportKind:
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownNameError("import kind", name, KINDS) from None


def canonical(table_name: str) -> ImportKind:
    """A kind that loads a canonical table as it is, with its column checks but no
    implied rows: for data already in the model's shape (the demo, other stores)."""
    if table_name not in TABLES:
        raise UnknownNameError("table", table_name, TABLES)
    regular = KINDS.get(table_name)
    table = TABLES[table_name]
    if regular is not None and regular.inputs == table.columns:
        return regular
    checks = regular.checks if table_name == "events" and regular is not None else ()
    return ImportKind(table_name, table, table.columns, checks=checks, doc=table.doc)
