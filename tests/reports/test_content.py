"""The weekly report's numbers are the library's for the week, computed here independently
(ws.metrics, ws.compare and SQL over the facts), and its HTML is safe to mail (issue 11, item 8)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import cxmetrics
from cxmetrics.reports import Week, build
from cxmetrics.reports._content import weekly
from cxmetrics.sla import refresh_sla

PLAIN = ["csat", "nps", "ces", "frt", "full_resolution_time", "fcr", "tickets", "backlog", "bot_resolution_rate"]


@pytest.fixture
def week() -> Week:
    return Week.ending_before(datetime.now(UTC).date())  # the demo runs up to now: the last week has data


def test_kpis_equal_ws_metrics_for_the_week(ws_path: Path, week: Week) -> None:
    with cxmetrics.open(ws_path) as ws:
        refresh_sla(ws)
        data = weekly(ws, week)
        expected = {r["metric"]: r for r in ws.metrics(PLAIN, start=week.start, end=week.end).to_pylist()}
        created = ws.sql("SELECT count(*) AS n FROM ticket_facts WHERE NOT excluded AND created_at >= ? "
                         "AND created_at < ?", [week.start.isoformat(), week.end.isoformat()]).to_pylist()[0]["n"]
    shown = {k["metric"]: k for k in data["kpis"]}
    assert {"frt", "full_resolution_time", "fcr", "tickets", "backlog", "sla_compliance"} <= set(shown)
    for metric, row in expected.items():
        if row["value"] is None:
            assert metric not in shown, metric  # no value this week: listed under "no data", not headlined
            continue
        assert shown[metric]["value"] == pytest.approx(row["value"]), metric
        assert shown[metric]["n"] == row["n"], metric
    assert shown["tickets"]["value"] == created > 50  # a hand count of the week's tickets
    # targets (conftest TARGETS_TOML): met or missed by the metric's direction
    fcr, frt = expected["fcr"]["value"], expected["frt"]["value"]
    assert shown["fcr"]["status"] == ("met" if fcr >= 40 else "missed")
    assert shown["frt"]["status"] == ("met" if frt <= 3600 else "missed")
    assert shown["tickets"]["status"] == "no target"
    assert data["targets_met"] + data["targets_missed"] == sum(
        k["status"] in ("met", "missed") for k in data["kpis"])


def test_what_changed_lists_exactly_the_significant_changes(ws_path: Path, week: Week) -> None:
    with cxmetrics.open(ws_path) as ws:
        data = weekly(ws, week)
        tests = {r["metric"]: r for r in ws.compare(PLAIN, (week.previous().start, week.start),
                                                    (week.start, week.end)).to_pylist()}
    titles = {k["metric"]: k["title"] for k in data["kpis"]}
    listed = {c["title"] for c in data["changes"]["real"]}
    visible = {m for m, k in ((k["metric"], k) for k in data["kpis"]) if not k["hidden"]}
    for metric, t in tests.items():
        if metric not in visible:
            continue
        if t["significant"] is True:
            assert titles[metric] in listed, metric
        else:
            assert titles[metric] not in listed, metric
            if t["significant"] is False:
                assert titles[metric] in data["changes"]["noise"], metric
    for c in data["changes"]["real"]:
        assert c["test"] and c["p_text"].startswith("p ")  # which test, and its p-value
    assert data["changes"]["level"] == "5%"


def test_sla_breaches_and_topics_match_a_hand_count(ws_path: Path, week: Week) -> None:
    with cxmetrics.open(ws_path) as ws:
        refresh_sla(ws)
        data = weekly(ws, week)
        bounds = [week.start.isoformat(), week.end.isoformat()]
        breached = ws.sql("SELECT metric, policy, count(*) AS n FROM sla_targets WHERE state = 'breached' AND "
                          "breached_at >= CAST(? AS TIMESTAMPTZ) AND breached_at < CAST(? AS TIMESTAMPTZ) "
                          "GROUP BY ALL", bounds).to_pylist()
        topics = {r["topic"]: r["n"] for r in ws.sql(
            "SELECT topic, count(*) AS n FROM ticket_facts WHERE NOT excluded AND topic IS NOT NULL AND "
            "created_at >= CAST(? AS TIMESTAMPTZ) AND created_at < CAST(? AS TIMESTAMPTZ) GROUP BY ALL",
            bounds).to_pylist()}
    sla = data["sla"]
    assert sla["configured"] and sla["total"] == sum(r["n"] for r in breached) > 0
    assert {(g["metric"], g["policy"], g["breaches"]) for g in sla["groups"]} == {
        (r["metric"], r["policy"], r["n"]) for r in breached}
    lates = [w["late_s"] for w in sla["worst"]]
    assert lates == sorted(lates, reverse=True) and 0 < len(lates) <= 5
    assert data["topics"], "the demo's week has topics"
    for t in data["topics"]:
        assert t["tickets"] == topics[t["topic"]], t["topic"]
    assert [t["tickets"] for t in data["topics"]] == sorted(topics.values(), reverse=True)[:len(data["topics"])]


def test_the_html_shows_the_numbers(ws_path: Path, week: Week) -> None:
    with cxmetrics.open(ws_path) as ws:
        built = build(ws, week, fmt="html")
        volume = ws.metrics("tickets", start=week.start, end=week.end).to_pylist()[0]["value"]
        fcr = ws.metrics("fcr", start=week.start, end=week.end).to_pylist()[0]["value"]
    assert built.pdf is None
    text = re.sub(r"<[^>]+>", " ", built.html)
    assert f"{volume:,.0f}" in text and f"{fcr:.1f}%" in text
    assert week.label in built.html and "Top topics" in built.html and "SLA breaches" in built.html
    assert f"{volume:,.0f}" in built.text


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag of a page with its attributes (as a browser's parser reads them)."""
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(html)
    return found


TINY = """ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,topic,subject,first_reply_at,solved_at
T1,2026-03-02T09:00:00Z,email,normal,solved,C1,A1,Billing,<img src=x onerror=alert(1)>,<script>alert(2)</script>,2026-03-02T09:30:00Z,2026-03-02T15:00:00Z
T2,2026-03-03T10:00:00Z,email,high,solved,C2,A1,Billing,"Fish & <Chips>",hello,2026-03-03T11:00:00Z,2026-03-03T16:00:00Z
"""


def test_user_text_is_escaped_and_nothing_is_loaded_from_outside(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text(TINY, encoding="utf-8")
    with cxmetrics.open(tmp_path / "ws", create=True) as ws:
        ws.import_file("tickets", csv)
        ws.refresh()
        built = build(ws, Week.parse("2026-W10"), fmt="html")
    html = built.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "Fish &amp; &lt;Chips&gt;" in html
    # an e-mail body: inline styles only, no script, style sheet, image or other resource
    tags = _tags(html)
    assert {t for t, _ in tags} <= {"html", "head", "meta", "title", "body", "table", "tr", "td", "th", "div",
                                     "span", "b", "br", "p", "h2", "h3"}, {t for t, _ in tags}
    attrs = {name for _, a in tags for name, _ in a}
    assert attrs <= {"lang", "charset", "name", "content", "style", "role", "width", "cellpadding", "cellspacing",
                     "align"}, attrs
    assert not any("url(" in (v or "") or "http" in (v or "") for _, a in tags for _, v in a)
    assert "<img src=x" in built.text  # plain text is not HTML: shown as written
