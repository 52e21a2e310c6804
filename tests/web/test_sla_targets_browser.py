"""Issue 10 in a real browser: SLA numbers click through to the targets behind them, the
SLA page shows compliance over time and by team and agent (item 8), and the user's
targets show on the SLA page, the tiles and the trends (item 9). Screenshots go to
tests/web/screenshots/ (sla-drill, sla-targets-list, overview-targets, trends-targets,
channels-targets)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from web._web_helpers import SCREENSHOTS, Server

TARGETS = """[sla_compliance]
target = 90

[csat]
target = 85

[frt]
target = "4h"

[frt.by.channel]
chat = "2m"
"""


@pytest.fixture
def period(server: Server) -> Iterator[str]:
    """The demo's last 8 full weeks, with targets.toml written for the test (and removed)."""
    with server.cursor() as ws:
        last = ws.sql("SELECT strftime(max(created_at), '%Y-%m-%d') AS d FROM tickets WHERE source = 'demo'"
                      ).to_pylist()[0]["d"]
    end = date.fromisoformat(last) - timedelta(days=date.fromisoformat(last).weekday())
    path = server.path / "targets.toml"
    path.write_text(TARGETS, encoding="utf-8")
    try:
        yield f"from={end - timedelta(weeks=8)}&to={end}"
    finally:
        path.unlink()


def _count(text: str) -> int:
    return int(text.replace(",", "").strip())


def test_sla_numbers_click_through_to_their_targets(page: Any, server: Server, period: str) -> None:
    page.goto(f"{server.url}/sla?{period}")
    page.wait_for_selector("#sla-trend .main-svg")
    page.wait_for_selector("#sla-teams tbody tr")
    page.wait_for_selector("#sla-agents tbody tr")
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sla-drill.png"), full_page=True)
    assert "target 90.0%" in page.inner_text("#sla-target")
    n = _count(page.inner_text("#sla-overall .kv b >> nth=0"))
    breached = _count(page.inner_text("#sla-breaches-link"))
    # the headline compliance lists its n targets
    page.click("#sla-overall-link")
    page.wait_for_url(re.compile(r".*/tickets\?metric=sla_compliance&from="))
    assert page.inner_text("#tickets-title") == f"{n:,} SLA targets behind SLA compliance"
    headings = [h.title() for h in page.locator("#tickets-table thead th").all_inner_texts()]  # CSS upper-cases
    assert headings[:7] == ["Ticket", "Created", "Sla Metric", "Policy", "Due", "Completed", "State"]
    # its metric selector offers the SLA metrics only
    assert page.locator("#k-metric option").all_inner_texts() == ["SLA breaches", "SLA compliance"]
    page.screenshot(path=str(SCREENSHOTS / "sla-targets-list.png"), full_page=True)
    # the breaches count lists its breached targets
    page.go_back()
    page.click("#sla-breaches-link")
    page.wait_for_url(re.compile(r".*/tickets\?metric=sla_breaches&from="))
    assert page.inner_text("#tickets-title") == f"{breached:,} SLA targets behind SLA breaches"
    assert set(page.locator("#tickets-table tbody tr td:nth-child(7)").all_inner_texts()) == {"breached"}
    # a team's compliance lists that team's targets
    page.go_back()
    row = page.locator("#sla-teams tbody tr").first
    team = row.locator("td").first.inner_text().strip()
    team_n = re.search(r"n = ([\d,]+)", row.inner_text()).group(1)
    row.locator("a").first.click()
    page.wait_for_url(re.compile(r".*/tickets\?metric=sla_compliance&.*team="))
    assert page.inner_text("#tickets-title") == f"{team_n} SLA targets behind SLA compliance"
    assert set(page.locator("#tickets-table tbody tr td:nth-child(9)").all_inner_texts()) == {team}
    assert page.console.errors == []


def test_a_compliance_trend_point_clicks_through(page: Any, server: Server, period: str) -> None:
    page.goto(f"{server.url}/sla?{period}")
    page.wait_for_selector("#sla-trend .main-svg")
    page.wait_for_timeout(300)
    point = page.locator("#sla-trend .scatterlayer .trace .points path").last
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r".*/tickets\?metric=sla_compliance&from=.*&to="))
    assert "SLA targets behind SLA compliance" in page.inner_text("#tickets-title")


def test_targets_show_on_tiles_and_trends(page: Any, server: Server, period: str) -> None:
    page.goto(f"{server.url}/?{period}")
    page.wait_for_selector("#tiles .tile-value")
    assert "Target 85.0%" in page.inner_text("#tile-csat .tile-foot")
    assert "Target 90.0%" in page.inner_text("#tile-sla .tile-foot")
    assert page.locator("#tile-nps .tile-foot .target").count() == 0  # no target set for NPS
    # a benchmark says what kind of source measured it
    feet = " ".join(page.locator(".tile-foot .benchmark").all_inner_texts())
    assert re.search(r"(independent study|vendor study|consumer survey|industry convention)\)", feet), feet
    page.screenshot(path=str(SCREENSHOTS / "overview-targets.png"), full_page=True)
    page.goto(f"{server.url}/trends?{period}&metric=frt&by=channel")
    page.wait_for_selector("#trend-chart .main-svg")
    legend = " ".join(page.locator("#trend-chart .legendtext").all_text_contents())  # SVG: no inner text
    assert "Target 2m 00s (chat)" in legend and "Target 4h 00m" in legend
    page.screenshot(path=str(SCREENSHOTS / "trends-targets.png"), full_page=True)
    # the channel table: each cell's target, the channel's own where it has one
    page.goto(f"{server.url}/channels?{period}")
    page.wait_for_selector("#channel-table tbody tr")
    chat = page.locator("#channel-table tbody tr", has_text="chat").first.locator("td").nth(3).inner_text()
    email = page.locator("#channel-table tbody tr", has_text="email").first.locator("td").nth(3).inner_text()
    assert "target 2m 00s" in chat and "target 4h 00m" in email
    page.locator("#channel-table").screenshot(path=str(SCREENSHOTS / "channels-targets.png"))
    assert page.console.errors == []
