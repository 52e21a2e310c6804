"""/api/v1/reconcile/{vendor}: a help desk's own per-ticket numbers beside ours, as
`cxmetrics reconcile VENDOR` prints them (connectors/reconcile.py). Read-only, for viewers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import api_viewer, workspace_cursor
from cxmetrics.api._errors import COMMON_ERRORS
from cxmetrics.connectors.reconcile import reconcile

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["connectors"])


class MetricAgreementOut(BaseModel):
    metric: str = Field(description="e.g. reply_time, reply_time_bh, replies")
    vendor_field: str = Field(description="The vendor's number, as its API names it")
    ours: str = Field(description="The fact of ours it is set beside")
    unit: str = Field(description="minutes (agree within a minute) or count (agree exactly)")
    compared: int = Field(description="Tickets where both sides have a value")
    agree: int
    differ: int
    only_vendor: int = Field(description="Tickets only the vendor has a value for")
    only_ours: int


class TicketDifferenceOut(BaseModel):
    ticket_id: str
    metric: str
    vendor: float | None = Field(description="The vendor's value (minutes or a count)")
    ours: float | None
    difference: float | None = Field(description="Ours minus the vendor's")
    unit: str
    status: str = Field(description="differs, only the vendor's, only ours")
    reason: str | None = Field(description="What the ticket's data shows, e.g. 'agent-created ticket'")


class ReconciliationOut(BaseModel):
    vendor: str
    source: str = Field(description="The source of our tickets compared")
    tickets: int = Field(description="Tickets with the vendor's numbers")
    not_in_ours: int
    without_vendor_numbers: int = Field(description="Our tickets of the source without the vendor's numbers")
    metrics: list[MetricAgreementOut]
    differences: list[TicketDifferenceOut] = Field(description="The tickets that do not agree, at most `limit`")
    total_differences: int


@router.get("/reconcile/{vendor}", response_model=ReconciliationOut,
            summary="The help desk's own per-ticket numbers against ours: agreement per metric, the tickets that "
                    "differ")
def get_reconcile(
    vendor: str = Path(max_length=40, description="zendesk, freshdesk or intercom"),
    metric: list[str] | None = Query(None, max_length=40, description="Only these metrics (repeat the parameter)"),
    source: str | None = Query(None, max_length=200, description="Our tickets' source (default: the vendor's name)"),
    limit: int = Query(100, ge=0, le=10_000, description="List at most this many tickets"),
    ws: Workspace = Depends(workspace_cursor),
) -> dict[str, Any]:
    return reconcile(ws, vendor, metrics=metric, source=source, limit=limit).to_dict()
