"""Issue 9, item 10: security headers on every answer (pages, API JSON, errors, files);
the OpenAPI spec and its docs page behind a key; no server paths in error messages or in
the import log as viewers see it; and the CSP leaves the dashboard working in Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from security._hardening import App, sec_app, sec_app_with_tickets  # noqa: F401  (fixtures)

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def check_headers(r: Any, what: str) -> None:
    for name, value in EXPECTED.items():
        assert r.headers.get(name) == value, (what, name, r.headers.get(name))
    csp = {d.split(" ", 1)[0]: d for d in (p.strip() for p in r.headers.get("content-security-policy", "").split(";"))}
    assert csp.get("frame-ancestors") == "frame-ancestors 'none'", (what, csp)
    assert csp.get("script-src") == "script-src 'self'", (what, csp)  # no inline script, no eval
    assert csp.get("default-src") == "default-src 'self'" and csp.get("object-src") == "object-src 'none'", what


def test_every_kind_of_answer_carries_the_security_headers(sec_app: App) -> None:  # noqa: F811
    c = sec_app.client
    key = sec_app.bearer(sec_app.viewer)
    answers = {
        "login page": c.get("/login"),
        "health (public JSON)": c.get("/api/v1/health"),
        "API JSON": c.get("/api/v1/catalogue", headers=key),
        "401 error": c.get("/api/v1/catalogue"),
        "404 error": c.get("/api/v1/nope", headers=key),
        "422 error": c.get("/api/v1/imports?limit=0", headers=key),
        "static file": c.get("/static/dashboard.js"),
        "docs page": c.get("/api/v1/docs", headers=key),
        "CSV": c.get("/api/v1/tickets.csv?metric=frt&from=2025-03-01&to=2025-04-01", headers=key),
    }
    sec_app.sign_in(sec_app.viewer)
    answers["dashboard page"] = c.get("/")
    answers["dashboard fragment"] = c.get("/trends", headers={"X-CXM-Fragment": "1"})
    answers["redirect"] = c.get("/login", follow_redirects=False)
    c.cookies.clear()
    for what, r in answers.items():
        assert r.status_code < 500, (what, r.status_code)
        check_headers(r, what)
    assert answers["dashboard page"].status_code == 200 and answers["401 error"].status_code == 401


def test_the_spec_and_the_docs_page_need_a_key(sec_app: App) -> None:  # noqa: F811
    c = sec_app.client
    c.cookies.clear()
    for url in ("/api/v1/openapi.json", "/api/v1/docs"):
        r = c.get(url)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", url
        assert c.get(url, headers={"X-API-Key": "cxm_0123456789_nope"}).status_code == 401, url
        assert c.get(url, headers=sec_app.bearer(sec_app.viewer)).status_code == 200, url
    spec = c.get("/api/v1/openapi.json", headers=sec_app.bearer(sec_app.viewer)).json()
    assert "/api/v1/metrics" in spec["paths"]
    sec_app.sign_in(sec_app.viewer)  # the dashboard's "API reference" link works with the session
    page = c.get("/api/v1/docs")
    assert page.status_code == 200 and "/api/v1/metrics" in page.text
    c.cookies.clear()


BAD_UPLOADS = {
    "empty file": ({"file": ("t.csv", b"")}, "empty"),
    "mapping not TOML": ({"file": ("t.csv", b"ticket_id,created_at\nT1,2025-01-01\n"),
                          "mapping": ("m.toml", b"[[[bad")}, "TOML"),
    "mapping with an unknown key": ({"file": ("t.csv", b"ticket_id,created_at\nT1,2025-01-01\n"),
                                     "mapping": ("m.toml", b"nope = 1\n")}, "nope"),
    "not Parquet": ({"file": ("t.parquet", b"not parquet at all")}, "Parquet"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_errors_name_no_server_path(sec_app: App, case: str) -> None:  # noqa: F811
    files, says = BAD_UPLOADS[case]
    r = sec_app.client.post("/api/v1/imports/tickets", files=files, headers=sec_app.bearer(sec_app.admin))
    assert r.status_code == 400, r.text
    message = r.json()["error"]["message"]
    assert says in message  # still says what is wrong
    server_folder = str(sec_app.path.resolve())
    assert server_folder not in message and str(sec_app.path) not in message, message
    assert not re.search(r"(^|[\s'\"(])/(tmp|home|root|srv|var|work)/", message), message


def test_viewers_see_import_files_by_name_only(sec_app_with_tickets: App) -> None:  # noqa: F811
    app = sec_app_with_tickets
    c = app.client
    [viewer_row] = c.get("/api/v1/imports", headers=app.bearer(app.viewer)).json()["rows"]
    assert viewer_row["file"] == "tickets.csv"
    assert not any(isinstance(v, str) and str(app.path.parent) in v for v in viewer_row.values())
    # the admin, who runs the server, still sees where the file was read from
    [admin_row] = c.get("/api/v1/imports", headers=app.bearer(app.admin)).json()["rows"]
    assert admin_row["file"] == str((app.path.parent / "tickets.csv").resolve())
    assert {k: v for k, v in viewer_row.items() if k != "file"} == {k: v for k, v in admin_row.items() if k != "file"}
    # the same for a viewer signed in on the dashboard
    app.sign_in(app.viewer)
    assert c.get("/api/v1/imports").json()["rows"][0]["file"] == "tickets.csv"
    c.cookies.clear()


_CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_the_csp_leaves_the_dashboard_working_in_chromium(tmp_path: Path) -> None:
    """Sign in through the form and draw a Plotly chart under the CSP: no violation, no
    console error, the chart's SVG is there."""
    playwright = pytest.importorskip("playwright.sync_api")
    from security._hardening import make_app  # a real server is needed for a browser
    from web._web_helpers import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, Console

    import socket
    import threading
    import time

    import uvicorn

    for app in make_app(tmp_path, with_tickets=True):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = uvicorn.Server(uvicorn.Config(app.app, host="127.0.0.1", port=port, log_level="warning",
                                            timeout_graceful_shutdown=1))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 20
            while not srv.started:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            url = f"http://127.0.0.1:{port}"
            with playwright.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.add_init_script(_CSP_PROBE)
                console = Console(page)
                page.goto(f"{url}/login")
                page.fill("#key", app.viewer)
                page.click("#sign-in")
                page.wait_for_url(f"{url}/")
                page.goto(f"{url}/trends?period=custom&from=2025-03-01&to=2025-04-01&metric=frt&grain=day")
                page.wait_for_selector("#trend-chart .main-svg", timeout=20_000)
                SCREENSHOTS.mkdir(exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "security-csp-trends.png"), full_page=True)
                violations = page.evaluate("window.__cspViolations")
                assert violations == [], violations
                assert not [e for e in console.errors if "Content Security Policy" in e], console.errors
                assert console.errors == [], console.errors
                browser.close()
        finally:
            srv.should_exit = True
            thread.join(10)


def test_a_500_answer_carries_the_headers_too(sec_app: App) -> None:  # noqa: F811
    """Starlette sends a 500 from its outermost middleware, past any `add_middleware` one."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    def boom() -> None:
        raise RuntimeError("a bug, for the test")

    sec_app.app.add_api_route("/test-only/boom", boom)
    r = TestClient(sec_app.app, raise_server_exceptions=False).get("/test-only/boom")
    assert r.status_code == 500 and r.json()["error"]["code"] == "internal"
    check_headers(r, "500 error")
