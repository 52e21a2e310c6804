"""Request-body caps and write turns: what one request may cost the server.

`BodyLimits` is an ASGI middleware in front of everything. Before a single byte of a
body is read it

- answers 413 when the declared `Content-Length` is over the route's cap;
- answers 401 (or 403) when an API route that needs a key gets a body without valid
  credentials (FastAPI reads a body before it runs the route's dependencies, so the
  check must come first; uploads and `/events` need an admin key);

and while the body streams in (chunked or not) it counts the bytes and stops the request
with 413 as soon as they pass the cap. The caps, by route:

- `POST /api/v1/imports/{kind}`: the `max_upload_size` setting (default 1 GB);
- `POST /api/v1/events`: the `max_events_body` setting (default 64 MB);
- everything else (JSON bodies, the sign-in form): `MAX_JSON_BODY`, 1 MB.

`write_turn` lets an API write wait a short while (the `write_wait` setting) for the
workspace's write lock, then answers 503 with `Retry-After` rather than hang behind a
long import.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import HTTPException, Request

from cxmetrics._workspace import Workspace
from cxmetrics.api._errors import ApiError, error_response
from cxmetrics.settings import Settings, format_size

MAX_JSON_BODY = 1 << 20
PREFIX = "/api/v1"
_UPLOAD = re.compile(rf"^{PREFIX}/imports/[^/]+/?$")
_EVENTS = re.compile(rf"^{PREFIX}/events/?$")
# API routes that take a body without a key (sign in / out); every other one needs a key
_PUBLIC = {f"{PREFIX}/session", f"{PREFIX}/session/", f"{PREFIX}/health"}
# help-desk webhooks: the vendor cannot send a key; its signature is checked by the route
# (api/_routes_webhooks.py), and the body keeps the 1 MB cap of JSON bodies
_WEBHOOKS = re.compile(rf"^{PREFIX}/webhooks/[^/]+/?$")


class BodyTooLarge(ApiError, HTTPException):
    """The body passed its route's cap while it was being read. An HTTPException, so
    that FastAPI passes it on from its body parsing (it turns other errors into 400); an
    ApiError first, so that its handler answers with the limit in `details`."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        ApiError.__init__(self, 413, message, details=details)
        HTTPException.__init__(self, 413, message)


def body_cap(method: str, path: str, settings: Settings) -> tuple[int, str | None, bool]:
    """(cap in bytes, the setting that changes it, whether the route needs an admin key)
    for a request's body."""
    if method == "POST" and _UPLOAD.match(path):
        return settings.size("max_upload_size"), "max_upload_size", True
    if method == "POST" and _EVENTS.match(path):
        return settings.size("max_events_body"), "max_events_body", True
    return MAX_JSON_BODY, None, False


def too_large_message(method: str, path: str, cap: int, setting: str | None) -> str:
    fix = (f"send less per request, or raise {setting} in the workspace's settings.toml" if setting else
           "this route takes a small JSON body")
    return f"the request body is over the {format_size(cap)} ({cap:,} bytes) limit of {method} {path}: {fix}."


class BodyLimits:
    """ASGI middleware: cap every request body by route, and refuse bodies without
    credentials before reading them (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        settings = scope["app"].state.workspace.settings
        cap, setting, admin_only = body_cap(method, path, settings)
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        length = headers.get(b"content-length")
        declared = int(length) if length is not None and length.isdigit() else None
        has_body = bool(declared) or b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        details = {"limit": cap, "setting": setting}
        if declared is not None and declared > cap:
            await _answer(scope, receive, send, 413, too_large_message(method, path, cap, setting), details)
            return
        if has_body and path.startswith(PREFIX + "/") and path not in _PUBLIC and not _WEBHOOKS.match(path):
            refused = await _check_credentials(scope, admin_only)
            if refused is not None:
                await _answer(scope, receive, send, refused.status_code, str(refused.detail), None,
                              dict(refused.headers or {}))
                return
        received = 0

        async def capped_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    # raised inside the route's body read: FastAPI passes HTTPExceptions on,
                    # and the error handlers give it the one error shape
                    raise BodyTooLarge(too_large_message(method, path, cap, setting), details)
            return message

        await self.app(scope, capped_receive, send)


async def _check_credentials(scope: Any, admin_only: bool) -> HTTPException | None:
    """The 401/403 the route's own dependencies would give, decided from the headers alone."""
    from cxmetrics.api._auth import api_viewer

    request = Request(scope)
    try:
        principal = await api_viewer(request)
    except HTTPException as exc:
        return exc
    if admin_only and not principal.can("admin"):
        return HTTPException(403, f"key '{principal.name}' ({principal.key_id}) is a viewer key: "
                                  "this needs an admin key.")
    return None


async def _answer(scope: Any, receive: Any, send: Any, status: int, message: str, details: Any,
                  headers: dict[str, str] | None = None) -> None:
    # the body is never read: close the connection rather than wait for it
    response = error_response(status, message, details=details, headers={**(headers or {}), "Connection": "close"})
    await response(scope, receive, send)


@contextmanager
def write_turn(ws: Workspace) -> Iterator[None]:
    """Hold the workspace's write lock, waiting at most the `write_wait` setting for it;
    503 with Retry-After when another write (a long import) keeps it longer."""
    wait = float(ws.settings.write_wait)
    if not ws._write_lock.acquire(timeout=wait):
        retry = max(1, math.ceil(2 * wait))
        raise ApiError(503, f"another write (an import or a facts refresh) has held the workspace for over "
                            f"{wait:g} s: try again in {retry} s (the wait is the write_wait setting).",
                       code="busy", headers={"Retry-After": str(retry)})
    try:
        yield
    finally:
        ws._write_lock.release()
