"""How large a metric request's answer would be, estimated before any metric query runs.

An answer has at most one row per group, period and metric (its *cells*): groups are
the combinations of the `by` dimensions' values, periods the `grain` buckets of the
span. A request past the limit (the `max_answer_cells` setting) is refused with a
message that says how to narrow it, instead of growing the process past its memory.

The estimate reads one row of counts per table a dimension lives in (distinct values,
the data's time span): no metric, join or grouping is computed.

>>> periods("day", 86400 * 31)
31
>>> periods(None, 0)
1
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone

import duckdb

from cxmetrics.errors import AnswerTooLargeError
from cxmetrics.metrics._registry import MetricRef
from cxmetrics.metrics._sources import DIMENSIONS, SURVEY_DELAY_BANDS, SURVEYS_RECEIVED_BANDS

#: The default limit, in cells (the `max_answer_cells` setting).
DEFAULT_MAX_CELLS = 1_000_000
# a grain's length in seconds (months, quarters and years on average: an estimate)
GRAIN_SECONDS = {"hour": 3600, "day": 86400, "week": 7 * 86400, "month": 2_629_746, "quarter": 7_889_238,
                 "year": 31_556_952}
# where each dimension's values are counted: the table that holds the most of them
_TABLE_OF = {"segment": "customers", "policy": "sla_targets", "sla_metric": "sla_targets",
             "survey_kind": "survey_sends", "rating_band": "reviews", "platform": "reviews", "app": "reviews",
             "survey": "survey_sends", "survey_trigger": "survey_sends", "survey_delivery": "survey_sends",
             "survey_language": "survey_sends"}
_COLUMN_OF = {"sla_metric": "metric", "segment": "segment", "survey_kind": "kind",
              "rating_band": "CASE WHEN rating <= 2 THEN 1 WHEN rating = 3 THEN 2 ELSE 3 END",  # the bands
              "survey_trigger": '"trigger"', "survey_delivery": "delivery", "survey_language": '"language"'}
# dimensions with a fixed number of values: time-of buckets, and the survey bands (metrics/_sources.py)
_TIME_VALUES = {"hour_of_day": 24, "weekday": 7, "survey_delay": len(SURVEY_DELAY_BANDS),
                "surveys_received": len(SURVEYS_RECEIVED_BANDS)}


@dataclass(frozen=True)
class Estimate:
    """The estimated size of an answer: groups (per dimension), periods and metrics."""

    groups: dict[str, int]
    periods: int
    metrics: int

    @property
    def cells(self) -> int:
        return math.prod(self.groups.values()) * self.periods * self.metrics


def periods(grain: str | None, span_s: float) -> int:
    """Buckets of `grain` in a span of `span_s` seconds (one without a grain)."""
    if grain is None:
        return 1
    return max(1, math.ceil(span_s / GRAIN_SECONDS[grain]))


def _instant(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        out = value
    elif isinstance(value, date):
        out = datetime(value.year, value.month, value.day)
    else:
        out = datetime.fromisoformat(str(value))  # already checked by check_request
    # naive and aware instants are hours apart at most: close enough for an estimate
    return out.replace(tzinfo=None) if out.tzinfo is None else out.astimezone(timezone.utc).replace(tzinfo=None)


def _distinct(con: duckdb.DuckDBPyConnection, dims: list[str]) -> dict[str, int]:
    """Distinct values (a missing value counts as one) of each dimension, one query per table."""
    out = {d: _TIME_VALUES[d] for d in dims if d in _TIME_VALUES}
    tables: dict[str, list[str]] = {}
    for d in dims:
        if d not in _TIME_VALUES:
            tables.setdefault(_TABLE_OF.get(d, "ticket_facts"), []).append(d)
    for table, names in tables.items():
        cols = [_COLUMN_OF.get(d, DIMENSIONS[d]) for d in names]
        select = ", ".join(f"count(DISTINCT {c}) + CAST(count(*) > count({c}) AS INT)" for c in cols)
        row = con.execute(f"SELECT {select} FROM {table}").fetchall()[0]
        out.update({d: max(1, int(n or 0)) for d, n in zip(names, row, strict=True)})
    return out


def _span_s(con: duckdb.DuckDBPyConnection, start: object, end: object) -> float:
    """Seconds from start to end; an open end is the data's (tickets created to their last event)."""
    a, b = _instant(start), _instant(end)
    if a is None or b is None:
        lo, hi = con.execute(
            "SELECT CAST(min(created_at) AS TIMESTAMP), CAST(max(last_event_at) AS TIMESTAMP) FROM ticket_facts"
        ).fetchall()[0]
        a = a or lo
        b = b or hi
    if a is None or b is None:
        return 0.0
    return max(0.0, (b - a).total_seconds())


def estimate(con: duckdb.DuckDBPyConnection, refs: list[MetricRef], *, by: list[str], grain: str | None,
             where: dict[str, object], start: object, end: object) -> Estimate:
    """The estimated answer size of a checked request (names already known)."""
    groups = _distinct(con, list(dict.fromkeys(by)))
    for d, value in where.items():  # a filter keeps at most its values of a dimension
        if d in groups:
            n = len(value) if isinstance(value, list | tuple | set) else 1
            groups[d] = min(groups[d], max(n, 1))
    span = _span_s(con, start, end) if grain is not None else 0.0
    return Estimate(groups, periods(grain, span), len({r.name for r in refs}))


def check_size(con: duckdb.DuckDBPyConnection, refs: list[MetricRef], *, by: list[str], grain: str | None,
               where: dict[str, object], start: object, end: object, max_cells: int | None) -> Estimate | None:
    """Refuse (AnswerTooLargeError) a request whose answer would exceed `max_cells`;
    `None` means no limit."""
    if max_cells is None or (not by and grain is None):
        return None  # one row per metric: nothing to estimate
    est = estimate(con, refs, by=by, grain=grain, where=where, start=start, end=end)
    if est.cells <= max_cells:
        return est
    raise AnswerTooLargeError(_message(est, grain, max_cells), estimate=est.cells, limit=max_cells)


def _message(est: Estimate, grain: str | None, limit: int) -> str:
    parts: list[str] = []
    if est.groups:
        dims = " x ".join(f"{n:,} {d}" for d, n in est.groups.items())
        parts.append(f"{math.prod(est.groups.values()):,} groups ({dims})")
    if grain is not None:
        parts.append(f"{est.periods:,} {grain} periods")
    parts.append(f"{est.metrics} metric{'s' if est.metrics != 1 else ''}")
    coarser = [g for g in GRAIN_SECONDS if GRAIN_SECONDS[g] > GRAIN_SECONDS.get(grain or "", 0)][:3]
    how = ([f"a coarser grain ({', '.join(coarser)})"] if grain is not None and coarser else []) + [
        "fewer dimensions in by", "a shorter period (from/to)", "a filter (where) on one of the dimensions",
        "fewer metrics"]
    return (f"this answer would have about {est.cells:,} cells ({' x '.join(parts)}), over the limit of {limit:,} "
            f"(setting max_answer_cells). Narrow the request: {', '.join(how)}.")

