"""The Surveys page's Collection section (issue 16, item 6): response rate by kind, channel,
delay band and fatigue band with their intervals, time to answer, answers per day and the
latest sends with their state, all from the registry; a customer's comment shown escaped;
the page updating without a reload when an answer arrives (a real browser)."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from web._web_helpers import SCREENSHOTS, Console, Server, serving

import cxmetrics
from cxmetrics.web._filters import Filters
from cxmetrics.web._surveys import surveys
from surveys.conftest import make_workspace, write_surveys
from surveys.test_metrics import ANSWERS, SENDS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

MARCH_2025 = {"from": ["2025-03-01"], "to": ["2025-04-01"]}
EVIL = "<script>alert('x')</script><b>bold</b> & more"


def _workspace(tmp_path: Path) -> Path:
    """The survey workspace (tickets S1-S7, 2026) plus the hand-worked sends and answers of
    tests/surveys/test_metrics.py (March 2025)."""
    path = make_workspace(tmp_path / "ws")
    (tmp_path / "sends.csv").write_text(SENDS, encoding="utf-8")
    (tmp_path / "answers.csv").write_text(ANSWERS, encoding="utf-8")
    with cxmetrics.open(path) as ws:
        ws.import_file("survey_sends", tmp_path / "sends.csv")
        ws.import_file("surveys", tmp_path / "answers.csv")
        ws.refresh()
    write_surveys(path, {"base_url": "http://127.0.0.1:1", "surveys": [{"name": "csat", "kind": "csat"}]})
    return path


def _figure(html: str, chart_id: str) -> dict[str, Any]:
    m = re.search(rf'id="{chart_id}"><div class="plot"[^>]*></div><script type="application/json">(.*?)</script>',
                  html, flags=re.S)
    assert m, f"no chart {chart_id}"
    return json.loads(m.group(1))


def test_collection_numbers_are_the_hand_worked_ones(tmp_path: Path) -> None:
    with cxmetrics.open(_workspace(tmp_path)) as ws:
        d = surveys(ws, Filters.parse(MARCH_2025, anchor=date(2025, 4, 1)))["collection"]
    cuts = {c["dim"]: c["figure"]["data"][0] for c in d["cuts"]}
    # tests/surveys/test_metrics.py works these out: bands in their own order, not by size
    delay = cuts["survey_delay"]
    assert delay["y"] == ["< 1h", "1-4h", "4-24h", "1-3d", "> 3d", "none"]
    assert delay["x"] == pytest.approx([75.0, 200 / 3, 0.0, 100.0, 100.0, 0.0])
    fatigue = cuts["surveys_received"]
    assert fatigue["y"] == ["1", "2", "3", "4-5", "6+", "unknown"]
    assert fatigue["x"] == pytest.approx([100.0, 50.0, 0.0, 50.0, 100.0, 0.0])
    # each bar carries its Wilson interval: 3 of 4 -> [30.06%, 95.44%] around 75%
    assert 75 - delay["error_x"]["arrayminus"][0] == pytest.approx(30.06, abs=0.01)
    assert 75 + delay["error_x"]["array"][0] == pytest.approx(95.44, abs=0.01)
    assert cuts["survey_kind"]["y"] == ["csat", "esat", "nps"]  # most sends first (11, 1, 1), then by name
    # median time to answer 9000 s = 2 h 30 m; 13 sends, 9 answers, 3 reminded
    assert d["time_to_answer"]["n"] == "8" and d["time_to_answer"]["text"] == "2h 30m"
    assert (d["sends"]["text"], d["answers"]["text"], d["reminded"]["text"]) == ("13", "9", "23.1%")
    per_day = d["per_day"]["data"][0]
    got = dict(zip(per_day["x"], per_day["y"], strict=True))
    assert (got["06 Mar"], got["07 Mar"], len(got)) == (2, 0, 16)  # 1 to 16 March, days without answers 0


def test_the_latest_sends_show_their_state_and_the_comment_escaped(tmp_path: Path) -> None:
    from cxmetrics.surveys._collect import record
    from cxmetrics.surveys._sends import link

    path = _workspace(tmp_path)
    with cxmetrics.open(path) as ws:
        answered = link(ws, "S1")
        link(ws, "S2")
        record(ws, answered.token, score=2, comment=EVIL, version=0)
    app = _app(path)
    with TestClient(app) as client:
        _sign_in(client, app)
        html = client.get("/surveys?period=365d").text
    assert 'id="collection"' in html and 'id="sends"' in html
    rows = re.findall(r"<tr><td><span class=\"badge (\w+)\">(\w+)</span>", html)
    assert sorted(rows) == [("good", "answered"), ("grey", "delivered")]
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; more" in html


def test_no_section_without_sends(tmp_path: Path) -> None:
    with cxmetrics.open(make_workspace(tmp_path / "ws")) as ws:
        assert surveys(ws, Filters.parse({}, anchor=date(2026, 3, 6)))["collection"] is None


def _app(path: Path) -> Any:
    from cxmetrics.api import create_app

    return create_app(path, watch_alerts=False, sync_connectors=False, send_surveys=False)


def _sign_in(client: TestClient, app: Any) -> None:
    from cxmetrics.api.auth import create_key

    _, admin = create_key(app.state.workspace, "admin", "admin")
    assert client.post("/login", data={"key": admin, "next": "/"}, follow_redirects=False).status_code in (302, 303)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Server]:
    from cxmetrics.api.auth import create_key

    path = _workspace(tmp_path)
    app = _app(path)
    _, admin = create_key(app.state.workspace, "admin", "admin")
    _, viewer = create_key(app.state.workspace, "viewer", "viewer")
    with serving(app, "cxmetrics-surveys-collection") as url:
        yield Server(url, admin, viewer, app, path)


def test_an_answer_updates_the_page_without_a_reload(browser: Any, live_server: Server) -> None:
    server = live_server
    write_surveys(server.path, {"base_url": server.url, "surveys": [{"name": "csat", "kind": "csat"}]})
    auth = {"Authorization": f"Bearer {server.admin}"}
    links = [httpx.post(server.url + "/api/v1/surveys/link", json={"ticket_id": t}, headers=auth).json()
             for t in ("S1", "S2")]
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    assert context.request.post(server.url + "/login", form={"key": server.admin, "next": "/favicon.ico"}).ok
    page = context.new_page()
    console = Console(page)
    try:
        page.goto(f"{server.url}/surveys?from=2026-01-01&to=2027-01-01")
        page.wait_for_selector("#live.on")
        page.wait_for_selector("#rate-chart-survey_delay .main-svg")
        assert page.inner_text("#sends").count("delivered") == 2
        page.evaluate("window.__not_reloaded = true")
        # the customer answers on the survey page (a form post, as the browser sends it)
        token = links[0]["url"].split("/s/")[1]
        r = httpx.post(f"{server.url}/s/{token}", data={"score": "5", "comment": EVIL, "version": "0"})
        assert r.status_code in (200, 303), r.text[:500]  # the thanks page, or a redirect to it
        page.wait_for_function("() => document.querySelector('#sends').textContent.includes('answered')",
                               timeout=10_000)
        assert page.evaluate("window.__not_reloaded") is True
        # 1 of the 2 link sends answered (the 2026 view holds only these two sends)
        assert page.inner_text("#rates").count("50.0%") >= 1
        assert "<script>alert('x')</script><b>bold</b> & more" in page.inner_text("#sends")  # shown as text
        page.screenshot(path=str(SCREENSHOTS / "surveys-collection.png"), full_page=True)
        assert console.errors == []
    finally:
        context.close()
