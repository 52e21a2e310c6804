"""Compiling a request (metrics x dimensions x grain x filters x period) into as few
engine queries as possible: one per (source, time anchor), built as a SQL AST.

Names in a request (metrics, dimensions, grains) come from allow-lists; values
(filter values, dates) enter the query only as literals.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from datetime import date, datetime, timezone
from threading import Lock

import sqlglot
from sqlglot import exp

from cxmetrics.errors import UnknownNameError, UserError
from cxmetrics.metrics._registry import MetricRef
from cxmetrics.metrics._sources import DIMENSIONS, LIST_DIMENSIONS, SOURCES, dimension_in
from cxmetrics.metrics._spec import Kind
from cxmetrics.metrics._stats import quantile_grid

GRAINS = ("hour", "day", "week", "month", "quarter", "year")
# time-of dimensions: bucket the metric's own timestamp (in the workspace's zone)
TIME_DIMENSIONS = {"hour_of_day": "hour({t})", "weekday": "isodow({t})"}
QUANTILES = {"median": 0.5, "p90": 0.9}
CUSTOMER_ONLY = ("segment",)  # dimensions ticket-level sources do not have
SLA_ONLY = ("policy", "sla_metric")  # dimensions of SLA targets only
# dimensions of survey answers and sends only (an answer has a send's when it names its send)
SURVEY_ONLY = ("survey_kind", "survey", "survey_delay", "surveys_received", "survey_trigger", "survey_delivery",
               "survey_language")
REVIEW_ONLY = ("rating_band", "platform", "app")  # dimensions of reviews only
REVIEW_DIMS = (*REVIEW_ONLY, "source")  # every dimension review rows have
# every dimension staffed intervals (occupancy) have: the agent, the shift's team and channel
STAFFED_DIMS = ("assignee", "channel", "source", "team")


@dataclass(frozen=True)
class Part:
    """One metric's aggregates inside a compiled query: alias -> role."""

    ref: MetricRef
    aliases: dict[str, str]


@dataclass(frozen=True)
class CompiledQuery:
    source: str
    time: str
    sql: str
    dims: tuple[str, ...]
    has_period: bool
    parts: tuple[Part, ...] = field(default=())
    periods: int = 0  # > 0: one query for that many periods, told apart by _cx_period (0, 1...)


def _parse(text: str) -> exp.Expression:
    """`text` as an expression tree of its own (the caller may change it or place it in
    another): parsed once, copied after (a metric's expressions recur in every request)."""
    return _parsed(text).copy()


@lru_cache(maxsize=4096)
def _parsed(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, dialect="duckdb")


def _filtered(agg: exp.Expression, condition: exp.Expression) -> exp.Expression:
    return exp.Filter(this=agg, expression=exp.Where(this=condition))


def _and(*conds: exp.Expression) -> exp.Expression:
    return exp.and_(*[exp.paren(c) for c in conds])


def _count(condition: exp.Expression) -> exp.Expression:
    return _filtered(exp.Count(this=exp.Star()), condition)


def _with_filter(aggregate: exp.Expression, condition: exp.Expression) -> exp.Expression:
    """Add FILTER (WHERE condition) to every aggregate call of an expression."""
    def visit(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Filter):
            return _filtered(node.copy(), condition.copy())
        return node

    return aggregate.copy().transform(visit)


def aggregates(ref: MetricRef, index: int) -> tuple[list[exp.Expression], dict[str, str]]:
    """The aggregate columns of one metric and what each alias holds."""
    spec = ref.spec
    w = _parse(spec.where)
    a = f"m{index}"
    cols: list[exp.Expression] = [exp.alias_(_count(w), f"{a}_n")]
    roles = {f"{a}_n": "n"}
    if spec.kind is Kind.PROPORTION:
        cols.append(exp.alias_(_count(_and(w, _parse(spec.numerator or "false"))), f"{a}_k"))
        roles[f"{a}_k"] = "k"
    elif spec.kind is Kind.NPS:
        cols.append(exp.alias_(_count(_and(w, _parse(spec.promoter or "false"))), f"{a}_p"))
        cols.append(exp.alias_(_count(_and(w, _parse(spec.detractor or "false"))), f"{a}_d"))
        roles.update({f"{a}_p": "promoters", f"{a}_d": "detractors"})
    elif spec.kind is Kind.MEAN or (spec.kind is Kind.DURATION and ref.stat == "mean"):
        x = _parse(spec.expr or "NULL")
        cols.append(exp.alias_(_filtered(exp.Avg(this=x), w), f"{a}_mean"))
        cols.append(exp.alias_(_filtered(exp.Stddev(this=x.copy()), w.copy()), f"{a}_sd"))
        roles.update({f"{a}_mean": "mean", f"{a}_sd": "sd"})
    elif spec.kind is Kind.DURATION:
        x = _parse(spec.expr or "NULL")
        levels = exp.Array(expressions=[exp.Literal.number(v) for v in quantile_grid(QUANTILES[ref.stat or "median"])])
        q = exp.Anonymous(this="quantile_cont", expressions=[x, levels])
        cols.append(exp.alias_(_filtered(q, w), f"{a}_q"))
        roles[f"{a}_q"] = "quantiles"
    elif spec.kind is Kind.RATIO:
        cols.append(exp.alias_(_with_filter(_parse(spec.numerator or "NULL"), w), f"{a}_num"))
        cols.append(exp.alias_(_with_filter(_parse(spec.denominator or "NULL"), w), f"{a}_den"))
        roles.update({f"{a}_num": "numerator", f"{a}_den": "denominator"})
    return cols, roles


def _literal(value: object) -> exp.Expression:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def period_sql(grain: str, t: exp.Expression) -> exp.Expression:
    """The period's start as local text (the session zone is the workspace's):
    '2025-11-03' for day and longer grains, '2025-11-03T09:00' for hours."""
    trunc = exp.Anonymous(this="date_trunc", expressions=[exp.Literal.string(grain), t])
    fmt = "%Y-%m-%dT%H:00" if grain == "hour" else "%Y-%m-%d"
    return exp.Anonymous(this="strftime", expressions=[trunc, exp.Literal.string(fmt)])


def check_instant(value: object, name: str) -> None:
    """Dates and times in a request must parse; a bad one is the user's to fix."""
    if value is None or isinstance(value, date | datetime):
        return
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        raise UserError(
            f"{name} '{value}' is not a date or time such as 2025-03-01, 2025-03-01T09:00 or 2025-03-01T09:00+01:00."
        ) from None


def instant(v: object) -> datetime:
    """A request's date or time as a datetime (a date is its midnight; zone as given, if any)."""
    return v if isinstance(v, datetime) else datetime.combine(v, datetime.min.time()) if isinstance(v, date) \
        else datetime.fromisoformat(str(v))


def check_range(start: object, end: object) -> None:
    """A period ends after it starts: a reversed (or empty) one is refused, not answered
    with nothing (issue 10, item 10)."""
    if start is None or end is None:
        return

    def utc(v: object) -> datetime:
        t = instant(v)
        return t.replace(tzinfo=None) if t.tzinfo is None else t.astimezone(timezone.utc).replace(tzinfo=None)

    if utc(end) <= utc(start):
        raise UserError(f"the period ends before it starts: end (--to) {end} is not after start (--from) {start}; "
                        "--to is exclusive: swap the dates.")


def check_dimensions(by: list[str], where: dict[str, object]) -> None:
    for name in [*by, *where]:
        if name not in DIMENSIONS and name not in TIME_DIMENSIONS:
            raise UnknownNameError("dimension", name, [*DIMENSIONS, *TIME_DIMENSIONS])
    for name in where:
        if name in TIME_DIMENSIONS:
            raise UserError(f"'{name}' can be grouped by but not filtered on; filter with --from/--to instead.")
    for name in by:
        if name in LIST_DIMENSIONS:  # a ticket with three tags has no one group to be counted in
            raise UserError(f"'{name}' can be filtered on but not grouped by (a ticket has several); filter with "
                            f"{name}=VALUE, or group by topic.")


def check_request(refs: list[MetricRef], *, by: list[str], grain: str | None, where: dict[str, object],
                  start: object, end: object) -> None:
    """Every name and value of a request checked, without building any SQL."""
    if grain is not None and grain not in GRAINS:
        raise UnknownNameError("grain", grain, GRAINS)
    check_instant(start, "start (--from)")
    check_instant(end, "end (--to)")
    check_range(start, end)
    check_dimensions(by, where)
    # custom builders live in _custom, which imports this module: imported here, when used
    from cxmetrics.metrics._custom import check_custom

    for ref in refs:
        if ref.spec.kind is Kind.CUSTOM:
            # its builder makes SQL without running it: its own checks (dimensions, grains) run
            # now, before any query of the request's other metrics
            check_custom(ref, by=by, grain=grain, where=where, start=start, end=end)
        else:
            check_applies(ref, [*by, *where])


def check_applies(ref: MetricRef, dims: list[str]) -> None:
    """Each dimension must be one the rows of the metric's source have."""
    for d in dims:
        if ref.spec.source == "reviews" and d not in REVIEW_DIMS and d not in TIME_DIMENSIONS:
            raise UserError(f"'{d}' is not a dimension of reviews: {ref.name} can be cut by "
                            f"{', '.join(REVIEW_DIMS)}.")
        if ref.spec.source == "staffed_intervals" and d not in STAFFED_DIMS and d not in TIME_DIMENSIONS:
            raise UserError(f"'{d}' is not a dimension of staffed time (shifts): {ref.name} can be cut by "
                            f"{', '.join(STAFFED_DIMS)} and by time.")
        if d in REVIEW_ONLY and ref.spec.source != "reviews":
            raise UserError(f"'{d}' is a review dimension: it applies to review metrics such as "
                            f"review_response_rate, not to {ref.name} (over {ref.spec.source}).")
        if d in CUSTOMER_ONLY:
            raise UserError(f"'{d}' is a customer dimension: it applies to customer, activity and funnel "
                            f"metrics, not to {ref.name} (over {ref.spec.source}).")
        if d in SURVEY_ONLY and ref.spec.source not in ("surveys", "survey_sends"):
            raise UserError(f"'{d}' is a survey dimension: it applies to survey metrics such as "
                            f"survey_response_rate, not to {ref.name}.")
        if d in SLA_ONLY and ref.spec.source != "sla_targets":
            raise UserError(f"'{d}' is an SLA dimension: it applies to sla_compliance and sla_breaches, "
                            f"not to {ref.name}.")


# The source's SQL goes into a compiled query as text, in place of this table name: parsing
# and regenerating the (long, constant) source SQL was most of a compile's cost.
_SOURCE_SLOT = "__cx_source__"
# Compiled requests, most recent last: an overview compiles the same request for its tiles and
# for their test of change, and dashboards repeat requests; compiling is pure Python (it holds
# the interpreter lock that concurrent requests share), so a hit saves what no engine thread can.
_COMPILED: OrderedDict[tuple[object, ...], list[CompiledQuery]] = OrderedDict()
_COMPILED_MAX = 512
_COMPILED_LOCK = Lock()


def _request_key(refs: list[MetricRef], by: list[str], grain: str | None, where: dict[str, object],
                 start: object, end: object) -> tuple[object, ...] | None:
    """A hashable key for a request, or None when a value is not hashable (never cached)."""
    items = []
    for d, value in where.items():
        values = tuple(value) if isinstance(value, list | tuple) else \
            tuple(sorted(value, key=str)) if isinstance(value, set) else value
        items.append((d, values))
    key = (tuple(refs), tuple(by), grain, tuple(items), start, end)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def compile_queries(
    refs: list[MetricRef], *, by: list[str], grain: str | None, where: dict[str, object],
    start: date | datetime | None, end: date | datetime | None,
) -> list[CompiledQuery]:
    check_request(refs, by=by, grain=grain, where=where, start=start, end=end)
    (a, b), fill = _slotted([start, end], where)
    return _filled(_cached(_request_key(refs, by, grain, where, a, b),
                           lambda: _compile(refs, by=by, grain=grain, where=where, start=a, end=b)), fill)


def _cached(key: tuple[object, ...] | None, build: Callable[[], list[CompiledQuery]]) -> list[CompiledQuery]:
    """The compiled queries of a request, from `_COMPILED` when it has them."""
    if key is not None:
        with _COMPILED_LOCK:
            if (hit := _COMPILED.get(key)) is not None:
                _COMPILED.move_to_end(key)
                return list(hit)
    out = build()
    if key is not None:
        with _COMPILED_LOCK:
            _COMPILED[key] = out
            while len(_COMPILED) > _COMPILED_MAX:
                _COMPILED.popitem(last=False)
    return list(out)


# A request's period bounds are compiled as these strings and written into the SQL after, so
# that requests differing only in their dates (every view of a dashboard with its own window)
# share one compile: the bounds reach the SQL only as string literals (`_window`, `_compile`).
_BOUND_SLOT = "__cx_bound_{}__"


def _slotted(bounds: list[object], where: dict[str, object]) -> tuple[list[object], dict[str, str]]:
    """The bounds as slots (None stays None) and, for each slot's SQL literal, the bound's."""
    if any(_BOUND_SLOT[:10] in str(v) for v in where.values()):  # (a filter value that looks like one)
        return bounds, {}
    slots: list[object] = []
    fill: dict[str, str] = {}
    for i, value in enumerate(bounds):
        if value is None:
            slots.append(None)
            continue
        slots.append(_BOUND_SLOT.format(i))
        fill[exp.Literal.string(slots[-1]).sql(dialect="duckdb")] = exp.Literal.string(str(value)).sql(dialect="duckdb")
    return slots, fill


def _filled(queries: list[CompiledQuery], fill: dict[str, str]) -> list[CompiledQuery]:
    out = []
    for q in queries:
        sql = q.sql
        for slot, literal in fill.items():
            sql = sql.replace(slot, literal)
        out.append(replace(q, sql=sql))
    return out


def compile_periods(
    refs: list[MetricRef], *, by: list[str], where: dict[str, object],
    periods: list[tuple[date | datetime | str, date | datetime | str]],
) -> list[CompiledQuery]:
    """The queries of `compile_queries` without a grain, for several disjoint periods at once:
    each reads its rows once and groups them by period too (`_cx_period`, the period's index,
    after the `by` keys). Their queries correspond one to one, in order, with those of each
    period alone."""
    for start, end in periods:
        check_request(refs, by=by, grain=None, where=where, start=start, end=end)
    slots, fill = _slotted([x for p in periods for x in p], where)
    spans = list(zip(slots[::2], slots[1::2], strict=True))
    return _filled(_cached(_request_key(refs, by, "periods", where, tuple(spans), None),
                           lambda: _compile(refs, by=by, grain=None, where=where, start=None, end=None,
                                            periods=spans)), fill)


def _window(t: exp.Expression | str, start: object, end: object) -> str:
    """SQL: `t` falls in [start, end) (either bound may be open)."""
    col = t if isinstance(t, str) else t.sql(dialect="duckdb")
    parts = [f"{col} >= CAST({exp.Literal.string(str(start)).sql(dialect='duckdb')} AS TIMESTAMPTZ)"
             if start is not None else "",
             f"{col} < CAST({exp.Literal.string(str(end)).sql(dialect='duckdb')} AS TIMESTAMPTZ)"
             if end is not None else ""]
    return " AND ".join(p for p in parts if p) or "true"


def _compile(
    refs: list[MetricRef], *, by: list[str], grain: str | None, where: dict[str, object],
    start: date | datetime | None, end: date | datetime | None,
    periods: list[tuple[object, object]] | None = None,
) -> list[CompiledQuery]:
    groups: dict[tuple[str, str], list[MetricRef]] = {}
    for ref in refs:
        if ref.spec.kind is Kind.CUSTOM:
            continue
        groups.setdefault((ref.spec.source, ref.spec.time), []).append(ref)
    for source_name, time in list(groups):
        # the calendar ticket metrics of a request that asks for business-hours ones too are read
        # from the business-hours rows (tickets_bh: the same tickets, every column of theirs and
        # the twins): one scan and one join, not a scan more (an overview in business hours ran
        # each tile's period twice)
        if source_name == "tickets" and ("tickets_bh", time) in groups:
            groups[("tickets_bh", time)] += groups.pop((source_name, time))
    out = []
    for index_base, ((source_name, time), group) in enumerate(groups.items()):
        source = SOURCES[source_name]
        t = exp.column(time)
        select: list[exp.Expression] = []
        for d in by:
            col = _parse(TIME_DIMENSIONS[d].format(t=time)) if d in TIME_DIMENSIONS else exp.column(DIMENSIONS[d])
            select.append(exp.alias_(col, d))
        if grain:
            select.append(exp.alias_(period_sql(grain, t.copy()), "period"))
        if periods:
            which = " ".join(f"WHEN {_window(time, a, b)} THEN {i}" for i, (a, b) in enumerate(periods))
            select.append(exp.alias_(_parse(f"CASE {which} END"), "_cx_period"))
        parts = []
        for i, ref in enumerate(group):
            cols, roles = aggregates(ref, index_base * 100 + i)
            select += cols
            parts.append(Part(ref, roles))
        conds: list[exp.Expression] = [exp.Not(this=exp.Is(this=t.copy(), expression=exp.Null()))]
        if start is not None:
            conds.append(exp.GTE(this=t.copy(), expression=exp.cast(exp.Literal.string(str(start)), "TIMESTAMPTZ")))
        if end is not None:
            conds.append(exp.LT(this=t.copy(), expression=exp.cast(exp.Literal.string(str(end)), "TIMESTAMPTZ")))
        if periods:
            conds.append(_parse(" OR ".join(f"({_window(time, a, b)})" for a, b in periods)))
        windows = periods or ([(start, end)] if start is not None or end is not None else [])
        hint = dict(source.time_hints).get(time)
        if hint is not None and windows:
            # implied by the period's filter (the time equals the hint where the hint is not
            # null), but on the source's own columns, so the engine filters them in the scan
            h = f"({hint})"
            conds.append(_parse(f"{h} IS NULL OR " + " OR ".join(f"({_window(h, a, b)})" for a, b in windows)))
        for d, value in where.items():
            values = value if isinstance(value, list | tuple | set) else [value]
            conds.append(_parse(dimension_in(DIMENSIONS[d], values)))  # case-blind
        # rows no metric of the query counts are dropped before the joins and the grouping
        wheres = {ref.spec.where.strip() for ref in group}
        if "true" not in {w.lower() for w in wheres}:
            conds.append(exp.or_(*[exp.paren(_parse(w)) for w in sorted(wheres)]))
        # (copy=False: every part is built for this query alone, and copying the trees was
        # half a compile's cost)
        query = exp.select(*select, copy=False).from_(exp.to_table(_SOURCE_SLOT).as_("src"), copy=False) \
            .where(exp.and_(*conds, copy=False), copy=False)
        n_keys = len(by) + (1 if grain else 0) + (1 if periods else 0)
        if n_keys:
            query = query.group_by(*[exp.Literal.number(k + 1) for k in range(n_keys)], copy=False)
            query = query.order_by(*[exp.Literal.number(k + 1) for k in range(n_keys)], copy=False)
        sql = query.sql(dialect="duckdb", pretty=True, copy=False)  # (built for this alone)
        slot = f"FROM {_SOURCE_SLOT} AS src"
        assert sql.count(slot) == 1, "the source's slot appears once in a compiled query"
        read = {c.name for c in query.find_all(exp.Column)}  # the source's columns the query reads
        sql = sql.replace(slot, "FROM (\n" + source.sql_for([*by, *where], read).strip() + "\n) AS src")
        out.append(CompiledQuery(source_name, time, sql, tuple(by), grain is not None, tuple(parts),
                                 len(periods or ())))
    return out
