"""Who may call: FastAPI dependencies over API keys and the dashboard's session cookie.

A request proves itself with ``Authorization: Bearer <key>``, ``X-API-Key: <key>`` or
the session cookie ``cxm_session`` that `login` sets. The session lives on the server
(`_sessions`): the cookie only names it, and it ends 12 hours after sign-in, at sign-out
(`logout`) or when its key is revoked, whatever the cookie says. The cookie is HttpOnly,
SameSite=Lax, Secure over https.

Cross-site requests: a write (POST, DELETE...) authenticated by the cookie must carry an
``Origin`` header naming this server (browsers send one on every write; a write with the
cookie and no Origin is refused too, as a browser would not make it). Signing in is
refused when the browser says the form came from another site (``Origin``, ``Referer``
or ``Sec-Fetch-Site``), so another site cannot sign a visitor into its own account
(login CSRF). Scripts authenticate with a key header and send no Origin: that is fine.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from cxmetrics._workspace import Workspace
from cxmetrics.api import _sessions
from cxmetrics.api._keys import Principal, peek, verify_token
from cxmetrics.api._sessions import SESSION_SECONDS

COOKIE = "cxm_session"
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


def _host_of(url: str | None) -> str | None:
    """The host:port of an Origin or Referer value ("" for "null", the opaque origin a
    browser sends for a sandboxed or privacy-stripped page), None when there is none."""
    if url is None:
        return None
    return "" if url == "null" else urlsplit(url).netloc.lower()


def _same_origin(request: Request) -> bool:
    """A cookie-authenticated write must carry an Origin naming this server: browsers send
    one on every write, so a write without it did not come from our pages."""
    found = _host_of(request.headers.get("origin"))
    return bool(found) and found == (request.headers.get("host") or "").lower()


def _cross_site(request: Request) -> bool:
    """Whether the browser says this request came from another site (for sign-in, where
    a missing Origin means a script, which is allowed)."""
    if request.headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return True
    here = (request.headers.get("host") or "").lower()
    return any(found is not None and found != here
               for found in (_host_of(request.headers.get("origin")), _host_of(request.headers.get("referer"))))


def _resolve(request: Request, ws: Workspace) -> tuple[Principal | None, str]:
    """(principal, why not) from the request's key or session cookie."""
    key = _presented_key(request)
    if key is not None:
        principal = verify_token(ws, key) if key else None
        return principal, "" if principal else "the API key is not valid (unknown, revoked or mistyped)."
    cookie = request.cookies.get(COOKIE)
    if cookie is None:
        return None, "no credentials: send `Authorization: Bearer <key>` or `X-API-Key: <key>`, or sign in."
    principal = _sessions.session_principal(ws, request.app.state.session_secret, cookie)
    if principal is None:
        return None, "the session has expired, was signed out, or its key was revoked: sign in again."
    if request.method not in _SAFE and not _same_origin(request):
        return None, ("a write with a session cookie must come from this server's own pages (Origin missing or "
                      "not this server); scripts send the key in `Authorization: Bearer <key>` instead.")
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
    return _sessions.peek(ws, request.app.state.session_secret, cookie)


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


async def still_signed_in(request: Request) -> bool:
    """Whether the request's key or session is still valid (an open stream asks after
    each key or session change)."""
    if _remembered(request) is not None:
        return True
    principal, _ = await run_in_threadpool(_resolve_on_own_cursor, request)
    return principal is not None


def login(request: Request, response: Response, key: str) -> Principal:
    """Check a key, start a session and set its cookie on `response`. HTTP 403 when the
    browser says the sign-in comes from another site, 401 when the key is wrong."""
    if _cross_site(request):
        raise HTTPException(403, "sign-in from another site is refused: sign in on this server's own /login page.")
    ws, own = _with_cursor(request)
    try:
        principal = verify_token(ws, key.strip())
        if principal is None:
            raise _unauthorized("the API key is not valid (unknown, revoked or mistyped).")
        value = _sessions.start_session(ws, request.app.state.session_secret, principal.key_id)
    finally:
        if own:
            ws.close()
    response.set_cookie(
        COOKIE, value, max_age=SESSION_SECONDS,
        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/",
    )
    return principal


def logout(response: Response, request: Request | None = None) -> None:
    """Remove the session cookie and, given the request, end its session on the server
    (a copy of the cookie stops working too)."""
    cookie = request.cookies.get(COOKIE) if request is not None else None
    if request is not None and cookie:
        ws, own = _with_cursor(request)
        try:
            _sessions.end_session(ws, request.app.state.session_secret, cookie)
        finally:
            if own:
                ws.close()
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=request is not None
                           and request.url.scheme == "https")
