"""Metric queries: the tidy table, tested comparisons, the agent scorecard and topics.

These are what dashboards ask for all the time, so they run on the event loop until they
need the engine: parameters are checked, the key is recognised from memory, and a cached
answer is sent without a worker thread; only a miss computes, in a thread, on a cursor.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_viewer
from cxmetrics.api._errors import COMMON_ERRORS, JSON
from cxmetrics.api._models import CompareTable, MetricsResponse, Table
from cxmetrics.api._params import (
    FromQuery,
    ToQuery,
    WhereQuery,
    answer,
    check_period,
    parse_instant,
    parse_span,
    parse_where,
    previous_period,
    split,
)
from cxmetrics.errors import UserError
from cxmetrics.metrics._compile import check_request
from cxmetrics.metrics._query import shared_rows
from cxmetrics.metrics._registry import registry

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["metrics"])

Grain = Literal["hour", "day", "week", "month", "quarter", "year"]
_MAX_METRICS = 60


def _names(metrics: list[str]) -> list[str]:
    names = split(metrics)
    if not names:
        raise UserError("name at least one metric, e.g. metrics=csat,frt (GET /api/v1/catalogue lists them).")
    if len(names) > _MAX_METRICS:
        raise UserError(f"at most {_MAX_METRICS} metrics per request, not {len(names)}.")
    for name in names:
        registry().resolve(name)  # UnknownNameError with the closest name
    return list(dict.fromkeys(names))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@router.get("/metrics", response_model=MetricsResponse,
            summary="Metrics by dimensions and period, optionally compared with an earlier period")
async def get_metrics(
    request: Request,
    metrics: list[str] = Query(..., description="Metric ids, comma-separated or repeated (see /catalogue)",
                               examples=[["csat,frt"]]),
    by: list[str] = Query([], description="Group by dimensions, comma-separated or repeated (see /dimensions)"),
    grain: Grain | None = Query(None, description="Bucket by time in the workspace's time zone"),
    start: str | None = FromQuery,
    end: str | None = ToQuery,
    where: list[str] = WhereQuery,
    compare_to: str | None = Query(
        None, description="`previous` (the period of the same length before from..to) or `START..END`: adds "
        "`compare`, each metric's tested change from that period to from..to (by the same dimensions, no grain)"),
    benchmark: str | None = Query(None, description="Add target, published reference and gap: an industry "
                                  "(ecommerce, retail, banking, software, telecom, airlines), a channel, `all`, "
                                  "or `channel` for each row's own"),
) -> JSON:
    names = _names(metrics)
    dims = split(by)
    filters = parse_where(where)
    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    check_period(a, b)
    span = None
    if compare_to is not None:
        if a is None or b is None:
            raise UserError("compare_to needs a period to compare: give from and to.")
        span = previous_period(a, b) if compare_to.strip() == "previous" else parse_span(compare_to)
    if benchmark is not None and not benchmark.strip():
        raise UserError("benchmark is empty: name a segment (ecommerce, a channel, all, or channel).")
    asked = {"metrics": names, "by": dims, "grain": grain, "from": _text(a), "to": _text(b), "where": filters,
             "compare_to": compare_to, "benchmark": benchmark}

    refs = [registry().resolve(n) for n in names]
    # every metric/dimension/grain combination (custom metrics too) is checked before any work
    check_request(refs, by=dims, grain=grain, where=dict(filters), start=a, end=b)
    sla = any(r.spec.source == "sla_targets" for r in refs)

    def compute(ws: Workspace) -> dict[str, Any]:
        if sla and request.app.state.sla_enabled:  # SLA metrics read the clocks: evaluate them now
            from cxmetrics.api._routes_sla import fresh

            fresh(request.app.state, ws)
        with shared_rows():  # the test of change reads both periods at once; the tiles are its later one
            table = ws.compare(names, span, (a, b), by=dims, where=filters) if span is not None else None
            rows = ws.metrics(names, by=dims, grain=grain, where=filters, start=a, end=b, benchmark=benchmark).table
        comparison = None
        if span is not None and table is not None:
            comparison = {"a": {"from": str(span[0]), "to": str(span[1])}, "b": {"from": str(a), "to": str(b)},
                          "rows": table.to_pylist()}
        return {"request": asked, "rows": rows.to_pylist(), "compare": comparison,
                "version": request.app.state.hub.version}

    return JSON(await answer(request, "metrics", asked, compute))


@router.get("/compare", response_model=CompareTable, summary="Test whether metrics changed between two periods, "
            "or in the days around an annotation")
async def get_compare(
    request: Request,
    metrics: list[str] = Query(..., description="Metric ids, comma-separated or repeated"),
    a: str | None = Query(None, description="First period START..END (END excluded)", examples=["2025-01-01..2025-02-01"]),
    b: str | None = Query(None, description="Second period START..END"),
    annotation: str | None = Query(None, max_length=500, description="Instead of a and b: an annotation id or label"),
    days: int = Query(28, ge=1, le=366, description="Days before and after the annotation"),
    by: list[str] = Query([], description="Group by ticket dimensions"),
    where: list[str] = WhereQuery,
) -> JSON:
    names = _names(metrics)
    dims, filters = split(by), parse_where(where)
    if annotation is None and (a is None or b is None):
        raise UserError("give two periods (a=START..END and b=START..END) or an annotation.")
    pa_ = parse_span(a) if a is not None else None
    pb_ = parse_span(b) if b is not None else None
    asked = (names, dims, filters, a, b, annotation, days)

    def compute(ws: Workspace) -> dict[str, Any]:
        table = ws.compare(names, pa_, pb_, annotation=annotation, days=days, by=dims, where=filters)
        return {"rows": table.to_pylist()}

    return JSON(await answer(request, "compare", asked, compute))


@router.get("/agents", response_model=Table, tags=["agents"],
            summary="Agents and bots on the same KPIs, ranked among those with enough observations")
async def get_agents(
    request: Request,
    start: str | None = FromQuery,
    end: str | None = ToQuery,
    where: list[str] = WhereQuery,
    min_n: int | None = Query(None, ge=1, le=1_000_000, description=(
        "Rank only agents with at least this many observations; by default half the median per agent, "
        "between 5 and 30 (docs/statistics.md)")),
    rank_by: Literal["csat", "fcr", "solved_tickets"] = Query("csat"),
    hours: Literal["calendar", "business"] = Query("calendar", description=(
        "First touch and FRT in calendar time or in each ticket's business hours")),
) -> JSON:
    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    check_period(a, b)
    filters = parse_where(where)
    asked = (str(a), str(b), filters, min_n, rank_by, hours)

    def compute(ws: Workspace) -> dict[str, Any]:
        return {"rows": ws.scorecard(start=a, end=b, where=filters, min_n=min_n, rank_by=rank_by,
                                     hours=hours).to_pylist()}

    return JSON(await answer(request, "agents", asked, compute))


@router.get("/topics", response_model=Table, summary="Top topics: volume, share, tested change, CSAT and FRT")
async def get_topics(
    request: Request,
    start: str = Query(..., alias="from", description="Period start (inclusive)", examples=["2025-03-01"]),
    end: str = Query(..., alias="to", description="Period end (exclusive)", examples=["2025-04-01"]),
    where: list[str] = WhereQuery,
    limit: int = Query(10, ge=1, le=1000),
    discovered: bool = Query(False, description=(
        "The topics found in the tickets' texts (`cxmetrics topics discover`, the discovered_topic dimension) "
        "instead of the help desk's; each row's `emerging` says whether its share rose significantly")),
) -> JSON:
    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    if a is None or b is None:
        raise UserError("topics needs from and to.")
    check_period(a, b)
    filters = parse_where(where)
    asked = (str(a), str(b), filters, limit, discovered)

    def compute(ws: Workspace) -> dict[str, Any]:
        return {"rows": ws.topics(start=a, end=b, where=filters, limit=limit, discovered=discovered).to_pylist()}

    return JSON(await answer(request, "topics", asked, compute))
