"""Server-sent events: `GET /api/v1/stream` tells a dashboard when data changed.

The stream sends, in the `text/event-stream` format:

- on connect, `event: hello` with `data: {"version": n}`;
- on each change, `id: n`, `event: change`, `data: {"version": n, "tables": [...]}`;
- every `keepalive_s` seconds without a change, a comment line `: keep-alive`.

A client that reconnects with `Last-Event-ID` older than the current version gets one
`change` with `tables: ["*"]` at once, so it never misses an update.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from cxmetrics.api._auth import api_viewer
from cxmetrics.api._errors import COMMON_ERRORS
from cxmetrics.api._hub import Change

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["live"])


def _event(name: str, data: dict[str, object], ident: int | None = None) -> str:
    head = f"id: {ident}\n" if ident is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data)}\n\n"


@router.get("/stream", summary="Server-sent events: a `change` event whenever data changes",
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "event: hello, then event: change per change; `: keep-alive` comments"}})
async def stream(request: Request) -> StreamingResponse:
    hub = request.app.state.hub
    keepalive = request.app.state.keepalive_s
    last = request.headers.get("last-event-id", "")
    sub = hub.subscribe()

    async def events():  # type: ignore[no-untyped-def]
        try:
            yield "retry: 2000\n\n"
            yield _event("hello", {"version": hub.version})
            if last.isdigit() and int(last) < hub.version:
                yield _event("change", Change(hub.version, ("*",)).to_dict(), hub.version)
            while True:
                try:
                    change = await sub.get(keepalive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if change is None:
                    return
                yield _event("change", change.to_dict(), change.version)
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
