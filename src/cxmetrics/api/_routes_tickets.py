"""Drill-down: the tickets behind a number, page by page or as CSV, and one ticket."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from cxmetrics._csvsafe import neutralise_batch
from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_viewer, workspace_cursor
from cxmetrics.api._drill import count_behind, drill_query, stream_behind, tickets_behind
from cxmetrics.api._errors import COMMON_ERRORS, JSON, ApiError, ErrorResponse
from cxmetrics.api._models import TicketDetail, TicketsPage
from cxmetrics.api._params import FromQuery, ToQuery, WhereQuery, cached, check_period, parse_instant, parse_where

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["tickets"])

MetricQuery = Query("tickets", max_length=200, description="The metric whose rows to list (default: tickets, every "
                    "created ticket); its declaration decides which rows count and which time places them")
SortQuery = Query(None, max_length=200, description="A column to sort by, `-column` for descending "
                  "(default: the metric's time, latest first)")


def _request(ws: Workspace, metric: str, start: str | None, end: str | None, where: list[str]) -> tuple[Any, ...]:
    a, b = parse_instant(start, "from"), parse_instant(end, "to")
    check_period(a, b)
    filters = parse_where(where)
    q = drill_query(ws, metric, filters, a, b)  # every name checked before any work
    return q.source, filters, a, b


@router.get("/tickets", response_model=TicketsPage,
            summary="The tickets (or answers) behind a metric's number for a group and period")
def get_tickets(
    request: Request,
    metric: str = MetricQuery,
    start: str | None = FromQuery,
    end: str | None = ToQuery,
    where: list[str] = WhereQuery,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=1000),
    sort: str | None = SortQuery,
    ws: Workspace = Depends(workspace_cursor),
) -> JSON:
    source, filters, a, b = _request(ws, metric, start, end, where)
    rows = tickets_behind(ws, metric, filters, a, b, limit=page_size, offset=(page - 1) * page_size, order=sort)
    total = cached(request, "tickets_total", (metric, filters, str(a), str(b)),
                   lambda cur: count_behind(cur, metric, filters, a, b))
    return JSON({"metric": metric, "source": source, "total": total, "page": page, "page_size": page_size,
                 "rows": rows.to_pylist()})


def _csv_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Lists as `a;b`, times as ISO 8601 with offset: what a spreadsheet reads."""
    arrays, names = [], []
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            col = pc.binary_join(col.cast(pa.list_(pa.string())), ";")
        elif pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%S%z")
        arrays.append(col)
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names=names)


@router.get("/tickets.csv", summary="The same rows as /tickets, all of them, as CSV (streamed)",
            responses={200: {"content": {"text/csv": {}}, "description": "CSV with a header row"}})
def get_tickets_csv(
    request: Request,
    metric: str = MetricQuery,
    start: str | None = FromQuery,
    end: str | None = ToQuery,
    where: list[str] = WhereQuery,
    sort: str | None = SortQuery,
) -> StreamingResponse:
    # its own connection: the response streams after the request's cursor is closed
    ws = request.app.state.workspace.cursor(auto_refresh=False)
    try:
        _, filters, a, b = _request(ws, metric, start, end, where)
        batches = stream_behind(ws, metric, filters, a, b, order=sort)
        first = next(batches, None)  # errors (a bad sort column) surface before the response starts
    except BaseException:
        ws.close()
        raise

    def body() -> Iterator[bytes]:
        try:
            header = True
            for batch in ([first] if first is not None else []):
                yield _csv_bytes(batch, header)
                header = False
            for batch in batches:
                yield _csv_bytes(batch, header)
                header = False
            if header:  # no rows: still a header
                cols = drill_columns(ws, metric, filters, a, b)
                yield (",".join(f'"{c}"' for c in cols) + "\n").encode()
        finally:
            ws.close()

    name = f"{metric}-tickets.csv"
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def drill_columns(ws: Workspace, metric: str, filters: dict[str, Any], a: Any, b: Any) -> list[str]:
    from cxmetrics.api._drill import columns

    cols = columns(ws, drill_query(ws, metric, filters, a, b))
    return [*cols, "subject"] if "ticket_id" in cols else cols


def _csv_bytes(batch: pa.RecordBatch, header: bool) -> bytes:
    out = io.BytesIO()
    # text a spreadsheet would run as a formula (=, +, -, @...) gets a leading ' (cxmetrics/_csvsafe.py)
    pacsv.write_csv(neutralise_batch(_csv_ready(batch)), out, pacsv.WriteOptions(include_header=header))
    return out.getvalue()


# `:path`: a ticket id may hold `/` (sent as %2F, which the server decodes before routing)
@router.get("/tickets/{source}/{ticket_id:path}", response_model=TicketDetail,
            summary="One ticket: its row, its facts, its events in order and its survey answers",
            responses={404: {"model": ErrorResponse, "description": "No such ticket"}})
def get_ticket(source: str = Path(max_length=500), ticket_id: str = Path(max_length=500),
               ws: Workspace = Depends(workspace_cursor)) -> JSON:
    key = [source, ticket_id]
    ticket = ws.sql("SELECT * EXCLUDE (_hash, _import_id) FROM tickets WHERE source = ? AND ticket_id = ?", key)
    facts = ws.sql("SELECT * EXCLUDE (_event_rows, _ticket_row) FROM ticket_facts WHERE source = ? AND ticket_id = ?",
                   key)
    events = ws.sql("SELECT * EXCLUDE (_hash, _import_id) FROM events WHERE source = ? AND ticket_id = ? "
                    "ORDER BY ts, length(event_id), event_id", key)
    if not ticket.num_rows and not facts.num_rows and not events.num_rows:
        raise ApiError(404, f"no ticket '{ticket_id}' in source '{source}'.")
    surveys = ws.sql("SELECT * EXCLUDE (_hash, _import_id) FROM surveys WHERE source = ? AND ticket_id = ? "
                     "ORDER BY coalesce(responded_at, sent_at), response_id", key)
    return JSON({"ticket": (ticket.to_pylist() or [None])[0], "facts": (facts.to_pylist() or [None])[0],
                 "events": events.to_pylist(), "surveys": surveys.to_pylist()})
