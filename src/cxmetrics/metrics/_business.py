"""Business and people metrics: backlog, cost per resolution, employee turnover, customer
retention and churn, conversion, activation, active users, signup retention and the
retention of customers who contacted support (METRICS.md, "Customers and business").

Each builder returns one set-based query whose rows hold the `by` columns, `period` (with a
grain), `value`, `n` and, for proportions, a Wilson `ci_low`/`ci_high` in percent.

Periods come from a spine: every period from the request's `start` (else the data's first
record) to its `end` (else the data's last record), clipped to [start, end), so a period with
nothing to measure is there with value None. Stocks (customers, headcount, open tickets) are
running sums of +1/-1 events: the stock at an instant counts the events strictly before it,
and an event at a period's first instant belongs to that period. Dates are calendar days in
the workspace time zone (the session's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlglot import exp

from cxmetrics.errors import UserError
from cxmetrics.metrics import _custom
from cxmetrics.metrics._compile import period_sql
from cxmetrics.metrics._registry import MetricRef
from cxmetrics.metrics._sources import DIMENSIONS, SOURCES, dimension_in
from cxmetrics.metrics._stats import Z95

ACTIVATION_ACTION = "create_report"  # the product action that marks an activated customer
ACTIVATION_DAYS = 7  # ... when performed within this many days of signup

DONE = "('solved', 'closed')"
OPEN = "('new', 'open', 'pending', 'on-hold')"

# the dimensions each kind of row has (names of DIMENSIONS; `segment` is the customers' and
# funnel's own column)
TICKET_DIMS = ("agent_type", "assignee", "channel", "created_by", "discovered_topic", "priority", "product", "region",
               "source", "status", "tag", "team", "tier", "topic")
CUSTOMER_DIMS = ("region", "segment", "source", "tier")
AGENT_DIMS = ("source", "team")
COST_DIMS = ("source",)
FUNNEL_DIMS = ("segment", "source")

_STEP = {"hour": "INTERVAL 1 HOUR", "day": "INTERVAL 1 DAY", "week": "INTERVAL 7 DAY",
         "month": "INTERVAL 1 MONTH", "quarter": "INTERVAL 3 MONTH", "year": "INTERVAL 1 YEAR"}
DAY_GRAINS = ("day", "week", "month", "quarter", "year")
MONTH_GRAINS = ("month", "quarter", "year")


def _lit(value: object) -> str:
    return exp.Literal.string(str(value)).sql(dialect="duckdb")


def _ts(value: object) -> str:
    return f"CAST({_lit(value)} AS TIMESTAMPTZ)"


@dataclass(frozen=True)
class _Ask:
    """A checked request: the columns behind its dimensions and its filters as SQL."""

    metric: str
    by: tuple[str, ...]
    grain: str | None
    start: Any
    end: Any
    cols: dict[str, str]  # dimension -> column of the metric's rows
    filters: tuple[tuple[str, tuple[object, ...]], ...]  # (column, values: matched case-blind)

    @property
    def keys(self) -> list[str]:
        """Group keys of every intermediate result: a constant, then the `by` dimensions."""
        return ["_g", *[f'"{d}"' for d in self.by]]

    def key_select(self, alias: str = "") -> str:
        a = f"{alias}." if alias else ""
        return ", ".join(["1 AS _g", *[f'{a}{self.cols[d]} AS "{d}"' for d in self.by]])

    def where(self, alias: str = "") -> str:
        a = f"{alias}." if alias else ""
        return " AND ".join(dimension_in(f"{a}{col}", values) for col, values in self.filters) or "true"

    def match(self, x: str, y: str) -> str:
        return " AND ".join(f"{x}.{k} IS NOT DISTINCT FROM {y}.{k}" for k in self.keys)

    def out_keys(self, alias: str) -> str:
        """The `by` columns (and the period, with a grain) of a final SELECT."""
        cols = [f'{alias}."{d}"' for d in self.by] + (["s.period"] if self.grain else [])
        return "".join(c + ", " for c in cols)


def _ask(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any, end: Any,
         dims: Sequence[str], grains: Sequence[str] | None = None, why: str = "") -> _Ask:
    for name in [*by, *where]:
        if name not in dims:
            raise UserError(f"{ref.name} cannot be grouped or filtered by '{name}': it supports "
                            f"{', '.join(dims)}. Ask for it separately, without '{name}'.")
    if grain is not None and grains is not None and grain not in grains:
        raise UserError(f"{ref.name} has no '{grain}' grain{why}: use {', '.join(grains)}.")
    cols = {d: DIMENSIONS.get(d, d) for d in dims}
    filters = []
    for name, value in where.items():
        values = value if isinstance(value, list | tuple | set) else [value]
        filters.append((cols[name], tuple(values)))
    return _Ask(ref.name, tuple(by), grain, start, end, cols, tuple(filters))


def _spine(ask: _Ask, lo_data: str, hi_data: str, open_end: str | None = None) -> str:
    """One row per period: `period` (its label), `b` (its start) and its bounds [p_lo, p_hi),
    clipped to the request. Without a grain, one row for the whole window. `lo_data` and
    `hi_data` are the data's first and last instants, used where the request names no start or
    end (`open_end`, if given, ends a window without grain instead)."""
    start = _ts(ask.start) if ask.start is not None else None
    end = _ts(ask.end) if ask.end is not None else None
    if ask.grain is None:
        lo = start or lo_data
        hi = end or open_end or f"{hi_data} + INTERVAL 1 MICROSECOND"
        return f"SELECT NULL AS period, {lo} AS b, {lo} AS p_lo, {hi} AS p_hi"
    step = _STEP[ask.grain]
    label = period_sql(ask.grain, exp.column("b")).sql(dialect="duckdb")
    last = f"{end} - INTERVAL 1 MICROSECOND" if end else hi_data
    p_lo = f"greatest(b, {start})" if start else "b"
    p_hi = f"least(b + {step}, {end})" if end else f"b + {step}"
    return f"""SELECT {label} AS period, b, {p_lo} AS p_lo, {p_hi} AS p_hi
        FROM (SELECT {start or lo_data} AS lo, {last} AS hi) x,
             generate_series(date_trunc('{ask.grain}', x.lo), x.hi, {step}) g(b)"""


def _groups(ask: _Ask, rows: str) -> str:
    """The groups every period gets a row for: those of the data (one group without `by`)."""
    return f"SELECT DISTINCT {', '.join(ask.keys)} FROM {rows}" if ask.by else "SELECT 1 AS _g"


def _stock(ask: _Ask, extra_flows: dict[str, str] | None = None) -> str:
    """CTEs over `spine` and `ev` (the keys, `ts`, `delta` +1/-1, `inflow`, `outflow`): `cells`,
    one row per period and group with the stock at its start and end and its flows."""
    keys = ", ".join(ask.keys)
    extra = "".join(f", count(*) FILTER ({cond}) AS {name}" for name, cond in (extra_flows or {}).items())
    extra_out = "".join(f", coalesce(f.{name}, 0) AS {name}" for name in (extra_flows or {}))
    g_keys = ", ".join(f"g.{k}" for k in ask.keys)
    return f"""
    grp AS ({_groups(ask, 'ev')}),
    base AS (
        SELECT {keys}, sum(delta) AS base FROM ev
        WHERE ev.ts < (SELECT min(p_lo) FROM spine) GROUP BY ALL
    ),
    flows AS (
        SELECT s.b, {', '.join(f'ev.{k}' for k in ask.keys)}, sum(delta) AS net,
               count(*) FILTER (inflow) AS ins, count(*) FILTER (outflow) AS outs{extra}
        FROM ev JOIN spine s ON ev.ts >= s.p_lo AND ev.ts < s.p_hi GROUP BY ALL
    ),
    cells AS (
        SELECT s.period, s.b, s.p_lo, s.p_hi, {g_keys},
               coalesce(base.base, 0) + coalesce(sum(f.net) OVER (PARTITION BY {g_keys} ORDER BY s.b
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS at_start,
               coalesce(f.net, 0) AS net, coalesce(f.ins, 0) AS ins, coalesce(f.outs, 0) AS outs{extra_out}
        FROM spine s CROSS JOIN grp g
        LEFT JOIN flows f ON f.b IS NOT DISTINCT FROM s.b AND {ask.match('f', 'g')}
        LEFT JOIN base ON {ask.match('base', 'g')}
    )"""


def _wilson(k: str, n: str) -> str:
    """value, ci_low, ci_high in percent for k successes of n (all NULL when n is 0)."""
    nn = f"CAST(nullif({n}, 0) AS DOUBLE)"
    p = f"({k} / {nn})"
    z2 = Z95 * Z95
    centre = f"(({p} + {z2} / (2 * {nn})) / (1 + {z2} / {nn}))"
    half = f"({Z95} * sqrt({p} * (1 - {p}) / {nn} + {z2} / (4 * {nn} * {nn})) / (1 + {z2} / {nn}))"
    # as _stats.wilson: exact bounds at k = 0 and k = n; NULL without observations (greatest
    # and least skip NULLs, so they cannot be relied on for that)
    return (f"100 * {p} AS value, "
            f"CASE WHEN {n} > 0 THEN CASE WHEN {k} = 0 THEN 0 ELSE 100 * greatest(0, {centre} - {half}) END END"
            " AS ci_low, "
            f"CASE WHEN {n} > 0 THEN CASE WHEN {k} = {n} THEN 100 ELSE 100 * least(1, {centre} + {half}) END END"
            " AS ci_high")


# -- volume and cost -------------------------------------------------------------------------


def backlog_age(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
                end: Any) -> str:
    """The median age (seconds since creation) of the tickets unsolved at the end of each
    period (without a grain: at `end`, else now): the same tickets `backlog` counts, so
    n is the backlog. A period without open tickets has value None and n 0."""
    ask = _ask(ref, by, grain, where, start, end, TICKET_DIMS)
    keys = ", ".join(ask.keys)
    return f"""
    WITH {_open_spans(ask)},
    spine AS ({_spine(ask, '(SELECT min(created_at) FROM tk)',
                      '(SELECT max(greatest(created_at, solve_ts, reopen_ts)) FROM tk)', open_end='now()')}),
    open_at AS (
        SELECT s.b, {ask.key_select('t')}, (epoch_us(s.p_hi) - epoch_us(t.created_at)) / 1e6 AS age_s
        FROM tk t JOIN spine s ON t.created_at < s.p_hi
        WHERE t.solve_ts IS NULL OR t.solve_ts >= s.p_hi OR t.reopen_ts < s.p_hi
    ),
    grp AS ({_groups(ask, 'open_at')}),
    agg AS (SELECT b, {keys}, median(age_s) AS value, count(*) AS n FROM open_at GROUP BY ALL)
    SELECT {ask.out_keys('g')}a.value, coalesce(a.n, 0) AS n
    FROM spine s CROSS JOIN grp g
    LEFT JOIN agg a ON a.b IS NOT DISTINCT FROM s.b AND {ask.match('a', 'g')}
    """


def _open_spans(ask: _Ask) -> str:
    """CTEs `pop`, `tk`: the tickets asked for, each with when it was (first) solved and when
    it was reopened for good (see `backlog`; the facts keep the reopen, `reopened_at`)."""
    # (only the columns used: the engine keeps `pop` whole when it is read twice)
    dims = "".join(f", t.{c}" for c in dict.fromkeys(ask.cols[d] for d in ask.by))
    return f"""
    pop AS (SELECT t.source, t.ticket_id, t.created_at, t.first_solved_at, t.last_solved_at, t.last_event_at,
                   t.status, t.reopened_at{dims}
            FROM ({SOURCES['tickets'].sql}) t WHERE {ask.where('t')}),
    tk AS (
        SELECT p.*,
               -- never before creation (greatest skips NULLs: an unsolved ticket keeps NULL)
               CASE WHEN p.first_solved_at IS NOT NULL THEN greatest(p.first_solved_at, p.created_at)
                    WHEN p.status IN {DONE} THEN greatest(p.last_event_at, p.created_at) END AS solve_ts,
               CASE WHEN p.status NOT IN {DONE} AND p.first_solved_at IS NOT NULL
                    THEN coalesce(p.reopened_at, p.last_solved_at) END AS reopen_ts
        FROM pop p
        WHERE p.created_at IS NOT NULL
    )"""


def backlog(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
            end: Any) -> str:
    """Unsolved tickets at the end of each period (without a grain: at `end`, else now).

    A ticket is open from its creation to its first solve; one whose status is unsolved
    although it was solved was reopened after its last solve, at its first status event
    back to an open status (else, for flat imports that carry no reopen time, at the solve)
    and is open from then on. A done ticket without a solve time is solved at its last event.
    """
    ask = _ask(ref, by, grain, where, start, end, TICKET_DIMS)
    if grain is None:
        # one instant (the window's end, else now): the open tickets then, counted directly
        # (the same as the stock below: every creation, solve and reopen before it)
        at = _ts(ask.end) if ask.end is not None else "now()"
        group = " GROUP BY ALL" if ask.by else ""
        return f"""
    WITH {_open_spans(ask)}
    SELECT {ask.out_keys('c')}CAST(c.n AS DOUBLE) AS value, c.n
    FROM (SELECT {ask.key_select()}, {_open_at(at)} AS n FROM tk{group}) c
    """
    return f"""
    WITH {_open_spans(ask)},
    spine AS ({_spine(ask, '(SELECT min(created_at) FROM tk)',
                      '(SELECT max(greatest(created_at, solve_ts, reopen_ts)) FROM tk)', open_end='now()')}),
    ev AS (
        SELECT {ask.key_select()}, created_at AS ts, 1 AS delta, true AS inflow, false AS outflow FROM tk
        UNION ALL
        SELECT {ask.key_select()}, solve_ts, -1, false, true FROM tk WHERE solve_ts IS NOT NULL
        UNION ALL
        SELECT {ask.key_select()}, reopen_ts, 1, true, false FROM tk WHERE reopen_ts IS NOT NULL
    ),{_stock(ask)}
    SELECT {ask.out_keys('c')}CAST(c.at_start + c.net AS DOUBLE) AS value, c.at_start + c.net AS n
    FROM cells c JOIN spine s ON s.b IS NOT DISTINCT FROM c.b
    """


def _open_at(at: str) -> str:
    """SQL aggregate over `tk`: the tickets open at instant `at` (every creation, solve and
    reopen before it)."""
    return (f"count(*) FILTER (created_at < {at}) - count(*) FILTER (solve_ts < {at})"
            f" + count(*) FILTER (reopen_ts < {at})")


def backlog_over(ref: MetricRef, by: list[str], where: dict[str, object], periods: list[tuple[Any, Any]]) -> str:
    """`backlog` at the end of each period (`n_0`, `value_0`, `n_1`...), the tickets read once:
    a test of change asks two instants, and each reads every ticket (at 1M tickets, a fifth of
    an uncached overview's work). The counts are `backlog`'s without a grain, instant by instant."""
    ask = _ask(ref, by, None, where, None, None, TICKET_DIMS)
    counts = []
    for i, (_, end) in enumerate(periods):
        counts.append(f"{_open_at(_ts(end) if end is not None else 'now()')} AS n_{i}")
    group = " GROUP BY ALL" if ask.by else ""
    values = ", ".join(f"CAST(c.n_{i} AS DOUBLE) AS value_{i}, CAST(c.n_{i} AS BIGINT) AS n_{i}"
                       for i in range(len(periods)))
    return f"""
    WITH {_open_spans(ask)}
    SELECT {ask.out_keys('c')}{values}
    FROM (SELECT {ask.key_select()}, {', '.join(counts)} FROM tk{group}) c
    """


def cost_per_resolution(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
                        end: Any) -> str:
    """Costs whose period starts in the period / tickets whose latest solve falls in it (and
    that are solved now). Without a grain the window defaults to the span the costs cover."""
    ask = _ask(ref, by, grain, where, start, end, COST_DIMS, MONTH_GRAINS,
               why=" (costs are monthly: a finer grain would put a month's costs on its first day)")
    k = ", ".join(ask.keys)
    return f"""
    WITH c AS (
        SELECT {ask.key_select('c')}, c.period_start, c.period_end, c.amount, c.currency
        FROM ({SOURCES['costs'].sql}) c WHERE {ask.where('c')}
    ),
    t AS (
        SELECT {ask.key_select('t')}, t.last_solved_at
        FROM ({SOURCES['tickets'].sql}) t WHERE t.solved AND t.last_solved_at IS NOT NULL AND {ask.where('t')}
    ),
    spine AS ({_spine(ask, '(SELECT min(period_start) FROM c)',
                      '(SELECT max(period_end) FROM c) - INTERVAL 1 MICROSECOND')}),
    grp AS ({_groups(ask, f'(SELECT {k} FROM c UNION ALL SELECT {k} FROM t)')}),
    cb AS (
        SELECT s.b, {', '.join(f'c.{x}' for x in ask.keys)}, sum(c.amount) AS amount,
               count(DISTINCT c.currency) AS currencies, string_agg(DISTINCT c.currency, ', ') AS names
        FROM c JOIN spine s ON c.period_start >= s.p_lo AND c.period_start < s.p_hi GROUP BY ALL
    ),
    tb AS (
        SELECT s.b, {', '.join(f't.{x}' for x in ask.keys)}, count(*) AS solved
        FROM t JOIN spine s ON t.last_solved_at >= s.p_lo AND t.last_solved_at < s.p_hi GROUP BY ALL
    )
    SELECT {ask.out_keys('g')}
           CASE WHEN cb.currencies > 1
                THEN error('cost_per_resolution: the costs of ' || coalesce(s.period, 'the window')
                           || ' are in several currencies (' || cb.names || '); import them in one currency')
                ELSE cb.amount / nullif(tb.solved, 0) END AS value,
           coalesce(tb.solved, 0) AS n
    FROM spine s CROSS JOIN grp g
    LEFT JOIN cb ON cb.b IS NOT DISTINCT FROM s.b AND {ask.match('cb', 'g')}
    LEFT JOIN tb ON tb.b IS NOT DISTINCT FROM s.b AND {ask.match('tb', 'g')}
    """


# -- people ------------------------------------------------------------------------------------


def employee_turnover(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
                      end: Any) -> str:
    """Human agents who left in the period / the mean of the human headcount at its start and
    at its end x 100; n = human agents employed at some time in the period."""
    ask = _ask(ref, by, grain, where, start, end, AGENT_DIMS)
    return f"""
    WITH pop AS (
        SELECT * FROM ({SOURCES['agents'].sql}) a WHERE coalesce(a.type, 'human') = 'human' AND {ask.where('a')}
    ),
    spine AS ({_spine(ask, '(SELECT min(hired_at) FROM pop)', '(SELECT max(greatest(hired_at, left_at)) FROM pop)')}),
    ev AS (
        SELECT {ask.key_select()}, coalesce(hired_at, '-infinity'::TIMESTAMPTZ) AS ts, 1 AS delta,
               true AS inflow, false AS outflow FROM pop
        UNION ALL
        SELECT {ask.key_select()}, left_at, -1, false, true FROM pop WHERE left_at IS NOT NULL
    ),{_stock(ask)}
    SELECT {ask.out_keys('c')}100.0 * c.outs / nullif((2 * c.at_start + c.net) / 2.0, 0) AS value,
           c.at_start + c.ins AS n
    FROM cells c JOIN spine s ON s.b IS NOT DISTINCT FROM c.b
    """


# -- customers ---------------------------------------------------------------------------------


def _customer_stock(ask: _Ask, extra_flows: dict[str, str] | None = None) -> str:
    """CTEs pop (customers), spine, ev (+1 at signup, -1 at churn) and cells."""
    return f"""
    WITH pop AS (
        SELECT {ask.key_select('c')}, c.customer_id AS _cid, c.created_at, c.churned_at
        FROM ({SOURCES['customers'].sql}) c WHERE {ask.where('c')}
    ),
    spine AS ({_spine(ask, '(SELECT min(created_at) FROM pop)',
                      '(SELECT max(greatest(created_at, churned_at)) FROM pop)')}),
    ev AS (
        SELECT {', '.join(ask.keys)}, coalesce(created_at, '-infinity'::TIMESTAMPTZ) AS ts, 1 AS delta,
               true AS inflow, false AS outflow, coalesce(created_at, '-infinity'::TIMESTAMPTZ) AS born FROM pop
        UNION ALL
        SELECT {', '.join(ask.keys)}, churned_at, -1, false, true,
               coalesce(created_at, '-infinity'::TIMESTAMPTZ) FROM pop WHERE churned_at IS NOT NULL
    ),{_stock(ask, extra_flows)}"""


def crr(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any, end: Any) -> str:
    """(customers at end - new customers) / customers at start x 100."""
    ask = _ask(ref, by, grain, where, start, end, CUSTOMER_DIMS)
    return f"""{_customer_stock(ask)}
    SELECT {ask.out_keys('c')}100.0 * (c.at_start + c.net - c.ins) / nullif(c.at_start, 0) AS value,
           c.at_start AS n
    FROM cells c JOIN spine s ON s.b IS NOT DISTINCT FROM c.b
    """


def churn_rate(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
               end: Any) -> str:
    """Customers lost in the period (those who joined in it included) / customers at start x 100."""
    ask = _ask(ref, by, grain, where, start, end, CUSTOMER_DIMS)
    return f"""{_customer_stock(ask)}
    SELECT {ask.out_keys('c')}100.0 * c.outs / nullif(c.at_start, 0) AS value, c.at_start AS n
    FROM cells c JOIN spine s ON s.b IS NOT DISTINCT FROM c.b
    """


def support_retention(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
                      end: Any, *, part: str) -> str:
    """Of the customers at the start of the period, the share not churned by its end, for those
    who created a ticket in the period (as its requester, customer-created) and for the others;
    `part` is 'contacted', 'other' or 'difference' (contacted minus other, in points)."""
    ask = _ask(ref, by, grain, where, start, end, CUSTOMER_DIMS)
    pop_keys = ", ".join(f"p.{k}" for k in ask.keys)
    k1, n1 = "coalesce(x.c_k, 0)", "coalesce(x.c_n, 0)"
    k2, n2 = f"(c.at_start - c.lost_base - {k1})", f"(c.at_start - {n1})"
    if part == "contacted":
        value = _wilson(k1, n1) + f", {n1} AS n"
    elif part == "other":
        value = _wilson(k2, n2) + f", {n2} AS n"
    else:
        p1, p2 = f"({k1} / CAST(nullif({n1}, 0) AS DOUBLE))", f"({k2} / CAST(nullif({n2}, 0) AS DOUBLE))"
        se = f"(100 * sqrt({p1} * (1 - {p1}) / {n1} + {p2} * (1 - {p2}) / {n2}))"
        value = (f"100 * ({p1} - {p2}) AS value, 100 * ({p1} - {p2}) - {Z95} * {se} AS ci_low, "
                 f"100 * ({p1} - {p2}) + {Z95} * {se} AS ci_high, c.at_start AS n")
    return f"""{_customer_stock(ask, {'lost_base': 'outflow AND ev.born < s.p_lo'})},
    tix AS (
        SELECT DISTINCT s.b, t.requester_id
        FROM ({SOURCES['tickets'].sql}) t JOIN spine s ON t.created_at >= s.p_lo AND t.created_at < s.p_hi
        WHERE t.requester_id IS NOT NULL AND coalesce(t.created_by, 'customer') = 'customer'
    ),
    contacted AS (
        SELECT x.b, {pop_keys}, count(*) AS c_n,
               count(*) FILTER (p.churned_at IS NULL OR p.churned_at >= s.p_hi) AS c_k
        FROM tix x JOIN spine s ON s.b IS NOT DISTINCT FROM x.b JOIN pop p ON p._cid = x.requester_id
        WHERE coalesce(p.created_at, '-infinity'::TIMESTAMPTZ) < s.p_lo
          AND (p.churned_at IS NULL OR p.churned_at >= s.p_lo)
        GROUP BY ALL
    )
    SELECT {ask.out_keys('c')}{value}
    FROM cells c JOIN spine s ON s.b IS NOT DISTINCT FROM c.b
    LEFT JOIN contacted x ON x.b IS NOT DISTINCT FROM c.b AND {ask.match('x', 'c')}
    """


def conversion_rate(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
                    end: Any) -> str:
    """sum(conversions) / sum(visits) x 100 over the funnel rows whose period starts in the period."""
    ask = _ask(ref, by, grain, where, start, end, FUNNEL_DIMS)
    return f"""
    WITH f AS (
        SELECT {ask.key_select('f')}, f.period_start, f.period_end, f.visits, f.conversions
        FROM ({SOURCES['funnel'].sql}) f WHERE {ask.where('f')}
    ),
    spine AS ({_spine(ask, '(SELECT min(period_start) FROM f)',
                      '(SELECT max(period_end) FROM f) - INTERVAL 1 MICROSECOND')}),
    grp AS ({_groups(ask, 'f')}),
    agg AS (
        SELECT s.b, {', '.join(f'f.{k}' for k in ask.keys)}, sum(f.conversions) AS k, sum(f.visits) AS n
        FROM f JOIN spine s ON f.period_start >= s.p_lo AND f.period_start < s.p_hi GROUP BY ALL
    )
    SELECT {ask.out_keys('g')}{_wilson('coalesce(a.k, 0)', 'coalesce(a.n, 0)')}, coalesce(a.n, 0) AS n
    FROM spine s CROSS JOIN grp g
    LEFT JOIN agg a ON a.b IS NOT DISTINCT FROM s.b AND {ask.match('a', 'g')}
    """


# -- product usage -----------------------------------------------------------------------------

# the days activity was recorded: a customer can only be seen active (or not) on them
_OBSERVED = "obs AS (SELECT min(CAST(ts AS DATE)) AS first_day, max(CAST(ts AS DATE)) AS last_day FROM activity)"


def _cohort(ask: _Ask, eligible: str, hit: str) -> str:
    """A signup cohort per period: customers created in it that are `eligible` (SQL over c and
    obs), and the share of them with a `hit` (SQL over c and activity a); Wilson interval."""
    return f"""
    WITH {_OBSERVED},
    pop AS (
        SELECT {ask.key_select('c')}, c.source AS _src, c.customer_id AS _cid, c.created_at
        FROM ({SOURCES['customers'].sql}) c WHERE c.created_at IS NOT NULL AND {ask.where('c')}
    ),
    spine AS ({_spine(ask, '(SELECT min(created_at) FROM pop)', '(SELECT max(created_at) FROM pop)')}),
    grp AS ({_groups(ask, 'pop')}),
    coh AS (SELECT c.* FROM pop c, obs WHERE {eligible}),
    hit AS (
        SELECT DISTINCT c._src, c._cid FROM coh c
        JOIN activity a ON a.source = c._src AND a.customer_id = c._cid WHERE {hit}
    ),
    agg AS (
        SELECT s.b, {', '.join(f'c.{k}' for k in ask.keys)}, count(*) AS n, count(h._cid) AS k
        FROM coh c JOIN spine s ON c.created_at >= s.p_lo AND c.created_at < s.p_hi
        LEFT JOIN hit h ON h._src = c._src AND h._cid = c._cid
        GROUP BY ALL
    )
    SELECT {ask.out_keys('g')}{_wilson('coalesce(a.k, 0)', 'coalesce(a.n, 0)')}, coalesce(a.n, 0) AS n
    FROM spine s CROSS JOIN grp g
    LEFT JOIN agg a ON a.b IS NOT DISTINCT FROM s.b AND {ask.match('a', 'g')}
    """


def activation_rate(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
                    end: Any) -> str:
    """New customers of the period who performed ACTIVATION_ACTION within ACTIVATION_DAYS of
    signup / new customers x 100; customers whose window is not wholly inside the days with
    activity are left out (not counted as unactivated)."""
    ask = _ask(ref, by, grain, where, start, end, CUSTOMER_DIMS, DAY_GRAINS, why=" (activity is counted per day)")
    days = f"INTERVAL {ACTIVATION_DAYS} DAY"
    return _cohort(
        ask,
        eligible=f"CAST(c.created_at AS DATE) >= obs.first_day AND CAST(c.created_at + {days} AS DATE) <= obs.last_day",
        hit=f"a.action = {_lit(ACTIVATION_ACTION)} AND a.ts >= c.created_at AND a.ts <= c.created_at + {days}",
    )


def signup_retention(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
                     end: Any, *, day: int) -> str:
    """Customers who signed up in the period and were active on the calendar day `day` days
    after their signup day / those signups x 100; signups whose day falls outside the days with
    activity are left out (not counted as lost)."""
    ask = _ask(ref, by, grain, where, start, end, CUSTOMER_DIMS, DAY_GRAINS, why=" (retention is counted per day)")
    day_n = f"CAST(c.created_at AS DATE) + {day}"
    return _cohort(
        ask,
        eligible=f"{day_n} BETWEEN obs.first_day AND obs.last_day",
        hit=f"CAST(a.ts AS DATE) = {day_n}",
    )


def active_users(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
                 end: Any, *, window: int, ratio_to: int | None = None) -> str:
    """Distinct customers active in the `window` days ending on each day, averaged over the days
    of the period whose window lies wholly inside the days with activity (n = those days). With
    `ratio_to`, the mean of those counts / the mean over the same days with that window."""
    ask = _ask(ref, by, grain, where, start, end, CUSTOMER_DIMS, DAY_GRAINS, why=" (active users are counted per day)")
    windows = sorted({window, *([ratio_to] if ratio_to else [])})
    keys = ", ".join(ask.keys)
    ctes, joins, cols = [], [], []
    for w in windows:
        # a customer counts on days d..d+w-1 after each active day d: merge those spans
        # (gaps and islands), then count spans covering each day by a running sum of +1/-1
        ctes.append(f"""
    isl{w} AS (
        SELECT {keys}, min(d) AS s, max(d) + {w - 1} AS e FROM (
            SELECT *, sum(brk) OVER (PARTITION BY _src, _cid ORDER BY d) AS island FROM (
                SELECT *, CASE WHEN date_diff('day', lag(d) OVER (PARTITION BY _src, _cid ORDER BY d), d) <= {w}
                            THEN 0 ELSE 1 END
                       AS brk
                FROM act))
        GROUP BY {keys}, _src, _cid, island
    ),
    dl{w} AS (
        SELECT {keys}, day, sum(delta) AS delta FROM (
            SELECT {keys}, s AS day, 1 AS delta FROM isl{w}
            UNION ALL SELECT {keys}, e + 1, -1 FROM isl{w})
        GROUP BY ALL
    ),""")
        joins.append(f"LEFT JOIN dl{w} ON dl{w}.day = days.day AND {ask.match(f'dl{w}', 'g')}")
        cols.append(f"sum(coalesce(dl{w}.delta, 0)) OVER (PARTITION BY {', '.join(f'g.{k}' for k in ask.keys)} "
                    f"ORDER BY days.day) AS u{w}")
    widest = max(windows)
    if ratio_to:
        measure = f"avg(d.u{window}) FILTER (ok) / nullif(avg(d.u{ratio_to}) FILTER (ok), 0)"
    else:
        measure = f"avg(d.u{window}) FILTER (ok)"
    return f"""
    WITH {_OBSERVED},
    act AS (
        SELECT DISTINCT {ask.key_select('a')}, a.source AS _src, a.customer_id AS _cid, CAST(a.ts AS DATE) AS d
        FROM ({SOURCES['activity'].sql}) a WHERE {ask.where('a')}
    ),{''.join(ctes)}
    days AS (SELECT CAST(g AS DATE) AS day FROM obs, generate_series(obs.first_day, obs.last_day, INTERVAL 1 DAY) t(g)),
    spine AS ({_spine(ask, '(SELECT CAST(first_day AS TIMESTAMPTZ) FROM obs)',
                      '(SELECT CAST(last_day AS TIMESTAMPTZ) FROM obs)')}),
    grp AS ({_groups(ask, 'act')}),
    daily AS (
        SELECT {', '.join(f'g.{k}' for k in ask.keys)}, CAST(days.day AS TIMESTAMPTZ) AS at,
               days.day >= (SELECT first_day FROM obs) + {widest - 1} AS ok, {', '.join(cols)}
        FROM days CROSS JOIN grp g {' '.join(joins)}
    ),
    agg AS (
        SELECT s.b, {', '.join(f'd.{k}' for k in ask.keys)}, {measure} AS value, count(*) FILTER (ok) AS n
        FROM daily d JOIN spine s ON d.at >= s.p_lo AND d.at < s.p_hi GROUP BY ALL
    )
    SELECT {ask.out_keys('g')}a.value, coalesce(a.n, 0) AS n
    FROM spine s CROSS JOIN grp g
    LEFT JOIN agg a ON a.b IS NOT DISTINCT FROM s.b AND {ask.match('a', 'g')}
    """


def _typed(builder: _custom.Builder) -> _custom.Builder:
    """The builder with `value` as DOUBLE and `n` as BIGINT, whatever its arithmetic gave."""
    def build(ref: MetricRef, by: list[str], grain: str | None, where: dict[str, object], start: Any,
              end: Any) -> str:
        sql = builder(ref, by, grain, where, start, end)
        return f"SELECT * REPLACE (CAST(value AS DOUBLE) AS value, CAST(n AS BIGINT) AS n) FROM ({sql}) q"

    return build


_custom.OVER_PERIODS["backlog"] = backlog_over
_custom.BUILDERS.update({name: _typed(builder) for name, builder in {
    "backlog": backlog,
    "backlog_age": backlog_age,
    "cost_per_resolution": cost_per_resolution,
    "employee_turnover": employee_turnover,
    "crr": crr,
    "churn_rate": churn_rate,
    "conversion_rate": conversion_rate,
    "activation_rate": activation_rate,
    "dau": partial(active_users, window=1),
    "wau": partial(active_users, window=7),
    "mau": partial(active_users, window=30),
    "dau_mau": partial(active_users, window=1, ratio_to=30),
    "retention_d1": partial(signup_retention, day=1),
    "retention_d7": partial(signup_retention, day=7),
    "retention_d30": partial(signup_retention, day=30),
    "support_retention": partial(support_retention, part="difference"),
    "support_retention_contacted": partial(support_retention, part="contacted"),
    "support_retention_other": partial(support_retention, part="other"),
}.items()})
