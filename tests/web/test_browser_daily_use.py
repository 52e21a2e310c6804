"""The dashboard points of issue 10 ("Daily use"), item 10, in a real browser over a copy
of the demo with a few additions: the default period includes the newest day, FRT by
channel is readable (a log axis), annotation labels do not overlap, and the survey
response-rate table is not clipped. Each saves a screenshot to tests/web/screenshots/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import cxmetrics
from web._web_helpers import SCREENSHOTS, SLA_TOML, Server, serving

# Eight annotations, six of them within three weeks: on a 12-month chart their labels
# collide unless they are laid out.
NOTES = """annotation_id,ts,label,kind
d1,2026-03-02T00:00:00Z,New refund policy for EU,policy
d2,2026-03-05T00:00:00Z,Chat Assistant launched again,ai
d3,2026-03-09T00:00:00Z,Hired 4 agents in Tier 1,hire
d4,2026-03-12T00:00:00Z,Outage: login service down,outage
d5,2026-03-16T00:00:00Z,Macro library rewritten,other
d6,2026-03-19T00:00:00Z,Billing team merged,other
d7,2026-10-20T00:00:00Z,Holiday staffing plan in force,other
d8,2026-10-28T00:00:00Z,Late-October release,launch
"""


def _open(path: Path) -> cxmetrics.Workspace:
    return cxmetrics.open(path, create=True)


@pytest.fixture(scope="module")
def daily(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, date]]:
    """A server over a copy of the demo plus NOTES and one ticket solved on the day after
    the last day with data (a day with a solve and no new ticket); and that day."""

    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    folder = tmp_path_factory.mktemp("daily-use")
    path = folder / "ws"
    shutil.copytree(demo_path, path)
    (path / "sla.toml").write_text(SLA_TOML, encoding="utf-8")
    with _open(path) as ws:
        (folder / "notes.csv").write_text(NOTES, encoding="utf-8")
        ws.import_file("annotations", folder / "notes.csv")
        last = ws.sql("SELECT CAST(max(last_event_at) AS DATE) AS d, any_value(ticket_id) "
                      "FILTER (WHERE NOT solved AND NOT excluded) AS t, any_value(source) AS s "
                      "FROM ticket_facts").to_pylist()[0]
        newest = last["d"] + timedelta(days=1)
        (folder / "solve.csv").write_text(
            "event_id,ticket_id,ts,kind,actor_type,actor_id,status_to\n"
            f"daily-solve,{last['t']},{newest.isoformat()}T10:00:00Z,status,agent,A0001,solved\n", encoding="utf-8")
        assert ws.import_file("events", folder / "solve.csv", source=last["s"]).inserted == 1
        ws.refresh()
    app = create_app(path, watch_alerts=False)
    _, admin = create_key(app.state.workspace, "daily admin", "admin")
    with serving(app, "cxmetrics-daily-use") as url:
        yield Server(url, admin, admin, app, path), newest


@pytest.fixture
def dpage(browser: Any, daily: tuple[Server, date]) -> Iterator[Any]:
    server, _ = daily
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    r = context.request.post(server.url + "/login", form={"key": server.admin, "next": "/favicon.ico"})
    assert r.ok, r.status
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _boxes(page: Any, selector: str) -> list[dict[str, float]]:
    return page.eval_on_selector_all(selector, "els => els.map(e => { const b = e.getBoundingClientRect(); "
                                               "return {x: b.x, y: b.y, w: b.width, h: b.height, t: e.textContent}; })")


def test_default_period_includes_the_newest_day(dpage: Any, daily: tuple[Server, date]) -> None:
    server, newest = daily
    dpage.goto(server.url + "/")
    dpage.wait_for_selector("#tiles .tile-value")
    dpage.screenshot(path=str(SCREENSHOTS / "daily-default-period.png"))
    # the newest day holds a solve but no new ticket; it is still the period's last day
    # (today at the latest)
    expected = min(newest, date.today()) + timedelta(days=1)
    assert dpage.input_value("#f-to") == expected.isoformat()
    assert dpage.input_value("#f-from") == (expected - timedelta(days=28)).isoformat()


def test_frt_by_channel_is_readable_on_a_log_axis(dpage: Any, daily: tuple[Server, date]) -> None:
    server, _ = daily
    dpage.goto(server.url + "/trends?period=365d&metric=frt&by=channel")
    dpage.wait_for_selector("#trend-chart .main-svg")
    dpage.screenshot(path=str(SCREENSHOTS / "daily-frt-by-channel.png"), full_page=True)
    assert dpage.evaluate("document.querySelector('#trend-chart .plot')._fullLayout.yaxis.type") == "log"
    ticks = [t.strip() for t in dpage.locator("#trend-chart .ytick text").all_text_contents()]
    assert "1m" in ticks and "1h" in ticks, ticks
    # chat (answers in about a minute) and phone (in about five) are told apart: on a
    # linear axis up to a day they lie within a pixel of each other on the floor
    ys = dpage.evaluate("""() => { const g = document.querySelector('#trend-chart .plot'), ax = g._fullLayout.yaxis;
        const mean = name => { const t = g._fullData.find(d => d.name === name && d.mode === 'lines+markers');
            const px = t.y.filter(v => v != null).map(v => ax.l2p(ax.type === 'log' ? Math.log10(v) : v));
            return px.reduce((a, b) => a + b, 0) / px.length; };
        return {chat: mean('chat'), phone: mean('phone'), email: mean('email')}; }""")
    assert ys["chat"] - ys["phone"] >= 20 and ys["phone"] - ys["email"] >= 20, ys


def test_annotation_labels_do_not_overlap(dpage: Any, daily: tuple[Server, date]) -> None:
    server, _ = daily
    dpage.goto(server.url + "/trends?period=365d&metric=csat")
    dpage.wait_for_selector("#trend-chart .main-svg")
    dpage.screenshot(path=str(SCREENSHOTS / "daily-annotations.png"), full_page=True)
    boxes = [b for b in _boxes(dpage, "#trend-chart .infolayer g.annotation") if b["w"] > 0]
    assert len(boxes) >= 3, boxes
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or a["y"] + a["h"] <= b["y"] \
                or b["y"] + b["h"] <= a["y"]
            assert apart, (a, b)


@pytest.mark.parametrize("width", [1280, 1000])
def test_response_rate_table_is_not_clipped(browser: Any, daily: tuple[Server, date], width: int) -> None:
    server, _ = daily
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.request.post(server.url + "/login", form={"key": server.admin, "next": "/favicon.ico"})
    page = context.new_page()
    try:
        page.goto(server.url + "/surveys?period=90d")
        page.wait_for_selector("#rates tbody tr")
        page.screenshot(path=str(SCREENSHOTS / f"daily-surveys-{width}.png"), full_page=True)
        table = page.locator("#rates").bounding_box()
        card = page.locator(".card:has(#rates)").bounding_box()
        assert table["x"] + table["width"] <= card["x"] + card["width"] + 0.5, (table, card)
        # the rate column is on screen and not under the comments card
        rate = page.locator("#rates tbody tr").first.locator("td").nth(3).bounding_box()
        comments = page.locator(".card:has(#comments)").bounding_box()
        beside = comments["y"] >= card["y"] + card["height"] or rate["x"] + rate["width"] <= comments["x"]
        assert beside, (rate, comments)
    finally:
        context.close()
