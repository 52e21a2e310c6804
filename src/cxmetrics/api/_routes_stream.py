"""Server-sent events: `GET /api/v1/stream` tells a dashboard when data changed.

The stream sends, in the `text/event-stream` format:

- on connect, `event: hello` with `data: {"version": n}`;
- on each change, `id: n`, `event: change`, `data: {"version": n, "tables": [...]}`;
- every `keepalive_s` seconds without a change, a comment line `: keep-alive`.

A client that reconnects with `Last-Event-ID` older than the current version gets one
`change` with `tables: ["*"]` at once, so it never misses an update.

The stream ends as soon as its caller is no longer signed in: after every key or session
change (a revocation, a sign-out) and at every keep-alive it checks its key or session
again, and closes when that no longer holds.
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from cxmetrics.api import _keys
from cxmetrics.api._auth import api_viewer, still_signed_in
from cxmetrics.api._errors import COMMON_ERRORS
from cxmetrics.api._hub import Change, Subscription

router = APIRouter(dependencies=[Depends(api_viewer)], responses=COMMON_ERRORS, tags=["live"])


_RECHECK = object()  # a key or session changed: is the caller still signed in?
_KEEPALIVE = object()  # nothing happened for keepalive_s seconds


def _event(name: str, data: dict[str, object] | Change, ident: int | None = None) -> str:
    head = f"id: {ident}\n" if ident is not None else ""
    body = data.to_dict() if isinstance(data, Change) else data
    return f"{head}event: {name}\ndata: {json.dumps(body)}\n\n"


async def _next(sub: Subscription, access_changed: asyncio.Event, timeout: float) -> object:
    """The next change (None when the hub closed), _RECHECK after a key or session
    change, or _KEEPALIVE after `timeout` seconds of neither."""
    if access_changed.is_set():
        return _RECHECK
    get = asyncio.ensure_future(sub.get())
    flag = asyncio.ensure_future(access_changed.wait())
    try:
        done, _ = await asyncio.wait({get, flag}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        flag.cancel()
        if not get.done():
            get.cancel()
    if get in done:
        return get.result()  # a change is never dropped, even when a recheck is due too (it comes next)
    return _RECHECK if flag in done else _KEEPALIVE


@router.get("/stream", summary="Server-sent events: a `change` event whenever data changes",
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "event: hello, then event: change per change; `: keep-alive` comments"}})
async def stream(request: Request) -> StreamingResponse:
    hub = request.app.state.hub
    keepalive = request.app.state.keepalive_s
    last = request.headers.get("last-event-id", "")
    sub = hub.subscribe()
    loop = asyncio.get_running_loop()
    access_changed = asyncio.Event()
    unwatch = _keys.watch(lambda: loop.call_soon_threadsafe(access_changed.set))

    async def events():  # type: ignore[no-untyped-def]
        try:
            yield "retry: 2000\n\n"
            yield _event("hello", {"version": hub.version})
            if last.isdigit() and int(last) < hub.version:
                yield _event("change", Change(hub.version, ("*",)).to_dict(), hub.version)
            while True:
                change = await _next(sub, access_changed, keepalive)
                if change is _RECHECK or change is _KEEPALIVE:
                    access_changed.clear()
                    if not await still_signed_in(request):
                        return  # revoked or signed out: the stream ends, the client's retry gets a 401
                    if change is _KEEPALIVE:
                        yield ": keep-alive\n\n"
                    continue
                if change is None:
                    return
                yield _event("change", change, change.version)  # type: ignore[arg-type]
        finally:
            unwatch()
            hub.unsubscribe(sub)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
