"""Issue 9, item 7: nothing in `cxmetrics.duckdb` lets a reader make a session cookie; the
secret lives in a 0600 file; a workspace is owner-only (0700 folder, 0600 files), new or
upgraded; and no cookie lasts longer than the server's 12 hours."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import cxmetrics
from security._hardening import COOKIE, App, make_app, sec_app  # noqa: F401  (fixture)

TEN_YEARS = 10 * 365 * 86400


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _store_strings(ws: cxmetrics.Workspace) -> set[str]:
    """Every text value in every table of the store: what a reader of the file sees."""
    found: set[str] = set()
    columns = ws.con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE data_type IN ('VARCHAR', 'BLOB') AND table_schema = 'main'").fetchall()
    for table, column in columns:
        for (value,) in ws.con.execute(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL').fetchall():
            found.add(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    return found


def _candidate_secrets(value: str) -> list[bytes]:
    out = [value.encode()]
    try:
        out.append(bytes.fromhex(value))
    except ValueError:
        pass
    return out


def _forgeries(values: set[str], key_ids: list[str]) -> Iterator[str]:
    """Admin cookies an attacker can make from what the store holds, in the cookie formats
    the server has used: `<key_id>.<expires>.<hmac>` (valid ten years) and `<id>.<hmac>`."""
    expires = int(time.time()) + TEN_YEARS
    for value in values:
        for secret in _candidate_secrets(value):
            for key_id in key_ids:
                yield f"{key_id}.{expires}." + hmac.new(secret, f"{key_id}.{expires}".encode(),
                                                       hashlib.sha256).hexdigest()
            for session_id in values:  # a stored value used as the session id
                if "." not in session_id and len(session_id) < 100:
                    yield f"{session_id}." + hmac.new(secret, f"session:{session_id}".encode(),
                                                      hashlib.sha256).hexdigest()


def test_an_admin_cookie_forged_from_the_store_is_refused(sec_app: App) -> None:  # noqa: F811
    # an admin signs in, so the store holds whatever a session leaves there
    honest = sec_app.sign_in(sec_app.admin)
    assert sec_app.client.get("/api/v1/session").json()["role"] == "admin"
    sec_app.client.cookies.clear()
    values = _store_strings(sec_app.ws)  # the attacker reads every text in cxmetrics.duckdb
    key_ids = [sec_app.admin_id]
    assert sec_app.admin_id in values  # the key ids are there (they are not secret)
    tried = 0
    for forged in _forgeries(values, key_ids):
        if forged == honest:
            continue
        sec_app.client.cookies.set(COOKIE, forged)
        r = sec_app.client.get("/api/v1/session")
        assert r.status_code == 401, f"forged cookie accepted: {forged[:40]}..."
        tried += 1
    assert tried > 100
    sec_app.client.cookies.set(COOKIE, honest)  # and the honest one still works (the test can tell)
    assert sec_app.client.get("/api/v1/session").status_code == 200


def _checkpoint(ws: cxmetrics.Workspace) -> None:
    """Write the WAL into the database file, so its bytes are what a reader of it sees; the
    app's own background work (the SLA warm-up) may hold a write for a moment: wait for it."""
    import duckdb

    for _ in range(100):
        try:
            ws.con.execute("CHECKPOINT")
            return
        except duckdb.TransactionException:
            time.sleep(0.1)
    ws.con.execute("CHECKPOINT")


def test_the_secret_is_a_0600_file_and_not_in_the_store(sec_app: App) -> None:  # noqa: F811
    secret_file = sec_app.path / "session.key"
    assert secret_file.is_file() and _mode(secret_file) == 0o600
    secret_hex = secret_file.read_text().strip()
    assert len(bytes.fromhex(secret_hex)) == 32
    assert secret_hex not in _store_strings(sec_app.ws)
    _checkpoint(sec_app.ws)
    raw = (sec_app.path / "cxmetrics.duckdb").read_bytes()
    assert secret_hex.encode() not in raw and bytes.fromhex(secret_hex) not in raw


def test_a_cookie_made_with_the_real_secret_cannot_outlive_12_hours(sec_app: App) -> None:  # noqa: F811
    """Even with the secret itself, nobody can make a cookie the server keeps for ten years:
    the session's end is recorded on the server at sign-in."""
    secret = sec_app.app.state.session_secret
    key_id = sec_app.admin_id
    expires = int(time.time()) + TEN_YEARS
    long_lived = f"{key_id}.{expires}." + hmac.new(secret, f"{key_id}.{expires}".encode(), hashlib.sha256).hexdigest()
    sec_app.client.cookies.set(COOKIE, long_lived)
    assert sec_app.client.get("/api/v1/session").status_code == 401
    before = time.time()
    sec_app.sign_in(sec_app.admin)
    after = time.time()
    [(created, ends)] = sec_app.ws.con.execute(
        "SELECT epoch(created_at), epoch(expires_at) FROM api_sessions").fetchall()
    assert before - 1 <= created <= after + 1
    assert ends - created == pytest.approx(12 * 3600, abs=1)
    sec_app.client.cookies.clear()


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default, which made 0755 folders and 0644 files
    yield
    os.umask(old)


def test_a_new_workspace_is_owner_only(tmp_path: Path, umask_022: None) -> None:
    for _ in make_app(tmp_path, with_tickets=True):  # a workspace with data, served once (session.key made)
        pass
    ws_path = tmp_path / "ws"
    assert _mode(ws_path) == 0o700
    entries = list(ws_path.iterdir())
    assert {"cxmetrics.duckdb", "settings.toml", "session.key"} <= {p.name for p in entries}
    for entry in entries:
        assert _mode(entry) == (0o700 if entry.is_dir() else 0o600), (entry.name, oct(_mode(entry)))


def _make_old_workspace(path: Path, secret_hex: str) -> None:
    """A workspace as versions before 0009 left it: the secret in api_secrets, 0755/0644."""
    from cxmetrics.store import _migrations

    shipped = _migrations.available
    _migrations.available = lambda: [m for m in shipped() if m[0] < 9]  # type: ignore[method-assign]
    try:
        with cxmetrics.Workspace(path) as ws:
            ws.con.execute("CREATE TABLE IF NOT EXISTS api_secrets "
                           "(name VARCHAR NOT NULL, value VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL)")
            ws.con.execute("DELETE FROM api_secrets")
            ws.con.execute("INSERT INTO api_secrets VALUES ('session', ?, now())", [secret_hex])
    finally:
        _migrations.available = shipped  # type: ignore[method-assign]
    (path / "session.key").unlink(missing_ok=True)
    os.chmod(path, 0o755)
    for entry in path.iterdir():
        os.chmod(entry, 0o755 if entry.is_dir() else 0o644)


def test_an_old_workspace_loses_its_stored_secret_and_is_tightened_on_open(tmp_path: Path,
                                                                            umask_022: None) -> None:
    path = tmp_path / "ws"
    old_secret = "ab" * 32
    _make_old_workspace(path, old_secret)
    assert _mode(path / "cxmetrics.duckdb") == 0o644  # as it was
    with cxmetrics.Workspace(path) as ws:
        tables = {r[0] for r in ws.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert "api_secrets" not in tables
        assert old_secret not in _store_strings(ws)
    assert _mode(path) == 0o700
    for entry in path.iterdir():
        assert _mode(entry) == (0o700 if entry.is_dir() else 0o600), entry.name
    # the server now signs with a new secret from the file; the old one (readable by
    # anyone for as long as the file was 0644) makes nothing that works
    for app in make_app(tmp_path):
        assert app.app.state.session_secret != bytes.fromhex(old_secret)
        assert _mode(path / "session.key") == 0o600
        expires = int(time.time()) + 3600
        old_style = f"{app.admin_id}.{expires}." + hmac.new(bytes.fromhex(old_secret),
                                                           f"{app.admin_id}.{expires}".encode(),
                                                           hashlib.sha256).hexdigest()
        app.client.cookies.set(COOKIE, old_style)
        assert app.client.get("/api/v1/session").status_code == 401
        assert app.sign_in(app.admin) and app.client.get("/api/v1/session").status_code == 200
