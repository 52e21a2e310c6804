"""Issue 9, item 8: signing out ends the session on the server; an open stream closes when
its key is revoked (or its session ends); sign-in refuses other sites (login CSRF); a write
with the session cookie and no Origin is refused, while key-authenticated scripts still write."""

from __future__ import annotations

import threading
import time

import httpx

from security._hardening import COOKIE, HERE, App, Live, live_server, sec_app  # noqa: F401  (fixtures)

NOTE = {"ts": "2025-06-01T00:00:00Z", "label": "release 2.3", "kind": "launch"}


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(sec_app: App) -> None:  # noqa: F811
    c = sec_app.client
    copied = sec_app.sign_in(sec_app.viewer)  # e.g. taken from a shared machine's browser
    assert c.get("/api/v1/session").status_code == 200
    r = c.delete("/api/v1/session", headers={"Origin": HERE})
    assert r.status_code == 204 and f"{COOKIE}=" in r.headers["set-cookie"]
    c.cookies.clear()
    c.cookies.set(COOKIE, copied)
    r = c.get("/api/v1/session")
    assert r.status_code == 401 and "sign in again" in r.json()["error"]["message"]
    assert c.get("/", follow_redirects=False).status_code in (303, 307)  # the dashboard sends it to /login
    c.cookies.clear()


def test_the_dashboards_sign_out_button_ends_the_session_too(sec_app: App) -> None:  # noqa: F811
    c = sec_app.client
    copied = sec_app.sign_in(sec_app.admin)
    r = c.post("/logout", headers={"Origin": HERE}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    c.cookies.clear()
    c.cookies.set(COOKIE, copied)
    assert c.get("/api/v1/session").status_code == 401
    c.cookies.clear()


def _watch(url: str, headers: dict[str, str], cookies: dict[str, str] | None = None) -> tuple[threading.Thread, dict]:
    """Open /stream in a thread; `state` says when the hello came and when the stream ended."""
    state: dict = {"hello": threading.Event(), "ended_at": None, "lines": []}

    def run() -> None:
        try:
            with httpx.Client(timeout=httpx.Timeout(30.0), cookies=cookies) as client:
                with client.stream("GET", url + "/api/v1/stream", headers=headers) as r:
                    state["status"] = r.status_code
                    for line in r.iter_lines():
                        state["lines"].append(line)
                        if line.startswith("event: hello"):
                            state["hello"].set()
            state["ended_at"] = time.monotonic()  # the server finished the stream
        except httpx.HTTPError as exc:  # cut off (the server stopping at the end of the test)
            state["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert state["hello"].wait(10), "the stream did not start"
    return thread, state


def test_an_open_stream_closes_when_its_key_is_revoked(live_server: Live) -> None:  # noqa: F811
    url = live_server.url
    thread, state = _watch(url, {"Authorization": f"Bearer {live_server.viewer}"})
    other, other_state = _watch(url, {"Authorization": f"Bearer {live_server.admin}"})
    time.sleep(0.3)
    assert thread.is_alive()  # open, with keep-alives 60 s apart
    revoked_at = time.monotonic()
    r = httpx.delete(f"{url}/api/v1/keys/{live_server.viewer_id}",
                     headers={"Authorization": f"Bearer {live_server.admin}"})
    assert r.status_code == 200 and r.json()["rows"][0]["revoked_at"]
    thread.join(5)
    assert not thread.is_alive(), "the revoked key's stream is still open"
    assert state["ended_at"] - revoked_at < 3
    assert other.is_alive() and other_state["ended_at"] is None  # the admin's stream goes on
    # and it reconnects no more: the key is refused
    assert httpx.get(f"{url}/api/v1/stream", headers={"Authorization": f"Bearer {live_server.viewer}"}).status_code == 401


def test_an_open_stream_closes_when_its_session_signs_out(live_server: Live) -> None:  # noqa: F811
    url = live_server.url
    origin = {"Origin": url}
    signed = httpx.post(f"{url}/api/v1/session", json={"key": live_server.viewer}, headers=origin)
    cookie = signed.cookies[COOKIE]
    thread, state = _watch(url, {}, cookies={COOKIE: cookie})
    time.sleep(0.3)
    assert thread.is_alive()
    out = httpx.delete(f"{url}/api/v1/session", headers=origin, cookies={COOKIE: cookie})
    assert out.status_code == 204
    thread.join(5)
    assert not thread.is_alive(), "the signed-out session's stream is still open"


def test_sign_in_from_another_site_is_refused(sec_app: App) -> None:  # noqa: F811
    c = sec_app.client
    c.cookies.clear()
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Referer": "https://evil.example/page"}, {"Sec-Fetch-Site": "cross-site"}):
        r = c.post("/api/v1/session", json={"key": sec_app.admin}, headers=headers)
        assert r.status_code == 403, headers
        assert "another site" in r.json()["error"]["message"] and "set-cookie" not in r.headers
        # the dashboard's own sign-in form, posted from elsewhere
        r = c.post("/login", data={"key": sec_app.admin, "next": "/"}, headers=headers, follow_redirects=False)
        assert r.status_code == 403 and "set-cookie" not in r.headers, headers
        assert COOKIE not in c.cookies
    # from this server's page, and from a script (no Origin at all), it works
    assert c.post("/login", data={"key": sec_app.admin, "next": "/"}, headers={"Origin": HERE},
                  follow_redirects=False).status_code == 303
    assert COOKIE in c.cookies
    c.cookies.clear()
    assert c.post("/api/v1/session", json={"key": sec_app.admin}).status_code == 200
    c.cookies.clear()


def test_a_cookie_write_without_origin_is_refused_but_key_writes_work(sec_app: App) -> None:  # noqa: F811
    c = sec_app.client
    sec_app.sign_in(sec_app.admin)
    r = c.post("/api/v1/annotations", json=NOTE)  # the cookie, and no Origin
    assert r.status_code == 401 and "Origin" in r.json()["error"]["message"]
    r = c.delete("/api/v1/annotations/nope")
    assert r.status_code == 401
    for headers in ({"Referer": HERE + "/"}, {"Origin": "null"}, {"Origin": "https://evil.example"}):
        assert c.post("/api/v1/annotations", json=NOTE, headers=headers).status_code == 401, headers
    assert c.get("/api/v1/annotations").status_code == 200  # reads need no Origin
    r = c.post("/api/v1/annotations", json=NOTE, headers={"Origin": HERE})
    assert r.status_code == 201, r.text
    c.cookies.clear()
    # a script: the key in a header, no cookie, no Origin
    r = c.post("/api/v1/annotations", json={**NOTE, "label": "by script"}, headers=sec_app.bearer(sec_app.admin))
    assert r.status_code == 201, r.text
    labels = [a["label"] for a in c.get("/api/v1/annotations", headers=sec_app.bearer(sec_app.viewer)).json()["rows"]]
    assert labels.count("release 2.3") == 1 and "by script" in labels
