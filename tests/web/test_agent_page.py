"""The agent and team pages (issue 11, item 5): each agent's (human or bot) and each team's
KPIs against their peers with a tested difference, their weekly trend, tickets, CSAT
comments and reopened tickets.

Numbers are checked against the library for the same filters (`ws.metrics`) or a count in
SQL written here over the stored tables, and the verdict against Newcombe's interval
computed here by hand; a small hand-made workspace pins the team comparison, the comments
(escaped: they are customers' text) and ids with '/', spaces and accents."""

from __future__ import annotations

import html
import math
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from web._web_helpers import SCREENSHOTS, Server

import cxmetrics
from cxmetrics.web import _agent, _data
from cxmetrics.web._filters import Filters

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

FROM, TO = "2026-08-01", "2026-11-01"  # the demo's last three months
HUMAN = ("solved_tickets", "frt", "full_resolution_time", "csat", "dsat", "fcr", "reopen_rate", "aht")


def view(ws: cxmetrics.Workspace, **params: str) -> Filters:
    return Filters.parse({k: [v] for k, v in params.items()}, anchor=_data.anchor_day(ws))


def busiest(ws: cxmetrics.Workspace, kind: str) -> str:
    """The agent of `kind` (human or bot) with the most tickets created in FROM..TO, by SQL."""
    return ws.sql(
        "SELECT f.assignee_id AS a, count(*) AS n FROM ticket_facts f JOIN agents g ON g.agent_id = f.assignee_id "
        "WHERE NOT f.excluded AND g.type = ? AND f.created_at >= CAST(? AS TIMESTAMPTZ) "
        "AND f.created_at < CAST(? AS TIMESTAMPTZ) GROUP BY 1 ORDER BY n DESC, a LIMIT 1", [kind, FROM, TO]
    ).to_pylist()[0]["a"]


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe_excludes_zero(k1: int, n1: int, k2: int, n2: int) -> bool:
    """Newcombe's hybrid score interval of p1 - p2 (method 10) excludes 0."""
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1), wilson(k2, n2)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return lo > 0 or hi < 0


# -- the demo: the page's numbers are the library's ------------------------------------------


def test_agent_kpis_are_the_librarys_for_the_agent_and_their_team(demo_ws: cxmetrics.Workspace) -> None:
    ws = demo_ws
    aid = busiest(ws, "human")
    d = _agent.agent_page(ws, view(ws, **{"from": FROM, "to": TO}), aid)
    # their team: that of most of their tickets in the period, counted here
    team = ws.sql("SELECT team FROM ticket_facts WHERE NOT excluded AND assignee_id = ? "
                  "AND created_at >= CAST(? AS TIMESTAMPTZ) AND created_at < CAST(? AS TIMESTAMPTZ) "
                  "GROUP BY team ORDER BY count(*) DESC, team LIMIT 1", [aid, FROM, TO]).to_pylist()[0]["team"]
    assert d["team"] == team and d["peer_name"] == f"Team {team}"
    mine = {r["metric"]: r for r in ws.metrics(list(HUMAN), where={"assignee": aid}, start=FROM, end=TO).to_pylist()}
    theirs = {r["metric"]: r for r in ws.metrics(list(HUMAN), where={"team": team}, start=FROM, end=TO).to_pylist()}
    shown = {k["metric"]: k for k in d["kpis"]}
    assert set(shown) >= set(HUMAN) - {"aht"}
    for metric, k in shown.items():
        for side, lib in (("me", mine), ("peer", theirs)):
            assert k[side]["n"] == lib[metric]["n"], (metric, side)
            if lib[metric]["value"] is None:
                assert k[side]["value"] is None
            else:
                assert k[side]["value"] == pytest.approx(lib[metric]["value"]), (metric, side)
    # the verdict on each share: Newcombe's interval, computed here from the counts
    for metric in ("fcr", "reopen_rate", "csat"):
        n1, n2 = mine[metric]["n"], theirs[metric]["n"]
        if not (n1 and n2):
            continue
        k1, k2 = round(mine[metric]["value"] * n1 / 100), round(theirs[metric]["value"] * n2 / 100)
        assert shown[metric]["change"]["significant"] is newcombe_excludes_zero(k1, n1, k2, n2), metric
    # a count is not tested: the agent's part of the team's
    assert shown["solved_tickets"]["change"]["significant"] is None


def test_a_bot_is_set_against_all_bots(demo_ws: cxmetrics.Workspace) -> None:
    ws = demo_ws
    bid = busiest(ws, "bot")
    bots = [r["agent_id"] for r in ws.sql("SELECT agent_id FROM agents WHERE type = 'bot'").to_pylist()]
    d = _agent.agent_page(ws, view(ws, **{"from": FROM, "to": TO}), bid)
    assert d["bot"] and d["peer_name"] == "All bots"
    shown = {k["metric"]: k for k in d["kpis"]}
    lib = {r["metric"]: r for r in ws.metrics(["bot_resolution_rate", "solved_tickets"], where={"assignee": bid},
                                                start=FROM, end=TO).to_pylist()}
    every = ws.metrics(["bot_resolution_rate"], where={"assignee": bots}, start=FROM, end=TO).to_pylist()[0]
    assert shown["bot_resolution_rate"]["me"]["value"] == pytest.approx(lib["bot_resolution_rate"]["value"])
    assert shown["bot_resolution_rate"]["peer"]["n"] == every["n"]
    assert shown["solved_tickets"]["me"]["value"] == lib["solved_tickets"]["value"]
    assert [c["metric"] for c in d["trend"]["charts"]][0] == "bot_resolution_rate"


def test_the_lists_are_the_agents_rows_counted_in_sql(demo_ws: cxmetrics.Workspace) -> None:
    ws = demo_ws
    aid = busiest(ws, "human")
    d = _agent.agent_page(ws, view(ws, **{"from": FROM, "to": TO}), aid)
    window = "CAST(? AS TIMESTAMPTZ) AND {t} < CAST(? AS TIMESTAMPTZ)"
    created = ws.sql("SELECT ticket_id FROM ticket_facts WHERE NOT excluded AND assignee_id = ? AND created_at >= "
                     + window.format(t="created_at") + " ORDER BY created_at DESC", [aid, FROM, TO]).to_pylist()
    assert d["tickets"]["total"] == len(created) > 0
    assert [t["ticket_id"] for t in d["tickets"]["rows"]] == [r["ticket_id"] for r in created[:_agent.LIST_ROWS]]
    reopened = ws.sql("SELECT ticket_id FROM ticket_facts WHERE NOT excluded AND assignee_id = ? AND solved "
                      "AND reopens > 0 AND last_solved_at >= " + window.format(t="last_solved_at")
                      + " ORDER BY last_solved_at DESC", [aid, FROM, TO]).to_pylist()
    assert d["reopened"]["total"] == len(reopened)
    assert [t["ticket_id"] for t in d["reopened"]["rows"]] == [r["ticket_id"] for r in reopened[:_agent.LIST_ROWS]]
    # CSAT answers with a comment, by the answer's agent (else its ticket's), placed at the answer
    comments = ws.sql(
        "SELECT s.ticket_id FROM surveys s LEFT JOIN ticket_facts f USING (source, ticket_id) "
        "WHERE s.kind = 'csat' AND f.excluded IS NOT TRUE AND coalesce(s.agent_id, f.assignee_id) = ? "
        "AND trim(coalesce(s.comment, '')) <> '' AND coalesce(s.responded_at, s.sent_at) >= "
        + window.format(t="coalesce(s.responded_at, s.sent_at)") + " ORDER BY coalesce(s.responded_at, s.sent_at) DESC",
        [aid, FROM, TO]).to_pylist()
    assert d["comments"]["total"] == len(comments)
    assert [c["ticket_id"] for c in d["comments"]["rows"]] == [r["ticket_id"] for r in comments[:_agent.LIST_ROWS]]
    # every ticket id links to the ticket page; the full list to the drill-down
    assert all(t["href"] == f"/tickets/demo/{quote(t['ticket_id'], safe='')}" for t in d["tickets"]["rows"])
    assert d["tickets"]["href"].startswith("/tickets?metric=tickets") and f"assignee={aid}" in d["tickets"]["href"]


def test_a_team_is_set_against_the_organisation_with_its_agents(demo_ws: cxmetrics.Workspace) -> None:
    ws = demo_ws
    d = _agent.team_page(ws, view(ws, **{"from": FROM, "to": TO}), "tier 1")  # case-blind, as every filter
    assert d["team"] == "Tier 1"
    team = {r["metric"]: r
            for r in ws.metrics(["csat", "frt"], where={"team": "Tier 1"}, start=FROM, end=TO).to_pylist()}
    org = {r["metric"]: r for r in ws.metrics(["csat", "frt"], start=FROM, end=TO).to_pylist()}
    shown = {k["metric"]: k for k in d["kpis"]}
    for m in ("csat", "frt"):
        assert shown[m]["me"]["value"] == pytest.approx(team[m]["value"])
        assert shown[m]["peer"]["value"] == pytest.approx(org[m]["value"])
    # its agents: the assignees of its tickets in the period, each linking to their page
    assignees = {r["a"] for r in ws.sql(
        "SELECT DISTINCT assignee_id AS a FROM ticket_facts WHERE NOT excluded AND team = 'Tier 1' "
        "AND assignee_id IS NOT NULL "
        "AND ((created_at >= CAST(? AS TIMESTAMPTZ) AND created_at < CAST(? AS TIMESTAMPTZ)) "
        "OR (last_solved_at >= CAST(? AS TIMESTAMPTZ) AND last_solved_at < CAST(? AS TIMESTAMPTZ)))",
        [FROM, TO, FROM, TO]).to_pylist()}
    listed = {r["agent_id"] for r in d["agents"]}
    assert listed <= assignees and len(listed) >= len(assignees) * 0.9
    assert all(r["href"].startswith(f"/agents/{quote(r['agent_id'], safe='')}") for r in d["agents"])


# -- a hand-made workspace: the team comparison, the comments, odd ids ---------------------

AGENT = "eu/Zoë B"  # a '/', a space and an accent
TICKETS = ["ticket_id,created_at,channel,priority,status,requester_id,assignee_id,team,topic,first_reply_at,solved_at"]
SURVEYS = ["response_id,ticket_id,kind,scale,score,comment,responded_at"]
for i in range(1, 21):
    who = AGENT if i <= 10 else "A2"
    TICKETS.append(f"T{i},2026-03-{i:02d}T09:00:00Z,email,normal,solved,C{i},{who},Billing,billing,"
                   f"2026-03-{i:02d}T10:00:00Z,2026-03-{i:02d}T15:00:00Z")
    SURVEYS.append(f"R{i},T{i},csat,1-5,{5 if i <= 10 else 1},,2026-03-{i:02d}T16:00:00Z")
TICKETS.append("T99,2026-01-05T09:00:00Z,email,normal,solved,C99,Idle One,Billing,billing,"
               "2026-01-05T10:00:00Z,2026-01-05T15:00:00Z")
SURVEYS[2] = 'R2,T2,csat,1-5,5,"<script>alert(1)</script> quick & kind",2026-03-02T16:00:00Z'
SURVEYS[5] = "R5,T5,csat,1-5,5,Thanks a lot,2026-03-05T16:00:00Z"
MARCH = {"from": "2026-03-01", "to": "2026-04-01"}


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agent-hand")
    (path / "tickets.csv").write_text("\n".join(TICKETS) + "\n", encoding="utf-8")
    (path / "surveys.csv").write_text("\n".join(SURVEYS) + "\n", encoding="utf-8")
    with cxmetrics.open(path / "ws", create=True) as ws:
        ws.import_file("tickets", path / "tickets.csv")
        ws.import_file("surveys", path / "surveys.csv")
        ws.refresh()
    return path / "ws"


def test_the_team_comparison_by_hand(hand: Path) -> None:
    with cxmetrics.open(hand) as ws:
        d = _agent.agent_page(ws, view(ws, **MARCH), AGENT)
    k = {r["metric"]: r for r in d["kpis"]}
    # Zoë: 10 of 10 satisfied; Billing: 10 of 20. Newcombe: 0.5 - sqrt(0.2775² + 0.2007²) = 0.157 > 0
    assert d["team"] == "Billing"
    assert (k["csat"]["me"]["value"], k["csat"]["me"]["n"]) == (100.0, 10)
    assert (k["csat"]["peer"]["value"], k["csat"]["peer"]["n"]) == (50.0, 20)
    assert k["csat"]["change"]["significant"] is True and k["csat"]["change"]["tone"] == "good"
    assert k["dsat"]["change"]["significant"] is True and k["dsat"]["change"]["tone"] == "good"  # 0% vs 50%
    # FRT: every ticket answered in 1 h, agent and team alike: no difference
    assert k["frt"]["me"]["value"] == k["frt"]["peer"]["value"] == 3600.0
    assert k["frt"]["change"]["significant"] is not True
    assert (k["solved_tickets"]["me"]["value"], k["solved_tickets"]["peer"]["value"]) == (10.0, 20.0)
    assert [(c["ticket_id"], c["comment"]) for c in d["comments"]["rows"]] == [
        ("T5", "Thanks a lot"), ("T2", "<script>alert(1)</script> quick & kind")]


@pytest.fixture(scope="module")
def hand_client(hand: Path) -> Iterator[TestClient]:
    from cxmetrics.api import create_app
    from cxmetrics.api.auth import create_key

    app = create_app(hand, watch_alerts=False)
    _, viewer = create_key(app.state.workspace, "agent page viewer", "viewer")
    with TestClient(app) as client:
        assert client.post("/login", data={"key": viewer, "next": "/"}, follow_redirects=False).status_code == 303
        yield client


def test_odd_ids_route_and_comments_are_escaped(hand_client: TestClient) -> None:
    q = "?from=2026-03-01&to=2026-04-01"
    r = hand_client.get("/agents/" + quote(AGENT, safe="") + q)
    assert r.status_code == 200, r.text[:500]
    assert "Zoë B" in r.text and 'id="kpi-table"' in r.text and 'id="trend-csat"' in r.text
    assert "<script>alert(1)</script>" not in r.text  # customers' text, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt; quick &amp; kind" in r.text
    assert 'href="/tickets/ws/T2"' in r.text or re.search(r'href="/tickets/[^/"]+/T2"', r.text)
    # the scorecard links each agent and each team to their page (with the view's filters)
    r = hand_client.get("/agents" + q)
    assert f'class="agent-link" href="/agents/{quote(AGENT, safe="")}?from=2026-03-01&amp;to=2026-04-01"' in r.text
    r = hand_client.get("/teams/Billing" + q)
    assert r.status_code == 200 and "Team Billing" in r.text
    assert 'href="/agents/' + quote(AGENT, safe="") in r.text  # its agents link to their pages


def test_unknown_names_answer_404_in_the_dashboard_and_an_idle_agent_an_empty_state(hand_client: TestClient) -> None:
    r = hand_client.get("/agents/nob%C3%B6dy%2Fhere")
    assert r.status_code == 404 and 'id="not-found"' in r.text and "nobödy/here" in html.unescape(r.text)
    assert 'class="nav"' in r.text  # the dashboard's layout, not a bare error
    r = hand_client.get("/agents/?period=7d", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/agents?period=7d"
    r = hand_client.get("/teams/Biling")
    assert r.status_code == 404 and "Did you mean Billing" in r.text
    r = hand_client.get("/agents/Idle%20One?from=2026-03-01&to=2026-04-01")
    assert r.status_code == 200 and 'id="empty-state"' in r.text and "No tickets for Idle One" in r.text
    # two agents, one query string: each page its own (the page cache is keyed on the path)
    a = hand_client.get("/agents/A2?from=2026-03-01&to=2026-04-01").text
    b = hand_client.get("/agents/" + quote(AGENT, safe="") + "?from=2026-03-01&to=2026-04-01").text
    assert 'id="who-name">A2' in a and 'id="who-name">eu/Zoë B' in b


# -- the browser -------------------------------------------------------------------------------


def cell_number(text: str) -> float:
    return float(re.sub(r"[^0-9.]", "", text.split("\n")[0]))


def test_from_the_scorecard_to_an_agent_and_their_team_in_the_browser(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server.url + f"/agents?from={FROM}&to={TO}&rank_by=solved_tickets")
    page.wait_for_selector("#scorecard tbody tr")
    row = page.locator("#scorecard tbody tr:has(.badge.human)").first  # a human: they have a team
    aid = row.locator("td").nth(2).locator(".sub").inner_text().strip()
    team = row.locator("a.team-link").inner_text().strip()
    assert row.locator("a.team-link").get_attribute("href").startswith("/teams/" + quote(team, safe="") + "?")
    row.locator("a.agent-link").click()
    page.wait_for_selector("#kpi-table")
    page.wait_for_selector("#trend-csat .main-svg")
    assert page.url.startswith(server.url + "/agents/" + quote(aid, safe=""))
    with server.cursor() as ws:
        lib = {r["metric"]: r for r in ws.metrics(["solved_tickets", "csat"], where={"assignee": aid},
                                                    start=FROM, end=TO).to_pylist()}
    solved = page.locator("#kpi-table tr[data-metric='solved_tickets'] td.kpi-me a").inner_text()
    assert cell_number(solved) == lib["solved_tickets"]["value"]
    csat = page.locator("#kpi-table tr[data-metric='csat'] td.kpi-me a").inner_text()
    assert csat == f"{lib['csat']['value']:.1f}%"
    assert page.locator("#agent-tickets a.ticket-link").count() > 0
    page.screenshot(path=str(SCREENSHOTS / "agent-1440.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "agent-1280.png"), full_page=False)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.locator("#who-team").click()
    page.wait_for_selector("#team-agents tbody tr")
    page.wait_for_selector("#trend-frt .main-svg")
    assert "/teams/" in page.url
    page.screenshot(path=str(SCREENSHOTS / "team-1440.png"), full_page=True)
    assert not page.console.errors, page.console.errors
