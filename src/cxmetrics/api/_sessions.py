"""Dashboard sessions, kept on the server.

Signing in makes a row in `api_sessions` and a cookie ``<session_id>.<signature>``: the
session id is 256 random bits, the signature an HMAC-SHA256 of it under the secret in
the workspace's `session.key` file (0600). The database holds only the SHA-256 of the id,
so reading it (or a copy of it) gives nothing a cookie can be made of. The server alone
decides when a session ends: `SESSION_SECONDS` after sign-in, at sign-out, or when its
key is revoked; nothing in the cookie can make it last longer.

>>> import tempfile, cxmetrics
>>> from cxmetrics.api._keys import create_key
>>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
...     key_id, _ = create_key(ws, "ops", "viewer")
...     cookie = start_session(ws, b"k" * 32, key_id)
...     session_principal(ws, b"k" * 32, cookie).role, end_session(ws, b"k" * 32, cookie)
...     session_principal(ws, b"k" * 32, cookie)
('viewer', True)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from cxmetrics._workspace import Workspace
from cxmetrics.api import _keys
from cxmetrics.api._keys import Principal, lookup

#: How long a session lasts after signing in (the server's rule, not the cookie's).
SESSION_SECONDS = 12 * 3600
_MAX_COOKIE = 200
# verified sessions, by (workspace, id hash): (generation, principal, expires as epoch seconds)
_known: dict[tuple[int, str], tuple[int, Principal, float]] = {}
_KNOWN_MAX = 10_000


def _sign(secret: bytes, session_id: str) -> str:
    return hmac.new(secret, f"session:{session_id}".encode(), hashlib.sha256).hexdigest()


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _session_id(secret: bytes, cookie: str) -> str | None:
    """The session id a cookie carries, if its signature holds (no database needed)."""
    if len(cookie) > _MAX_COOKIE:
        return None
    session_id, sep, sig = cookie.partition(".")
    if not sep or not session_id or not hmac.compare_digest(_sign(secret, session_id), sig):
        return None
    return session_id


def start_session(ws: Workspace, secret: bytes, key_id: str) -> str:
    """Record a new session of `key_id`; returns the cookie's value."""
    session_id = secrets.token_urlsafe(32)
    with ws._write_lock:
        # ended and expired sessions are of no further use: keep the table small
        ws.con.execute("DELETE FROM api_sessions WHERE expires_at < now() OR ended_at < now() - INTERVAL 1 DAY")
        ws.con.execute(
            "INSERT INTO api_sessions VALUES (?, ?, now(), now() + to_seconds(?), NULL)",
            [_digest(session_id), key_id, SESSION_SECONDS],
        )
    return f"{session_id}.{_sign(secret, session_id)}"


def end_session(ws: Workspace, secret: bytes, cookie: str) -> bool:
    """End the session a cookie names (sign-out); True if it was active."""
    session_id = _session_id(secret, cookie)
    if session_id is None:
        return False
    with ws._write_lock:
        found = ws.con.execute(
            "UPDATE api_sessions SET ended_at = now() WHERE session_sha256 = ? AND ended_at IS NULL "
            "RETURNING key_id", [_digest(session_id)],
        ).fetchall()
        _keys._changed()  # cached answers (and open streams) learn it now
    return bool(found)


def peek(ws: Workspace, secret: bytes, cookie: str) -> Principal | None:
    """The principal of a session verified before, without touching the database."""
    session_id = _session_id(secret, cookie)
    if session_id is None:
        return None
    found = _known.get((_keys._scope(ws), _digest(session_id)))
    if found is None or found[0] != _keys.generation() or time.time() >= found[2]:
        return None
    return found[1]


def session_principal(ws: Workspace, secret: bytes, cookie: str) -> Principal | None:
    """Who a session cookie signs in as: None when its signature is wrong, or the session
    is unknown, ended, expired, or its key revoked."""
    if (known := peek(ws, secret, cookie)) is not None:
        return known
    session_id = _session_id(secret, cookie)
    if session_id is None:
        return None
    generation = _keys.generation()
    digest = _digest(session_id)
    rows = ws.con.execute(
        "SELECT key_id, epoch(expires_at) FROM api_sessions "
        "WHERE session_sha256 = ? AND ended_at IS NULL AND expires_at > now()", [digest],
    ).fetchall()
    if not rows:
        return None
    principal = lookup(ws, rows[0][0])
    if principal is None:
        return None
    if len(_known) >= _KNOWN_MAX:
        _known.clear()
    _known[(_keys._scope(ws), digest)] = (generation, principal, float(rows[0][1]))
    return principal
