"""The dashboard in a real browser (Playwright driving Debian's Chromium) over a running
server: sign in, read the overview, change a filter, click through to the tickets, see
events posted through the API update a tile without a reload, and load every page
without console errors, saving a screenshot of each to tests/web/screenshots/."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from web._web_helpers import SCREENSHOTS, Console, Server

from cxmetrics.web import _format as fmt

# Every page, and what proves it rendered its data (a chart drawn, a table filled).
PAGES = {
    "overview": ("/", "#tiles .tile-value"),
    "trends": ("/trends?period=365d&metric=frt&by=channel", "#trend-chart .main-svg"),
    "channels": ("/channels?period=90d", "#heatmap-chart .main-svg"),
    "agents": ("/agents?period=365d&rank_by=solved_tickets", "#scorecard tbody tr"),
    "sla": ("/sla?within=1d", "#sla-chart .main-svg"),
    "surveys": ("/surveys?period=90d", "#dist-csat .main-svg"),
    "tickets": ("/tickets?metric=frt&period=90d&channel=email", "#tickets-table tbody tr"),
}


def tile_text(page: Any, key: str) -> str:
    return page.inner_text(f"#tile-{key} .tile-value").strip()


def library_value(server: Server, metric: str, start: Any, end: Any, **where: str) -> dict[str, Any]:
    with server.cursor() as ws:
        return ws.metrics([metric], where=where or None, start=start, end=end).to_pylist()[0]


def shown_period(page: Any) -> tuple[str, str]:
    """The period the filter bar shows (from, to-exclusive)."""
    return page.input_value("#f-from"), page.input_value("#f-to")


def test_sign_in_and_out(browser: Any, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    console = Console(page)
    page.goto(server.url + "/channels?channel=email")
    assert page.url.startswith(server.url + "/login?next=")
    page.fill("#key", "cxm_0000000000_not-a-key")
    page.click("#sign-in")
    assert "not valid" in page.inner_text("#login-error")
    page.screenshot(path=str(SCREENSHOTS / "login.png"))
    page.fill("#key", server.viewer)
    page.click("#sign-in")
    page.wait_for_url(re.compile(r".*/channels\?channel=email$"))  # back where we were going
    assert "browser viewer" in page.inner_text(".nav-foot")
    page.click("#sign-out")
    page.wait_for_url(server.url + "/login")
    page.goto(server.url + "/")
    assert "/login" in page.url
    # a 401 for the wrong key is the only error the sign-in page may log
    assert all("401" in e for e in console.errors), console.errors
    context.close()


def test_overview_tiles_show_the_librarys_numbers(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#live.on")
    start, end = shown_period(page)
    for key, metric in (("volume", "tickets"), ("csat", "csat"), ("frt", "frt"), ("fcr", "fcr")):
        ref = library_value(server, metric, start, end)
        assert tile_text(page, key).startswith(fmt.value(ref["value"], ref["unit"])), key
    assert "n = " in page.inner_text("#tile-csat")
    assert re.search(r"95% CI \d", page.inner_text("#tile-csat"))
    # sparklines drawn; SLA compliance from the SLA policies of the workspace
    assert page.locator("#tiles svg.spark path").count() >= 8
    assert re.fullmatch(r"\d+\.\d%", tile_text(page, "sla"))


def test_a_filter_changes_the_numbers_and_the_url(page: Any, server: Server) -> None:
    page.goto(server.url + "/?period=90d")
    before = tile_text(page, "volume")
    page.click("#f-channel > summary")  # a multi-select: tick, then Apply
    page.check("#f-channel input[value=email]")
    page.click("#f-channel .ms-apply")
    page.wait_for_url(re.compile(r".*channel=email"))
    assert "period=90d" in page.url  # the other filters stay
    after = tile_text(page, "volume")
    start, end = shown_period(page)
    ref = library_value(server, "tickets", start, end, channel="email")
    assert after == fmt.value(ref["value"], "count") != before
    # the nav carries the view to the other pages
    page.click("a.nav-link[href^='/trends']")
    page.wait_for_url(re.compile(r".*/trends\?period=90d&channel=email"))
    assert page.is_checked("#f-channel input[value=email]")
    assert page.inner_text("#f-channel > summary").strip() == "email"


def test_a_tile_clicks_through_to_its_tickets(page: Any, server: Server) -> None:
    page.goto(server.url + "/?period=90d&team=Billing")
    volume = tile_text(page, "volume")
    page.click("#tile-volume")
    page.wait_for_url(re.compile(r".*/tickets\?metric=tickets&from=.*&team=Billing"))
    assert page.inner_text("#tickets-title") == f"{volume} tickets created"
    assert page.locator("#tickets-table tbody tr").count() == min(50, int(volume.replace(",", "")))
    assert all(c == "Billing" for c in page.locator("#tickets-table tbody tr td:nth-child(5)").all_inner_texts())
    assert "/api/v1/tickets.csv?metric=tickets" in page.get_attribute("#csv-link", "href")
    # the CSV export with the same session: one row per ticket
    page.goto(server.url + "/?period=90d&team=Billing")
    page.click("#tile-csat")
    page.wait_for_url(re.compile(r".*/tickets\?metric=csat"))
    assert "answers behind CSAT" in page.inner_text("#tickets-title")


def test_events_posted_through_the_api_update_a_tile_live(page: Any, server: Server) -> None:
    # a fixed period that holds the demo's last day, where the new tickets land
    with server.cursor() as ws:
        last = ws.sql("SELECT strftime(max(created_at), '%Y-%m-%d') AS d FROM ticket_facts").to_pylist()[0]["d"]
    end = datetime.fromisoformat(last).date() + timedelta(days=1)
    start = end - timedelta(days=28)
    page.goto(f"{server.url}/?from={start}&to={end}")
    page.wait_for_selector("#live.on")
    before = int(tile_text(page, "volume").replace(",", ""))
    page.evaluate("window.__not_reloaded = true")
    at = datetime(end.year, end.month, end.day, tzinfo=UTC) - timedelta(hours=6)
    events = []
    for i in range(3):
        created = at + timedelta(minutes=i)
        events += [
            {"event_id": f"live-{i}-c", "ticket_id": f"LIVE-{i}", "ts": created.isoformat(), "kind": "created",
             "actor_type": "customer", "actor_id": f"C-live-{i}", "channel": "chat", "priority": "normal",
             "team": "Tier 1", "requester_id": f"C-live-{i}"},
            {"event_id": f"live-{i}-r", "ticket_id": f"LIVE-{i}", "ts": (created + timedelta(minutes=4)).isoformat(),
             "kind": "message", "actor_type": "agent", "actor_id": "A-live", "public": True},
        ]
    r = httpx.post(server.url + "/api/v1/events", json=events, headers={"Authorization": f"Bearer {server.admin}"})
    assert r.status_code == 200, r.text
    posted = datetime.now()
    # the volume tile shows the three new tickets within a few seconds, without a reload
    page.wait_for_function(
        "n => document.querySelector('#tile-volume .tile-value').textContent.replace(/,/g, '').trim() === String(n)",
        arg=before + 3, timeout=5000)
    took = (datetime.now() - posted).total_seconds()
    assert page.evaluate("window.__not_reloaded") is True
    assert int(page.get_attribute("body", "data-refreshes")) >= 1
    assert took < 5, took
    assert page.console.errors == []


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_without_console_errors(page: Any, server: Server, name: str) -> None:
    path, ready = PAGES[name]
    page.goto(server.url + path)
    page.wait_for_selector(ready)
    page.wait_for_selector("#live.on")
    page.wait_for_timeout(300)  # let charts finish their first layout
    assert page.locator(".error-box").count() == 0, page.inner_text(".error-box")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert page.console.errors == [], page.console.errors


def test_a_chart_point_clicks_through_to_its_tickets(page: Any, server: Server) -> None:
    page.goto(server.url + "/channels?period=90d")
    page.wait_for_selector("#heatmap-chart .main-svg")
    box = page.locator("#heatmap-chart .nsewdrag").first.bounding_box()
    # a cell in the middle of the heatmap: Thursday around midday
    page.mouse.click(box["x"] + box["width"] * 0.52, box["y"] + box["height"] * 0.5)
    page.wait_for_url(re.compile(r".*/tickets\?metric=tickets&.*weekday=4&hour_of_day=12"))
    assert "weekday: Thursday" in page.inner_text("#content")


def test_the_sla_at_risk_list_is_live(page: Any, server: Server) -> None:
    """Last: it adds a ticket created now, which moves preset periods to today."""
    page.goto(server.url + "/sla?within=1h")
    page.wait_for_selector("#live.on")
    assert page.locator("#at-risk").count() == 0  # the demo ended weeks ago: nothing open is due soon
    now = datetime.now(UTC) - timedelta(minutes=5)
    event = {"event_id": "urgent-now-c", "ticket_id": "URGENT-NOW", "ts": now.isoformat(), "kind": "created",
             "actor_type": "customer", "actor_id": "C-now", "requester_id": "C-now", "channel": "email",
             "priority": "urgent", "team": "Tier 1", "customer_tier": "pro"}
    r = httpx.post(server.url + "/api/v1/events", json=[event], headers={"Authorization": f"Bearer {server.admin}"})
    assert r.status_code == 200, r.text
    # Standard policy: an urgent first reply is due in 1 hour, so about 55 minutes are left
    page.wait_for_selector("#at-risk tbody tr", timeout=5000)
    row = page.inner_text("#at-risk tbody tr")
    assert "URGENT-NOW" in row and "First reply" in row and "Standard" in row
    assert re.search(r"\b5\dm \d\ds\b", row), row
    # the preset period now ends on the new ticket's day (today, but for a run just after
    # midnight: the ticket is 5 minutes old): the header follows the content
    today = now.astimezone(ZoneInfo(server.app.state.workspace.settings.timezone)).strftime("%-d %b %Y")
    assert today in page.inner_text("#period-label") and page.inner_text("#period-label") == page.get_attribute(
        "#view-meta", "data-period")
    page.screenshot(path=str(SCREENSHOTS / "sla-at-risk.png"), full_page=True)
    assert page.console.errors == []
