"""Webhooks in: `POST /api/v1/webhooks/{vendor}` (docs/api.md, docs/connectors.md "Webhooks").

The help desk cannot send an API key, so the route takes none (api/_limits.py lets its
body through without one, capped at 1 MB); the vendor's signature is required instead,
and checked by `cxmetrics.connectors.webhooks` before anything is read into the store.
Once a delivery has landed, the facts are refreshed and the change published on the hub,
as after `POST /events`, so open dashboards update.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from cxmetrics._workspace import Workspace
from cxmetrics.api._auth import workspace_cursor
from cxmetrics.api._errors import JSON, ApiError, ErrorResponse
from cxmetrics.api._limits import write_turn
from cxmetrics.connectors.webhooks import VENDORS, Received, WebhookRefused, commit, prepare

log = logging.getLogger("cxmetrics.api")

router = APIRouter()


@router.post("/webhooks/{vendor}", tags=["data"],
             summary="A help desk's webhook delivery (signed by the vendor; no API key): lands the change",
             responses={s: {"model": ErrorResponse, "description": d} for s, d in (
                 (400, "The body is not JSON"), (401, "Not signed with the webhook secret, or stale"),
                 (403, "Webhooks for the vendor are not set up in the workspace"),
                 (404, "Not a help desk cxmetrics connects to"), (409, "A delivery already accepted"),
                 (413, "The body is over 1 MB"), (422, "Not the vendor's payload"),
                 (502, "The vendor's API failed when reading the changed ticket"),
                 (503, "Busy, or the vendor's API is rate-limiting; try again"))},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "description": "The vendor's webhook payload, as it sends it"}}}}})
async def post_webhook(
    request: Request,
    vendor: str = Path(description="zendesk, freshdesk, intercom or chatwoot"),
    ws: Workspace = Depends(workspace_cursor),
) -> JSON:
    if vendor not in VENDORS:
        raise ApiError(404, f"no webhooks for {vendor!r}: known help desks are {', '.join(VENDORS)} "
                            f"(POST /api/v1/webhooks/zendesk, ...).", details={"known": list(VENDORS)})
    body = await request.body()  # capped at 1 MB while it streams in (api/_limits.py)
    headers = {k.lower(): v for k, v in request.headers.items()}

    refresher = request.app.state.refresher

    def run() -> Received:
        prepared = prepare(ws, vendor, headers, body)  # verified and converted, outside the write lock
        # (as POST /events: the next refresh waits for this write, which a text part makes way for)
        with refresher.writing():
            with write_turn(ws):  # one write at a time; 503 rather than hang behind a long import
                received = commit(ws, prepared)
            if received.changed_tables:  # facts refreshed and the hub told, as after POST /events
                refresher.wrote(received.changed_tables)
            return received

    try:
        received = await run_in_threadpool(run)
    except WebhookRefused as exc:
        # the reason, never the secret or the body (a refused delivery may be anyone's)
        log.info("webhook %s refused: %s %s", vendor, exc.status, exc.code or "")
        raise ApiError(exc.status, str(exc), code=exc.code, headers=exc.headers) from None
    return JSON(received.to_dict())
