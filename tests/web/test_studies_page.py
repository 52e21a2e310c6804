"""Issue 15 item 4: the dashboard's Studies page (the report's content, live), the studies API
(/api/v1/studies, /studies/{study}/spi, /studies/{study}/findings, /reviews/summary), and the
HTML report opened in a browser.

The study is tests/studies/_study_data.py (made by hand; its numbers are worked out there and
in tests/studies/test_report.py).
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

import cxmetrics
from cxmetrics.studies._findings import findings
from cxmetrics.studies._report import report
from studies._study_data import STUDY, build
from web._web_helpers import SCREENSHOTS, Console, Server, serving

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("studies-page"))


def _client(path: Path) -> Iterator[TestClient]:
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    app = create_app(path, watch_alerts=False)
    _, viewer = create_key(app.state.workspace, "studies viewer", "viewer")
    with TestClient(app) as c:
        assert c.post("/login", data={"key": viewer, "next": "/"}, follow_redirects=False).status_code == 303
        c.headers["Authorization"] = f"Bearer {viewer}"
        yield c


@pytest.fixture(scope="module")
def client(ws_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    copy = tmp_path_factory.mktemp("studies-served") / "ws"
    shutil.copytree(ws_path, copy)
    yield from _client(copy)


def test_the_page_shows_the_study(client: TestClient, ws_path: Path) -> None:
    r = client.get("/studies")
    assert r.status_code == 200, r.text
    page = r.text
    assert '<a class="nav-link active" href="/studies' in page
    assert f'<option value="{STUDY}" selected>' in page
    with cxmetrics.open(ws_path, read_only=True) as ws:
        sentences = [f.text for f in findings(ws, STUDY)]
    assert all(str(escape(s)) in page for s in sentences)
    for part in ('id="leaderboard-table"', 'id="best-table"', 'id="reviews-table"', 'id="fig-leaderboard"',
                 'id="fig-time-channel"', 'id="fig-time-region"', 'id="fig-time-size"', "<td>us (you)</td>",
                 "3 companies · chat, email, phone · 15 probes"):
        assert part in page, part
    assert "<script>" not in page  # the dashboard's CSP: no inline script (the figures are JSON data)


def test_a_study_that_is_not_there(client: TestClient) -> None:
    r = client.get("/studies?study=telco-2025")
    assert r.status_code == 400
    assert "study &#39;telco-2025&#39; has no probes. Did you mean &#39;telco-2026&#39;?" in r.text


def test_an_empty_workspace_says_what_to_import(tmp_path: Path) -> None:
    with cxmetrics.open(tmp_path / "ws", create=True):
        pass
    for c in _client(tmp_path / "ws"):
        r = c.get("/studies")
        assert r.status_code == 200 and "No benchmark study yet" in r.text
        assert "cxmetrics import companies companies.csv" in r.text and "cxmetrics import probes probes.csv" in r.text
        assert "cxmetrics import reviews reviews.csv" in r.text


def test_the_api(client: TestClient, ws_path: Path) -> None:
    listed = client.get("/api/v1/studies")
    assert listed.status_code == 200, listed.text
    assert [s["study"] for s in listed.json()["studies"]] == [STUDY]
    spi = client.get(f"/api/v1/studies/{STUDY}/spi", params={"by": "company", "own": "true"})
    assert spi.status_code == 200, spi.text
    body = spi.json()
    assert {r["company"] for r in body["rows"]} == {"Acme", "Bolt", "Crane", "us"}
    assert body["declaration"]["weights"]["availability"] == 15 and body["declaration"]["weights"]["speed"] == 20
    # Crane offers email only: its chat probe is unavailable, its three emails 1 ignored
    crane = next(r for r in body["rows"] if r["company"] == "Crane")
    assert crane["n"] >= 4 and crane["spi_lo"] <= crane["spi"] <= crane["spi_hi"]
    with cxmetrics.open(ws_path, read_only=True) as ws:
        texts = [f.text for f in findings(ws, STUDY)]
    found = client.get(f"/api/v1/studies/{STUDY}/findings").json()["findings"]
    assert [f["text"] for f in found] == texts and all(f["n"] > 0 for f in found)
    # reviews by hand (tests/studies/test_report.py): 4 of 12 answered, all 5 negative but one
    s = client.get("/api/v1/reviews/summary", params={"company": "Our app"}).json()["summary"]
    assert (s["reviews"], s["replied"]) == (12, 4)
    assert s["by_band"]["negative"] == {"replied": 4, "n": 5, "rate": 0.8}
    assert s["by_band"]["positive"]["replied"] == 0 and s["by_band"]["positive"]["n"] == 6


def test_api_errors_are_4xx_in_the_one_shape(client: TestClient) -> None:
    bad = client.get(f"/api/v1/studies/{STUDY}/spi", params={"by": "company,regoin"})
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "unknown_name" and error["status"] == 400
    assert error["message"] == ("Unknown SPI dimension (by) 'regoin'. Did you mean 'region'? Valid: channel, company, "
                                "company_size, industry, region.")
    missing = client.get("/api/v1/studies/telco-2025/findings")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "bad_request"
    assert "Did you mean 'telco-2026'?" in missing.json()["error"]["message"]


# -- in a real browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def studies_server(ws_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    path = tmp_path_factory.mktemp("studies-browser") / "ws"
    shutil.copytree(ws_path, path)
    app = create_app(path, watch_alerts=False)
    _, admin = create_key(app.state.workspace, "studies admin", "admin")
    with serving(app, "cxmetrics-studies-server") as url:
        yield Server(url, admin, admin, app, path)


def test_studies_page_in_a_browser(browser: Any, studies_server: Server) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    assert context.request.post(studies_server.url + "/login", form={"key": studies_server.admin, "next": "/"}).ok
    page = context.new_page()
    console = Console(page)
    try:
        page.goto(studies_server.url + "/studies")
        for chart in ("fig-leaderboard", "fig-heatmap", "fig-time-channel", "fig-reviews"):
            page.wait_for_selector(f"#{chart} .main-svg")
        page.wait_for_selector("#live.on")
        rows = page.locator("#leaderboard-table tbody tr")
        assert rows.count() == 4 and "us (you)" in page.inner_text("#leaderboard-table")
        assert page.locator("#study-findings li").count() >= 10
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "studies.png"), full_page=True)
        assert page.locator(".error-box").count() == 0
        assert console.errors == [], console.errors
    finally:
        context.close()


def test_the_html_report_in_a_browser(browser: Any, ws_path: Path, tmp_path: Path) -> None:
    with cxmetrics.open(ws_path, read_only=True) as ws:
        (tmp_path / "report.html").write_bytes(report(ws, STUDY, "html"))
    context = browser.new_context(viewport={"width": 1100, "height": 900}, offline=True)  # self-contained
    page = context.new_page()
    console = Console(page)
    try:
        page.goto((tmp_path / "report.html").as_uri())
        for chart in ("fig-leaderboard", "fig-heatmap", "fig-time-channel", "fig-time-region", "fig-time-size",
                      "fig-reviews"):
            page.wait_for_selector(f"#{chart} .main-svg")
        bars = page.locator("#fig-leaderboard .bars .point")
        assert bars.count() == 4  # Acme, Bolt, Crane and us
        assert re.search(r"Acme leads the telco-2026 study", page.inner_text("#study-findings"))
        page.screenshot(path=str(SCREENSHOTS / "study_report.png"), full_page=True)
        assert console.errors == [], console.errors
    finally:
        context.close()


def test_a_probe_imported_while_the_page_is_open_shows_live(browser: Any, studies_server: Server) -> None:
    """Live like the other pages: probes uploaded through the API reach an open Studies page
    without a reload (a fifth leaderboard row, a new company)."""
    import httpx

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    assert context.request.post(studies_server.url + "/login", form={"key": studies_server.admin, "next": "/"}).ok
    page = context.new_page()
    console = Console(page)
    try:
        page.goto(studies_server.url + "/studies")
        page.wait_for_selector("#live.on")
        before = page.locator("#leaderboard-table tbody tr").count()
        page.evaluate("window.__not_reloaded = true")
        csv = (f"study,probe_id,company,channel,sent_at,first_response_at,response_text\n"
               f"{STUDY},LIVE-1,Dyna,email,2026-03-02T12:00:00Z,2026-03-02T12:30:00Z,\"Hi, yes: done.\"\n")
        r = httpx.post(studies_server.url + "/api/v1/imports/probes", files={"file": ("live.csv", csv, "text/csv")},
                       headers={"Authorization": f"Bearer {studies_server.admin}"}, timeout=30)
        assert r.status_code == 200 and r.json()["inserted"] == 1, r.text
        page.wait_for_function("n => document.querySelectorAll('#leaderboard-table tbody tr').length === n",
                               arg=before + 1, timeout=10_000)
        assert "Dyna" in page.inner_text("#leaderboard-table")
        assert page.evaluate("window.__not_reloaded") is True
        assert console.errors == [], console.errors
    finally:
        context.close()
