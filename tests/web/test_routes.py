"""The dashboard's routes over HTTP (no browser): sign-in, every page, fragments for live
updates, errors as pages that say what to fix, and the static files (Plotly offline)."""

from __future__ import annotations

import html
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from cxmetrics.api import create_app
from cxmetrics.api.auth import create_key


def _plotly_bytes() -> bytes:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()


PAGES = ["/", "/trends", "/channels", "/agents", "/sla", "/surveys", "/tickets"]


@pytest.fixture(scope="module")
def app(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str, str]]:
    path = tmp_path_factory.mktemp("web-routes") / "ws"
    shutil.copytree(demo_path, path)
    application = create_app(path, watch_alerts=False)
    _, admin = create_key(application.state.workspace, "routes admin", "admin")
    _, viewer = create_key(application.state.workspace, "routes viewer", "viewer")
    with TestClient(application) as client:
        yield client, admin, viewer


@pytest.fixture
def client(app: tuple[TestClient, str, str]) -> Iterator[TestClient]:
    c, _, viewer = app
    c.cookies.clear()
    r = c.post("/login", data={"key": viewer, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    yield c
    c.cookies.clear()


def test_signed_out_pages_redirect_to_sign_in(app: Any) -> None:
    c, _, _ = app
    c.cookies.clear()
    for path in PAGES:
        r = c.get(path + "?channel=email", follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"] == "/login?next=" + path.replace("/", "%2F") + "%3Fchannel%3Demail"
    # a live update without a session is told so (the script then goes to the sign-in page)
    assert c.get("/", headers={"X-CXM-Fragment": "1"}, follow_redirects=False).status_code == 401


def test_sign_in_with_a_key(app: Any) -> None:
    c, admin, _ = app
    c.cookies.clear()
    page = c.get("/login?next=/trends")
    assert page.status_code == 200 and 'name="key"' in page.text and 'value="/trends"' in page.text
    bad = c.post("/login", data={"key": "cxm_nope", "next": "/"}, follow_redirects=False)
    assert bad.status_code == 401 and "not valid" in bad.text and "cxm_session" not in bad.headers.get("set-cookie", "")
    empty = c.post("/login", data={"key": " ", "next": "/"}, follow_redirects=False)
    assert empty.status_code == 400 and "Paste an API key" in empty.text
    good = c.post("/login", data={"key": admin, "next": "/trends?metric=nps"}, follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"] == "/trends?metric=nps"
    assert "cxm_session=" in good.headers["set-cookie"] and "httponly" in good.headers["set-cookie"].lower()
    # signed in, the sign-in page sends you on
    assert c.get("/login?next=/agents", follow_redirects=False).headers["location"] == "/agents"
    out = c.post("/logout", follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    c.cookies.clear()
    assert c.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", ""])
def test_sign_in_never_redirects_off_site(app: Any, target: str) -> None:
    c, admin, _ = app
    c.cookies.clear()
    r = c.post("/login", data={"key": admin, "next": target}, follow_redirects=False)
    assert r.headers["location"] == "/"


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text[:500]
    text = r.text
    assert text.startswith("<!doctype html>") and 'id="content"' in text and 'src="/static/plotly.min.js"' in text
    assert "cdn" not in text.lower()  # offline: nothing from a CDN
    assert "Cannot show this view" not in text


def test_filters_live_in_the_url_and_in_every_nav_link(client: TestClient) -> None:
    text = client.get("/?channel=email&period=90d").text
    for path in ("/trends", "/channels", "/agents", "/sla", "/surveys", "/tickets"):
        assert f'href="{path}?period=90d&amp;channel=email"' in text
    assert '<option value="email" selected>' in text and '<option value="90d" selected>' in text


def test_fragment_is_only_the_content(client: TestClient) -> None:
    r = client.get("/", headers={"X-CXM-Fragment": "1"})
    assert r.status_code == 200 and "<html" not in r.text and 'id="tiles"' in r.text
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("url", "words"), [
    ("/?period=fortnight", "period 'fortnight' is not one of"),
    ("/?from=2026-10-01", "give both 'from' and 'to'"),
    ("/?from=2026-10-09&to=2026-10-01", "must be after"),
    ("/?from=yesterday&to=2026-10-01", "is not a date"),
    ("/trends?metric=csta", "Did you mean 'csat'"),
    ("/agents?min_n=0", "min_n must be between"),
    ("/tickets?metric=tickets&page=zero", "is not a page number"),
    ("/tickets?metric=crr", "no tickets behind it"),
    ("/sla?within=forever", "within 'forever' is not one of"),
    ("/?benchmark=mars", "benchmark 'mars'"),
])
def test_bad_parameters_get_a_page_that_says_what_to_fix(client: TestClient, url: str, words: str) -> None:
    r = client.get(url)
    assert r.status_code == 400, (url, r.status_code)
    text = html.unescape(r.text)
    assert "Cannot show this view" in text and words in text, text[-3000:]
    assert 'id="filters"' in r.text  # the filter bar is there to fix it


def test_static_files_and_plotly_offline(client: TestClient) -> None:
    css = client.get("/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/static/dashboard.js")
    assert js.status_code == 200 and "EventSource" in js.text
    plotly = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert plotly.status_code == 200 and plotly.headers["content-encoding"] == "gzip"
    assert len(plotly.content) > 1_000_000 and "plotly" in plotly.text[:2000].lower()
    raw = client.get("/static/plotly.min.js", headers={"Accept-Encoding": "identity"})
    # the client decodes gzip: both are the installed package's file, byte for byte
    assert "content-encoding" not in raw.headers and raw.content == plotly.content == _plotly_bytes()
    assert client.get("/favicon.ico").headers["content-type"] == "image/svg+xml"
    for bad in ("/static/nope.css", "/static/..%2Fpyproject.toml", "/static/.hidden.js", "/static/x.py"):
        assert client.get(bad).status_code == 404, bad


def test_pages_are_not_in_the_api_spec(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert not any(p in spec["paths"] for p in ["/", "/login", "/trends", "/static/{name}"])
