"""API keys: created and revoked with the CLI (or an admin through the API), stored hashed.

A key is ``cxm_<key_id>_<secret>``: a public 10-hex-digit id and 256 random bits. Only
the SHA-256 of the whole token is stored (a fast hash is enough for a high-entropy
token: there is no dictionary to try), and it is compared in constant time. Roles:
``admin`` reads and writes, ``viewer`` only reads.

>>> import tempfile, cxmetrics
>>> with cxmetrics.open(tempfile.mkdtemp(), create=True) as ws:
...     key_id, token = create_key(ws, "ops", "viewer")
...     verify_token(ws, token).role, verify_token(ws, token + "x"), revoke_key(ws, key_id)
...     verify_token(ws, token)
('viewer', None, True)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import pyarrow as pa

from cxmetrics._workspace import Workspace
from cxmetrics.errors import UnknownNameError, UserError

Role = Literal["admin", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)
PREFIX = "cxm_"
#: The file, in the workspace folder, that holds the secret signing session cookies.
SECRET_FILE = "session.key"
_RANK = {"viewer": 1, "admin": 2}
# last_used_at is written at most this often per key (a write per request would
# queue every read behind imports)
_TOUCH_EVERY_S = 60.0
_touched: dict[str, float] = {}
# verified tokens, by their hash: (generation, principal). Every key change in this process
# goes through create_key/revoke_key, which move the generation on, so a cached answer
# never outlives a revocation; a key changed by another process (the CLI) can only be
# changed while no server holds the workspace.
_generation = 0
# callbacks run after every key or session change (an open /stream re-checks its caller)
_watchers: set[Callable[[], None]] = set()
_verified: dict[tuple[int, str], tuple[int, Principal]] = {}  # (workspace, token hash or key id)
_VERIFIED_MAX = 10_000


def _changed() -> None:
    global _generation
    _generation += 1
    _verified.clear()
    for watcher in list(_watchers):
        try:
            watcher()
        except RuntimeError:  # its event loop is closed: the stream is gone
            _watchers.discard(watcher)


def watch(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (from any thread) after each key or session change; returns the
    function that stops it."""
    _watchers.add(callback)
    return lambda: _watchers.discard(callback)


def generation() -> int:
    """Goes up on every key or session change (cached answers older than it are stale)."""
    return _generation


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, its name and its role."""

    key_id: str
    name: str
    role: Role

    def can(self, role: str) -> bool:
        """Whether this principal's role is at least `role` (admin > viewer)."""
        return _RANK[self.role] >= _RANK[role]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UnknownNameError("role", role, ROLES)


def create_key(ws: Workspace, name: str, role: str) -> tuple[str, str]:
    """Create a key; returns (key_id, token). The token is shown only now: it is not stored."""
    _check_role(role)
    name = name.strip()
    if not name:
        raise UserError("a key needs a name (who or what uses it), e.g. `cxmetrics keys create dashboard`.")
    if len(name) > 200:
        raise UserError("a key's name is at most 200 characters.")
    with ws._write_lock:
        while True:
            key_id = secrets.token_hex(5)
            if not ws.con.execute("SELECT count(*) FROM api_keys WHERE key_id = ?", [key_id]).fetchall()[0][0]:
                break
        token = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        ws.con.execute("INSERT INTO api_keys VALUES (?, ?, ?, ?, now(), NULL, NULL)",
                       [key_id, name, role, _hash(token)])
        _changed()
    return key_id, token


def revoke_key(ws: Workspace, key_id: str) -> bool:
    """Revoke a key (its sessions end too). True if it was active, False if it was
    revoked already; an unknown id is an UnknownNameError."""
    with ws._write_lock:
        found = ws.con.execute("SELECT revoked_at IS NULL FROM api_keys WHERE key_id = ?", [key_id]).fetchall()
        if not found:
            known = [r[0] for r in ws.con.execute("SELECT key_id FROM api_keys").fetchall()]
            raise UnknownNameError("key id", key_id, known)
        if not found[0][0]:
            return False
        ws.con.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = ?", [key_id])
        ws.con.execute("UPDATE api_sessions SET ended_at = now() WHERE key_id = ? AND ended_at IS NULL", [key_id])
        _changed()
    return True


def list_keys(ws: Workspace) -> pa.Table:
    """Every key (never the token): key_id, name, role, created_at, revoked_at, last_used_at."""
    return ws.sql("SELECT key_id, name, role, created_at, revoked_at, last_used_at FROM api_keys "
                  "ORDER BY created_at, key_id")


def active_admins(ws: Workspace) -> int:
    return ws.con.execute("SELECT count(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL").fetchall()[0][0]


def _scope(ws: Workspace) -> int:
    """Which open workspace a cache entry belongs to (its cursors share the write lock)."""
    return id(ws._write_lock)


def _remember(key: tuple[int, str], generation: int, principal: Principal) -> None:
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[key] = (generation, principal)


def _known(key: tuple[int, str]) -> Principal | None:
    found = _verified.get(key)
    return found[1] if found is not None and found[0] == _generation else None


def lookup(ws: Workspace, key_id: str) -> Principal | None:
    """The active key with this id, as a principal (None if unknown or revoked)."""
    key = (_scope(ws), "id:" + key_id)
    if (known := _known(key)) is not None:
        return known
    generation = _generation
    rows = ws.con.execute("SELECT name, role FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
                          [key_id]).fetchall()
    if not rows:
        return None
    principal = Principal(key_id, rows[0][0], rows[0][1])
    _remember(key, generation, principal)
    return principal


def peek(ws: Workspace, token: str) -> Principal | None:
    """The principal of a token verified before, without touching the database (None when
    it is not known yet, or when its last use is due to be recorded)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    principal = _known((_scope(ws), _hash(token)))
    if principal is None or time.monotonic() - _touched.get(principal.key_id, -_TOUCH_EVERY_S) >= _TOUCH_EVERY_S:
        return None
    return principal


def verify_token(ws: Workspace, token: str) -> Principal | None:
    """The principal of an active key, or None (malformed, unknown, wrong or revoked)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    key_id, sep, _ = token[len(PREFIX):].partition("_")
    if not sep or len(key_id) != 10:
        return None
    digest = _hash(token)
    if (known := _known((_scope(ws), digest))) is not None:
        touch(ws, key_id)
        return known
    generation = _generation
    rows = ws.con.execute("SELECT name, role, token_sha256 FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
                          [key_id]).fetchall()
    if not rows or not hmac.compare_digest(digest, rows[0][2]):
        return None
    principal = Principal(key_id, rows[0][0], rows[0][1])
    _remember((_scope(ws), digest), generation, principal)
    touch(ws, key_id)
    return principal


def touch(ws: Workspace, key_id: str) -> None:
    """Record that a key was used (at most once a minute, and never waiting for a write)."""
    now = time.monotonic()
    if now - _touched.get(key_id, -_TOUCH_EVERY_S) < _TOUCH_EVERY_S:
        return
    if ws._write_lock.acquire(blocking=False):
        try:
            ws.con.execute("UPDATE api_keys SET last_used_at = now() WHERE key_id = ?", [key_id])
            _touched[key_id] = now
        finally:
            ws._write_lock.release()


def session_secret(ws: Workspace) -> bytes:
    """The workspace's secret for signing session cookies: 32 random bytes in the file
    `session.key` of the workspace folder, made (mode 0600) on first use. It is kept out
    of the database on purpose: whoever can read `cxmetrics.duckdb` (a backup, a copy sent
    for support) must not be able to make cookies."""
    from cxmetrics._filemodes import read_or_create_secret

    with ws._write_lock:
        return read_or_create_secret(ws.path / SECRET_FILE)
