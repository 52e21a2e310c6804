"""Local clients: the CLI and the library of other processes on this machine, while this
server holds the workspace (see `cxmetrics._remote`).

- `POST /_local/cli` runs one command line in this process, on the server's
  workspace, and answers its stdout, stderr and exit code;
- `POST /_local/call` runs one `Workspace` method (from an allow-list) and
  answers its result, or the error it raised.

Both need the token of `<workspace>/server.json` in the `X-Cxmetrics-Local-Token`
header (API keys do not work here), live outside `/api/v1` and are left out of its
OpenAPI spec. Whatever they wrote is refreshed into the facts and published on the hub,
as the API's own writes are, so open dashboards show a CLI import at once.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Depends, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from cxmetrics import _remote
from cxmetrics._remote_codec import decode, encode, encode_error
from cxmetrics._remote_workspace import METHODS, WRITES
from cxmetrics._workspace import SETTINGS_FILE, Workspace
from cxmetrics.api._local_cli import run_cli
from cxmetrics.api._errors import JSON, ApiError, error_response
from cxmetrics.errors import CxError, StoreError, UserError
from cxmetrics.model import TABLES
from cxmetrics.settings import Settings

log = logging.getLogger("cxmetrics.api")


def _check_token(request: Request) -> None:
    """Only the token of server.json, compared in constant time; only from this machine."""
    host = request.client.host if request.client else ""
    own = (request.scope.get("server") or ("",))[0]
    try:
        # from this machine: over loopback, or to the address the server is bound to from itself
        remote = not ipaddress.ip_address(host).is_loopback and host != own
    except ValueError:
        remote = False  # not a network peer (an in-process test client)
    given = request.headers.get(_remote.TOKEN_HEADER, "")
    if remote or not hmac.compare_digest(given.encode(), request.app.state.local_token.encode()):
        raise ApiError(401, f"local routes need the token of {_remote.SERVER_FILE} in the {_remote.TOKEN_HEADER} "
                       "header, from this machine (API keys do not work here).")


router = APIRouter(prefix=_remote.LOCAL_PREFIX, dependencies=[Depends(_check_token)], include_in_schema=False)


def mount(app: FastAPI) -> None:
    """Add the local routes, and make the workspace this process's to hand out while it
    serves (`cxmetrics.open` of it returns a cursor of it)."""
    app.state.local_token = secrets.token_urlsafe(32)
    app.state.local_url = None  # set by `serve`: then server.json tells other processes to come here
    app.include_router(router)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            path, url, token = app.state.workspace.path, app.state.local_url, app.state.local_token
            _remote.hold(path, lambda: server_cursor(app.state))
            try:
                if url:
                    _remote.write_server_file(path, url, token)
                yield state
            finally:
                # here, not after the server returns: on SIGTERM, uvicorn re-raises the
                # signal once it has shut down, which ends the process there
                if url:
                    _remote.remove_server_file(path, token)
                _remote.release(path)

    app.router.lifespan_context = lifespan


# -- a cursor that behaves like the server's own reads and writes ----------------------------

class ServerCursor(Workspace):
    """A cursor of the server's workspace for a client's command or call. Its facts are
    kept current the server's way: the facts refresh takes the server's derivation lock
    (as the refresher does) and SLA clocks are evaluated as the API evaluates them."""

    _state: Any

    def _auto_refresh(self) -> None:
        with self._state.derive_lock:
            Workspace.refresh(self)

    def refresh(self, full: bool = False, *, text: bool = True) -> int:
        with self._state.derive_lock:
            return Workspace.refresh(self, full, text=text)

    def metrics(self, metrics: list[str] | str, **kwargs: Any) -> Any:
        if not kwargs.get("explain") and getattr(self._state, "sla_enabled", False):
            from cxmetrics.metrics._registry import registry

            names = [metrics] if isinstance(metrics, str) else list(metrics)
            try:
                sla = any(registry().resolve(n).spec.source == "sla_targets" for n in names)
            except CxError:
                sla = False  # the library raises it below, with the same words
            if sla:
                self._auto_refresh()
                from cxmetrics.api._routes_sla import fresh

                fresh(self._state, self)
        return super().metrics(metrics, **kwargs)


def server_cursor(state: Any) -> Workspace:
    """A `ServerCursor` of the server's workspace (closing it leaves the server's open)."""
    cur = state.workspace.cursor(auto_refresh=False)  # (SLA clocks: `fresh` above, not refresh_sla)
    cur.__class__ = ServerCursor  # the same object, with the server's way of refreshing
    cur._state = state
    return cur


def _footprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What a write changes: the database, its write-ahead log and the workspace's
    settings files (schedules, SLA policies...)."""
    seen = []
    try:
        for entry in sorted(folder.iterdir()):
            if entry.is_file() and entry.name != _remote.SERVER_FILE:
                st = entry.stat()
                seen.append((entry.name, st.st_size, st.st_mtime_ns))
    except OSError:
        pass
    return tuple(seen)


def _after(state: Any, before: tuple[tuple[str, int, int], ...]) -> None:
    """If the command or call wrote, take in new settings, refresh the facts and publish
    the change (as after the API's own writes). A write of the server's own at the same
    time also counts: one refresh more, never one less."""
    ws = state.workspace
    after = _footprint(ws.path)
    if after == before:
        return
    try:
        if [f for f in before if f[0] == SETTINGS_FILE] != [f for f in after if f[0] == SETTINGS_FILE]:
            ws.settings = Settings.load(ws.path / SETTINGS_FILE)
            ws._configure()  # requests open cursors from it: they take the new time zone
        state.refresher.wait(state.refresher.wrote(list(TABLES)))
    except Exception:  # the command's own answer stands; the dashboard catches up at the next write
        log.exception("taking in a local client's write failed")


# -- the routes ----------------------------------------------------------------------------

@router.post("/cli")
async def post_cli(request: Request, body: dict[str, Any] = Body(...)) -> JSON:
    argv = body.get("argv")
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise UserError('the body must be {"argv": ["metrics", "csat", ...], "prog": "cxmetrics"}.')
    prog = body.get("prog") if isinstance(body.get("prog"), str) else "cxmetrics"
    state = request.app.state

    def run() -> dict[str, Any]:
        before = _footprint(state.workspace.path)
        try:
            return run_cli(argv, prog)
        finally:
            _after(state, before)

    return JSON(await run_in_threadpool(run))


@router.post("/call")
async def post_call(request: Request, body: dict[str, Any] = Body(...)) -> JSON:
    method = body.get("method")
    if method not in METHODS:
        raise UserError(f"'{method}' is not a workspace method a local client may call; "
                        f"valid: {', '.join(sorted(METHODS))}.")
    state = request.app.state

    def run() -> Any:
        args, kwargs = decode(body.get("args") or []), decode(body.get("kwargs") or {})
        before = _footprint(state.workspace.path)
        with server_cursor(state) as cur:
            try:
                attr = getattr(cur, method)
                return attr(*args, **kwargs) if callable(attr) else attr
            finally:
                if method in WRITES or method == "sql":  # (a query may write too)
                    _after(state, before)

    try:
        result = await run_in_threadpool(run)
    except (CxError, ValueError, TypeError, KeyError) as exc:
        status = 503 if isinstance(exc, StoreError) else 400
        code = "store_unavailable" if status == 503 else "bad_request"
        return error_response(status, str(exc), code, encode_error(exc))
    return JSON({"result": encode(result)})
