"""Drill-down: the tickets behind a number, page by page or as CSV, and one ticket."""

from __future__ import annotations

import io
import tempfile
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
from cxmetrics.exports import MEDIA_TYPES, Format, export_tickets
from cxmetrics.api._ticket_read import read_ticket

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


@router.get("/tickets.xlsx", summary="The same rows as /tickets, all of them, as an Excel workbook",
            responses={200: {"content": {MEDIA_TYPES[Format.XLSX]: {}},
                             "description": "One sheet of rows (times in the workspace's time zone) and an `about` "
                                            "sheet; more rows than Excel holds (1,048,575) is a 400"}})
def get_tickets_xlsx(
    metric: str = MetricQuery,
    start: str | None = FromQuery,
    end: str | None = ToQuery,
    where: list[str] = WhereQuery,
    sort: str | None = SortQuery,
    ws: Workspace = Depends(workspace_cursor),
) -> StreamingResponse:
    _, filters, a, b = _request(ws, metric, start, end, where)
    # the workbook is finished (in memory, or on disk past 32 MB) before the answer starts,
    # so every error, a sheet too long for Excel included, is a 400 and not a cut file
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 - closed by the stream
    try:
        export_tickets(ws, metric, spool, Format.XLSX, where=filters, start=a, end=b, order=sort)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise

    def body() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(1 << 20):
                yield chunk

    return StreamingResponse(body(), media_type=MEDIA_TYPES[Format.XLSX],
                             headers={"Content-Disposition": f'attachment; filename="{metric}-tickets.xlsx"'})


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
    rows = read_ticket(ws, source, ticket_id)  # the dashboard's ticket page reads the same (api/_ticket_read.py)
    if not rows.found:
        raise ApiError(404, f"no ticket '{ticket_id}' in source '{source}'.")
    return JSON({"ticket": (rows.ticket.to_pylist() or [None])[0], "facts": (rows.facts.to_pylist() or [None])[0],
                 "events": rows.events.to_pylist(), "surveys": rows.surveys.to_pylist()})
