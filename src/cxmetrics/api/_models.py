"""Response and request models: they document the API in its OpenAPI spec.

Rows whose columns depend on the request (a metric row has one column per `by`
dimension) allow extra fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Health(BaseModel):
    status: Literal["ok"]
    schema_version: int = Field(description="The workspace's schema migration version")
    version: int = Field(description="The live-change version: goes up by one on every write")
    cxmetrics: str


class MetricRow(Open):
    """One tidy row: plus one column per `by` dimension, and `period` with a grain."""

    metric: str
    period: str | None = Field(None, description="Local start of the period (with a grain)")
    value: float | None = Field(description="Percent 0-100, seconds, count, score or NPS points, by `unit`")
    n: int = Field(description="Rows behind the value (answers, tickets, calls)")
    ci_low: float | None = Field(description="95% interval, low end (null when the metric has none)")
    ci_high: float | None
    flags: list[str] = Field(description="small_sample (n below the metric's minimum), undefined (no rows)")
    unit: str
    target: float | None = Field(None, description="With benchmark: the workspace's target (targets.toml) for the "
                                 "row's dimension value, else the metric's; null without one")
    target_met: bool | None = Field(None, description="With benchmark: value >= target (higher is better) or <= "
                                    "target (lower is better); null without a target or value")
    benchmark: float | None = Field(None, description="With benchmark: the published reference value")
    benchmark_statistic: str | None = None
    benchmark_source: str | None = None
    benchmark_kind: str | None = Field(None, description="With benchmark: the kind of source (independent study, "
                                       "vendor study, consumer survey, industry convention)")
    gap: float | None = Field(None, description="With benchmark: value - benchmark")


class CompareRow(Open):
    """The change of one metric (and group) from period a to period b, tested."""

    metric: str
    a_value: float | None
    a_n: int
    b_value: float | None
    b_n: int
    change: float | None = Field(description="b - a, in the metric's unit (points for percentages)")
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    significant: bool | None = Field(description="p < 0.05, which is exactly when the 95% interval excludes 0 (one method "
                                                 "gives both); null when not tested (see flags, e.g. no_data_before)")
    test: str | None
    flags: list[str]
    unit: str


class CompareTable(BaseModel):
    rows: list[CompareRow]


class Span(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str | None = Field(None, alias="from")
    to: str | None = None


class Comparison(BaseModel):
    a: Span = Field(description="The earlier period (compare_to)")
    b: Span = Field(description="The requested period")
    rows: list[CompareRow]


class MetricsResponse(BaseModel):
    request: dict[str, Any] = Field(description="The request as understood: metrics, by, grain, from, to, where")
    rows: list[MetricRow]
    compare: Comparison | None = None
    version: int = Field(description="Hub version the answer was computed at")


class CatalogueEntry(Open):
    id: str
    label: str
    description: str
    kind: str
    unit: str
    direction: str
    source: str
    time: str


class Dimension(BaseModel):
    name: str
    group_by: bool
    filter: bool
    applies_to: Literal["tickets", "customers", "sla_targets", "surveys", "reviews", "time"] = Field(
        description="tickets (every ticket-level metric), customers (customer, activity and funnel metrics), "
                    "sla_targets (SLA metrics), surveys (survey metrics), reviews (review metrics), or time "
                    "(group by only)")


class DimensionValues(BaseModel):
    name: str
    values: list[str | None]
    truncated: bool


class TicketsPage(BaseModel):
    metric: str
    source: str = Field(description="What each row is: tickets, surveys (answers), survey_sends, reply_intervals")
    total: int = Field(description="Rows behind the number in all; for ticket metrics the metric's n")
    page: int
    page_size: int
    rows: list[dict[str, Any]]


class TicketDetail(BaseModel):
    ticket: dict[str, Any] | None = Field(description="The tickets row (null when only events exist)")
    facts: dict[str, Any] | None = Field(description="Its derived facts (ticket_facts)")
    events: list[dict[str, Any]]
    surveys: list[dict[str, Any]]


class Table(BaseModel):
    rows: list[dict[str, Any]]


class ImportResult(BaseModel):
    import_id: str
    read: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    ignored_columns: list[str] = []
    quarantine: list[dict[str, Any]] = Field([], description="The rows rejected, each with its line and reason")
    version: int = Field(description="Hub version after the write (the current one when nothing changed or "
                         "when not waiting)")
    visible: bool = Field(description="Whether metrics include the write now (false only with wait=false)")


class AnnotationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ts: str = Field(description="When it happened, ISO 8601", examples=["2025-04-01T00:00:00Z"])
    label: str = Field(min_length=1, max_length=500, examples=["Chat Assistant launched"])
    kind: str = Field("other", description="hire, policy, launch, outage, ai or other")
    description: str | None = Field(None, max_length=5000)
    annotation_id: str | None = Field(None, min_length=1, max_length=200, description="Default: generated")
    source: str | None = Field(None, min_length=1, max_length=200, description="Default: api")


class LoginIn(BaseModel):
    key: str = Field(min_length=1, max_length=500)


class Whoami(BaseModel):
    key_id: str
    name: str
    role: Literal["admin", "viewer"]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "viewer"] = "viewer"


class KeyCreated(BaseModel):
    key_id: str
    name: str
    role: str
    token: str = Field(description="The key itself: shown only now, stored only as a hash")


class Deleted(BaseModel):
    deleted: str
    version: int


#: A value of an event field: the importer reads it as text, as it reads a CSV cell.
Scalar = str | float | bool


class EventIn(BaseModel):
    """One event in the events import format (README, "Events"); values may be strings,
    numbers or booleans (not objects or lists: the server refuses those with 400). `created`
    events carry the ticket's dimensions as extra fields. An event the importer cannot use
    (a missing id, a bad time) is quarantined, not refused: the answer counts it."""

    model_config = ConfigDict(extra="allow")

    event_id: Scalar = Field(examples=["E1"])
    ticket_id: Scalar = Field(examples=["T-1"])
    ts: Scalar = Field(description="ISO 8601", examples=["2025-03-03T08:00:00Z"])
    kind: Scalar = Field(description="created, message, status, assign, handoff, priority, call_queued, "
                         "call_answered, call_abandoned, call_ended, hold_start, hold_end, wrap_up_end, merged",
                         examples=["created"])
    actor_type: Scalar | None = Field(None, description="customer, agent, bot or system")
    actor_id: Scalar | None = None
    public: Scalar | None = None
    status_to: Scalar | None = Field(None, description="new, open, pending, on-hold, solved, closed")
    channel: Scalar | None = None
    body: Scalar | None = None
    duration_s: Scalar | None = None
    source: Scalar | None = None
