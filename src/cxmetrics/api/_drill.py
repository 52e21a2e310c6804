"""Drill-down: the rows behind a metric's number (its n), for a group and a period.

The rows are taken from the metric's own declaration in the registry (its source, the
filter of the rows that count, and the timestamp that places a row in a period), with
the same dimension filters the metric engine applies, so for every ticket metric the
number of rows equals the metric's n for that group and period:

- ticket metrics (source `tickets`): one row per ticket with its facts and subject, and
  `metric_value`: the value the metric aggregates (seconds for durations, true/false
  for shares, the score for NPS; +1 / -1 / 0 for an NPS-kind metric over rows without a
  score, such as sentiment_shift's tickets: promoter, detractor, neither);
- survey metrics (`surveys`): one row per answer, with its ticket's dimensions;
- `survey_sends`: one row per survey sent; `reply_intervals` (next reply time): one row
  per answered customer message;
- `backlog`: the tickets open at the end of the window (else now), by the same rule as
  the metric, optionally narrowed by `age` (`LO-HI` days open, `LO-` for no upper bound,
  e.g. `3-7`: open at least 3 and less than 7 days, measured at the window's end or now,
  whichever is earlier; the Queue page's ageing buckets); `avg_response_time`: one row
  per ticket with its mean response interval.

Other custom metrics (customers, agents, costs, funnel, activity) have no tickets behind
them; asking for them is a UserError. Names (metric, dimensions, sort column) come from
allow-lists; values enter the query only as parameters.

An empty filter value (`{"channel": [""]}`, `where=channel:` over HTTP) selects the rows
without a value: the `null` group of a metric row. `where` may also hold `hour_of_day` (0-23) and `weekday` (1 = Monday .. 7), the cells of a
heatmap, applied to the metric's own timestamp in the workspace's time zone. It may also
hold VALUE_FILTERS (`value_gt`, `value_le`, `score`, `scale`): a bucket or score of the
distributions page, so its count and its list are the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from cxmetrics._workspace import Workspace, translate_errors
from cxmetrics.errors import UnknownNameError, UserError
from cxmetrics.metrics._business import DONE, OPEN
from cxmetrics.metrics._compile import TIME_DIMENSIONS, check_instant, check_range
from cxmetrics.metrics._registry import MetricRef, registry
from cxmetrics.metrics._sources import DIMENSIONS, LIST_DIMENSIONS, NONE, SOURCES, dimension_in
from cxmetrics.metrics._spec import Kind

Instant = date | datetime | str | None

#: Filters on a row's value rather than a dimension (a bucket of the distributions page):
#: `value_gt` / `value_le`, the metric's value (seconds for a duration, the score for NPS)
#: above / at most a number, so a bucket (lo, hi] lists exactly its rows; `score` / `scale`,
#: a survey answer's score (one of the numbers given) and scale ('1-5', '0-10'...).
VALUE_FILTERS = ("value_gt", "value_le", "score", "scale")
# kinds whose value is a number (a share's value is yes/no, a count's has none)
_NUMERIC_KINDS = (Kind.DURATION, Kind.MEAN, Kind.NPS)

# columns that identify a row, in the order rows are tied-broken (those a source has)
_ID_COLUMNS = ("source", "ticket_id", "response_id", "send_id", "seq", "contact_no")
_DRILLABLE_CUSTOM = ("backlog", "per_ticket_mean")


def _visible(ws: Workspace, sql: str) -> tuple[list[str], list[str]]:
    """(columns a reader sees, bookkeeping columns to leave out) of a source's rows."""
    with translate_errors():
        names = list(ws.con.sql(f"SELECT * FROM ({sql}) src LIMIT 0").columns)
    hidden = [c for c in names if c.startswith("_") or c == "excluded"]
    return [c for c in names if c not in hidden], hidden


def _exclude(hidden: list[str]) -> str:
    return f"EXCLUDE ({', '.join(chr(34) + c + chr(34) for c in hidden)})" if hidden else ""


@dataclass(frozen=True)
class DrillQuery:
    """The SQL of a drill-down (rows in a CTE `behind`), its parameters and its sort keys."""

    metric: str
    source: str
    time: str
    sql: str
    params: tuple[Any, ...]
    keys: tuple[str, ...]


def _value_expr(ref: MetricRef, columns: list[str]) -> str:
    spec = ref.spec
    if spec.kind is Kind.PROPORTION:
        return f"({spec.numerator})"
    if spec.kind in (Kind.DURATION, Kind.MEAN):
        return f"({spec.expr})"
    if spec.kind is Kind.NPS:
        if "score" in columns:  # a survey answer: its score says which side it is on
            return "score"
        # rows without a score (sentiment_shift's tickets): +1 a promoter, -1 a detractor, 0 neither
        return f"CASE WHEN ({spec.promoter or 'false'}) THEN 1 WHEN ({spec.detractor or 'false'}) THEN -1 ELSE 0 END"
    return "NULL"


def _check_applies(where: dict[str, Any], columns: list[str], metric: str, source: str) -> None:
    """Every filtered dimension must be a column of the rows listed (`policy` is an SLA
    target's, `segment` a customer's: not a ticket's)."""
    for name in where:
        if name in DIMENSIONS and DIMENSIONS[name] not in columns:
            raise UserError(f"'{name}' does not apply to {metric} (its rows are {source}, which have no {name}).")


def _filters(where: dict[str, Any], time: str, custom_ok: bool) -> tuple[list[str], list[Any]]:
    conds: list[str] = []
    params: list[Any] = []
    for name, value in where.items():
        values = list(value) if isinstance(value, list | tuple | set) else [value]
        if not values:
            continue
        if name in TIME_DIMENSIONS:
            try:
                ints = [int(str(v)) for v in values]
            except ValueError:
                raise UserError(f"{name} takes whole numbers ({'0-23' if name == 'hour_of_day' else '1 = Monday .. 7'}),"
                                f" not {values!r}.") from None
            conds.append(f"{TIME_DIMENSIONS[name].format(t=time)} IN ({', '.join('?' for _ in ints)})")
            params += ints
            continue
        if name not in DIMENSIONS:
            raise UnknownNameError("dimension", name, [*DIMENSIONS, *TIME_DIMENSIONS])
        col = DIMENSIONS[name]
        # (an empty value, or `(none)` as every filter takes it, asks for the rows without one)
        given = [str(v) for v in values if v is not None and str(v) not in ("", NONE)]
        # case-blind, as every metric's filter (metrics._sources.dimension_in)
        alternatives = [f"lower(CAST({col} AS TEXT)) IN ({', '.join('lower(?)' for _ in given)})"] if given else []
        bound = given
        if name in LIST_DIMENSIONS and given:  # a ticket's tags: any of them is one of the values
            alternatives, bound = [dimension_in(col, given)], []
        if len(given) < len(values):  # an empty value: the group of rows without one
            alternatives.append(f"coalesce(len({col}), 0) = 0" if name in LIST_DIMENSIONS else f"{col} IS NULL")
        conds.append(f"({' OR '.join(alternatives)})")
        params += bound
    return conds, params


def _number(name: str, value: Any) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        raise UserError(f"{name} takes a number (seconds for a duration, e.g. {name}=3600), not '{value}'.") from None


def _value_filters(given: dict[str, Any], ref: MetricRef, columns: list[str]) -> tuple[list[str], list[Any]]:
    """SQL conditions of the VALUE_FILTERS in a drill-down's `where` (popped from it)."""
    conds: list[str] = []
    params: list[Any] = []
    for name, value in given.items():
        values = [v for v in (list(value) if isinstance(value, list | tuple | set) else [value])
                  if v is not None and str(v).strip() != ""]
        if not values:
            continue
        if name in ("value_gt", "value_le"):
            if ref.spec.kind not in _NUMERIC_KINDS:
                raise UserError(f"{name} filters a metric's value: {ref.name} is a {ref.spec.kind.value}, whose rows "
                                "have no number to compare; use it with a duration, mean or NPS metric (e.g. frt).")
            if len(values) > 1:
                raise UserError(f"{name} takes one number, got {len(values)}: {', '.join(map(str, values))}.")
            conds.append(f"({_value_expr(ref, columns)}) {'>' if name == 'value_gt' else '<='} ?")
            params.append(_number(name, values[0]))
            continue
        if "score" not in columns:
            raise UserError(f"{name} filters survey answers: {ref.name}'s rows ({ref.spec.source}) have no score; "
                            "use it with a survey metric such as csat or nps.")
        if name == "score":
            conds.append(f"score IN ({', '.join('?' for _ in values)})")
            params += [_number(name, v) for v in values]
        else:
            conds.append(f"scale IN ({', '.join('?' for _ in values)})")
            params += [str(v).strip() for v in values]
    return conds, params


def _window(time: str, start: Instant, end: Instant) -> tuple[list[str], list[Any]]:
    check_instant(start, "from")
    check_instant(end, "to")
    check_range(start, end)
    conds, params = [f"{time} IS NOT NULL"], []
    if start is not None:
        conds.append(f"{time} >= CAST(? AS TIMESTAMPTZ)")
        params.append(str(start))
    if end is not None:
        conds.append(f"{time} < CAST(? AS TIMESTAMPTZ)")
        params.append(str(end))
    return conds, params


def drill_query(ws: Workspace, metric: str, where: dict[str, Any] | None = None, start: Instant = None,
                end: Instant = None) -> DrillQuery:
    """The drill-down of `metric` as SQL: its rows in a CTE named `behind`."""
    ref = registry().resolve(metric)
    spec = ref.spec
    where = dict(where or {})
    if AGE in where and spec.sql != "backlog":
        raise UserError(f"'{AGE}' (days open) narrows the open tickets of backlog only, not {metric}.")
    by_value = {k: where.pop(k) for k in VALUE_FILTERS if k in where}
    if spec.kind is Kind.CUSTOM and by_value:
        raise UserError(f"{', '.join(by_value)} cannot filter {metric}: its rows are computed by a query of its own; "
                        "value filters apply to duration, mean, NPS and survey metrics.")
    if spec.kind is Kind.CUSTOM:
        if spec.sql == "backlog":
            return _backlog(ws, ref, where, end)
        if spec.sql == "per_ticket_mean":
            return _per_ticket(ws, ref, where, start, end)
        raise UserError(f"'{metric}' is computed over {spec.source}, not over tickets: there are no tickets behind "
                        "it to list. Ticket, survey, call and reply metrics, and backlog, have them.")
    source = SOURCES[spec.source]
    cols, hidden = _visible(ws, source.sql)
    if "ticket_id" not in cols:
        raise UserError(f"'{metric}' is computed over {spec.source}: there are no tickets behind it to list.")
    _check_applies(where, cols, metric, spec.source)
    time = spec.time
    conds, params = _window(time, start, end)
    more, more_params = _filters(where, time, custom_ok=False)
    conds += more
    params += more_params
    conds.append(f"({spec.where})")
    more, more_params = _value_filters(by_value, ref, cols)
    conds += more
    params += more_params
    sql = f"""behind AS (
        SELECT src.* {_exclude(hidden)}, {_value_expr(ref, cols)} AS metric_value
        FROM ({source.sql}) src
        WHERE {' AND '.join(conds)}
    )"""
    keys = tuple(c for c in _ID_COLUMNS if c in cols)
    return DrillQuery(ref.name, spec.source, time, sql, tuple(params), keys)


def _backlog(ws: Workspace, ref: MetricRef, where: dict[str, Any], end: Instant) -> DrillQuery:
    """Tickets open at `end` (else now): created before it and not solved by then, or
    reopened before it after their last solve (the backlog metric's rule)."""
    check_instant(end, "to")
    where = dict(where)
    ages = age_bounds(where.pop(AGE, None))
    _check_applies(where, _visible(ws, SOURCES["tickets"].sql)[0], ref.name, "tickets")
    conds, params = _filters(where, "created_at", custom_ok=False)
    at = "CAST(? AS TIMESTAMPTZ)" if end is not None else "now()"
    at_params = [str(end)] * 3 if end is not None else []
    if ages:
        # the age now, or at the window's end when that is past (an end in the future, the
        # dashboard's 'to' of today's data, holds today's open tickets: their age is now's)
        when = "least(CAST(? AS TIMESTAMPTZ), now())" if end is not None else "now()"
        age = f"(epoch_us({when}) - epoch_us(created_at))"
        conds.append("(" + " OR ".join(f"({age} >= ?" + (f" AND {age} < ?)" if hi is not None else ")")
                                       for _, hi in ages) + ")")
        for lo, hi in ages:
            params += ([str(end)] if end is not None else []) + [int(lo * DAY_US)]
            if hi is not None:
                params += ([str(end)] if end is not None else []) + [int(hi * DAY_US)]
    hidden = _visible(ws, SOURCES["tickets"].sql)[1]
    sql = f"""pop AS (
        SELECT * FROM ({SOURCES['tickets'].sql}) t WHERE created_at IS NOT NULL{''.join(' AND ' + c for c in conds)}
    ),
    reopen AS (
        SELECT e.source, e.ticket_id, min(e.ts) AS reopened_at
        FROM events e JOIN pop p ON e.source = p.source AND e.ticket_id = p.ticket_id
        WHERE e.kind = 'status' AND e.status_to IN {OPEN} AND e.ts > p.last_solved_at AND p.status NOT IN {DONE}
        GROUP BY ALL
    ),
    tk AS (
        SELECT p.*,
               CASE WHEN p.first_solved_at IS NOT NULL THEN greatest(p.first_solved_at, p.created_at)
                    WHEN p.status IN {DONE} THEN greatest(p.last_event_at, p.created_at) END AS solve_ts,
               CASE WHEN p.status NOT IN {DONE} AND p.first_solved_at IS NOT NULL
                    THEN coalesce(r.reopened_at, p.last_solved_at) END AS reopen_ts
        FROM pop p LEFT JOIN reopen r ON r.source = p.source AND r.ticket_id = p.ticket_id
    ),
    behind AS (
        SELECT tk.* {_exclude(hidden)}, CAST(NULL AS DOUBLE) AS metric_value
        FROM tk
        WHERE created_at < {at} AND (solve_ts IS NULL OR solve_ts >= {at} OR reopen_ts < {at})
    )"""
    return DrillQuery(ref.name, "tickets", "created_at", sql, tuple(params + at_params), ("source", "ticket_id"))


AGE = "age"
DAY_US = 86_400_000_000


def age_bounds(value: Any) -> list[tuple[float, float | None]]:
    """The `age` filter's ranges in days, [lo, hi) (hi None: no upper bound).

    >>> age_bounds(["0-1", "30-"])
    [(0.0, 1.0), (30.0, None)]
    """
    out: list[tuple[float, float | None]] = []
    for text in ([] if value is None else [value] if isinstance(value, str) else list(value)):
        lo_text, sep, hi_text = str(text).strip().partition("-")
        try:
            lo, hi = float(lo_text), (float(hi_text) if hi_text.strip() else None)
        except ValueError:
            lo, hi = -1.0, None
        if not sep or lo < 0 or (hi is not None and hi <= lo):
            raise UserError(f"age '{text}' is not a range of days open: use LO-HI or LO- (e.g. age=3-7 or age=30-).")
        out.append((lo, hi))
    return out


def _per_ticket(ws: Workspace, ref: MetricRef, where: dict[str, Any], start: Instant, end: Instant) -> DrillQuery:
    """avg_response_time: tickets placed by their first interval's end, with their mean interval."""
    _check_applies(where, _visible(ws, "SELECT * FROM ticket_facts")[0], ref.name, "tickets")
    conds, params = _window("t", start, end)
    more, more_params = _filters(where, "t", custom_ok=False)
    source = SOURCES[ref.spec.source]
    hidden = _visible(ws, "SELECT * FROM ticket_facts")[1]
    sql = f"""per_ticket AS (
        SELECT source, ticket_id, min({ref.spec.time}) AS t, avg(seconds) AS metric_value
        FROM ({source.sql}) src GROUP BY source, ticket_id
    ),
    behind AS (
        SELECT f.* {_exclude(hidden)}, p.t AS first_replied_at, p.metric_value
        FROM per_ticket p JOIN ticket_facts f USING (source, ticket_id)
        WHERE {' AND '.join(conds + more)}
    )"""
    return DrillQuery(ref.name, "tickets", "first_replied_at", sql, tuple(params + more_params),
                      ("source", "ticket_id"))


def _order(q: DrillQuery, columns: list[str], order: str | None) -> str:
    if not order:
        return ", ".join([f'"{q.time}" DESC NULLS LAST', *[f'"{k}"' for k in q.keys]])
    name = order.lstrip("-+")
    if name not in columns:
        raise UnknownNameError("sort column", name, columns)
    direction = "DESC" if order.startswith("-") else "ASC"
    return ", ".join([f'"{name}" {direction} NULLS LAST', *[f'"{k}"' for k in q.keys if k != name]])


def _page_sql(q: DrillQuery, order_by: str, with_subject: bool) -> str:
    page = f"page AS (SELECT * FROM behind ORDER BY {order_by} LIMIT ? OFFSET ?)"
    if not with_subject:
        return f"WITH {q.sql}, {page} SELECT * FROM page ORDER BY {order_by}"
    # the ticket's subject, joined for the page only
    return (f"WITH {q.sql}, {page} SELECT page.*, t.subject FROM page LEFT JOIN tickets t "
            f"ON t.source = page.source AND t.ticket_id = page.ticket_id ORDER BY {order_by}")


def columns(ws: Workspace, q: DrillQuery) -> list[str]:
    """The drill-down's column names (for sort allow-lists and CSV headers)."""
    with translate_errors():
        rel = ws.con.sql(f"WITH {q.sql} SELECT * FROM behind LIMIT 0", params=list(q.params))
        return list(rel.columns)


def tickets_behind(ws: Workspace, metric: str, where: dict[str, Any] | None = None, start: Instant = None,
                   end: Instant = None, limit: int = 50, offset: int = 0, order: str | None = None) -> pa.Table:
    """The rows behind `metric` for a group (`where`) and period [start, end): by
    default the latest first. `order` is a column name, `-name` for descending.

    >>> import tempfile, cxmetrics
    >>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
    ...     tickets_behind(ws, "frt", {"channel": "email"}).num_rows
    0
    """
    if limit < 0 or offset < 0:
        raise UserError("limit and offset must not be negative.")
    q = drill_query(ws, metric, where, start, end)
    cols = columns(ws, q)
    order_by = _order(q, cols, order)
    sql = _page_sql(q, order_by, with_subject=q.source == "tickets" or "ticket_id" in cols)
    with translate_errors():
        return ws.con.sql(sql, params=[*q.params, limit, offset]).to_arrow_table()


def count_behind(ws: Workspace, metric: str, where: dict[str, Any] | None = None, start: Instant = None,
                 end: Instant = None) -> int:
    """How many rows `tickets_behind` has in all (for a ticket metric: its n)."""
    q = drill_query(ws, metric, where, start, end)
    with translate_errors():
        return int(ws.con.execute(f"WITH {q.sql} SELECT count(*) FROM behind", list(q.params)).fetchall()[0][0])


def stream_behind(ws: Workspace, metric: str, where: dict[str, Any] | None = None, start: Instant = None,
                  end: Instant = None, order: str | None = None, batch_rows: int = 50_000) -> Iterator[pa.RecordBatch]:
    """Every row behind `metric`, in Arrow record batches (for CSV export)."""
    q = drill_query(ws, metric, where, start, end)
    cols = columns(ws, q)
    order_by = _order(q, cols, order)
    if "ticket_id" in cols:
        sql = (f"WITH {q.sql} SELECT behind.*, t.subject FROM behind LEFT JOIN tickets t "
               f"ON t.source = behind.source AND t.ticket_id = behind.ticket_id ORDER BY {order_by}")
    else:
        sql = f"WITH {q.sql} SELECT * FROM behind ORDER BY {order_by}"
    with translate_errors():
        reader = ws.con.sql(sql, params=list(q.params)).to_arrow_reader(batch_rows)
    yield from reader
