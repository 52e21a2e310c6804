"""Who may call: FastAPI dependencies over API keys and the dashboard's session cookie.

A request proves itself with ``Authorization: Bearer <key>``, ``X-API-Key: <key>`` or
the session cookie ``cxm_session`` that `login` sets. The cookie is
``<key_id>.<expires>.<signature>``, signed (HMAC-SHA256) with a secret kept in the
workspace; it is HttpOnly, SameSite=Lax, Secure over https, and lasts 12 hours. It is
only as good as its key: revoking the key ends its sessions. A write (POST, DELETE)
authenticated by the cookie must come from the same origin (the Origin header, when
the browser sends one, must name this server), so another site cannot post in the
user's name.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from cxmetrics._workspace import Workspace
from cxmetrics.api._keys import Principal, lookup, peek, peek_session, verify_token

COOKIE = "cxm_session"
SESSION_SECONDS = 12 * 3600
_SAFE = {"GET", "HEAD", "OPTIONS"}


def workspace_cursor(request: Request) -> Iterator[Workspace]:
    """A per-request view of the server's workspace on its own connection (closed
    after the request). Reads need no facts refresh: the server refreshes after writes."""
    cur = request.app.state.workspace.cursor(auto_refresh=False)
    request.state.cursor = cur
    try:
        yield cur
    finally:
        request.state.cursor = None
        cur.close()


def _sign(secret: bytes, key_id: str, expires: int) -> str:
    return hmac.new(secret, f"{key_id}.{expires}".encode(), hashlib.sha256).hexdigest()


def session_value(secret: bytes, key_id: str, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + SESSION_SECONDS)
    return f"{key_id}.{expires}.{_sign(secret, key_id, expires)}"


def session_key_id(secret: bytes, value: str, now: float | None = None) -> str | None:
    """The key id a session cookie carries, if its signature holds and it has not expired."""
    parts = value.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    key_id, expires, sig = parts[0], int(parts[1]), parts[2]
    if not hmac.compare_digest(_sign(secret, key_id, expires), sig) or expires < (time.time() if now is None else now):
        return None
    return key_id


def _with_cursor(request: Request) -> tuple[Workspace, bool]:
    cur = getattr(request.state, "cursor", None)
    if cur is not None:
        return cur, False
    return request.app.state.workspace.cursor(auto_refresh=False), True


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return ""  # an Authorization header we cannot use: no fallback to the cookie
    key = request.headers.get("x-api-key")
    if key is not None:
        return key.strip()
    return None


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser's cross-site request (browsers send Origin on writes)
    if origin == "null":
        return False
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


def _resolve(request: Request, ws: Workspace) -> tuple[Principal | None, str]:
    """(principal, why not) from the request's key or session cookie."""
    key = _presented_key(request)
    if key is not None:
        principal = verify_token(ws, key) if key else None
        return principal, "" if principal else "the API key is not valid (unknown, revoked or mistyped)."
    cookie = request.cookies.get(COOKIE)
    if cookie is None:
        return None, "no credentials: send `Authorization: Bearer <key>` or `X-API-Key: <key>`, or sign in."
    key_id = session_key_id(request.app.state.session_secret, cookie)
    principal = lookup(ws, key_id) if key_id else None
    if principal is None:
        return None, "the session has expired or its key was revoked: sign in again."
    if request.method not in _SAFE and not _same_origin(request):
        return None, "a write with a session cookie must come from this server's own pages (Origin mismatch)."
    return principal, ""


def optional_principal(request: Request) -> Principal | None:
    """The caller, or None when it shows no valid key or session (pages redirect to /login)."""
    ws, own = _with_cursor(request)
    try:
        return _resolve(request, ws)[0]
    finally:
        if own:
            ws.close()


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Bearer realm="cxmetrics"'})


def require_viewer(request: Request, ws: Workspace = Depends(workspace_cursor)) -> Principal:
    """Any valid key or session (viewer or admin); 401 otherwise."""
    principal, why = _resolve(request, ws)
    if principal is None:
        raise _unauthorized(why)
    request.state.principal = principal
    return principal


def require_admin(principal: Principal = Depends(require_viewer)) -> Principal:
    """An admin key or session; 401 without one, 403 for a viewer."""
    if not principal.can("admin"):
        raise HTTPException(403, f"key '{principal.name}' ({principal.key_id}) is a viewer key: this needs an admin key.")
    return principal


def _remembered(request: Request) -> Principal | None:
    """The caller when its key (or session) was verified before: no database, no thread."""
    ws = request.app.state.workspace
    key = _presented_key(request)
    if key is not None:
        return peek(ws, key) if key else None
    cookie = request.cookies.get(COOKIE)
    if cookie is None or (request.method not in _SAFE and not _same_origin(request)):
        return None
    key_id = session_key_id(request.app.state.session_secret, cookie)
    return peek_session(ws, key_id) if key_id else None


def _resolve_on_own_cursor(request: Request) -> tuple[Principal | None, str]:
    with request.app.state.workspace.cursor(auto_refresh=False) as ws:
        return _resolve(request, ws)


async def api_viewer(request: Request) -> Principal:
    """As `require_viewer`, but answered on the event loop when the key was verified before
    (the API's routers use it, so a cached answer needs no worker thread)."""
    principal = _remembered(request)
    if principal is None:
        principal, why = await run_in_threadpool(_resolve_on_own_cursor, request)
        if principal is None:
            raise _unauthorized(why)
    request.state.principal = principal
    return principal


async def api_admin(principal: Principal = Depends(api_viewer)) -> Principal:
    """As `require_admin`, on top of `api_viewer`."""
    return require_admin(principal)


def login(request: Request, response: Response, key: str) -> Principal:
    """Check a key and set the session cookie on `response`; HTTP 401 if the key is wrong."""
    ws, own = _with_cursor(request)
    try:
        principal = verify_token(ws, key.strip())
    finally:
        if own:
            ws.close()
    if principal is None:
        raise _unauthorized("the API key is not valid (unknown, revoked or mistyped).")
    response.set_cookie(
        COOKIE, session_value(request.app.state.session_secret, principal.key_id), max_age=SESSION_SECONDS,
        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/",
    )
    return principal


def logout(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
