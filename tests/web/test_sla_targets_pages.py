"""Issue 10: SLA numbers drill through to the targets behind them, with a compliance trend
and compliance by team and agent (item 8); the user's targets show on tiles, trends,
tables and the SLA page (item 9). Each number is checked against SQL over sla_targets."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from web._web_helpers import SLA_TOML

import cxmetrics
from cxmetrics.web._data import overview
from cxmetrics.web._filters import Filters
from cxmetrics.web._sla import sla
from cxmetrics.web._tickets import drillable_choices, extra_where, tickets
from cxmetrics.web._trends import trends

TARGETS = """[sla_compliance]
target = 90

[sla_compliance.by.team]
Billing = 95

[csat]
target = 85

[frt]
target = "4h"

[frt.by.channel]
chat = "2m"
"""
START, END = date(2026, 8, 1), date(2026, 10, 1)


@pytest.fixture(scope="module")
def ws(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[cxmetrics.Workspace]:
    path = tmp_path_factory.mktemp("sla-pages") / "ws"
    shutil.copytree(demo_path, path)
    (path / "sla.toml").write_text(SLA_TOML, encoding="utf-8")
    (path / "targets.toml").write_text(TARGETS, encoding="utf-8")
    with cxmetrics.open(path) as w:
        from cxmetrics.sla import refresh_sla

        refresh_sla(w)
        yield w


def view(**dims: str) -> Filters:
    return Filters(start=START, end=END, period="custom", dims={k: (v,) for k, v in dims.items()})


def settled(ws: cxmetrics.Workspace, extra: str = "", params: list | None = None) -> tuple[int, int]:
    """(achieved, breached) settled in the period, by SQL over sla_targets."""
    row = ws.sql(f"""SELECT count(*) FILTER (WHERE state = 'achieved') AS a,
                            count(*) FILTER (WHERE state = 'breached') AS b
                     FROM sla_targets WHERE state IN ('achieved', 'breached') AND settled_at >= TIMESTAMPTZ '{START}'
                     AND settled_at < TIMESTAMPTZ '{END}' {extra}""", params or []).to_pylist()[0]
    return row["a"], row["b"]


def behind(ws: cxmetrics.Workspace, href: str) -> dict:
    """The tickets page a link opens (as the page parses its query string)."""
    q = parse_qs(urlsplit(href).query)
    assert urlsplit(href).path == "/tickets"
    f = Filters.parse(q, anchor=END)
    return tickets(ws, f, q["metric"][0], extra_where(q))


def test_every_sla_number_links_to_the_targets_behind_it(ws: cxmetrics.Workspace) -> None:
    d = sla(ws, view())
    a, b = settled(ws)
    head = d["overall"]
    assert (head["achieved"], head["breached"]) == (a, b) and a + b > 100
    assert behind(ws, head["href"])["total"] == a + b
    assert behind(ws, head["breached_href"])["total"] == b
    for r in d["by_metric"]:
        assert behind(ws, r["href"])["total"] == r["n"] == sum(settled(ws, "AND metric = ?", [r["metric"]]))
    for r in d["by_policy"]:
        assert behind(ws, r["breached_href"])["total"] == r["breached"]
    team = next(r for r in d["by_team"] if r["team"] == "Billing")
    assert behind(ws, team["href"])["total"] == team["n"] == sum(settled(ws, "AND team = 'Billing'"))
    agent = d["by_agent"][0]
    assert agent["n"] == max(r["n"] for r in d["by_agent"])  # most targets first
    assert behind(ws, agent["href"])["total"] == agent["n"] == sum(settled(ws, "AND assignee_id = ?",
                                                                          [agent["agent"]]))
    assert (agent["achieved"], agent["breached"]) == settled(ws, "AND assignee_id = ?", [agent["agent"]])
    # the chart's bars click through too
    assert d["figure"]["data"][0]["customdata"] == [r["href"] for r in d["by_metric"]]
    # and so does the overview's SLA tile, to the same targets as the headline
    tile = next(t for t in overview(ws, view())["tiles"] if t["metric"] == "sla_compliance")
    assert tile["n"] == a + b and behind(ws, tile["href"])["total"] == a + b


def test_the_agent_type_filter_does_not_narrow_the_sla_list(ws: cxmetrics.Workspace) -> None:
    # SLA targets have no agent type: the number ignores that filter, so must its list
    d = sla(ws, view(agent_type="human"))
    assert "agent_type" not in d["overall"]["href"]
    assert behind(ws, d["overall"]["href"])["total"] == d["overall"]["n"]


def test_the_breaches_list_is_one_row_per_target_with_its_times(ws: cxmetrics.Workspace) -> None:
    d = tickets(ws, view(), "sla_breaches")
    assert d["headings"] == ["Ticket", "Created", "SLA metric", "Policy", "Due", "Completed", "State", "Priority",
                             "Team", "Assignee"]
    assert d["total"] == settled(ws)[1] and d["headline"].endswith("SLA targets behind SLA breaches")
    first = d["rows"][0]["cells"]
    want = ws.sql(f"""SELECT s.ticket_id, strftime(t.created_at, '%d %b %Y %H:%M') AS created, s.metric,
                             strftime(s.due_at, '%d %b %Y %H:%M') AS due, s.state
                      FROM sla_targets s JOIN tickets t USING (source, ticket_id)
                      WHERE s.state = 'breached' AND s.breached_at >= TIMESTAMPTZ '{START}'
                        AND s.breached_at < TIMESTAMPTZ '{END}'
                      ORDER BY s.breached_at DESC, s.source, s.ticket_id LIMIT 1""").to_pylist()[0]
    assert first[0] == want["ticket_id"] and first[1] == want["created"] and first[4] == want["due"]
    assert first[2] == {"first_reply": "First reply", "total_resolution": "Total resolution"}[want["metric"]]
    assert first[6] == "breached"
    # a ticket with two breached targets is listed twice: one row per target
    per_target = ws.sql(f"""SELECT count(*) AS n, count(DISTINCT ticket_id) AS t FROM sla_targets
                            WHERE state = 'breached' AND breached_at >= TIMESTAMPTZ '{START}'
                              AND breached_at < TIMESTAMPTZ '{END}'""").to_pylist()[0]
    assert per_target["n"] > per_target["t"] and d["total"] == per_target["n"]


def test_the_sla_lists_metric_selector_lists_sla_metrics_only() -> None:
    assert [c["id"] for c in drillable_choices("sla_breaches")] == ["sla_breaches", "sla_compliance"]
    assert not [c for c in drillable_choices("csat") if c["id"].startswith("sla_")]


def test_compliance_over_time_adds_up_and_matches_sql(ws: cxmetrics.Workspace) -> None:
    trend = sla(ws, view())["trend"]
    assert trend["grain"] == "week" and not trend["empty"]
    line = trend["figure"]["data"][2]
    points = list(zip(line["x"], line["y"], line["customdata"], strict=True))
    total = 0
    for x, y, href in points:
        page = behind(ws, href)  # each point lists its own targets
        a, b = settled(ws, f"AND date_trunc('week', settled_at) = DATE '{x}'")  # ISO weeks start Monday
        assert page["total"] == a + b
        assert y == pytest.approx(100 * a / (a + b))
        total += a + b
    assert total == sum(settled(ws))  # the weeks partition the period
    target = trend["figure"]["data"][3]
    assert target["name"] == "Target 90.0%" and target["y"] == [90, 90]


def test_targets_on_the_sla_page_by_team(ws: cxmetrics.Workspace) -> None:
    d = sla(ws, view())
    assert d["has_targets"]
    for r in d["by_team"]:
        want = 95 if r["team"] == "Billing" else 90
        assert r["target"]["text"] == f"{want:.1f}%"
        assert r["target"]["met"] == (r["value"] >= want)
    assert d["overall"]["target"] == {"text": "90.0%", "met": d["overall"]["value"] >= 90}


def test_targets_on_tiles_trends_and_the_channel_table(ws: cxmetrics.Workspace) -> None:
    from cxmetrics.web._channels import channels

    tiles = {t["metric"]: t for t in overview(ws, view())["tiles"]}
    assert tiles["csat"]["target"]["text"] == "85.0%"
    assert tiles["sla_compliance"]["target"]["text"] == "90.0%"
    assert tiles["nps"]["target"] is None  # no target set: none shown
    chat = {t["metric"]: t for t in overview(ws, view(channel="chat"))["tiles"]}
    assert chat["frt"]["target"]["text"] == "2m 00s" and chat["frt"]["target"]["scope"] == "channel = chat"
    lines = [t for t in trends(ws, view(), "frt", by="channel", grain="week")["figure"]["data"]
             if t.get("name", "").startswith("Target")]
    assert sorted(t["name"] for t in lines) == ["Target 2m 00s (chat)", "Target 4h 00m"]
    table = {r["channel"]: r for r in channels(ws, view())["table"]}
    frt_chat = next(c for c in table["chat"]["cells"] if c["metric"] == "frt")
    value = ws.metrics(["frt"], where={"channel": "chat"}, start=START, end=END).to_pylist()[0]["value"]
    assert frt_chat["target"] == {"text": "2m 00s", "met": value <= 120}
    frt_email = next(c for c in table["email"]["cells"] if c["metric"] == "frt")
    assert frt_email["target"]["text"] == "4h 00m"
