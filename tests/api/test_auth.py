"""Access: keys, roles, the session cookie; every endpoint refuses callers without a key."""

from __future__ import annotations

import hashlib
import re

import pytest

from cxmetrics.api._auth import COOKIE
from cxmetrics.api._sessions import start_session
from cxmetrics.api.auth import create_key, revoke_key
from tests.api.conftest import Api, rows

PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/session"), ("DELETE", "/api/v1/session"),
          # help desks cannot send a key: their signature is required instead (tests/connectors/test_webhooks.py)
          ("POST", "/api/v1/webhooks/{vendor}")}


def endpoints(api: Api) -> list[tuple[str, str, str]]:
    """(method, url, path template) of every operation in the OpenAPI spec."""
    spec = api.get("/api/v1/openapi.json", api.viewer).json()  # the spec needs a key too
    out = []
    for path, ops in spec["paths"].items():
        if not path.startswith("/api/v1/"):
            continue  # the dashboard's pages (when installed) test their own access
        url = re.sub(r"\{[^}]+\}", "x", path)
        if path == "/api/v1/imports/{kind}":
            url = "/api/v1/imports/tickets"
        for method in ops:
            out.append((method.upper(), url, path))
    return out


def test_every_endpoint_but_health_and_sign_in_needs_a_key(api: Api) -> None:
    checked = 0
    for method, url, path in endpoints(api):
        if (method, path) in PUBLIC:
            continue
        r = api.client.request(method, url)
        assert r.status_code == 401, (method, url, r.status_code, r.text)
        body = r.json()["error"]
        assert body["status"] == 401 and body["code"] == "unauthorized" and "Bearer" in body["message"]
        # a wrong key is refused the same way
        r = api.client.request(method, url, headers={"X-API-Key": "cxm_0123456789_nope"})
        assert r.status_code == 401, (method, url)
        checked += 1
    assert checked >= 20  # the API has at least this many protected operations


def test_a_viewer_key_cannot_write(api: Api) -> None:
    writes = [(m, u, p) for m, u, p in endpoints(api) if m in ("POST", "DELETE", "PUT", "PATCH")
              and (m, p) not in PUBLIC]
    assert {p for _, _, p in writes} >= {"/api/v1/events", "/api/v1/imports/{kind}", "/api/v1/annotations",
                                              "/api/v1/annotations/{annotation_id}", "/api/v1/keys"}
    for method, url, _ in writes:
        r = api.client.request(method, url, headers=api.h(api.viewer), json=[])
        assert r.status_code == 403, (method, url, r.status_code, r.text)
        assert r.json()["error"]["code"] == "forbidden" and "admin" in r.json()["error"]["message"]
    # and a viewer may read
    assert api.get("/api/v1/catalogue", api.viewer).status_code == 200
    assert api.get("/api/v1/keys", api.viewer).status_code == 403  # listing keys is an admin's


def test_health_needs_no_key(api: Api) -> None:
    r = api.client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["schema_version"] >= 6


def test_both_headers_work_and_a_bad_authorization_does_not_fall_back(api: Api) -> None:
    assert api.client.get("/api/v1/session", headers={"X-API-Key": api.viewer}).json()["role"] == "viewer"
    assert api.client.get("/api/v1/session", headers={"Authorization": f"Bearer {api.admin}"}).json()["role"] == "admin"
    assert api.client.get("/api/v1/session", headers={"Authorization": f"Basic {api.admin}"}).status_code == 401


def test_keys_are_stored_hashed(fresh_api: Api) -> None:
    key_id, token = create_key(fresh_api.ws, "hash check", "viewer")
    secret = token.split("_", 2)[2]
    stored = rows(fresh_api.ws, "SELECT * FROM api_keys")
    text = repr(stored)
    assert token not in text and secret not in text
    import hashlib

    # the stored value is the token's SHA-256, computed here independently
    assert (hashlib.sha256(token.encode()).hexdigest(),) in rows(
        fresh_api.ws, "SELECT token_sha256 FROM api_keys WHERE key_id = ?", [key_id])
    # nor is the token anywhere in the database file. The server's background work (the SLA
    # warm-up, the survey sender) may hold a write transaction for a moment: a checkpoint
    # waits for none, so try again until they are done
    import time

    import duckdb

    for _ in range(200):
        try:
            fresh_api.ws.con.execute("CHECKPOINT")
            break
        except duckdb.TransactionException:
            time.sleep(0.05)
    else:
        fresh_api.ws.con.execute("CHECKPOINT")
    data = (fresh_api.path / "cxmetrics.duckdb").read_bytes()
    assert secret.encode() not in data and token.encode() not in data


def test_revoked_key_is_refused(fresh_api: Api) -> None:
    key_id, token = create_key(fresh_api.ws, "soon gone", "admin")
    assert fresh_api.get("/api/v1/session", token).status_code == 200
    assert revoke_key(fresh_api.ws, key_id) is True
    assert fresh_api.get("/api/v1/session", token).status_code == 401
    assert revoke_key(fresh_api.ws, key_id) is False


def test_session_cookie_login_and_logout(fresh_api: Api) -> None:
    c = fresh_api.client
    c.cookies.clear()
    assert c.post("/api/v1/session", json={"key": "cxm_0123456789_wrong"}).status_code == 401
    r = c.post("/api/v1/session", json={"key": fresh_api.viewer})
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    header = r.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=") and "HttpOnly" in header and "samesite=lax" in header.lower()
    assert "Max-Age=43200" in header and "Secure" not in header  # http here; https sets Secure
    # the cookie alone now authenticates reads
    assert c.get("/api/v1/catalogue").status_code == 200
    assert c.get("/api/v1/session").json()["name"] == "test viewer"
    r = c.delete("/api/v1/session")
    assert r.status_code == 204 and f'{COOKIE}=""' in r.headers["set-cookie"]
    c.cookies.clear()
    assert c.get("/api/v1/catalogue").status_code == 401


def test_session_cookie_is_secure_over_https(fresh_api: Api) -> None:
    r = fresh_api.client.post("https://testserver/api/v1/session", json={"key": fresh_api.viewer})
    assert "Secure" in r.headers["set-cookie"]
    fresh_api.client.cookies.clear()


def test_forged_expired_or_revoked_sessions_are_refused(fresh_api: Api) -> None:
    c = fresh_api.client
    c.cookies.clear()
    secret = fresh_api.app.state.session_secret
    key_id, _ = create_key(fresh_api.ws, "cookie", "admin")
    good = start_session(fresh_api.ws, secret, key_id)
    c.cookies.set(COOKIE, good)
    assert c.get("/api/v1/session").status_code == 200
    session_id, sig = good.split(".")
    c.cookies.set(COOKIE, f"{session_id}x.{sig}")  # another id without the secret
    assert c.get("/api/v1/session").status_code == 401
    other = start_session(fresh_api.ws, b"another secret", key_id)  # recorded, but signed with the wrong secret
    c.cookies.set(COOKIE, other)
    assert c.get("/api/v1/session").status_code == 401
    expired = start_session(fresh_api.ws, secret, key_id)
    fresh_api.ws.con.execute("UPDATE api_sessions SET expires_at = now() - INTERVAL 1 SECOND "
                             "WHERE session_sha256 = ?", [hashlib.sha256(expired.split(".")[0].encode()).hexdigest()])
    c.cookies.set(COOKIE, expired)
    assert c.get("/api/v1/session").status_code == 401
    c.cookies.set(COOKIE, good)
    revoke_key(fresh_api.ws, key_id)
    assert c.get("/api/v1/session").status_code == 401
    c.cookies.clear()


def test_cookie_writes_must_come_from_this_origin(fresh_api: Api) -> None:
    c = fresh_api.client
    c.cookies.clear()
    c.post("/api/v1/session", json={"key": fresh_api.admin})
    note = {"ts": "2025-06-01T00:00:00Z", "label": "cookie write", "kind": "policy"}
    r = c.post("/api/v1/annotations", json=note, headers={"Origin": "https://evil.example"})
    assert r.status_code == 401 and "Origin" in r.json()["error"]["message"]
    r = c.post("/api/v1/annotations", json=note, headers={"Origin": "http://testserver"})
    assert r.status_code == 201
    c.cookies.clear()


@pytest.mark.parametrize("role", ["root", ""])
def test_unknown_roles_are_refused(fresh_api: Api, role: str) -> None:
    from cxmetrics.errors import UnknownNameError

    with pytest.raises(UnknownNameError):
        create_key(fresh_api.ws, "x", role)


def test_keys_through_the_api(fresh_api: Api) -> None:
    r = fresh_api.post("/api/v1/keys", json={"name": "wall screen", "role": "viewer"})
    assert r.status_code == 201
    made = r.json()
    assert made["token"].startswith("cxm_" + made["key_id"] + "_")
    assert fresh_api.get("/api/v1/session", made["token"]).json()["name"] == "wall screen"
    listed = fresh_api.get("/api/v1/keys").json()["rows"]
    assert made["key_id"] in {k["key_id"] for k in listed}
    assert "token" not in listed[0] and "token_sha256" not in listed[0]
    r = fresh_api.client.delete(f"/api/v1/keys/{made['key_id']}", headers=fresh_api.h())
    assert r.status_code == 200 and r.json()["rows"][0]["revoked_at"] is not None
    assert fresh_api.get("/api/v1/session", made["token"]).status_code == 401
    assert fresh_api.client.delete("/api/v1/keys/nope", headers=fresh_api.h()).status_code == 404


def test_a_key_of_another_workspace_is_refused(api: Api, fresh_api: Api) -> None:
    # both apps run in this process; a key verified (and remembered) by one is not the other's
    assert fresh_api.get("/api/v1/session", fresh_api.admin).status_code == 200
    assert api.get("/api/v1/session", fresh_api.admin).status_code == 401
